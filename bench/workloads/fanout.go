package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/azmq/azmq"
)

// runPub is the publishing (binding) side of the fan-out workload.
func runPub(a []string, stdout, stderr io.Writer) error {
	l := &argList{a: a}
	conns := l.num(0, "CONNS", 1, maxConn)
	distinct := topicsArg(l, 1)
	size := l.num(2, "SIZE", hdrLen, 1<<20)
	secs := l.num(3, "SECS", 1, 3600)
	hwm := l.num(4, "HWM", 0, 1<<30)
	timeout := l.num(5, "TIMEOUT_S", 1, 3600)
	if l.err != nil {
		return l.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout)*time.Second)
	defer cancel()
	zc := azmq.NewContext()
	defer zc.Close()
	pub, err := zc.NewSocket(azmq.PUB, azmq.WithSendHWM(hwm), azmq.WithLinger(0))
	if err != nil {
		return err
	}
	ctrl, err := zc.NewSocket(azmq.PULL, azmq.WithLinger(0))
	if err != nil {
		return err
	}
	if err := pub.Bind("tcp://127.0.0.1:*"); err != nil {
		return err
	}
	if err := ctrl.Bind("tcp://127.0.0.1:*"); err != nil {
		return err
	}
	base := sampleMem()
	fmt.Fprintf(stderr, "endpoint=%s\ncontrol=%s\n", pub.LastEndpoint(), ctrl.LastEndpoint())

	ntopics := 1
	if distinct {
		ntopics = conns
	}
	topics := make([][]byte, ntopics)
	for i := range topics {
		topics[i] = topicOf(i)
	}
	buf := make([]byte, size)
	seqs := make([]uint64, ntopics)
	// broadcast sends kind to every topic until the subscriber process
	// says word on the control socket: a subscription, and a message,
	// may be lost to a connection not yet made or to a full pipe.
	broadcast := func(kind byte, word string) error {
		for {
			for i, t := range topics {
				putHdr(buf, t, kind, seqs[i], time.Now().UnixNano())
				if err := pub.Send(ctx, buf); err != nil {
					return fmt.Errorf("send %c: %w", kind, err)
				}
			}
			wctx, wcancel := context.WithTimeout(ctx, 20*time.Millisecond)
			m, err := ctrl.Recv(wctx)
			wcancel()
			if err == nil {
				if len(m) != 1 || string(m[0]) != word {
					return fmt.Errorf("control: got %q, want %q", m, word)
				}
				return nil
			}
			if ctx.Err() != nil {
				return fmt.Errorf("waiting for %q from the subscribers: %w", word, ctx.Err())
			}
		}
	}
	if err := broadcast('W', "ready"); err != nil {
		return err
	}
	conn := sampleMem()

	stop, err := startProfile()
	if err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(time.Duration(secs) * time.Second)
	var sent uint64
	for i := 0; ; i++ {
		ti := i % ntopics
		putHdr(buf, topics[ti], 'D', seqs[ti], time.Now().UnixNano())
		if err := pub.Send(ctx, buf); err != nil {
			stop()
			return fmt.Errorf("send: %w", err)
		}
		seqs[ti]++
		sent++
		if i&63 == 0 && time.Now().After(deadline) {
			break
		}
	}
	elapsed := time.Since(start)
	if err := stop(); err != nil {
		return err
	}
	if err := broadcast('E', "done"); err != nil {
		return err
	}
	end := sampleMem()
	fmt.Fprintf(stdout, "impl=azmq sent=%d send_secs=%.3f sent_per_s=%.0f %s\n",
		sent, elapsed.Seconds(), float64(sent)/elapsed.Seconds(), memKV(base, conn, end, conns))
	return nil
}

// subStats is one subscriber's account of the run.
type subStats struct {
	recv, sent      uint64 // data messages received; sent to its topic (from the end message)
	first, last     int64  // wall-clock ns of its first and last data message
	lagMax, lagLast int64
}

// runSub runs the CONNS subscribers of the fan-out workload in one process.
func runSub(a []string, stdout io.Writer) error {
	l := &argList{a: a}
	ep := l.str(0, "ENDPOINT")
	ctl := l.str(1, "CONTROL")
	conns := l.num(2, "CONNS", 1, maxConn)
	distinct := topicsArg(l, 3)
	hwm := l.num(4, "HWM", 0, 1<<30)
	timeout := l.num(5, "TIMEOUT_S", 1, 3600)
	if l.err != nil {
		return l.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout)*time.Second)
	defer cancel()
	zc := azmq.NewContext()
	defer zc.Close()
	ctrl, err := zc.NewSocket(azmq.PUSH, azmq.WithLinger(time.Second))
	if err != nil {
		return err
	}
	if err := ctrl.Connect(ctl); err != nil {
		return err
	}
	subs := make([]*azmq.Socket, conns)
	for i := range subs {
		s, err := zc.NewSocket(azmq.SUB, azmq.WithRecvHWM(hwm), azmq.WithLinger(0))
		if err != nil {
			return err
		}
		t := topicOf(0)
		if distinct {
			t = topicOf(i)
		}
		if err := s.Subscribe(t); err != nil {
			return err
		}
		if err := s.Connect(ep); err != nil {
			return err
		}
		subs[i] = s
	}
	stopProfile, err := startProfile()
	if err != nil {
		return err
	}
	defer stopProfile()
	stats := make([]subStats, conns)
	errs := make([]error, conns)
	var warm, ended atomic.Int64
	warmed := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range subs {
		wg.Go(func() {
			st := &stats[i]
			isWarm := false
			// One Msg received into again and again, as the C
			// subscribers receive into one zmq_msg_t.
			var msg azmq.Msg
			for {
				err := s.RecvInto(ctx, &msg)
				if err != nil {
					errs[i] = err
					return
				}
				m := msg.Frames
				now := time.Now().UnixNano()
				b := m[0]
				if len(m) != 1 || len(b) < hdrLen {
					errs[i] = fmt.Errorf("subscriber %d: a message of %d frames, %d bytes", i, len(m), len(b))
					return
				}
				switch b[5] {
				case 'W':
					if !isWarm {
						isWarm = true
						if warm.Add(1) == int64(conns) {
							close(warmed)
						}
					}
				case 'D':
					lag := now - int64(binary.LittleEndian.Uint64(b[14:]))
					if st.recv == 0 {
						st.first = now
					}
					st.recv++
					st.last = now
					st.lagLast = lag
					st.lagMax = max(st.lagMax, lag)
				case 'E':
					st.sent = binary.LittleEndian.Uint64(b[6:])
					ended.Add(1)
					return
				}
			}
		})
	}
	select {
	case <-warmed:
		if err := ctrl.Send(ctx, []byte("ready")); err != nil {
			cancel()
		}
	case <-ctx.Done():
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("subscriber %d (%d of %d warm, %d ended): %w", i, warm.Load(), conns, ended.Load(), err)
		}
	}
	if err := ctrl.Send(ctx, []byte("done")); err != nil {
		return err
	}
	fmt.Fprintln(stdout, fanoutLine("azmq", stats))
	return nil
}

// fanoutLine sums the subscribers' accounts: messages delivered a second
// in total, from the first data message any subscriber received to the
// last; drops (data sent to a subscriber's topic that it did not get); and
// the slowest subscriber's lag: lag_end_ms is the largest, over the
// subscribers, of the lag of the last message each received (how far
// behind the publisher the slowest one finished), lag_max_ms the largest
// lag of any message.
func fanoutLine(impl string, stats []subStats) string {
	var total, sent uint64
	first, last := int64(-1), int64(0)
	var lagMax, lagEnd int64
	minRecv := ^uint64(0)
	for _, s := range stats {
		total += s.recv
		sent += s.sent
		minRecv = min(minRecv, s.recv)
		if s.recv > 0 {
			if first < 0 || s.first < first {
				first = s.first
			}
			last = max(last, s.last)
		}
		lagMax = max(lagMax, s.lagMax)
		lagEnd = max(lagEnd, s.lagLast)
	}
	secs := float64(last-first) / 1e9
	rate := 0.0
	if secs > 0 {
		rate = float64(total) / secs
	}
	return fmt.Sprintf("impl=%s delivered=%d recv_secs=%.3f delivered_per_s=%.0f drops=%d min_delivered=%d lag_end_ms=%.2f lag_max_ms=%.2f",
		impl, total, secs, rate, sent-total, minRecv, float64(lagEnd)/1e6, float64(lagMax)/1e6)
}
