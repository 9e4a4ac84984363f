package azmq

import (
	"context"
	"sync"
)

// EventKind says what happened to one of a socket's connections.
type EventKind int

// The events a Monitor reports.
const (
	EventListening          EventKind = iota + 1 // Bind succeeded
	EventBindFailed                              // Bind failed
	EventAccepted                                // a connection was accepted
	EventAcceptFailed                            // Accept failed
	EventConnected                               // a dial succeeded
	EventConnectDelayed                          // a dial failed; it will be retried
	EventConnectRetried                          // a new dial is starting after a wait
	EventDisconnected                            // a connection ended (Err says why)
	EventClosed                                  // a listener closed
	EventHandshakeSucceeded                      // the ZMTP handshake completed
	EventHandshakeFailed                         // the ZMTP handshake failed (Err says why)
	EventConnectStopped                          // a Connect gave up, per WithReconnectStop (Err says why)
)

var eventNames = [...]string{
	EventListening: "Listening", EventBindFailed: "BindFailed", EventAccepted: "Accepted",
	EventAcceptFailed: "AcceptFailed", EventConnected: "Connected", EventConnectDelayed: "ConnectDelayed",
	EventConnectRetried: "ConnectRetried", EventDisconnected: "Disconnected", EventClosed: "Closed",
	EventHandshakeSucceeded: "HandshakeSucceeded", EventHandshakeFailed: "HandshakeFailed",
	EventConnectStopped: "ConnectStopped",
}

// String returns the event's name, e.g. "HandshakeFailed".
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "Unknown"
}

// Event is one thing that happened to a socket's connections.
type Event struct {
	Kind     EventKind
	Endpoint string // the endpoint, or the peer's address for accepted connections
	Err      error  // why, for failures and for Disconnected
	// Dropped counts the events this channel missed just before this one,
	// because it was full (see Monitor).
	Dropped uint64
}

// MonitorBuffer is how many events a Monitor channel holds unread.
const MonitorBuffer = 256

// monitors fans events out to the channels of Socket.Monitor.
type monitors struct {
	mu     sync.Mutex
	closed bool
	chans  map[chan Event]uint64 // each channel's events dropped since its last one
}

// Monitor returns a channel of the socket's connection events. It is
// closed when ctx ends or the socket closes. It never blocks the socket:
// the channel holds MonitorBuffer events, and an event that finds it full
// is dropped; the next event that gets through says how many were lost
// (Event.Dropped). Read it from a goroutine of its own to lose none.
func (s *Socket) Monitor(ctx context.Context) <-chan Event {
	ch := make(chan Event, MonitorBuffer)
	m := &s.mon
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		close(ch)
		return ch
	}
	if m.chans == nil {
		m.chans = make(map[chan Event]uint64)
	}
	m.chans[ch] = 0
	m.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.mu.Lock()
		if _, ok := m.chans[ch]; ok {
			delete(m.chans, ch)
			close(ch)
		}
		m.mu.Unlock()
	})
	return ch
}

func (s *Socket) emit(kind EventKind, endpoint string, err error) {
	if int(kind) < len(s.st.events) {
		s.st.events[kind].Add(1)
	}
	m := &s.mon
	m.mu.Lock()
	for ch, dropped := range m.chans {
		select {
		case ch <- Event{Kind: kind, Endpoint: endpoint, Err: err, Dropped: dropped}:
			m.chans[ch] = 0
		default:
			m.chans[ch] = dropped + 1
		}
	}
	m.mu.Unlock()
}

func (m *monitors) close() {
	m.mu.Lock()
	m.closed = true
	for ch := range m.chans {
		close(ch)
	}
	m.chans = nil
	m.mu.Unlock()
}
