package pattern

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/azmq/azmq/internal/pipe"
)

// New makes the routing strategy of a socket of type t.
func New(t Type, o Options) (Socket, error) {
	switch t {
	case PAIR:
		return newPair(), nil
	case PUB:
		return newPub(false, o), nil
	case SUB:
		return newSub(false, o.PubSub), nil
	case REQ:
		return newReq(o.Routing), nil
	case REP:
		return newRep(), nil
	case DEALER:
		s := newDealer(o.Routing)
		s.conflate = o.PubSub.Conflate
		return s, nil
	case ROUTER:
		return newRouter(o), nil
	case PULL:
		s := newPull()
		s.conflate = o.PubSub.Conflate
		return s, nil
	case PUSH:
		s := newPush()
		s.conflate = o.PubSub.Conflate
		return s, nil
	case XPUB:
		return newPub(true, o), nil
	case XSUB:
		return newSub(true, o.PubSub), nil
	case SERVER, PEER:
		return newServer(), nil
	case CLIENT:
		return single{newDealer(RoutingOptions{})}, nil
	case RADIO:
		return newRadio(o), nil
	case DISH:
		return newDish(), nil
	case SCATTER:
		return single{newPush()}, nil
	case GATHER:
		return single{newPull()}, nil
	case CHANNEL:
		return single{newPair()}, nil
	case STREAM:
		return newStream(), nil
	}
	return nil, fmt.Errorf("%w: socket type %d", ErrNotSupported, int(t))
}

// base is what every socket type shares: the mutex guarding its routing
// state, its two Signals and its closed state.
type base struct {
	mu       sync.Mutex
	readable pipe.Signal
	writable pipe.Signal

	closeOnce sync.Once
	closed    chan struct{}
	isClosed  atomic.Bool

	dropped atomic.Uint64 // Socket.Dropped

	// solo is the In queue of the socket's only pipe (nil with none or
	// several): a receiver that finds nothing may read its connection
	// itself (pipe.Queue.ReadNow).
	solo atomic.Pointer[pipe.Queue]

	// waited: the last message recvFQ took was not there at its first
	// look, and nothing was sent since (under mu; see takeWaited).
	waited bool
}

// takeWaited reports whether the last receive waited for its message
// with nothing sent since, and clears it (under mu). A send that follows
// such a receive is most likely a request after a reply, or a reply
// after a request, with nothing to batch it with: it may be written from
// the sender's goroutine (pipe.Queue.TryPushDirect). A send after a send,
// or after a message that was already waiting, queues, so that a stream
// is written in batches.
func (b *base) takeWaited() bool {
	w := b.waited
	b.waited = false
	return w
}

// SetSolo names the In queue of the socket's only pipe, or nil. A
// receiver reading the one it replaces is interrupted.
func (b *base) SetSolo(q *pipe.Queue) {
	if old := b.solo.Swap(q); old != nil && old != q {
		old.Interrupt()
	}
}

// Dropped counts the messages Send dropped (Socket.Dropped).
func (b *base) Dropped() uint64 { return b.dropped.Load() }

func (b *base) init() { b.closed = make(chan struct{}) }

// Readable is the Signal the socket's In queues notify.
func (b *base) Readable() *pipe.Signal { return &b.readable }

// Writable is the Signal the socket's Out queues notify.
func (b *base) Writable() *pipe.Signal { return &b.writable }

// Close makes every blocked and later Send/Recv return ErrClosed. The pipes
// belong to the socket layer, which closes them itself.
func (b *base) Close() {
	b.closeOnce.Do(func() {
		b.isClosed.Store(true)
		close(b.closed)
	})
	b.wake()
}

// wake makes blocked senders and receivers look again: pipes came or went.
func (b *base) wake() {
	b.readable.Notify()
	b.writable.Notify()
	if q := b.solo.Load(); q != nil {
		q.Interrupt() // a receiver reading the connection looks again too
	}
}

// Hiccup is a no-op for types that keep no per-connection state.
func (b *base) Hiccup(*pipe.Pipe) {}

// Hangup is a no-op for types that keep no per-connection state.
func (b *base) Hangup(*pipe.Pipe) {}

// Subscribe is for SUB and XSUB only.
func (b *base) Subscribe([]byte) error { return ErrNotSupported }

// Unsubscribe is for SUB and XSUB only.
func (b *base) Unsubscribe([]byte) error { return ErrNotSupported }

// block runs try until it reports done or fails, waiting on sig between
// attempts. try is called without the socket mutex held and takes it
// itself. The first attempt does not arm sig, which keeps the uncontended
// path cheap; the channel is taken before every attempt that may be
// followed by a wait, so no wakeup is lost. An already-ended ctx still gets
// one attempt: that is how a non-blocking call is made.
func (b *base) block(ctx context.Context, sig *pipe.Signal, try func() (bool, error)) error {
	if b.isClosed.Load() {
		return ErrClosed
	}
	if done, err := try(); done || err != nil {
		return err
	}
	for {
		if err := b.wait(ctx, sig, try); err != errAgain {
			return err
		}
	}
}

// errAgain is wait's "look again".
var errAgain = errors.New("again")

// wait is one turn of block: it enters sig's wait, looks once more, and
// waits (or reads the solo connection) until something changed.
func (b *base) wait(ctx context.Context, sig *pipe.Signal, try func() (bool, error)) error {
	ch := sig.Enter()
	defer sig.Leave(ch)
	if done, err := try(); done || err != nil {
		return err
	}
	if sig == &b.readable && ctx.Err() == nil {
		if q := b.solo.Load(); q != nil && q.ReadNow(ctx) {
			// Read from the connection here (or interrupted): look
			// again.
			if b.isClosed.Load() {
				return ErrClosed
			}
			return errAgain
		}
	}
	select {
	case <-ch:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.closed:
		return ErrClosed
	}
	if b.isClosed.Load() {
		return ErrClosed
	}
	return errAgain
}

// recvFQ waits for the next message fair-queued from f, with the mutex
// held around each attempt. accept may consume or reject a message (then
// it is dropped and the next one is tried) or change it; it runs under
// the mutex.
func (b *base) recvFQ(ctx context.Context, f *fq, accept func(m pipe.Msg, p *pipe.Pipe) (pipe.Msg, bool)) (pipe.Msg, *pipe.Pipe, error) {
	var (
		out   pipe.Msg
		from  *pipe.Pipe
		looks int
	)
	err := b.block(ctx, &b.readable, func() (bool, error) {
		looks++
		b.mu.Lock()
		defer b.mu.Unlock()
		for {
			m, p, ok := f.pop()
			if !ok {
				return false, nil
			}
			if accept != nil {
				if m, ok = accept(m, p); !ok {
					continue
				}
			}
			out, from = m, p
			b.waited = looks > 1
			return true, nil
		}
	})
	return out, from, err
}

// peerOf is p.Peer() tolerating a nil pipe.
func peerOf(p *pipe.Pipe) *pipe.Peer {
	if p == nil {
		return nil
	}
	return p.Peer()
}

// removePipe deletes p from ps, keeping the order (round-robin positions
// of the others stay meaningful). It returns the index it had, or -1.
func removePipe(ps []*pipe.Pipe, p *pipe.Pipe) ([]*pipe.Pipe, int) {
	for i, q := range ps {
		if q == p {
			copy(ps[i:], ps[i+1:])
			ps[len(ps)-1] = nil
			return ps[:len(ps)-1], i
		}
	}
	return ps, -1
}
