package azmq

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/wire"
)

// Helpers of the attack tests (attack_test.go): a ZMTP peer driven by hand
// over a raw net.Conn, a probe that keeps a legitimate peer busy and times
// it, an event log, and memory measurements.

const (
	// maxServeDelay is the longest a legitimate exchange may take while a
	// hostile peer attacks the same socket, and after it.
	maxServeDelay = 2 * time.Second
	// probeEvery is how often the probe runs a legitimate exchange.
	probeEvery = 50 * time.Millisecond
	// rawIOTimeout bounds each read or write of a raw peer that expects an
	// answer (a handshake, a reply).
	rawIOTimeout = 5 * time.Second
	// maxProbes bounds a probe's exchanges (an hour's worth).
	maxProbes = int(time.Hour / probeEvery)
)

// rawPeer speaks ZMTP by hand: the test builds every byte with
// internal/wire and reads back the frames azmq sends.
type rawPeer struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// dialRaw connects a raw peer to the tcp endpoint s is bound to. The
// connection is closed when the test ends.
func dialRaw(t *testing.T, s *Socket) *rawPeer {
	t.Helper()
	c := rawDial(t, s)
	return &rawPeer{t: t, c: c, br: bufio.NewReader(c)}
}

// addr is the address azmq's Monitor reports for this connection (the
// peer's address as the accepting socket sees it).
func (p *rawPeer) addr() string { return p.c.LocalAddr().String() }

// write sends b whole within d.
func (p *rawPeer) write(b []byte, d time.Duration) error {
	p.c.SetWriteDeadline(time.Now().Add(d))
	_, err := p.c.Write(b)
	return err
}

// readFrame reads one frame within rawIOTimeout; a body over 1 MiB is an
// error (nothing azmq sends in these tests is that large).
func (p *rawPeer) readFrame() (wire.FrameHeader, []byte, error) {
	p.c.SetReadDeadline(time.Now().Add(rawIOTimeout))
	hdr := make([]byte, 2, wire.LongHeaderSize)
	if _, err := io.ReadFull(p.br, hdr); err != nil {
		return wire.FrameHeader{}, nil, err
	}
	if hdr[0]&wire.FlagLong != 0 {
		hdr = hdr[:wire.LongHeaderSize]
		if _, err := io.ReadFull(p.br, hdr[2:]); err != nil {
			return wire.FrameHeader{}, nil, err
		}
	}
	h, _, err := wire.ParseFrameHeader(hdr)
	if err != nil {
		return h, nil, err
	}
	if h.Size > 1<<20 {
		return h, nil, fmt.Errorf("a %d-byte frame", h.Size)
	}
	body := make([]byte, h.Size)
	_, err = io.ReadFull(p.br, body)
	return h, body, err
}

// nullGreeting is the greeting and READY a NULL peer with metadata md
// sends, in one write.
func nullGreeting(md wire.Metadata) []byte {
	b := wire.AppendGreeting(nil, wire.Greeting{Major: 3, Minor: 1, Mechanism: "NULL"})
	return wire.AppendReady(b, md)
}

// socketType is the metadata of a peer announcing only its socket type.
func socketType(typ string) wire.Metadata {
	return wire.Metadata{{Name: wire.PropSocketType, Value: []byte(typ)}}
}

// handshake runs the NULL handshake with metadata md: it sends the
// greeting and READY, and reads azmq's greeting and READY.
func (p *rawPeer) handshake(md wire.Metadata) {
	p.t.Helper()
	if err := p.write(nullGreeting(md), rawIOTimeout); err != nil {
		p.t.Fatalf("raw peer: send greeting and READY: %v", err)
	}
	p.c.SetReadDeadline(time.Now().Add(rawIOTimeout))
	g := make([]byte, wire.GreetingSize)
	if _, err := io.ReadFull(p.br, g); err != nil {
		p.t.Fatalf("raw peer: read greeting: %v", err)
	}
	if _, err := wire.ParseGreeting(g); err != nil {
		p.t.Fatalf("raw peer: azmq's greeting: %v", err)
	}
	h, body, err := p.readFrame()
	if err != nil {
		p.t.Fatalf("raw peer: read READY: %v", err)
	}
	if name, _, err := wire.ParseCommand(body); !h.Command() || err != nil || string(name) != wire.CmdReady {
		p.t.Fatalf("raw peer: got %q (flags %#x) where READY was due", body, h.Flags)
	}
}

// closedByPeer reports whether azmq closes the connection within d: reads
// (and discards) until EOF or a reset, or gives up at d.
func (p *rawPeer) closedByPeer(d time.Duration) bool {
	p.c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, p.br)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

// eventLog records every event of a socket's Monitor, read by its own
// goroutine so that a burst of events (hundreds of connections) is not
// dropped by the monitor's bounded channel.
type eventLog struct {
	mu   sync.Mutex
	evs  []Event
	done chan struct{}
}

// logEvents starts recording s's events; it stops when the test ends.
func logEvents(t *testing.T, s *Socket) *eventLog {
	ctx, cancel := context.WithCancel(context.Background())
	l := &eventLog{done: make(chan struct{})}
	ch := s.Monitor(ctx)
	go func() {
		defer close(l.done)
		for e := range ch {
			l.mu.Lock()
			l.evs = append(l.evs, e)
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-l.done
	})
	return l
}

// count is the number of events so far that match.
func (l *eventLog) count(match func(Event) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.evs {
		if match(e) {
			n++
		}
	}
	return n
}

// first returns the first event that matches, if any.
func (l *eventLog) first(match func(Event) bool) (Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.evs {
		if match(e) {
			return e, true
		}
	}
	return Event{}, false
}

// waitCount waits up to d for n matching events and returns how many
// there are.
func (l *eventLog) waitCount(match func(Event) bool, n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		c := l.count(match)
		if c >= n || time.Now().After(deadline) {
			return c
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits up to d for an event that matches.
func (l *eventLog) wait(match func(Event) bool, d time.Duration) (Event, bool) {
	if l.waitCount(match, 1, d) == 0 {
		return Event{}, false
	}
	return l.first(match)
}

// summary lists the kinds of events seen, with counts, for failure messages.
func (l *eventLog) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := map[EventKind]int{}
	var firstErr = map[EventKind]error{}
	var dropped uint64
	for _, e := range l.evs {
		dropped += e.Dropped
		counts[e.Kind]++
		if e.Err != nil && firstErr[e.Kind] == nil {
			firstErr[e.Kind] = e.Err
		}
	}
	var b bytes.Buffer
	for k := EventListening; k <= EventConnectStopped; k++ {
		if counts[k] > 0 {
			fmt.Fprintf(&b, "%v×%d", k, counts[k])
			if firstErr[k] != nil {
				fmt.Fprintf(&b, " (%v)", firstErr[k])
			}
			b.WriteString("; ")
		}
	}
	if dropped > 0 {
		fmt.Fprintf(&b, "%d events lost to a full Monitor channel; ", dropped)
	}
	return b.String()
}

// kindAt matches the events of one kind about one peer address ("" for
// any address).
func kindAt(kind EventKind, addr string) func(Event) bool {
	return func(e Event) bool { return e.Kind == kind && (addr == "" || e.Endpoint == addr) }
}

// probe runs a legitimate exchange every probeEvery, in its own goroutine,
// from start until stop, and records the slowest.
type probe struct {
	mu    sync.Mutex
	n     int           // exchanges completed
	worst time.Duration // the slowest exchange
	err   error         // the first failed exchange
	quit  chan struct{}
	done  chan struct{}
}

// startProbe starts running exchange; each call gets a ctx that ends well
// after maxServeDelay, so that a slow exchange is measured, not cut short.
// It is stopped when the test ends if stop was not called.
func startProbe(t *testing.T, exchange func(ctx context.Context, i int) error) *probe {
	p := &probe{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(probeEvery)
		defer tick.Stop()
		for i := 0; i < maxProbes; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 3*maxServeDelay)
			t0 := time.Now()
			err := exchange(ctx, i)
			d := time.Since(t0)
			cancel()
			p.mu.Lock()
			if err == nil {
				p.n++
			} else if p.err == nil {
				p.err = fmt.Errorf("exchange %d: %w", i, err)
			}
			p.worst = max(p.worst, d)
			p.mu.Unlock()
			if err != nil {
				return
			}
			select {
			case <-tick.C:
			case <-p.quit:
				return
			}
		}
	}()
	t.Cleanup(p.halt)
	return p
}

func (p *probe) halt() {
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
	<-p.done
}

func (p *probe) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// waitMore waits until k more exchanges have completed from now: the
// legitimate peer is still served after the attack.
func (p *probe) waitMore(t *testing.T, k int) {
	t.Helper()
	want := p.count() + k
	deadline := time.Now().Add(time.Duration(k)*probeEvery + 3*maxServeDelay)
	for p.count() < want {
		if time.Now().After(deadline) {
			p.halt()
			t.Fatalf("the legitimate peer was not served after the attack: %d of %d more exchanges done; %v", p.count()-want+k, k, p.err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the probe and fails the test if an exchange failed or took
// longer than maxServeDelay.
func (p *probe) stop(t *testing.T) {
	t.Helper()
	p.halt()
	t.Logf("legitimate peer: %d exchanges, the slowest took %v", p.n, p.worst.Round(time.Millisecond))
	if p.err != nil {
		t.Fatalf("the legitimate peer was not served: %v", p.err)
	}
	if p.worst > maxServeDelay {
		t.Fatalf("a legitimate exchange took %v, more than %v", p.worst, maxServeDelay)
	}
}

// pushPullExchange is the probe's exchange through a PULL: the legitimate
// PUSH sends a numbered message and the PULL must receive it next.
func pushPullExchange(push, pull *Socket) func(context.Context, int) error {
	return func(ctx context.Context, i int) error {
		want := []byte("legit-" + strconv.Itoa(i))
		if err := push.Send(ctx, want); err != nil {
			return err
		}
		got, err := pull.Recv(ctx)
		if err != nil {
			return err
		}
		if len(got) != 1 || !bytes.Equal(got[0], want) {
			return fmt.Errorf("PULL received %q, want %q", got, want)
		}
		return nil
	}
}

// memUse is the memory the process keeps, as the attack tests measure it.
type memUse struct {
	heap  uint64 // live heap (HeapAlloc after a collection)
	stack uint64 // goroutine stacks (StackInuse): each connection has a few
	rss   uint64 // VmRSS, on Linux only (0 elsewhere)
}

// kept is what the bounds compare: the heap and the goroutine stacks.
func (m memUse) kept() uint64 { return m.heap + m.stack }

// measureMem collects garbage and measures. The heap is the figure every
// platform has (the tests run under Windows too); VmRSS is logged where
// there is one.
func measureMem() memUse {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers let go
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memUse{heap: ms.HeapAlloc, stack: ms.StackInuse, rss: vmRSS()}
}

// growth is how much more b keeps than a (0 if it keeps less).
func growth(a, b memUse) uint64 {
	if b.kept() < a.kept() {
		return 0
	}
	return b.kept() - a.kept()
}

// vmRSS reads VmRSS from /proc/self/status (0 where there is none).
func vmRSS() uint64 {
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.ParseUint(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// memGuard follows the memory an attack makes the process keep. The
// attack loops call over after each write: it measures (a collection
// each time, so at most every guardEvery) and reports true once the
// growth passes twice the test's bound. The test has failed by then, and
// stopping keeps unfixed code from eating the machine's memory.
type memGuard struct {
	base  memUse
	bound uint64
	peak  uint64 // the largest growth measured
	last  time.Time
}

// guardEvery spaces the guard's measurements: each one collects garbage.
const guardEvery = 100 * time.Millisecond

func newMemGuard(bound uint64) *memGuard {
	return &memGuard{base: measureMem(), bound: bound, last: time.Now()}
}

func (g *memGuard) over() bool {
	if time.Since(g.last) < guardEvery {
		return false
	}
	g.sample()
	return g.peak > 2*g.bound
}

// sample measures now and returns the growth since the base.
func (g *memGuard) sample() uint64 {
	m := measureMem()
	g.last = time.Now()
	d := growth(g.base, m)
	g.peak = max(g.peak, d)
	return d
}

// rssChange describes VmRSS from a to b for a log, where there is one.
func rssChange(a, b memUse) string {
	if a.rss == 0 || b.rss == 0 {
		return ""
	}
	return fmt.Sprintf("; VmRSS %s → %s", mib(a.rss), mib(b.rss))
}

// mib formats a byte count in MiB.
func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// kib formats a byte count in KiB.
func kib(n uint64) string { return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10)) }

// droppedFor matches the disconnection of the peer at addr for the reason
// target.
func droppedFor(addr string, target error) func(Event) bool {
	return func(e Event) bool {
		return e.Kind == EventDisconnected && e.Endpoint == addr && errors.Is(e.Err, target)
	}
}
