package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/azmq/azmq"
)

// The soak mode, "stress soak [-duration 10m] [-report 30s]": every
// pattern at once in one process for a long time, with exact accounting of
// every message and a leak check at the end.
//
// PUSH->PULL over tcp with CURVE: 3 pushers, each connected to 2 pullers.
// REQ/REP over ipc: 4 REQ clients, a ROUTER/DEALER broker (Proxy), 2 REP
// workers behind it on inproc; every ~5 s an extra DEALER connects to the
// broker, makes 3 round trips and closes. PUB/SUB over tcp: 1 PUB, 3 SUBs
// ("t0", "t1" and "t", all topics); every ~20 s one SUB disconnects and
// reconnects. PUB drops by design (slow joiners, reconnects, HWM): drops
// are counted from the sequence numbers and reported apart, not as
// losses. PAIR over inproc, both directions at once.
//
// Every message carries its sender, a sequence number and a CRC-32 of its
// payload. Receivers check the checksum and the order per sender (per
// pipe for PUSH/PULL); PUSH/PULL, REQ/REP (with the churn DEALERs) and PAIR
// must end with sent == received exactly, or the run fails.
const (
	soakPushers    = 3
	soakPullers    = 2
	soakReqs       = 4
	soakWorkers    = 2
	soakSubs       = 3
	soakTopics     = 3
	soakDealerRTs  = 3
	soakDealerGap  = 5 * time.Second
	soakSubGap     = 20 * time.Second
	soakDrainMax   = 30 * time.Second // to deliver what is queued at the end
	soakSubGrace   = 3 * time.Second  // for the SUBs to see the last publications
	soakLeakWait   = 10 * time.Second // for goroutines and fds to go after Close
	soakGoroutineΔ = 5                // "back to within a few of the start"
	soakMaxPayload = 256
)

const soakUsage = `Usage:
  stress soak [-duration 10m] [-report 30s]

Runs PUSH/PULL (tcp, CURVE), REQ/REP through a ROUTER/DEALER broker (ipc),
PUB/SUB (tcp) and PAIR (inproc) at once for the duration, with DEALERs
joining and leaving the broker every ~5 s and a SUB reconnecting every
~20 s. Every -report it prints one line: elapsed time, messages per
pattern, goroutines, Go heap in use, RSS and open file descriptors. At
the end it prints a summary; the exit status is 1 when a lossless pattern
lost a message, a message arrived corrupt or out of order, or goroutines
or file descriptors did not return to their starting level.

Flags:
`

// soakNoise is where payloads are cut from.
var soakNoise = func() []byte {
	b := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

type soakConfig struct {
	duration, report time.Duration
}

// soakCmd runs "stress soak [flags]".
func soakCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("stress soak")
	dur := fs.Duration("duration", 10*time.Minute, "how long the patterns run")
	rep := fs.Duration("report", 30*time.Second, "interval between report lines")
	if help, err := parseBenchFlags(fs, args, stdout, soakUsage); help || err != nil {
		return err
	}
	if *dur <= 0 || *rep <= 0 {
		return usageErr("soak: -duration and -report must be positive")
	}
	res, err := runSoak(ctx, soakConfig{*dur, *rep}, stdout)
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	if why := res.failure(); why != "" {
		return fmt.Errorf("soak: FAILED: %s", why)
	}
	return nil
}

// soakSample is the process's footprint at one moment.
type soakSample struct {
	goroutines int
	heap, rss  uint64
	fds        int // -1 where /proc/self/fd is missing
}

func takeSoakSample() soakSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return soakSample{runtime.NumGoroutine(), ms.HeapInuse, rssBytes(), countFDs()}
}

// countFDs counts the open file descriptors (Linux; -1 elsewhere). A
// Windows binary under Wine finds a /proc/self/fd too, but it lists Wine's
// descriptors, which grow with the OS threads the Go runtime starts: no
// measure of what azmq leaves open.
func countFDs() int {
	if runtime.GOOS != "linux" {
		return -1
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func fdString(n int) string {
	if n < 0 {
		return "n/a"
	}
	return strconv.Itoa(n)
}

func mib(n uint64) string { return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20)) }

// soakResult is what a run found.
type soakResult struct {
	elapsed                       time.Duration
	pushSent, pushRecv            int64
	reqSent, reqReplied           int64
	dealers, dealerSent, dealerOK int64
	pairSent, pairRecv            int64
	pubSent, subExpected, subRecv int64
	subReconnects                 int64
	brokerAccepted, brokerGone    int64
	errors                        int64
	firstErr                      string
	samples                       int
	min, max                      soakSample
	gStart, gEnd                  int
	fdStart, fdEnd                int
	goroutinesBack, fdsBack       bool
}

func (r *soakResult) losses() int64 {
	return (r.pushSent - r.pushRecv) + (r.reqSent - r.reqReplied) +
		(r.dealerSent - r.dealerOK) + (r.pairSent - r.pairRecv)
}

// failure says why the run failed, or "" when it passed.
func (r *soakResult) failure() string {
	switch {
	case r.losses() != 0:
		return fmt.Sprintf("%d messages lost", r.losses())
	case r.errors != 0:
		return fmt.Sprintf("%d errors, the first: %s", r.errors, r.firstErr)
	case !r.goroutinesBack:
		return fmt.Sprintf("goroutines did not return: %d at the start, %d at the end", r.gStart, r.gEnd)
	case !r.fdsBack:
		return fmt.Sprintf("file descriptors did not return: %d at the start, %d at the end", r.fdStart, r.fdEnd)
	}
	return ""
}

// soak is one run's shared state.
type soak struct {
	zctx *azmq.Context

	pushSent, pushSeqSum  [soakPushers]atomic.Int64
	pushRecv, pushRecvSum [soakPushers]atomic.Int64
	reqSent, reqReplied   atomic.Int64
	dealers, dealerSent   atomic.Int64
	dealerOK              atomic.Int64
	pairSent, pairRecv    [2]atomic.Int64
	pubSent               [soakTopics]atomic.Int64
	subs                  [soakSubs]*soakSub
	subReconnects         atomic.Int64
	brokerAccepted        atomic.Int64
	brokerGone            atomic.Int64

	errs     atomic.Int64
	mu       sync.Mutex
	firstErr string
}

// soakSub is one subscriber and what it has seen per topic.
type soakSub struct {
	sock    *azmq.Socket
	prefix  string
	topics  []int
	lastSeq [soakTopics]atomic.Int64 // -1: nothing yet
	recv    atomic.Int64
}

func (s *soak) fail(format string, args ...any) {
	if s.errs.Add(1) == 1 {
		s.mu.Lock()
		s.firstErr = fmt.Sprintf(format, args...)
		s.mu.Unlock()
	}
}

// soakBody is a message body: seq (8 bytes), CRC-32 of the payload (4), payload.
func soakBody(seq int64, r *rand.Rand) []byte {
	n := r.IntN(soakMaxPayload + 1)
	off := r.IntN(len(soakNoise) - n + 1)
	b := make([]byte, 12+n)
	binary.BigEndian.PutUint64(b, uint64(seq))
	copy(b[12:], soakNoise[off:off+n])
	binary.BigEndian.PutUint32(b[8:], crc32.ChecksumIEEE(b[12:]))
	return b
}

// soakCheck returns the sequence number of a body whose checksum holds.
func soakCheck(b []byte) (int64, error) {
	if len(b) < 12 {
		return 0, fmt.Errorf("body of %d bytes, want 12 or more", len(b))
	}
	if got, want := crc32.ChecksumIEEE(b[12:]), binary.BigEndian.Uint32(b[8:]); got != want {
		return 0, fmt.Errorf("checksum %08x, want %08x", got, want)
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// primeNetpoller makes the runtime open what it keeps open for the life
// of the process once the network is used (epoll, its wake-up fd), so the
// fd count at the start is the level to come back to.
func primeNetpoller() {
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
	}
}

// runSoak runs the soak for cfg.duration (or until parent ends) and
// prints its report lines and summary on out.
func runSoak(parent context.Context, cfg soakConfig, out io.Writer) (*soakResult, error) {
	primeNetpoller()
	runtime.GC()
	gStart, fdStart := runtime.NumGoroutine(), countFDs()
	start := time.Now()

	dir, err := os.MkdirTemp("", "azmq-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	s := &soak{zctx: azmq.NewContext()}
	var socks []*azmq.Socket
	newSock := func(t azmq.SocketType, opts ...azmq.SocketOption) (*azmq.Socket, error) {
		so, err := s.zctx.NewSocket(t, opts...)
		if err == nil {
			socks = append(socks, so)
		}
		return so, err
	}
	closeAll := func() {
		for _, so := range socks {
			so.Close()
		}
		s.zctx.Close()
	}

	// runCtx: the producers' time. consCtx: the consumers', ended once
	// everything sent has been accounted for.
	runCtx, stopRun := context.WithTimeout(parent, cfg.duration)
	defer stopRun()
	consCtx, stopCons := context.WithCancel(context.Background())
	defer stopCons()
	var producers, consumers sync.WaitGroup

	setupErr := func() error {
		// PUSH -> PULL, tcp, CURVE.
		srvPub, srvSec, err := azmq.NewCurveKeyPair()
		if err != nil {
			return err
		}
		var pullEPs []string
		for i := range soakPullers {
			pull, err := newSock(azmq.PULL, azmq.WithCurveServer(srvSec))
			if err != nil {
				return err
			}
			if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
				return err
			}
			pullEPs = append(pullEPs, pull.LastEndpoint())
			consumers.Go(func() { s.puller(consCtx, i, pull) })
		}
		for i := range soakPushers {
			pub, sec, err := azmq.NewCurveKeyPair()
			if err != nil {
				return err
			}
			push, err := newSock(azmq.PUSH, azmq.WithCurveClient(srvPub, pub, sec))
			if err != nil {
				return err
			}
			for _, ep := range pullEPs {
				if err := push.Connect(ep); err != nil {
					return err
				}
			}
			producers.Go(func() { s.pusher(runCtx, i, push) })
		}

		// REQ -> ROUTER/DEALER broker -> REP workers; ipc in front.
		brokerEP := "ipc://" + filepath.Join(dir, "broker.ipc")
		if runtime.GOOS == "windows" {
			// Named pipes work on every Windows; AF_UNIX may not be there.
			brokerEP = "ipc://pipe:" + filepath.Base(dir)
		}
		workersEP := "inproc://azmq-soak-workers"
		router, err := newSock(azmq.ROUTER)
		if err != nil {
			return err
		}
		events := router.Monitor(consCtx)
		consumers.Go(func() {
			for ev := range events {
				switch ev.Kind {
				case azmq.EventAccepted:
					s.brokerAccepted.Add(1)
				case azmq.EventDisconnected:
					s.brokerGone.Add(1)
				}
			}
		})
		if err := router.Bind(brokerEP); err != nil {
			return err
		}
		dealer, err := newSock(azmq.DEALER)
		if err != nil {
			return err
		}
		if err := dealer.Bind(workersEP); err != nil {
			return err
		}
		consumers.Go(func() {
			if err := azmq.Proxy(consCtx, router, dealer, nil); err != nil && consCtx.Err() == nil {
				s.fail("broker: %v", err)
			}
		})
		for range soakWorkers {
			rep, err := newSock(azmq.REP)
			if err != nil {
				return err
			}
			if err := rep.Connect(workersEP); err != nil {
				return err
			}
			consumers.Go(func() { s.worker(consCtx, rep) })
		}
		for i := range soakReqs {
			req, err := newSock(azmq.REQ)
			if err != nil {
				return err
			}
			if err := req.Connect(brokerEP); err != nil {
				return err
			}
			producers.Go(func() { s.requester(runCtx, i, req) })
		}
		producers.Go(func() { s.dealerChurn(runCtx, brokerEP) })

		// PUB -> SUB, tcp.
		pub, err := newSock(azmq.PUB, azmq.WithSendHWM(100000))
		if err != nil {
			return err
		}
		if err := pub.Bind("tcp://127.0.0.1:*"); err != nil {
			return err
		}
		pubEP := pub.LastEndpoint()
		prefixes := []struct {
			p      string
			topics []int
		}{{"t0", []int{0}}, {"t1", []int{1}}, {"t", []int{0, 1, 2}}}
		for i, pf := range prefixes {
			sub, err := newSock(azmq.SUB, azmq.WithRecvHWM(100000))
			if err != nil {
				return err
			}
			if err := sub.Subscribe([]byte(pf.p)); err != nil {
				return err
			}
			if err := sub.Connect(pubEP); err != nil {
				return err
			}
			ss := &soakSub{sock: sub, prefix: pf.p, topics: pf.topics}
			for t := range ss.lastSeq {
				ss.lastSeq[t].Store(-1)
			}
			s.subs[i] = ss
			consumers.Go(func() { s.subscriber(consCtx, ss) })
		}
		// Let the subscriptions arrive before publishing (the slow joiner).
		time.Sleep(200 * time.Millisecond)
		producers.Go(func() { s.publisher(runCtx, pub) })
		producers.Go(func() { s.subChurn(runCtx, pubEP) })

		// PAIR <-> PAIR, inproc, both ways.
		pa, err := newSock(azmq.PAIR)
		if err != nil {
			return err
		}
		if err := pa.Bind("inproc://azmq-soak-pair"); err != nil {
			return err
		}
		pb, err := newSock(azmq.PAIR)
		if err != nil {
			return err
		}
		if err := pb.Connect("inproc://azmq-soak-pair"); err != nil {
			return err
		}
		producers.Go(func() { s.pairSender(runCtx, 0, pa) })
		producers.Go(func() { s.pairSender(runCtx, 1, pb) })
		consumers.Go(func() { s.pairReceiver(consCtx, 0, pb) })
		consumers.Go(func() { s.pairReceiver(consCtx, 1, pa) })
		return nil
	}()
	if setupErr != nil {
		stopRun()
		producers.Wait()
		stopCons()
		consumers.Wait()
		closeAll()
		return nil, setupErr
	}

	// Samples every second; a line every cfg.report.
	res := &soakResult{gStart: gStart, fdStart: fdStart}
	first := takeSoakSample()
	res.min, res.max, res.samples = first, first, 1
	addSample := func(x soakSample) {
		res.samples++
		res.min.goroutines = min(res.min.goroutines, x.goroutines)
		res.max.goroutines = max(res.max.goroutines, x.goroutines)
		res.min.heap, res.max.heap = min(res.min.heap, x.heap), max(res.max.heap, x.heap)
		res.min.rss, res.max.rss = min(res.min.rss, x.rss), max(res.max.rss, x.rss)
		res.min.fds, res.max.fds = min(res.min.fds, x.fds), max(res.max.fds, x.fds)
	}
	tick := time.NewTicker(time.Second)
	lastReport := start
	for running := true; running; {
		select {
		case <-runCtx.Done():
			running = false
		case now := <-tick.C:
			x := takeSoakSample()
			addSample(x)
			if now.Sub(lastReport) >= cfg.report-time.Second/2 {
				lastReport = now
				fmt.Fprintf(out, "soak t=%s push_pull=%d req_rep=%d dealer_churn=%d pub_sub=%d pair=%d goroutines=%d heap=%s rss=%s fds=%s\n",
					now.Sub(start).Round(time.Second), s.pushRecvTotal(), s.reqReplied.Load(), s.dealerOK.Load(),
					s.subRecvTotal(), s.pairRecv[0].Load()+s.pairRecv[1].Load(),
					x.goroutines, mib(x.heap), mib(x.rss), fdString(x.fds))
			}
		}
	}
	tick.Stop()
	res.elapsed = time.Since(start).Round(time.Millisecond)

	// The producers stop; what they sent must all arrive.
	producers.Wait()
	drainEnd := time.Now().Add(soakDrainMax)
	for time.Now().Before(drainEnd) && !s.lossless() {
		time.Sleep(10 * time.Millisecond)
	}
	subEnd := time.Now().Add(soakSubGrace)
	for time.Now().Before(subEnd) && !s.subsCaughtUp() {
		time.Sleep(10 * time.Millisecond)
	}
	stopCons()
	consumers.Wait()
	closeAll()

	// Counts.
	for i := range soakPushers {
		sent, got := s.pushSent[i].Load(), s.pushRecv[i].Load()
		res.pushSent += sent
		res.pushRecv += got
		if sent == got && s.pushSeqSum[i].Load() != s.pushRecvSum[i].Load() {
			s.fail("pusher %d: as many messages as sent, but not the same ones", i)
		}
	}
	res.reqSent, res.reqReplied = s.reqSent.Load(), s.reqReplied.Load()
	res.dealers, res.dealerSent, res.dealerOK = s.dealers.Load(), s.dealerSent.Load(), s.dealerOK.Load()
	res.pairSent = s.pairSent[0].Load() + s.pairSent[1].Load()
	res.pairRecv = s.pairRecv[0].Load() + s.pairRecv[1].Load()
	for t := range soakTopics {
		res.pubSent += s.pubSent[t].Load()
	}
	for _, ss := range s.subs {
		for _, t := range ss.topics {
			res.subExpected += s.pubSent[t].Load()
		}
		res.subRecv += ss.recv.Load()
	}
	res.subReconnects = s.subReconnects.Load()
	res.brokerAccepted, res.brokerGone = s.brokerAccepted.Load(), s.brokerGone.Load()

	// Leak check: everything is closed; wait for it to go.
	leakEnd := time.Now().Add(soakLeakWait)
	for {
		runtime.GC()
		res.gEnd, res.fdEnd = runtime.NumGoroutine(), countFDs()
		res.goroutinesBack = res.gEnd <= gStart+soakGoroutineΔ
		res.fdsBack = res.fdEnd <= fdStart
		if res.goroutinesBack && res.fdsBack || time.Now().After(leakEnd) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.errors = s.errs.Load()
	s.mu.Lock()
	res.firstErr = s.firstErr
	s.mu.Unlock()
	res.print(out)
	return res, nil
}

func (s *soak) pushRecvTotal() int64 {
	var n int64
	for i := range soakPushers {
		n += s.pushRecv[i].Load()
	}
	return n
}

func (s *soak) subRecvTotal() int64 {
	var n int64
	for _, ss := range s.subs {
		n += ss.recv.Load()
	}
	return n
}

// lossless says whether the lossless patterns have delivered all they sent.
func (s *soak) lossless() bool {
	for i := range soakPushers {
		if s.pushRecv[i].Load() != s.pushSent[i].Load() {
			return false
		}
	}
	return s.pairRecv[0].Load() == s.pairSent[0].Load() && s.pairRecv[1].Load() == s.pairSent[1].Load()
}

// subsCaughtUp says whether every SUB has seen the last publication of its topics.
func (s *soak) subsCaughtUp() bool {
	for _, ss := range s.subs {
		for _, t := range ss.topics {
			if ss.lastSeq[t].Load() != s.pubSent[t].Load()-1 {
				return false
			}
		}
	}
	return true
}

func (s *soak) pusher(ctx context.Context, id int, push *azmq.Socket) {
	r := rand.New(rand.NewPCG(uint64(id), 11))
	for seq := int64(0); ; seq++ {
		if ctx.Err() != nil { // an ended ctx still gets one Send attempt
			return
		}
		if err := push.Send(ctx, []byte{byte(id)}, soakBody(seq, r)); err != nil {
			if ctx.Err() == nil {
				s.fail("pusher %d: %v", id, err)
			}
			return
		}
		s.pushSent[id].Add(1)
		s.pushSeqSum[id].Add(seq)
	}
}

func (s *soak) puller(ctx context.Context, id int, pull *azmq.Socket) {
	var last [soakPushers]int64
	for i := range last {
		last[i] = -1
	}
	for {
		msg, err := pull.Recv(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.fail("puller %d: %v", id, err)
			}
			return
		}
		if len(msg) != 2 || len(msg[0]) != 1 || int(msg[0][0]) >= soakPushers {
			s.fail("puller %d: malformed message of %d frames", id, len(msg))
			continue
		}
		from := int(msg[0][0])
		seq, err := soakCheck(msg[1])
		if err != nil {
			s.fail("puller %d, from pusher %d: %v", id, from, err)
			continue
		}
		// One pusher's messages to one puller keep their order.
		if seq <= last[from] {
			s.fail("puller %d, from pusher %d: seq %d after %d", id, from, seq, last[from])
		}
		last[from] = seq
		s.pushRecv[from].Add(1)
		s.pushRecvSum[from].Add(seq)
	}
}

func (s *soak) worker(ctx context.Context, rep *azmq.Socket) {
	for {
		msg, err := rep.Recv(ctx)
		if err == nil {
			err = rep.Send(ctx, msg...)
		}
		if err != nil {
			if ctx.Err() == nil {
				s.fail("worker: %v", err)
			}
			return
		}
	}
}

// requester makes round trips until ctx ends; a request sent is always
// waited for (up to soakDrainMax after the end), so a lost one counts.
func (s *soak) requester(ctx context.Context, id int, req *azmq.Socket) {
	r := rand.New(rand.NewPCG(uint64(id), 12))
	idf := []byte{'q', byte(id)}
	for seq := int64(0); ; seq++ {
		if ctx.Err() != nil { // an ended ctx still gets one Send attempt
			return
		}
		body := soakBody(seq, r)
		want := bytes.Clone(body)
		if err := req.Send(ctx, idf, body); err != nil {
			if ctx.Err() == nil {
				s.fail("req %d: %v", id, err)
			}
			return
		}
		s.reqSent.Add(1)
		rctx, cancel := soakReplyCtx(ctx)
		reply, err := req.Recv(rctx)
		cancel()
		if err != nil {
			s.fail("req %d: no reply to seq %d: %v", id, seq, err)
			return
		}
		if len(reply) != 2 || !bytes.Equal(reply[0], idf) || !bytes.Equal(reply[1], want) {
			s.fail("req %d: seq %d: the reply is not the request", id, seq)
			return
		}
		s.reqReplied.Add(1)
	}
}

// soakReplyCtx bounds a wait for a reply: no limit while the run lasts,
// soakDrainMax once it is over.
func soakReplyCtx(run context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(run, func() {
		t := time.AfterFunc(soakDrainMax, cancel)
		context.AfterFunc(ctx, func() { t.Stop() })
	})
	return ctx, func() { stop(); cancel() }
}

// dealerChurn connects a new DEALER to the broker every soakDealerGap; it
// makes soakDealerRTs round trips and closes.
func (s *soak) dealerChurn(ctx context.Context, ep string) {
	r := rand.New(rand.NewPCG(7, 13))
	t := time.NewTicker(soakDealerGap)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.dealers.Add(1)
		if err := s.dealerOnce(n, ep, r); err != nil {
			s.fail("churn dealer %d: %v", n, err)
		}
	}
}

func (s *soak) dealerOnce(n int, ep string, r *rand.Rand) error {
	d, err := s.zctx.NewSocket(azmq.DEALER)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Connect(ep); err != nil {
		return err
	}
	idf := []byte(fmt.Sprintf("d%d", n))
	for seq := range int64(soakDealerRTs) {
		body := soakBody(seq, r)
		want := bytes.Clone(body)
		ctx, cancel := context.WithTimeout(context.Background(), soakDrainMax)
		err := d.Send(ctx, nil, idf, body)
		if err != nil {
			cancel()
			return err
		}
		s.dealerSent.Add(1)
		reply, err := d.Recv(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("no reply to seq %d: %w", seq, err)
		}
		if len(reply) != 3 || len(reply[0]) != 0 || !bytes.Equal(reply[1], idf) || !bytes.Equal(reply[2], want) {
			return fmt.Errorf("seq %d: the reply is not the request", seq)
		}
		s.dealerOK.Add(1)
	}
	return nil
}

// publisher publishes on soakTopics topics in turn, paced (about 64
// messages a millisecond at most) so that drops stay the exception.
func (s *soak) publisher(ctx context.Context, pub *azmq.Socket) {
	r := rand.New(rand.NewPCG(5, 14))
	topics := [soakTopics][]byte{}
	for t := range topics {
		topics[t] = []byte(fmt.Sprintf("t%d", t))
	}
	for n := 0; ; n++ {
		if n%64 == 63 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
		if ctx.Err() != nil { // an ended ctx still gets one Send attempt
			return
		}
		t := n % soakTopics
		seq := s.pubSent[t].Load()
		if err := pub.Send(ctx, bytes.Clone(topics[t]), soakBody(seq, r)); err != nil {
			if ctx.Err() == nil {
				s.fail("pub: %v", err)
			}
			return
		}
		s.pubSent[t].Add(1)
	}
}

func (s *soak) subscriber(ctx context.Context, ss *soakSub) {
	for {
		msg, err := ss.sock.Recv(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.fail("sub %q: %v", ss.prefix, err)
			}
			return
		}
		if len(msg) != 2 || len(msg[0]) != 2 || msg[0][0] != 't' || int(msg[0][1]-'0') >= soakTopics {
			s.fail("sub %q: malformed message", ss.prefix)
			continue
		}
		if !bytes.HasPrefix(msg[0], []byte(ss.prefix)) {
			s.fail("sub %q: got topic %q", ss.prefix, msg[0])
			continue
		}
		t := int(msg[0][1] - '0')
		seq, err := soakCheck(msg[1])
		if err != nil {
			s.fail("sub %q: %v", ss.prefix, err)
			continue
		}
		// Gaps are drops (by design); going back is an error.
		if last := ss.lastSeq[t].Load(); seq <= last {
			s.fail("sub %q, topic %d: seq %d after %d", ss.prefix, t, seq, last)
		}
		ss.lastSeq[t].Store(seq)
		ss.recv.Add(1)
	}
}

// subChurn disconnects a SUB every soakSubGap and connects it again.
func (s *soak) subChurn(ctx context.Context, ep string) {
	t := time.NewTicker(soakSubGap)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ss := s.subs[n%soakSubs]
		if err := ss.sock.Disconnect(ep); err != nil {
			s.fail("sub %q: disconnect: %v", ss.prefix, err)
			continue
		}
		time.Sleep(100 * time.Millisecond)
		if err := ss.sock.Connect(ep); err != nil {
			s.fail("sub %q: reconnect: %v", ss.prefix, err)
			continue
		}
		s.subReconnects.Add(1)
	}
}

func (s *soak) pairSender(ctx context.Context, dir int, p *azmq.Socket) {
	r := rand.New(rand.NewPCG(uint64(dir), 15))
	for seq := int64(0); ; seq++ {
		if ctx.Err() != nil { // an ended ctx still gets one Send attempt
			return
		}
		if err := p.Send(ctx, soakBody(seq, r)); err != nil {
			if ctx.Err() == nil {
				s.fail("pair %d: %v", dir, err)
			}
			return
		}
		s.pairSent[dir].Add(1)
	}
}

func (s *soak) pairReceiver(ctx context.Context, dir int, p *azmq.Socket) {
	for next := int64(0); ; {
		msg, err := p.Recv(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.fail("pair %d: %v", dir, err)
			}
			return
		}
		if len(msg) != 1 {
			s.fail("pair %d: %d frames", dir, len(msg))
			continue
		}
		seq, err := soakCheck(msg[0])
		if err != nil {
			s.fail("pair %d: %v", dir, err)
			continue
		}
		if seq != next {
			s.fail("pair %d: seq %d, want %d", dir, seq, next)
		}
		next = seq + 1
		s.pairRecv[dir].Add(1)
	}
}

func (r *soakResult) print(out io.Writer) {
	verdict := "PASS"
	if why := r.failure(); why != "" {
		verdict = "FAIL: " + why
	}
	ok := func(b bool) string {
		if b {
			return "ok"
		}
		return "LEAK"
	}
	fmt.Fprintf(out, "soak summary: elapsed=%s\n", r.elapsed)
	fmt.Fprintf(out, "  push_pull (tcp, curve) sent=%d received=%d lost=%d\n", r.pushSent, r.pushRecv, r.pushSent-r.pushRecv)
	fmt.Fprintf(out, "  req_rep (ipc, broker)  sent=%d replied=%d lost=%d\n", r.reqSent, r.reqReplied, r.reqSent-r.reqReplied)
	fmt.Fprintf(out, "  dealer_churn           dealers=%d sent=%d replied=%d lost=%d (broker accepted=%d disconnected=%d)\n",
		r.dealers, r.dealerSent, r.dealerOK, r.dealerSent-r.dealerOK, r.brokerAccepted, r.brokerGone)
	fmt.Fprintf(out, "  pair (inproc)          sent=%d received=%d lost=%d\n", r.pairSent, r.pairRecv, r.pairSent-r.pairRecv)
	fmt.Fprintf(out, "  pub_sub (tcp)          published=%d expected=%d received=%d dropped=%d (by design, not losses) sub_reconnects=%d\n",
		r.pubSent, r.subExpected, r.subRecv, r.subExpected-r.subRecv, r.subReconnects)
	fmt.Fprintf(out, "  losses=%d errors=%d\n", r.losses(), r.errors)
	if r.firstErr != "" {
		fmt.Fprintf(out, "  first error: %s\n", r.firstErr)
	}
	fmt.Fprintf(out, "  over %d samples: goroutines min=%d max=%d heap min=%s max=%s rss min=%s max=%s fds min=%s max=%s\n",
		r.samples, r.min.goroutines, r.max.goroutines, mib(r.min.heap), mib(r.max.heap),
		mib(r.min.rss), mib(r.max.rss), fdString(r.min.fds), fdString(r.max.fds))
	fmt.Fprintf(out, "  after close: goroutines start=%d end=%d %s; fds start=%s end=%s %s\n",
		r.gStart, r.gEnd, ok(r.goroutinesBack), fdString(r.fdStart), fdString(r.fdEnd), ok(r.fdsBack))
	fmt.Fprintf(out, "  result: %s\n", verdict)
}
