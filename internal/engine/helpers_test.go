package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/wire"
)

// waitFor bounds every wait of the tests.
const waitFor = 5 * time.Second

// errDeadline is what a conn operation past its deadline returns.
var errDeadline = os.ErrDeadlineExceeded

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

// hx decodes space-separated hex, as PROTOCOL.md §7 writes bytes.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Byte-exact libzmq 4.3 output from PROTOCOL.md §7.
var (
	vecGreetingNull = hx(`
		ff 00 00 00 00 00 00 00 01 7f 03 01 4e 55 4c 4c
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00`)
	vecReadyDealerABC = hx(`
		04 2c 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d
		54 79 70 65 00 00 00 06 44 45 41 4c 45 52 08 49
		64 65 6e 74 69 74 79 00 00 00 03 61 62 63`)
	vecReadyRouter     = hx(`04 29 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d 54 79 70 65 00 00 00 06 52 4f 55 54 45 52 08 49 64 65 6e 74 69 74 79 00 00 00 00`)
	vecReadySub        = hx(`04 19 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d 54 79 70 65 00 00 00 03 53 55 42`)
	vecSubscribe       = hx(`04 0c 09 53 55 42 53 43 52 49 42 45 41 42`)
	vecCancel          = hx(`04 09 06 43 41 4e 43 45 4c 41 42`)
	vecLegacySubscribe = hx(`00 03 01 41 42`)
	vecLegacyCancel    = hx(`00 03 00 41 42`)
	vecPingTTL2500     = hx(`04 07 04 50 49 4e 47 00 19`)
	vecPongEmpty       = hx(`04 05 04 50 4f 4e 47`)
	vecPongCtx         = hx(`04 0c 04 50 4f 4e 47 63 74 78 2d 31 32 33`)
	vecError400        = hx(`04 0a 05 45 52 52 4f 52 03 34 30 30`)
	vecReqHello        = hx(`01 00 00 05 68 65 6c 6c 6f`)
	vecTwoPartAB       = hx(`01 01 61 00 01 62`)
	vecLong300         = hx(`02 00 00 00 00 00 00 01 2c`)
)

// tcpPair returns both ends of a loopback TCP connection: a for the engine,
// b for the test's raw peer. Both are closed when the test ends.
func tcpPair(t testing.TB) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	b, err = net.DialTimeout("tcp", ln.Addr().String(), waitFor)
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		b.Close()
		t.Fatal(r.err)
	}
	a = r.c
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	return a, b
}

// rawPeer plays the other end of the connection byte by byte. Its methods
// call t.Fatal, so use them from the test goroutine only.
type rawPeer struct {
	t testing.TB
	c net.Conn
}

func (p *rawPeer) write(bs ...[]byte) {
	p.t.Helper()
	p.c.SetWriteDeadline(time.Now().Add(waitFor))
	for _, b := range bs {
		if _, err := p.c.Write(b); err != nil {
			p.t.Fatalf("peer write: %v", err)
		}
	}
}

func (p *rawPeer) read(n int) []byte {
	p.t.Helper()
	b := make([]byte, n)
	p.c.SetReadDeadline(time.Now().Add(waitFor))
	if _, err := io.ReadFull(p.c, b); err != nil {
		p.t.Fatalf("peer read of %d bytes: %v", n, err)
	}
	return b
}

// readFrame reads one whole frame and returns its wire bytes.
func (p *rawPeer) readFrame() []byte {
	p.t.Helper()
	f := p.read(2)
	if f[0]&wire.FlagLong != 0 {
		f = append(f, p.read(7)...)
	}
	h, n, err := wire.ParseFrameHeader(f)
	if err != nil || n != len(f) {
		p.t.Fatalf("peer: bad frame header % x: %v", f, err)
	}
	return append(f, p.read(int(h.Size))...)
}

// readToEOF reads until the engine closes the connection and returns what
// came. A reset counts as a close.
func (p *rawPeer) readToEOF() []byte {
	p.t.Helper()
	b, err := readAll(p.c, waitFor)
	if err != nil {
		p.t.Fatalf("peer: connection not closed: %v (got % x)", err, b)
	}
	return b
}

// readAll reads until EOF or a reset (nil error) or d passes.
func readAll(c net.Conn, d time.Duration) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(d))
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return out, nil
			}
			return out, err
		}
	}
}

func greeting(major, minor byte, mech string) []byte {
	return wire.AppendGreeting(nil, wire.Greeting{Major: major, Minor: minor, Mechanism: mech})
}

func ready(props ...string) []byte {
	var md wire.Metadata
	for i := 0; i+1 < len(props); i += 2 {
		md = append(md, wire.Property{Name: props[i], Value: []byte(props[i+1])})
	}
	return wire.AppendReady(nil, md)
}

// encode returns the wire bytes of a message.
func encode(frames ...[]byte) []byte {
	var b []byte
	for i, f := range frames {
		var flags byte
		if i < len(frames)-1 {
			flags = wire.FlagMore
		}
		b = wire.AppendFrame(b, flags, f)
	}
	return b
}

// longHeader is a long frame header declaring size, whatever its value.
func longHeader(flags byte, size uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{flags | wire.FlagLong}, size)
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// dealerCfg is a DEALER that accepts any peer.
func dealerCfg() Config {
	return Config{
		SocketType:   "DEALER",
		Identity:     []byte("abc"),
		SendIdentity: true,
		MaxMsgSize:   -1,
		Handshake:    waitFor,
	}
}

// future is the result of a function running in its own goroutine.
type future[T any] struct {
	done chan struct{}
	v    T
}

func goFuture[T any](f func() T) *future[T] {
	fu := &future[T]{done: make(chan struct{})}
	go func() {
		fu.v = f()
		close(fu.done)
	}()
	return fu
}

// wait returns the result, or false if it did not come within d.
func (f *future[T]) wait(d time.Duration) (T, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-f.done:
		return f.v, true
	case <-t.C:
		var zero T
		return zero, false
	}
}

// finished reports whether the function returned.
func (f *future[T]) finished() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

type hsResult struct {
	peer *pipe.Peer
	err  error
}

// startHandshake runs Handshake in a goroutine; the test's end closes the
// engine and checks that Handshake returned.
func startHandshake(t testing.TB, e *Engine) *future[hsResult] {
	f := goFuture(func() hsResult {
		p, err := e.Handshake(context.Background())
		return hsResult{p, err}
	})
	t.Cleanup(func() {
		e.Close()
		if _, ok := f.wait(waitFor); !ok {
			t.Error("Handshake did not return after Close")
		}
	})
	return f
}

func waitHandshake(t testing.TB, f *future[hsResult]) hsResult {
	t.Helper()
	r, ok := f.wait(waitFor)
	if !ok {
		t.Fatal("Handshake did not return")
	}
	return r
}

// connected is an engine past its handshake with a raw peer.
type connected struct {
	e    *Engine
	peer *pipe.Peer
	raw  *rawPeer
}

// handshake connects an engine to a raw peer speaking ZMTP 3.minor with the
// given Socket-Type; the peer's READY is pipelined with its greeting.
func handshake(t testing.TB, cfg Config, minor byte, peerType string) *connected {
	t.Helper()
	a, b := tcpPair(t)
	e := New(a, cfg)
	raw := &rawPeer{t: t, c: b}
	f := startHandshake(t, e)
	raw.write(greeting(3, minor, "NULL"), ready("Socket-Type", peerType))
	raw.read(wire.GreetingSize)
	raw.readFrame() // our READY
	r := waitHandshake(t, f)
	if r.err != nil {
		t.Fatalf("Handshake: %v", r.err)
	}
	return &connected{e: e, peer: r.peer, raw: raw}
}

// run starts Run. The test's end closes the engine and checks that Run
// returned.
func run(t testing.TB, e *Engine, p *pipe.Pipe) *future[error] {
	f := goFuture(func() error { return e.Run(p) })
	t.Cleanup(func() {
		e.Close()
		if _, ok := f.wait(waitFor); !ok {
			t.Error("Run did not return after Close")
		}
	})
	return f
}

// waitRun waits for Run's result.
func waitRun(t testing.TB, f *future[error], d time.Duration) error {
	t.Helper()
	err, ok := f.wait(d)
	if !ok {
		t.Fatalf("Run still running after %v", d)
	}
	return err
}

func pop(t testing.TB, q *pipe.Queue) pipe.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	m, err := q.Pop(ctx, nil)
	if err != nil {
		t.Fatalf("pop: %v", err)
	}
	return m
}

func push(t testing.TB, q *pipe.Queue, m pipe.Msg) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := q.Push(ctx, m, nil); err != nil {
		t.Fatalf("push: %v", err)
	}
}

func sameFrames(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// short describes frames for failure messages without dumping megabytes.
func short(frames [][]byte) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, f := range frames {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if len(f) > 16 {
			sb.WriteString(hex.EncodeToString(f[:16]) + "...(" + strconv.Itoa(len(f)) + ")")
		} else {
			sb.WriteString(hex.EncodeToString(f))
		}
	}
	sb.WriteByte(']')
	return sb.String()
}
