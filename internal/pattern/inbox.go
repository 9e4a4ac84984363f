package pattern

import "github.com/azmq/azmq/internal/pipe"

// inbox is how PUB, XPUB and RADIO take in what their peers send them
// (subscriptions, joins): drained before each send, with no goroutine of
// its own. sig, taken before the last full drain, is closed by any arrival
// since; dirty forces a drain (a new pipe may hold input that notified no
// one). It is guarded by the owning socket's mutex.
type inbox struct {
	sig     <-chan struct{}
	dirty   bool
	scratch []pipe.Msg
}

// due reports whether anything may have arrived since the last drain;
// when it says so, the caller drains every pipe.
func (ib *inbox) due(readable *pipe.Signal) bool {
	if !ib.dirty && ib.sig != nil {
		select {
		case <-ib.sig:
		default:
			return false
		}
	}
	ib.dirty = false
	ib.sig = readable.C()
	return true
}

// take empties q, handing each message to apply.
func (ib *inbox) take(q *pipe.Queue, apply func(m *pipe.Msg)) {
	ib.scratch, _ = q.PopBatch(ib.scratch[:0], 0)
	for i := range ib.scratch {
		apply(&ib.scratch[i])
	}
	clear(ib.scratch)
}
