package benchkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/dgram"
)

// benchPattern is a pair of socket types the matrix measures (bench
// -patterns).
type benchPattern struct {
	name  string // as -patterns names it
	title string // as the table shows it
	// thr measures count messages one way; lat, when there is one,
	// count round trips.
	thr func(ctx context.Context, ep string, size, count int) (thrRun, error)
	lat func(ctx context.Context, ep string, size, count int) (time.Duration, error)
	// lossy: the sender drops what the receiver has no room for, so
	// thr counts what arrived and the table reports the loss.
	lossy bool
	udp   bool   // it runs over udp too (the other transports, all do)
	note  string // the table's footnote
}

// maxUDPSize is the largest message radiodish sends over udp: one
// datagram holds the group and the body, and radioDish's probes are a
// byte longer than the messages.
var maxUDPSize = dgram.MaxDatagram - dgram.Size([]byte(benchGroup), nil) - 1

// runs tells whether the pattern is measured over transport tr with
// messages of size bytes.
func (p *benchPattern) runs(tr string, size int) bool {
	if tr != "udp" {
		return true
	}
	return p.udp && size <= maxUDPSize
}

// thrRun is one throughput measurement: sent messages went out, got of
// them arrived, d from the first received to the last.
type thrRun struct {
	sent, got int
	d         time.Duration
}

var benchPatterns = []*benchPattern{
	{
		name: "pushpull", title: "PUSH/PULL",
		thr: func(ctx context.Context, ep string, size, count int) (thrRun, error) {
			d, err := thrPair(ctx, ep, size, count)
			return thrRun{count, count, d}, err
		},
		lat:  latPair,
		note: "PUSH/PULL: PUSH->PULL throughput; latency: half a REQ/REP round trip",
	},
	{
		name: "clientserver", title: "CLIENT/SERVER",
		thr: func(ctx context.Context, ep string, size, count int) (thrRun, error) {
			d, err := thrPairOf(ctx, azmq.CLIENT, azmq.SERVER, ep, size, count)
			return thrRun{count, count, d}, err
		},
		lat: func(ctx context.Context, ep string, size, count int) (time.Duration, error) {
			return latPairOf(ctx, azmq.CLIENT, azmq.SERVER, echoTo, ep, size, count)
		},
		note: "CLIENT/SERVER: CLIENT->SERVER throughput; latency: half a round trip, the SERVER answering with SendTo",
	},
	{
		name: "radiodish", title: "RADIO/DISH",
		thr:   radioDishThr,
		lossy: true,
		udp:   true,
		note:  "RADIO/DISH: RADIO->DISH throughput of one group, what arrived; no latency (one way); lost: sent but never received (a RADIO drops what its DISH has no room for, as PUB does; udp drops more)",
	},
}

// parsePatterns reads -patterns: names from benchPatterns, in any case.
func parsePatterns(list string) ([]*benchPattern, error) {
	var out []*benchPattern
	seen := map[*benchPattern]bool{}
	for _, name := range strings.Split(list, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		var p *benchPattern
		for _, bp := range benchPatterns {
			if strings.EqualFold(name, bp.name) {
				p = bp
			}
		}
		if p == nil {
			names := make([]string, len(benchPatterns))
			for i, bp := range benchPatterns {
				names[i] = bp.name
			}
			return nil, fmt.Errorf("-patterns: unknown pattern %q (want %s)", name, strings.Join(names, ", "))
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// echoTo answers count messages on a SERVER with the message itself,
// sent back to its CLIENT with SendTo.
func echoTo(ctx context.Context, srv *azmq.Socket, size, count int) error {
	for i := range count {
		m, err := srv.RecvMsg(ctx)
		if err != nil {
			return fmt.Errorf("receive request %d of %d: %w", i+1, count, err)
		}
		if err := checkSize(m.Frames, size); err != nil {
			return err
		}
		if err := srv.SendTo(ctx, m.RoutingID, m.Frames[0]); err != nil {
			return fmt.Errorf("send reply %d of %d: %w", i+1, count, err)
		}
		done(m.Frames) // SendTo copied it
	}
	return nil
}

// The group of the RADIO/DISH benchmark.
const benchGroup = "bench"

// radioDishIdle is how long a RADIO/DISH receiver waits, once the RADIO
// has sent everything, for a message that may still come: after that,
// what has not come is lost.
const radioDishIdle = 100 * time.Millisecond

// radioDishThr measures RADIO->DISH throughput: DISH binds ep, RADIO
// connects. A RADIO drops what the DISH has no room for, as a PUB does
// (and udp drops what it likes): it counts what arrived and stops
// waiting radioDishIdle after the last message was sent.
func radioDishThr(ctx context.Context, ep string, size, count int) (thrRun, error) {
	zctx := azmq.NewContext()
	defer zctx.Close()
	dish, radio, err := radioDish(ctx, zctx, ep, size)
	if err != nil {
		return thrRun{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sent := make(chan error, 1)
	go func() { sent <- sendGroupThr(ctx, radio, benchGroup, size, count) }()
	run, err := recvLossy(ctx, dish, size, count, sent)
	run.sent = count
	return run, err
}

// radioDish makes a DISH bound to ep that joined benchGroup and a RADIO
// connected to it, and returns once the DISH receives what the RADIO
// sends to the group: before the DISH's JOIN has come, a RADIO sends
// nothing.
func radioDish(ctx context.Context, zctx *azmq.Context, ep string, size int) (dish, radio *azmq.Socket, err error) {
	opts, err := benchOpts(ep)
	if err != nil {
		return nil, nil, err
	}
	opts = append(opts, azmq.WithLinger(0))
	if dish, err = zctx.NewSocket(azmq.DISH, opts...); err != nil {
		return nil, nil, err
	}
	if err := dish.Join(benchGroup); err != nil {
		return nil, nil, err
	}
	if err := dish.Bind(ep); err != nil {
		return nil, nil, err
	}
	if radio, err = zctx.NewSocket(azmq.RADIO, opts...); err != nil {
		return nil, nil, err
	}
	if err := radio.Connect(dish.LastEndpoint()); err != nil {
		return nil, nil, err
	}
	// Probes, one byte longer than the benchmark's messages to tell them
	// apart, every 5 ms until one arrives, for at most 5 s.
	const (
		every = 5 * time.Millisecond
		wait  = 5 * time.Second
	)
	sctx, stop := context.WithTimeout(ctx, wait)
	defer stop()
	probed := make(chan error, 1)
	go func() {
		probe := make([]byte, size+1)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for range int(wait / every) {
			if err := radio.SendGroup(sctx, benchGroup, probe); err != nil {
				probed <- err
				return
			}
			select {
			case <-tick.C:
			case <-sctx.Done():
				probed <- nil
				return
			}
		}
		probed <- nil
	}()
	_, err = dish.Recv(sctx)
	stop()
	if perr := <-probed; perr != nil && !errors.Is(perr, context.Canceled) && !errors.Is(perr, context.DeadlineExceeded) {
		return nil, nil, fmt.Errorf("RADIO probe: %w", perr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the DISH got no probe in %v: %w", wait, err)
	}
	return dish, radio, nil
}

// sendGroupThr sends count messages of size bytes to group. SendGroup
// copies each one: a RADIO has no SendNoCopy.
func sendGroupThr(ctx context.Context, radio *azmq.Socket, group string, size, count int) error {
	payload := bytes.Repeat([]byte{'x'}, size)
	for range count {
		if err := radio.SendGroup(ctx, group, payload); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	return nil
}

// recvLossy receives the messages of size bytes that come on dish until
// count have, or until the sender reports on sent and nothing has come
// for radioDishIdle since (what has not come by then is lost). Probes
// still on their way (size+1 bytes) are skipped. It returns how many
// came and the time from the first to the last.
func recvLossy(ctx context.Context, dish *azmq.Socket, size, count int, sent <-chan error) (thrRun, error) {
	rctx, stopRecv := context.WithCancel(ctx)
	defer stopRecv()
	var got atomic.Int64
	var sendErr error
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case sendErr = <-sent:
		case <-rctx.Done():
			sendErr = <-sent // ctx ended: the sender ends too
			return
		}
		if sendErr != nil {
			stopRecv()
			return
		}
		// Each round sees a message arrive or ends: at most count
		// rounds, and never more than drainMax in all.
		const drainMax = 10 * time.Second
		deadline := time.Now().Add(drainMax)
		last := got.Load()
		for range count + 1 {
			select {
			case <-time.After(radioDishIdle):
			case <-rctx.Done():
				return
			}
			n := got.Load()
			if n == last || time.Now().After(deadline) {
				stopRecv()
				return
			}
			last = n
		}
	}()

	var run thrRun
	var t0, tLast time.Time
	var err error
	for run.got < count {
		var msg [][]byte
		msg, err = dish.Recv(rctx)
		if err != nil {
			if ctx.Err() == nil && rctx.Err() != nil {
				err = nil // the sender is done and the rest was lost
			}
			break
		}
		if len(msg) == 1 && len(msg[0]) == size+1 {
			continue // a probe
		}
		if err = checkSize(msg, size); err != nil {
			break
		}
		done(msg)
		tLast = time.Now()
		if run.got == 0 {
			t0 = tLast
		}
		run.got++
		got.Store(int64(run.got))
	}
	stopRecv()
	<-watched
	run.d = tLast.Sub(t0)
	switch {
	case sendErr != nil:
		return run, sendErr
	case err != nil:
		return run, fmt.Errorf("receive message %d of %d: %w", run.got+1, count, err)
	case run.got == 0:
		return run, fmt.Errorf("none of %d messages arrived", count)
	}
	return run, nil
}
