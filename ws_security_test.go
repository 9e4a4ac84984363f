package azmq_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/transport"
	"github.com/azmq/azmq/zap"
)

// TestWSSecurity runs PLAIN and CURVE over ws: the subprotocol carries
// the mechanism, the handshake runs as over tcp.
func TestWSSecurity(t *testing.T) {
	spub, ssec := keyPair(t)
	cpub, csec := keyPair(t)
	h := zap.NewHandler()
	h.AddUser("admin", "secret")
	if err := h.AllowCurveKey(cpub); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		srv, cli []azmq.SocketOption
		user     string
	}{
		{"CURVE", []azmq.SocketOption{azmq.WithCurveServer(ssec)}, []azmq.SocketOption{azmq.WithCurveClient(spub, cpub, csec)}, cpub},
		{"PLAIN", []azmq.SocketOption{azmq.WithPlainServer()}, []azmq.SocketOption{azmq.WithPlainClient("admin", "secret")}, "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newWSPair(t, h, tt.srv, tt.cli)
			m := p.roundTrip(t)
			if u, _ := m.Property("User-Id"); u != tt.user {
				t.Fatalf("User-Id = %q, want %q", u, tt.user)
			}
		})
	}
	t.Run("PLAIN-wrong-password", func(t *testing.T) {
		p := newWSPair(t, h, []azmq.SocketOption{azmq.WithPlainServer()},
			[]azmq.SocketOption{azmq.WithPlainClient("admin", "nope")})
		p.refused(t, p.cliEv, "400")
	})
	for _, mm := range []struct {
		name     string
		srv, cli []azmq.SocketOption
	}{
		{"CURVE-server-NULL-client", []azmq.SocketOption{azmq.WithCurveServer(ssec)}, nil},
		{"NULL-server-PLAIN-client", nil, []azmq.SocketOption{azmq.WithPlainClient("admin", "secret")}},
		{"PLAIN-server-CURVE-client", []azmq.SocketOption{azmq.WithPlainServer()}, []azmq.SocketOption{azmq.WithCurveClient(spub, cpub, csec)}},
	} {
		t.Run(mm.name, func(t *testing.T) {
			p := newWSPair(t, h, mm.srv, mm.cli)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for {
				select {
				case e := <-p.cliEv:
					if e.Kind == azmq.EventHandshakeSucceeded {
						t.Fatal("handshake succeeded")
					}
					if e.Kind != azmq.EventConnectDelayed {
						continue
					}
					if !errors.Is(e.Err, transport.ErrWSSubprotocol) {
						t.Fatalf("ConnectDelayed: %v, want ErrWSSubprotocol", e.Err)
					}
					return
				case <-ctx.Done():
					t.Fatal("no ConnectDelayed event")
				}
			}
		})
	}
}

// newWSPair is newSecPair over ws.
func newWSPair(t *testing.T, h *zap.Handler, srvOpts, cliOpts []azmq.SocketOption) secPair {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	zctx := azmq.NewContext()
	wait, err := h.Start(ctx, zctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		wait()
		zctx.Close()
	})
	srv, err := zctx.NewSocket(azmq.REP, append(srvOpts, azmq.WithLinger(0))...)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := zctx.NewSocket(azmq.REQ, append(cliOpts, azmq.WithLinger(0))...)
	if err != nil {
		t.Fatal(err)
	}
	p := secPair{srv: srv, cli: cli, srvEv: srv.Monitor(ctx), cliEv: cli.Monitor(ctx)}
	if err := srv.Bind("ws://127.0.0.1:*/secure"); err != nil {
		t.Fatal(err)
	}
	if err := cli.Connect(srv.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	return p
}
