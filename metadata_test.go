package azmq_test

import (
	"strings"
	"testing"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/zap"
)

// TestMetadataBothWays: each side reads the other's WithMetadata
// properties, under NULL, PLAIN and CURVE, while ZMTP's own properties
// stay what the protocol says.
func TestMetadataBothWays(t *testing.T) {
	spub, ssec := keyPair(t)
	cpub, csec := keyPair(t)
	h := zap.NewHandler()
	h.AddUser("u", "p")
	h.AllowAnyCurve()
	cases := []struct {
		name     string
		srv, cli []azmq.SocketOption
	}{
		{"NULL", nil, nil},
		{"PLAIN", []azmq.SocketOption{azmq.WithPlainServer()}, []azmq.SocketOption{azmq.WithPlainClient("u", "p")}},
		{"CURVE", []azmq.SocketOption{azmq.WithCurveServer(ssec)}, []azmq.SocketOption{azmq.WithCurveClient(spub, cpub, csec)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newSecPair(t, h,
				append(c.srv, azmq.WithMetadata("X-Role", "server")),
				append(c.cli, azmq.WithMetadata("X-Role", "client"), azmq.WithMetadata("X-Region", strings.Repeat("r", 1000))))
			m := p.roundTrip(t)
			for name, want := range map[string]string{"X-Role": "client", "x-region": strings.Repeat("r", 1000), "Socket-Type": "REQ"} {
				if v, ok := m.Property(name); !ok || v != want {
					t.Errorf("server: Property(%q) = %.20q, %v; want %.20q", name, v, ok, want)
				}
			}
			ctx := t.Context()
			if err := p.cli.Send(ctx, []byte("again")); err != nil {
				t.Fatal(err)
			}
			if _, err := p.srv.Recv(ctx); err != nil {
				t.Fatal(err)
			}
			if err := p.srv.Send(ctx, []byte("reply")); err != nil {
				t.Fatal(err)
			}
			reply, err := p.cli.RecvMsg(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := reply.Property("X-Role"); !ok || v != "server" {
				t.Errorf("client: Property(\"X-Role\") = %q, %v; want \"server\"", v, ok)
			}
		})
	}
}

// TestMetadataInproc: inproc has no handshake, but a peer's WithMetadata
// properties are there all the same.
func TestMetadataInproc(t *testing.T) {
	z := azmq.NewContext()
	defer z.Close()
	pull, err := z.NewSocket(azmq.PULL, azmq.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	push, err := z.NewSocket(azmq.PUSH, azmq.WithLinger(0), azmq.WithMetadata("X-Role", "pusher"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pull.Bind("inproc://metadata"); err != nil {
		t.Fatal(err)
	}
	if err := push.Connect("inproc://metadata"); err != nil {
		t.Fatal(err)
	}
	if err := push.Send(t.Context(), []byte("m")); err != nil {
		t.Fatal(err)
	}
	m, err := pull.RecvMsg(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Property("x-role"); !ok || v != "pusher" {
		t.Errorf("Property(\"x-role\") = %q, %v; want \"pusher\"", v, ok)
	}
}

// TestMetadataOptionErrors: what libzmq refuses for ZMQ_METADATA, and
// azmq's bounds.
func TestMetadataOptionErrors(t *testing.T) {
	z := azmq.NewContext()
	defer z.Close()
	many := make([]azmq.SocketOption, 101)
	for i := range many {
		many[i] = azmq.WithMetadata("X-N"+strings.Repeat("n", i), "v")
	}
	cases := []struct {
		name string
		opts []azmq.SocketOption
		want string
	}{
		{"no X- prefix", []azmq.SocketOption{azmq.WithMetadata("Hello", "v")}, `"X-"`},
		{"lower-case x-", []azmq.SocketOption{azmq.WithMetadata("x-hello", "v")}, `"X-"`},
		{"bare X-", []azmq.SocketOption{azmq.WithMetadata("X-", "v")}, `"X-"`},
		{"empty value", []azmq.SocketOption{azmq.WithMetadata("X-a", "")}, "empty"},
		{"bad name byte", []azmq.SocketOption{azmq.WithMetadata("X-a:b", "v")}, "name character"},
		{"long name", []azmq.SocketOption{azmq.WithMetadata("X-"+strings.Repeat("a", 254), "v")}, "at most 255"},
		{"long value", []azmq.SocketOption{azmq.WithMetadata("X-a", strings.Repeat("v", 16<<10+1))}, "at most"},
		{"twice", []azmq.SocketOption{azmq.WithMetadata("X-a", "1"), azmq.WithMetadata("X-A", "2")}, "twice"},
		{"too many", many, "more than 100"},
		{"enforce PLAIN without domain", []azmq.SocketOption{azmq.WithPlainServer(), azmq.WithZAPEnforceDomain(true)}, "WithZAPDomain"},
	}
	for _, c := range cases {
		_, err := z.NewSocket(azmq.DEALER, c.opts...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: NewSocket: %v, want an error mentioning %s", c.name, err, c.want)
		}
	}
	s, err := z.NewSocket(azmq.DEALER, many[:100]...)
	if err != nil {
		t.Fatalf("100 properties: %v", err)
	}
	s.Close()
}

// TestZAPEnforceDomainLocal: with the domain enforced and no handler, a
// NULL socket with a domain and a CURVE server with a domain refuse
// peers; a CURVE server without a domain asks no handler at all, so a
// handler that refuses everyone does not see its clients.
func TestZAPEnforceDomainLocal(t *testing.T) {
	spub, ssec := keyPair(t)
	cpub, csec := keyPair(t)
	enforce := azmq.WithZAPEnforceDomain(true)
	t.Run("null-domain-no-handler", func(t *testing.T) {
		p := newSecPair(t, nil, []azmq.SocketOption{azmq.WithZAPDomain("d"), enforce}, nil)
		p.refused(t, p.srvEv, "no ZAP handler")
	})
	t.Run("null-domain-no-handler-not-enforced", func(t *testing.T) {
		newSecPair(t, nil, []azmq.SocketOption{azmq.WithZAPDomain("d")}, nil).roundTrip(t)
	})
	t.Run("curve-domain-no-handler", func(t *testing.T) {
		p := newSecPair(t, nil, []azmq.SocketOption{azmq.WithCurveServer(ssec), azmq.WithZAPDomain("d"), enforce},
			[]azmq.SocketOption{azmq.WithCurveClient(spub, cpub, csec)})
		p.refused(t, p.srvEv, "no ZAP handler")
	})
	t.Run("curve-no-domain-skips-zap", func(t *testing.T) {
		h := zap.NewHandler()
		h.Deny("127.0.0.1") // refuses every client ZAP is asked about
		m := newSecPair(t, h, []azmq.SocketOption{azmq.WithCurveServer(ssec), enforce},
			[]azmq.SocketOption{azmq.WithCurveClient(spub, cpub, csec)}).roundTrip(t)
		if u, ok := m.Property("User-Id"); ok && u != "" {
			t.Errorf("User-Id = %q: ZAP was asked", u)
		}
	})
	t.Run("curve-no-domain-asks-zap-not-enforced", func(t *testing.T) {
		h := zap.NewHandler()
		h.Deny("127.0.0.1")
		p := newSecPair(t, h, []azmq.SocketOption{azmq.WithCurveServer(ssec)},
			[]azmq.SocketOption{azmq.WithCurveClient(spub, cpub, csec)})
		p.refused(t, p.cliEv, "400")
	})
}
