package azmq

import (
	"sync"
	"sync/atomic"
)

// Stats are a socket's counters since NewSocket, for operators: what
// passed through it, what it dropped, and how its connections fared.
// Counting costs a few atomic additions per message, so they are always
// on. Each field only grows.
type Stats struct {
	// MsgsOut and BytesOut count the messages Send, SendNoCopy, SendTo and
	// SendGroup queued, and their frames' bytes (a PUB's message counts
	// once, however many subscribers get it).
	MsgsOut, BytesOut uint64
	// MsgsIn and BytesIn count the messages Recv and RecvMsg returned, and
	// their frames' bytes.
	MsgsIn, BytesIn uint64
	// Dropped counts the messages dropped at the high-water mark: once
	// for each subscriber of a PUB, XPUB or RADIO that missed one because
	// its queue was full, and each message a ROUTER dropped because its
	// peer's queue was full or its routing id unknown (and one of fewer
	// than two frames). Blocking types never drop.
	Dropped uint64
	// Accepted counts the connections Bind's listeners accepted;
	// Connected the dials that succeeded, Reconnects the dials retried
	// after a wait (a failed dial or a lost connection).
	Accepted, Connected, Reconnects uint64
	// Handshakes counts the ZMTP handshakes that completed and
	// HandshakeFailures those that failed (a wrong mechanism, a ZAP
	// refusal, a timeout, a peer gone in the middle).
	Handshakes, HandshakeFailures uint64
	// Disconnects counts the connections that ended after their handshake.
	Disconnects uint64
}

// stats are a socket's live counters. What Send and Recv add sit on cache
// lines of their own, so that a sender and a receiver of the same socket
// do not slow each other down.
type stats struct {
	_      [64]byte
	out    counter
	_      [64]byte
	in     counter
	_      [64]byte
	events [len(eventNames)]atomic.Uint64 // by EventKind
}

// counter counts messages and their bytes with one atomic addition per
// message, not two: both advance together in packed, which is folded into
// the totals long before either part could overflow. The fold and a read
// take mu, so a read never sees a message half counted, and what it
// returns only grows.
type counter struct {
	packed atomic.Uint64 // messages<<byteBits | bytes, since the last fold
	mu     sync.Mutex
	msgs   uint64 // folded, guarded by mu
	bytes  uint64 // folded, guarded by mu
}

const (
	byteBits = 40
	byteMask = 1<<byteBits - 1
	// Fold once either part passes a quarter of its room: what
	// concurrent adders put on top before the fold cannot fill the rest.
	foldMsgs  = 1 << (64 - byteBits - 2)
	foldBytes = 1 << (byteBits - 2)
	// A message this large is counted under the lock, so that no single
	// addition comes near a part's room.
	bigMsg = 1 << 32
)

func (c *counter) add(n uint64) {
	if n >= bigMsg {
		c.mu.Lock()
		c.msgs++
		c.bytes += n
		c.mu.Unlock()
		return
	}
	if v := c.packed.Add(1<<byteBits | n); v>>byteBits >= foldMsgs || v&byteMask >= foldBytes {
		c.fold()
	}
}

func (c *counter) fold() {
	c.mu.Lock()
	v := c.packed.Swap(0)
	c.msgs += v >> byteBits
	c.bytes += v & byteMask
	c.mu.Unlock()
}

func (c *counter) load() (msgs, bytes uint64) {
	c.mu.Lock()
	v := c.packed.Load()
	msgs, bytes = c.msgs+v>>byteBits, c.bytes+v&byteMask
	c.mu.Unlock()
	return msgs, bytes
}

// Stats returns the socket's counters (see Stats). It may be called at any
// time, also after Close, from any goroutine.
func (s *Socket) Stats() Stats {
	ev := func(k EventKind) uint64 { return s.st.events[k].Load() }
	msgsOut, bytesOut := s.st.out.load()
	msgsIn, bytesIn := s.st.in.load()
	return Stats{
		MsgsOut:           msgsOut,
		BytesOut:          bytesOut,
		MsgsIn:            msgsIn,
		BytesIn:           bytesIn,
		Dropped:           s.pat.Dropped(),
		Accepted:          ev(EventAccepted),
		Connected:         ev(EventConnected),
		Reconnects:        ev(EventConnectRetried),
		Handshakes:        ev(EventHandshakeSucceeded),
		HandshakeFailures: ev(EventHandshakeFailed),
		Disconnects:       ev(EventDisconnected),
	}
}

// countOut counts a message queued.
func (s *Socket) countOut(frames [][]byte) {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	s.st.out.add(uint64(n))
}

// countIn counts a message received.
func (s *Socket) countIn(frames [][]byte) {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	s.st.in.add(uint64(n))
}
