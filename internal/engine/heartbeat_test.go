package engine

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/wire"
)

// splitFrames cuts a byte stream into whole frames; a cut tail is dropped.
func splitFrames(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		h, n, err := wire.ParseFrameHeader(b)
		if err != nil || uint64(len(b)-n) < h.Size {
			break
		}
		end := n + int(h.Size)
		out = append(out, b[:end])
		b = b[end:]
	}
	return out
}

// pongPeer answers every PING with a PONG echoing its context and sends
// nothing else, until the connection ends. It returns how many PINGs came.
func pongPeer(c net.Conn) int {
	pings := 0
	hdr := make([]byte, 2)
	for {
		c.SetReadDeadline(time.Now().Add(waitFor))
		if _, err := readFull(c, hdr); err != nil {
			return pings
		}
		body := make([]byte, hdr[1]) // commands are short frames here
		if _, err := readFull(c, body); err != nil {
			return pings
		}
		name, data, err := wire.ParseCommand(body)
		if hdr[0]&wire.FlagCommand == 0 || err != nil || string(name) != wire.CmdPing {
			continue
		}
		pings++
		_, ctx, _ := wire.ParsePing(data)
		c.SetWriteDeadline(time.Now().Add(waitFor))
		if _, err := c.Write(wire.AppendPong(nil, ctx)); err != nil {
			return pings
		}
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := c.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestHeartbeatTimeout: our PINGs unanswered end Run with ErrHeartbeat.
func TestHeartbeatTimeout(t *testing.T) {
	tests := []struct {
		name string
		hb   Heartbeat
		min  time.Duration // earliest plausible end
	}{
		{"timeout-150ms", Heartbeat{Interval: 50 * time.Millisecond, Timeout: 150 * time.Millisecond, TTL: 2500 * time.Millisecond}, 150 * time.Millisecond},
		{"timeout-defaults-to-interval", Heartbeat{Interval: 50 * time.Millisecond, TTL: 2500 * time.Millisecond}, 80 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := dealerCfg()
			cfg.Heartbeat = tt.hb
			c := handshake(t, cfg, 1, "ROUTER")
			p := newPipe(16)
			// The peer reads everything and says nothing.
			got := goFuture(func() []byte { b, _ := readAll(c.raw.c, waitFor); return b })
			start := time.Now()
			res := run(t, c.e, p)
			err := waitRun(t, res, 2*time.Second)
			d := time.Since(start)
			if !errors.Is(err, ErrHeartbeat) {
				t.Errorf("Run: %v, want ErrHeartbeat", err)
			}
			if d < tt.min || d > time.Second {
				t.Errorf("Run returned after %v", d)
			}
			sent, ok := got.wait(waitFor)
			if !ok {
				t.Fatal("the connection was not closed")
			}
			fs := splitFrames(sent)
			if len(fs) == 0 {
				t.Fatal("no PING sent")
			}
			for _, f := range fs {
				if !bytes.Equal(f, vecPingTTL2500) {
					t.Errorf("sent % x, want PING % x", f, vecPingTTL2500)
				}
			}
		})
	}
}

// TestHeartbeatAlive: a peer that answers PINGs, or just keeps sending,
// keeps the connection up.
func TestHeartbeatAlive(t *testing.T) {
	hb := Heartbeat{Interval: 50 * time.Millisecond, Timeout: 150 * time.Millisecond}
	t.Run("pong", func(t *testing.T) {
		cfg := dealerCfg()
		cfg.Heartbeat = hb
		c := handshake(t, cfg, 1, "ROUTER")
		p := newPipe(16)
		pings := goFuture(func() int { return pongPeer(c.raw.c) })
		res := run(t, c.e, p)
		time.Sleep(600 * time.Millisecond)
		if !running(res) {
			t.Fatalf("Run ended: %v", waitRun(t, res, 0))
		}
		c.e.Close()
		if err := waitRun(t, res, time.Second); err != nil {
			t.Errorf("Run: %v", err)
		}
		n, ok := pings.wait(waitFor)
		if !ok {
			t.Fatal("peer still reading")
		}
		if n < 5 || n > 20 {
			t.Errorf("%d PINGs in 600ms at a 50ms interval", n)
		}
	})
	t.Run("data", func(t *testing.T) {
		cfg := dealerCfg()
		cfg.Heartbeat = hb
		c := handshake(t, cfg, 1, "ROUTER")
		p := newPipe(0)
		drained := goFuture(func() []byte { b, _ := readAll(c.raw.c, waitFor); return b })
		res := run(t, c.e, p)
		for range 20 {
			time.Sleep(30 * time.Millisecond)
			c.raw.write(encode([]byte("tick")))
		}
		if !running(res) {
			t.Fatalf("Run ended: %v", waitRun(t, res, 0))
		}
		for i := range 20 {
			if m := pop(t, p.In); string(m.Frames[0]) != "tick" {
				t.Fatalf("message %d: %s", i, short(m.Frames))
			}
		}
		c.e.Close()
		if err := waitRun(t, res, time.Second); err != nil {
			t.Errorf("Run: %v", err)
		}
		drained.wait(waitFor)
	})
}

// TestHeartbeatPeerTTL: a PING with a TTL obliges us to drop a peer that
// then falls silent; we answer it with a PONG first.
func TestHeartbeatPeerTTL(t *testing.T) {
	tests := []struct {
		name    string
		ttl     uint16
		ctx     []byte
		wantErr bool
	}{
		{"ttl-200ms", 2, nil, true},
		{"ttl-300ms-ctx", 3, []byte("ctx-123"), true},
		{"no-ttl", 0, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := handshake(t, dealerCfg(), 1, "ROUTER")
			p := newPipe(16)
			res := run(t, c.e, p)
			start := time.Now()
			c.raw.write(wire.AppendPing(nil, tt.ttl, tt.ctx))
			if got, want := c.raw.readFrame(), wire.AppendPong(nil, tt.ctx); !bytes.Equal(got, want) {
				t.Errorf("PONG % x, want % x", got, want)
			}
			if !tt.wantErr {
				time.Sleep(400 * time.Millisecond)
				if !running(res) {
					t.Fatalf("Run ended: %v", waitRun(t, res, 0))
				}
				return
			}
			err := waitRun(t, res, 2*time.Second)
			d := time.Since(start)
			if !errors.Is(err, ErrHeartbeat) {
				t.Errorf("Run: %v, want ErrHeartbeat", err)
			}
			ttl := time.Duration(tt.ttl) * 100 * time.Millisecond
			if d < ttl-20*time.Millisecond || d > ttl+time.Second {
				t.Errorf("Run returned after %v for a TTL of %v", d, ttl)
			}
			c.raw.readToEOF()
		})
	}
}

// TestHeartbeatPingTTL: our PINGs carry Heartbeat.TTL in tenths of a
// second (§7.5), saturated at the u16 maximum, and no context.
func TestHeartbeatPingTTL(t *testing.T) {
	tests := []struct {
		ttl  time.Duration
		want uint16
	}{
		{0, 0},
		{99 * time.Millisecond, 0},
		{150 * time.Millisecond, 1},
		{2500 * time.Millisecond, 25},
		{time.Hour, 36000},
		{2 * time.Hour, 0xffff},
	}
	for _, tt := range tests {
		t.Run(tt.ttl.String(), func(t *testing.T) {
			cfg := dealerCfg()
			cfg.Heartbeat = Heartbeat{Interval: 20 * time.Millisecond, Timeout: waitFor, TTL: tt.ttl}
			c := handshake(t, cfg, 1, "ROUTER")
			run(t, c.e, newPipe(16))
			want := wire.AppendPing(nil, tt.want, nil)
			if got := c.raw.readFrame(); !bytes.Equal(got, want) {
				t.Errorf("PING % x, want % x", got, want)
			}
			if tt.ttl == 2500*time.Millisecond && !bytes.Equal(want, vecPingTTL2500) {
				t.Errorf("vector % x", want)
			}
		})
	}
}

// TestPongKeepsOne: PONGs the writer has not sent yet are replaced, not
// queued, so a peer that PINGs and never reads holds one PONG's memory.
func TestPongKeepsOne(t *testing.T) {
	e := New(nil, Config{})
	out := pipe.NewQueue(1, new(pipe.Signal), new(pipe.Signal))
	for i := range 10000 {
		e.sendPong([]byte{byte(i), byte(i >> 8)}, out)
	}
	got := e.takePong(nil)
	if want := wire.AppendPong(nil, []byte{0x0f, 0x27}); !bytes.Equal(got, want) {
		t.Fatalf("pending PONGs % x, want only the last one % x", got, want)
	}
	if cap(e.pong) > 64 {
		t.Errorf("PONG buffer grew to %d bytes", cap(e.pong))
	}
	if rest := e.takePong(nil); len(rest) != 0 {
		t.Errorf("a second take gave % x", rest)
	}
}
