package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/azmq/azmq"
)

// runRouter is the binding side of the broker workload: one ROUTER that
// echoes every request to the DEALER it came from, in one goroutine, as a
// broker's loop does.
func runRouter(a []string, stdout, stderr io.Writer) error {
	l := &argList{a: a}
	conns := l.num(0, "CONNS", 1, maxConn)
	hwm := l.num(1, "HWM", 0, 1<<30)
	timeout := l.num(2, "TIMEOUT_S", 1, 3600)
	if l.err != nil {
		return l.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout)*time.Second)
	defer cancel()
	zc := azmq.NewContext()
	defer zc.Close()
	r, err := zc.NewSocket(azmq.ROUTER, azmq.WithSendHWM(hwm), azmq.WithRecvHWM(hwm), azmq.WithLinger(0))
	if err != nil {
		return err
	}
	if err := r.Bind("tcp://127.0.0.1:*"); err != nil {
		return err
	}
	base := sampleMem()
	fmt.Fprintf(stderr, "endpoint=%s\n", r.LastEndpoint())
	var conn memSample
	stop := func() error { return nil }
	hellos := 0
	var replies uint64
	// One Msg received into again and again, and each reply a copy of
	// it, as the C broker receives into and sends from its zmq_msg_t.
	var msg azmq.Msg
	for {
		err := r.RecvInto(ctx, &msg)
		m := msg.Frames
		if err != nil {
			stop()
			return fmt.Errorf("recv (%d of %d clients said hello, %d replies): %w", hellos, conns, replies, err)
		}
		if len(m) != 2 || len(m[1]) < 1 {
			stop()
			return fmt.Errorf("a request of %d frames", len(m))
		}
		switch m[1][0] {
		case 'Q':
			if err := stop(); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "impl=azmq replies=%d %s\n", replies, memKV(base, conn, sampleMem(), conns))
			return nil
		case 'H':
			// Every client says hello once, before it is timed: the
			// last hello is the moment all are connected.
			if hellos++; hellos == conns {
				conn = sampleMem()
				if stop, err = startProfile(); err != nil {
					return err
				}
			}
		}
		if err := r.Send(ctx, m...); err != nil {
			stop()
			return fmt.Errorf("send: %w", err)
		}
		replies++
	}
}

// runDealer runs the CONNS clients of the broker workload in one process,
// each a DEALER with one request outstanding at a time.
func runDealer(a []string, stdout io.Writer) error {
	l := &argList{a: a}
	ep := l.str(0, "ENDPOINT")
	conns := l.num(1, "CONNS", 1, maxConn)
	size := l.num(2, "SIZE", 1, 1<<20)
	secs := l.num(3, "SECS", 1, 3600)
	timeout := l.num(4, "TIMEOUT_S", 1, 3600)
	if l.err != nil {
		return l.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout)*time.Second)
	defer cancel()
	zc := azmq.NewContext()
	defer zc.Close()
	dealers := make([]*azmq.Socket, conns)
	for i := range dealers {
		d, err := zc.NewSocket(azmq.DEALER, azmq.WithLinger(time.Second))
		if err != nil {
			return err
		}
		if err := d.Connect(ep); err != nil {
			return err
		}
		dealers[i] = d
	}
	rtts := make([][]uint32, conns)
	errs := make([]error, conns)
	begin := make(chan struct{})
	var warm, wg sync.WaitGroup
	warm.Add(conns)
	var start, end time.Time
	for i, d := range dealers {
		wg.Go(func() {
			req := make([]byte, size)
			var msg azmq.Msg // received into again and again, as the C clients' zmq_msg_t
			// roundTrip sends one request and waits for its echo.
			roundTrip := func(kind byte) error {
				req[0] = kind
				if err := d.Send(ctx, req); err != nil {
					return err
				}
				if err := d.RecvInto(ctx, &msg); err != nil {
					return err
				}
				m := msg.Frames
				if len(m) != 1 || len(m[0]) != size || m[0][0] != kind {
					return fmt.Errorf("client %d: a bad reply", i)
				}
				return nil
			}
			err := roundTrip('H')
			warm.Done()
			if err != nil {
				errs[i] = err
				return
			}
			select {
			case <-begin:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			r := make([]uint32, 0, 1<<12)
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				if err := roundTrip('R'); err != nil {
					errs[i] = err
					return
				}
				r = append(r, uint32(min(time.Since(t0), time.Duration(1<<32-1))))
			}
			rtts[i] = r
		})
	}
	warm.Wait()
	start = time.Now()
	end = start.Add(time.Duration(secs) * time.Second)
	close(begin)
	wg.Wait()
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("client %d: %w", i, err)
		}
	}
	if err := dealers[0].Send(ctx, []byte("Q")); err != nil {
		return err
	}
	fmt.Fprintln(stdout, brokerLine("azmq", slices.Concat(rtts...), elapsed))
	return nil
}

// brokerLine gives replies a second over the timed phase and the round
// trips' p50 and p99 (nearest rank).
func brokerLine(impl string, rtts []uint32, elapsed time.Duration) string {
	slices.Sort(rtts)
	pct := func(p float64) float64 {
		if len(rtts) == 0 {
			return 0
		}
		i := int(p*float64(len(rtts))+0.999999) - 1
		return float64(rtts[max(i, 0)]) / 1e3
	}
	return fmt.Sprintf("impl=%s replies=%d secs=%.3f replies_per_s=%.0f p50_us=%.1f p99_us=%.1f",
		impl, len(rtts), elapsed.Seconds(), float64(len(rtts))/elapsed.Seconds(), pct(0.5), pct(0.99))
}
