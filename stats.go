package azmq

import "sync/atomic"

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
	msgsOut, bytesOut atomic.Uint64
	_                 [48]byte
	msgsIn, bytesIn   atomic.Uint64
	_                 [48]byte
	events            [len(eventNames)]atomic.Uint64 // by EventKind
}

// Stats returns the socket's counters (see Stats). It may be called at any
// time, also after Close, from any goroutine.
func (s *Socket) Stats() Stats {
	ev := func(k EventKind) uint64 { return s.st.events[k].Load() }
	return Stats{
		MsgsOut:           s.st.msgsOut.Load(),
		BytesOut:          s.st.bytesOut.Load(),
		MsgsIn:            s.st.msgsIn.Load(),
		BytesIn:           s.st.bytesIn.Load(),
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
	s.st.msgsOut.Add(1)
	s.st.bytesOut.Add(uint64(n))
}

// countIn counts a message received.
func (s *Socket) countIn(frames [][]byte) {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	s.st.msgsIn.Add(1)
	s.st.bytesIn.Add(uint64(n))
}
