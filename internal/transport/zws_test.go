package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/azmq/azmq/internal/wire"
)

// fakeWS is a WebSocket connection of canned messages; what is written
// is recorded.
type fakeWS struct {
	mu     sync.Mutex
	in     []fakeMsg
	out    [][]byte
	closed bool
}

type fakeMsg struct {
	typ  websocket.MessageType
	data []byte
}

func (f *fakeWS) Reader(context.Context) (websocket.MessageType, io.Reader, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, nil, net.ErrClosed
	}
	if len(f.in) == 0 {
		return 0, nil, io.EOF
	}
	m := f.in[0]
	f.in = f.in[1:]
	// One byte per Read at most 7: the adapter must gather a message.
	return m.typ, &slowReader{b: m.data}, nil
}

type slowReader struct{ b []byte }

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 7)], r.b)
	r.b = r.b[n:]
	return n, nil
}

func (f *fakeWS) Write(_ context.Context, typ websocket.MessageType, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return net.ErrClosed
	}
	if typ != websocket.MessageBinary {
		panic("text message written")
	}
	f.out = append(f.out, bytes.Clone(p))
	return nil
}

func (f *fakeWS) Ping(context.Context) error { return nil }

func (f *fakeWS) CloseNow() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func bin(b ...byte) fakeMsg { return fakeMsg{websocket.MessageBinary, b} }

func TestZWSReadSide(t *testing.T) {
	long := bytes.Repeat([]byte{'L'}, 1000)
	tests := []struct {
		name  string
		mech  string
		srv   bool
		in    []fakeMsg
		limit int64
		want  []byte // after the greeting
		err   error
	}{
		{name: "data frames", mech: "NULL", in: []fakeMsg{bin(0x01, 'a'), bin(0x00, 'b', 'c')},
			want: []byte{0x01, 1, 'a', 0x00, 2, 'b', 'c'}, err: io.EOF},
		{name: "command", mech: "CURVE", srv: true, in: []fakeMsg{bin(append([]byte{0x02}, "\x05READY"...)...)},
			want: append([]byte{0x04, 6}, "\x05READY"...), err: io.EOF},
		{name: "empty body", mech: "PLAIN", in: []fakeMsg{bin(0x00)}, want: []byte{0x00, 0}, err: io.EOF},
		{name: "long frame", mech: "NULL", in: []fakeMsg{bin(append([]byte{0x00}, long...)...)},
			want: append([]byte{0x02, 0, 0, 0, 0, 0, 0, 0x03, 0xe8}, long...), err: io.EOF},
		{name: "text refused", mech: "NULL", in: []fakeMsg{bin(0x00, 'a'), {websocket.MessageText, []byte("\x00hi")}},
			want: []byte{0x00, 1, 'a'}, err: ErrWSText},
		{name: "empty message refused", mech: "NULL", in: []fakeMsg{bin()}, err: ErrWSProtocol},
		{name: "reserved flags refused", mech: "NULL", in: []fakeMsg{bin(0x04, 'x')}, err: ErrWSProtocol},
		{name: "at the limit", mech: "NULL", limit: 11, in: []fakeMsg{bin(append([]byte{0x00}, long[:10]...)...)},
			want: append([]byte{0x00, 10}, long[:10]...), err: io.EOF},
		{name: "oversized refused", mech: "NULL", limit: 11, in: []fakeMsg{bin(append([]byte{0x00}, long[:11]...)...)}, err: ErrWSTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = messageLimit(-1)
			}
			ws := &fakeWS{in: tt.in}
			c := newZWSConn(ws, tt.mech, tt.srv, limit, nil, nil)
			var got []byte
			buf := make([]byte, 5) // small reads: headers and bodies split
			var err error
			for range 10000 {
				var n int
				n, err = c.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if len(got) < wire.GreetingSize {
				t.Fatalf("only %d bytes: no greeting", len(got))
			}
			g, gerr := wire.ParseGreeting(got)
			if gerr != nil || g.Major != 3 || g.Minor != 0 || g.Mechanism != tt.mech || g.AsServer != tt.srv {
				t.Fatalf("greeting %+v, %v", g, gerr)
			}
			if rest := got[wire.GreetingSize:]; !bytes.Equal(rest, tt.want) {
				t.Fatalf("frames %q, want %q", rest, tt.want)
			}
			// The error sticks.
			if _, err2 := c.Read(buf); !errors.Is(err2, tt.err) {
				t.Fatalf("second Read: %v", err2)
			}
		})
	}
}

func TestZWSWriteSide(t *testing.T) {
	greet := wire.AppendGreeting(nil, wire.Greeting{Major: 3, Minor: 1, Mechanism: "NULL"})
	long := bytes.Repeat([]byte{'L'}, 70000)
	var stream []byte
	stream = append(stream, greet...)
	stream = wire.AppendFrame(stream, wire.FlagCommand, []byte("\x05READY"))
	stream = wire.AppendFrame(stream, wire.FlagMore, []byte("a"))
	stream = wire.AppendFrame(stream, 0, nil)
	stream = wire.AppendFrame(stream, 0, long)
	want := [][]byte{
		append([]byte{0x02}, "\x05READY"...),
		{0x01, 'a'},
		{0x00},
		append([]byte{0x00}, long...),
	}
	splits := map[string]func([]byte) [][]byte{
		"whole": func(b []byte) [][]byte { return [][]byte{b} },
		"bytes": func(b []byte) [][]byte {
			var out [][]byte
			for i := range b {
				out = append(out, b[i:i+1])
			}
			return out
		},
		"odd": func(b []byte) [][]byte {
			var out [][]byte
			for i, n := 0, 1; i < len(b); i, n = i+n, n*3+1 {
				out = append(out, b[i:min(i+n, len(b))])
			}
			return out
		},
		"buffers": nil, // net.Buffers: one Write per slice
	}
	for name, split := range splits {
		t.Run(name, func(t *testing.T) {
			ws := &fakeWS{}
			c := newZWSConn(ws, "NULL", false, messageLimit(-1), nil, nil)
			if split == nil {
				v := net.Buffers{stream[:70], stream[70:75], stream[75:]}
				if _, err := v.WriteTo(c); err != nil {
					t.Fatal(err)
				}
			} else {
				for _, p := range split(stream) {
					n, err := c.Write(p)
					if err != nil || n != len(p) {
						t.Fatalf("Write = %d, %v", n, err)
					}
				}
			}
			if len(ws.out) != len(want) {
				t.Fatalf("%d messages, want %d", len(ws.out), len(want))
			}
			for i := range want {
				if !bytes.Equal(ws.out[i], want[i]) {
					t.Fatalf("message %d = %q, want %q", i, ws.out[i][:min(len(ws.out[i]), 20)], want[i][:min(len(want[i]), 20)])
				}
			}
		})
	}
}

func TestZWSDeadline(t *testing.T) {
	ws := &blockingWS{fakeWS: &fakeWS{}, unblock: make(chan struct{})}
	c := newZWSConn(ws, "NULL", false, messageLimit(-1), nil, nil)
	buf := make([]byte, wire.GreetingSize)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read: %v, want a deadline error", err)
		}
	case <-time.After(5 * time.Second):
		c.Close()
		<-done
		t.Fatal("the deadline did not end the Read")
	}
	c.Close()
}

// blockingWS's Reader waits until closed.
type blockingWS struct {
	*fakeWS
	unblock chan struct{}
	once    sync.Once
}

func (b *blockingWS) Reader(context.Context) (websocket.MessageType, io.Reader, error) {
	<-b.unblock
	return 0, nil, net.ErrClosed
}

func (b *blockingWS) CloseNow() error {
	b.once.Do(func() { close(b.unblock) })
	return nil
}

func TestZWSSubprotocol(t *testing.T) {
	tests := []struct {
		server string
		offers []string
		want   string
		ok     bool
	}{
		{"NULL", offer("NULL"), "ZWS2.0/NULL", true},
		{"NULL", []string{"ZWS2.0", "ZWS2.0/NULL"}, "ZWS2.0/NULL", true},
		{"PLAIN", offer("PLAIN"), "ZWS2.0/PLAIN", true},
		{"CURVE", offer("CURVE"), "ZWS2.0/CURVE", true},
		{"CURVE", offer("NULL"), "", false},
		{"NULL", offer("CURVE"), "", false},
		{"PLAIN", offer("NULL"), "", false},
		{"NULL", []string{"ZWS2.0"}, "ZWS2.0", true}, // no mechanism: routing ids
		{"CURVE", []string{"ZWS2.0"}, "", false},
		{"PLAIN", []string{"ZWS2.0", "ZWS2.0/NULL"}, "", false},
		{"NULL", []string{"zws2.0/null"}, "", false},
		{"NULL", nil, "", false},
	}
	for _, tt := range tests {
		got, ok := selectProtocol(tt.offers, tt.server)
		if got != tt.want || ok != tt.ok {
			t.Errorf("selectProtocol(%q, %s) = %q, %v; want %q, %v", tt.offers, tt.server, got, ok, tt.want, tt.ok)
		}
	}
}

// TestWSListenDial negotiates over real connections: matching mechanisms
// connect, others are refused at the upgrade.
func TestWSListenDial(t *testing.T) {
	tests := []struct {
		srv, cli string
		ok       bool
	}{
		{"NULL", "NULL", true}, {"PLAIN", "PLAIN", true}, {"CURVE", "CURVE", true},
		{"NULL", "CURVE", false}, {"CURVE", "PLAIN", false}, {"PLAIN", "NULL", false},
	}
	for _, tt := range tests {
		t.Run(tt.srv+"-"+tt.cli, func(t *testing.T) {
			ctx := testCtx(t)
			l, err := ListenWith(ctx, Endpoint{"ws", "127.0.0.1:*/p"}, Options{Mechanism: tt.srv, AsServer: tt.srv != "NULL"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			res := Resolved(Endpoint{"ws", "127.0.0.1:*/p"}, l)
			if !strings.HasPrefix(res, "ws://127.0.0.1:") || !strings.HasSuffix(res, "/p") {
				t.Fatalf("Resolved = %q", res)
			}
			accepted := make(chan error, 1)
			go func() {
				s, err := l.Accept()
				if err == nil {
					s.Close()
				}
				accepted <- err
			}()
			c, err := DialWith(ctx, mustParse(t, res), Options{Mechanism: tt.cli})
			if tt.ok != (err == nil) {
				t.Fatalf("Dial: %v, want ok %v", err, tt.ok)
			}
			aerr := <-accepted
			if tt.ok {
				if aerr != nil {
					t.Fatal(aerr)
				}
				if PeerAddress(c) != "127.0.0.1" {
					t.Fatalf("PeerAddress = %q", PeerAddress(c))
				}
				// The client reads the server's mechanism in its greeting.
				g := make([]byte, wire.GreetingSize)
				if _, err := io.ReadFull(c, g); err != nil {
					t.Fatal(err)
				}
				pg, _ := wire.ParseGreeting(g)
				if pg.Mechanism != tt.srv || pg.AsServer != (tt.srv != "NULL") {
					t.Fatalf("greeting %+v", pg)
				}
				c.Close()
				return
			}
			if !errors.Is(err, ErrWSSubprotocol) || !errors.Is(aerr, ErrWSSubprotocol) {
				t.Fatalf("dial %v, accept %v: want ErrWSSubprotocol", err, aerr)
			}
		})
	}
}

func TestWSListenErrors(t *testing.T) {
	ctx := testCtx(t)
	for _, o := range []Options{{}, {TLS: &tls.Config{}}} {
		l, err := ListenWith(ctx, Endpoint{"wss", "127.0.0.1:*/"}, o)
		if err == nil {
			l.Close()
			t.Fatal("wss without a certificate listens")
		}
		if !errors.Is(err, ErrTLSConfig) {
			t.Fatalf("error %v, want ErrTLSConfig", err)
		}
	}
	for _, a := range []string{"*:1/", "127.0.0.1:0/"} {
		if c, err := Dial(ctx, Endpoint{"ws", a}); err == nil || !errors.Is(err, ErrEndpoint) {
			if c != nil {
				c.Close()
			}
			t.Fatalf("Dial ws://%s: %v", a, err)
		}
	}
}

// TestWSUpgradeRefusals: requests that are no ZWS upgrade get an HTTP
// error.
func TestWSUpgradeRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := Upgrade(w, r, Options{}); err == nil {
			c.Close()
		}
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("plain GET: %s", resp.Status)
	}
	ctx := testCtx(t)
	_, resp, err = websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{"chat"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong subprotocol: %v", err)
	}
}

// silentWS never answers a ping.
type silentWS struct{ blockingWS }

func (s *silentWS) Ping(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestZWSHeartbeat: a peer that answers no ping is dropped after the
// timeout, and Read says why.
func TestZWSHeartbeat(t *testing.T) {
	ws := &silentWS{blockingWS{fakeWS: &fakeWS{}, unblock: make(chan struct{})}}
	c := newZWSConn(ws, "NULL", false, messageLimit(-1), nil, nil)
	defer c.Close()
	c.heartbeat(10*time.Millisecond, 20*time.Millisecond)
	buf := make([]byte, wire.GreetingSize)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrWSHeartbeat) {
			t.Fatalf("Read: %v, want ErrWSHeartbeat", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the heartbeat did not end the connection")
	}
}

// TestZWSHeartbeatAnswered: pings answered keep the connection up.
func TestZWSHeartbeatAnswered(t *testing.T) {
	ws := &blockingWS{fakeWS: &fakeWS{}, unblock: make(chan struct{})}
	c := newZWSConn(ws, "NULL", false, messageLimit(-1), nil, nil)
	c.heartbeat(time.Millisecond, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	if c.hbDead.Load() {
		t.Fatal("answered pings ended the connection")
	}
	c.Close()
}

// TestZWSBare: under plain "ZWS2.0" the peer's first message, its routing
// id, is served as a READY, and the engine's READY goes out as ours.
func TestZWSBare(t *testing.T) {
	ws := &fakeWS{in: []fakeMsg{bin(0x00, 'p', '1'), bin(0x00, 'h', 'i')}}
	c := newZWSConn(ws, "NULL", false, messageLimit(-1), nil, nil)
	c.bare = true
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	want := wire.AppendReady(nil, wire.Metadata{{Name: wire.PropIdentity, Value: []byte("p1")}})
	want = wire.AppendFrame(want, 0, []byte("hi"))
	if rest := got[wire.GreetingSize:]; !bytes.Equal(rest, want) {
		t.Fatalf("read %q, want %q", rest, want)
	}
	var stream []byte
	stream = wire.AppendGreeting(stream, wire.Greeting{Major: 3, Minor: 1, Mechanism: "NULL"})
	stream = wire.AppendReady(stream, wire.Metadata{{Name: wire.PropSocketType, Value: []byte("DEALER")}, {Name: wire.PropIdentity, Value: []byte("me")}})
	stream = wire.AppendFrame(stream, 0, []byte("data"))
	if _, err := c.Write(stream); err != nil {
		t.Fatal(err)
	}
	if len(ws.out) != 2 || string(ws.out[0]) != "\x00me" || string(ws.out[1]) != "\x00data" {
		t.Fatalf("sent %q", ws.out)
	}

	// A first message with flags, or too long an id, is refused.
	for _, m := range []fakeMsg{bin(0x01, 'x'), bin(append([]byte{0}, bytes.Repeat([]byte{'i'}, 256)...)...)} {
		c := newZWSConn(&fakeWS{in: []fakeMsg{m}}, "NULL", false, messageLimit(-1), nil, nil)
		c.bare = true
		if _, err := io.ReadAll(c); !errors.Is(err, ErrWSProtocol) {
			t.Fatalf("routing id message %q: %v", m.data[:2], err)
		}
	}
}

// TestWSDialBare: a server that picks plain "ZWS2.0" from our offer gets
// routing id messages.
func TestWSDialBare(t *testing.T) {
	ctx := testCtx(t)
	got := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ZWS2.0"}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ws.Write(r.Context(), websocket.MessageBinary, []byte("\x00s"))
		ws.Write(r.Context(), websocket.MessageBinary, []byte("\x00data"))
		_, m, _ := ws.Read(r.Context())
		got <- m
		ws.Read(r.Context()) // until the client closes
	}))
	defer srv.Close()
	c, err := DialWith(ctx, mustParse(t, "ws://"+strings.TrimPrefix(srv.URL, "http://")+"/"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := wire.AppendGreeting(nil, wire.Greeting{Major: 3, Minor: 0, Mechanism: "NULL"})
	want = wire.AppendReady(want, wire.Metadata{{Name: wire.PropIdentity, Value: []byte("s")}})
	want = wire.AppendFrame(want, 0, []byte("data"))
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(c, buf); err != nil || !bytes.Equal(buf, want) {
		t.Fatalf("read %q, %v; want %q", buf, err, want)
	}
	var out []byte
	out = wire.AppendGreeting(out, wire.Greeting{Major: 3, Minor: 1, Mechanism: "NULL"})
	out = wire.AppendReady(out, wire.Metadata{{Name: wire.PropSocketType, Value: []byte("DEALER")}, {Name: wire.PropIdentity, Value: []byte("cli")}})
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	if m := <-got; string(m) != "\x00cli" {
		t.Fatalf("server got %q, want our routing id", m)
	}
}
