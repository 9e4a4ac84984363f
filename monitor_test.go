package azmq

import (
	"testing"
)

// TestMonitorDropped: a Monitor channel nobody reads holds MonitorBuffer
// events and drops the rest without blocking the socket; the first event
// that gets through once it is read says how many it missed.
func TestMonitorDropped(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	s := newSock(t, z, PULL)
	ev := s.Monitor(ctx)
	const extra = 40
	for range MonitorBuffer + extra {
		s.emit(EventConnectRetried, "tcp://127.0.0.1:1", nil)
	}
	for i := range MonitorBuffer {
		if e := <-ev; e.Dropped != 0 {
			t.Fatalf("event %d: Dropped %d before the channel was full", i, e.Dropped)
		}
	}
	select {
	case e := <-ev:
		t.Fatalf("a %d-th event was kept: %+v", MonitorBuffer+1, e)
	default:
	}
	s.emit(EventClosed, "tcp://127.0.0.1:1", nil)
	if e := <-ev; e.Kind != EventClosed || e.Dropped != extra {
		t.Fatalf("next event %v, Dropped %d; want Closed after %d dropped", e.Kind, e.Dropped, extra)
	}
	s.emit(EventClosed, "tcp://127.0.0.1:1", nil)
	if e := <-ev; e.Dropped != 0 {
		t.Fatalf("Dropped %d after a read with none lost", e.Dropped)
	}
}
