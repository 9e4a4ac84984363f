package security_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/engine"
	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/security"
)

// TestCurveEngine runs CURVE through two real engines over loopback TCP:
// the handshake, multipart messages both ways and heartbeats, which travel
// as commands inside MESSAGE.
func TestCurveEngine(t *testing.T) {
	const wait = 10 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc := <-accepted
	ln.Close()
	if sc == nil {
		t.Fatal("accept failed")
	}

	spub, ssec, _ := security.GenerateCurveKeyPair()
	cpub, csec, _ := security.GenerateCurveKeyPair()
	var zapKey []byte
	zap := func(_ context.Context, req security.ZAPRequest) (security.ZAPReply, error) {
		zapKey = req.Credentials[0]
		return security.ZAPReply{Status: "200", UserID: "alice"}, nil
	}
	hb := engine.Heartbeat{Interval: 20 * time.Millisecond, Timeout: wait}
	se := engine.New(sc, engine.Config{SocketType: "ROUTER", SendIdentity: true, MaxMsgSize: -1,
		Handshake: wait, Heartbeat: hb, Mechanism: security.NewCurveServer(ssec), ZAP: zap})
	ce := engine.New(cc, engine.Config{SocketType: "DEALER", Identity: []byte("dd"), SendIdentity: true,
		MaxMsgSize: -1, Handshake: wait, Heartbeat: hb, Mechanism: security.NewCurveClient(spub, cpub, csec)})
	defer se.Close()
	defer ce.Close()

	type hs struct {
		p   *pipe.Peer
		err error
	}
	sres := make(chan hs, 1)
	go func() {
		p, err := se.Handshake(context.Background())
		sres <- hs{p, err}
	}()
	cp, err := ce.Handshake(context.Background())
	if err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	sr := <-sres
	if sr.err != nil {
		t.Fatalf("server handshake: %v", sr.err)
	}
	if cp.SocketType != "ROUTER" || sr.p.SocketType != "DEALER" || string(sr.p.RoutingID) != "dd" {
		t.Errorf("peers %+v / %+v", cp, sr.p)
	}
	if uid, _ := sr.p.Property("User-Id"); uid != "alice" || !bytes.Equal(zapKey, cpub[:]) {
		t.Errorf("User-Id %q, ZAP key %x", uid, zapKey)
	}

	sp, cpp := pipe.New(0, 0, nil, nil, nil, nil), pipe.New(0, 0, nil, nil, nil, nil)
	srun, crun := make(chan error, 1), make(chan error, 1)
	go func() { srun <- se.Run(sp) }()
	go func() { crun <- ce.Run(cpp) }()

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<14)
	msgs := [][][]byte{{[]byte("hello")}, {[]byte("a"), {}, big}, {big[:300]}}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, dir := range []struct {
		name     string
		from, to *pipe.Pipe
	}{{"client-to-server", cpp, sp}, {"server-to-client", sp, cpp}} {
		for _, m := range msgs {
			if err := dir.from.Out.Push(ctx, pipe.Msg{Frames: m}, nil); err != nil {
				t.Fatal(err)
			}
		}
		for i, m := range msgs {
			got, err := dir.to.In.Pop(ctx, nil)
			if err != nil {
				t.Fatalf("%s: message %d: %v", dir.name, i, err)
			}
			if len(got.Frames) != len(m) {
				t.Fatalf("%s: message %d has %d frames", dir.name, i, len(got.Frames))
			}
			for j := range m {
				if !bytes.Equal(got.Frames[j], m[j]) {
					t.Fatalf("%s: message %d frame %d differs", dir.name, i, j)
				}
			}
		}
	}
	// Let a few PING/PONG exchanges happen inside MESSAGE.
	time.Sleep(100 * time.Millisecond)
	if err := cpp.Out.Push(ctx, pipe.Msg{Frames: [][]byte{[]byte("after pings")}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := sp.In.Pop(ctx, nil); err != nil || string(got.Frames[0]) != "after pings" {
		t.Fatalf("after heartbeats: %v", err)
	}

	cpp.Out.Close()
	if err := <-crun; err != nil {
		t.Errorf("client Run: %v", err)
	}
	se.Close()
	<-srun
}
