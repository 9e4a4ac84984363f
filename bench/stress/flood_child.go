package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/azmq/azmq"
)

// The two sides of one flood cell, each run by the driver as a process of
// its own so that each one's memory can be read apart:
//
//	stress flood_pull -endpoint EP -size N -hwm N -duration D -pause P
//	stress flood_push -endpoint EP -size N -hwm N -duration D
//
// They talk to the driver in lines: on stdout "endpoint=EP" (the PULL
// side), "baseline rss=N" and at the end "result k=v ..."; on stdin the
// driver's "go" starts the flood.
//
// Data messages are one frame of -size bytes that starts with a 64-bit
// sequence number; control messages are two frames: a name ("warm",
// "end") and a 64-bit number.

// floodWarm is the number of tiny messages exchanged before the baseline
// is read: the connection is up and has carried traffic.
const floodWarm = 100

// floodSettle is the pause before reading the baseline, for the other
// side's work to end.
const floodSettle = 200 * time.Millisecond

// floodSample is how often a child samples its memory.
const floodSample = 5 * time.Millisecond

type floodChildConfig struct {
	endpoint         string
	size, hwm        int
	duration, pause  time.Duration
	linger, drainMax time.Duration
}

func parseFloodChild(mode string, args []string) (floodChildConfig, error) {
	fs := flag.NewFlagSet("stress "+mode, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c floodChildConfig
	fs.StringVar(&c.endpoint, "endpoint", "", "endpoint to bind (PULL) or connect to (PUSH)")
	fs.IntVar(&c.size, "size", 16, "message size in bytes (at least 8)")
	fs.IntVar(&c.hwm, "hwm", azmq.DefaultHWM, "high-water mark (send for PUSH, receive for PULL)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long the flood lasts")
	fs.DurationVar(&c.pause, "pause", 10*time.Millisecond, "PULL: pause after each message during the flood")
	fs.DurationVar(&c.linger, "linger", 2*time.Minute, "PUSH: linger of the final Close; PULL: longest drain")
	if err := fs.Parse(args); err != nil {
		return c, usageErr("%s: %v", mode, err)
	}
	switch {
	case fs.NArg() > 0:
		return c, usageErr("%s: unexpected argument %q", mode, fs.Arg(0))
	case c.endpoint == "":
		return c, usageErr("%s: -endpoint is required", mode)
	case c.size < 8:
		return c, usageErr("%s: -size %d: a message carries an 8-byte sequence number", mode, c.size)
	case c.hwm < 1:
		return c, usageErr("%s: -hwm %d: the flood needs a bound", mode, c.hwm)
	case c.duration <= 0 || c.pause < 0 || c.linger <= 0:
		return c, usageErr("%s: -duration and -linger must be positive, -pause not negative", mode)
	}
	return c, nil
}

// floodChild runs "stress flood_push|flood_pull ...".
func floodChild(ctx context.Context, mode string, args []string, stdin io.Reader, stdout io.Writer) error {
	c, err := parseFloodChild(mode, args)
	if err != nil {
		return err
	}
	if mode == "flood_push" {
		err = floodPush(ctx, c, stdin, stdout)
	} else {
		err = floodPull(ctx, c, stdin, stdout)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", mode, err)
	}
	return nil
}

// waitGo reads the driver's go-ahead.
func waitGo(stdin io.Reader) error {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil {
		return fmt.Errorf("waiting for the driver's go: %w", err)
	}
	if line != "go\n" {
		return fmt.Errorf("driver said %q, want go", line)
	}
	return nil
}

func ctrlMsg(name string, n uint64) [][]byte {
	return [][]byte{[]byte(name), binary.BigEndian.AppendUint64(nil, n)}
}

func bytesKV(name string, v int64) string {
	if v < 0 {
		return name + "=n/a"
	}
	return name + "=" + strconv.FormatInt(v, 10)
}

// floodPush connects, sends freshly allocated numbered messages as fast as
// Send allows for the duration, then "end" with the count, and closes with
// linger so that everything queued reaches the PULL side.
func floodPush(ctx context.Context, c floodChildConfig, stdin io.Reader, stdout io.Writer) error {
	push, err := azmq.NewSocket(azmq.PUSH, azmq.WithSendHWM(c.hwm), azmq.WithLinger(c.linger))
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			push.Close()
		}
	}()
	if err := push.Connect(c.endpoint); err != nil {
		return err
	}
	for i := range floodWarm {
		if err := push.Send(ctx, ctrlMsg("warm", uint64(i))...); err != nil {
			return fmt.Errorf("warm-up message %d: %w", i, err)
		}
	}
	time.Sleep(floodSettle)
	fmt.Fprintf(stdout, "baseline %s\n", bytesKV("rss", procStatus("VmRSS")))
	if err := waitGo(stdin); err != nil {
		return err
	}

	// Every byte is written: pages of a fresh buffer that nobody touched
	// are not resident, and would hide what the queue holds.
	fill := make([]byte, c.size)
	for i := range fill {
		fill[i] = byte(i)
	}
	w := watchMem(floodSample)
	floodCtx, cancel := context.WithTimeout(ctx, c.duration)
	var sent uint64
	var held int64
	for {
		// A new buffer each time, as an application has: what is queued
		// is memory held, which is what is measured.
		b := make([]byte, c.size)
		copy(b, fill)
		binary.BigEndian.PutUint64(b, sent)
		if err := push.Send(floodCtx, b); err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				// A Send that fails queued nothing, so sent is exact; and
				// it failed waiting for room: the queue is full now.
				held = liveAfterGC()
				break
			}
			cancel()
			w.Stop()
			return fmt.Errorf("send message %d: %w", sent, err)
		}
		sent++
	}
	cancel()
	endCtx, cancel := context.WithTimeout(ctx, c.linger)
	err = push.Send(endCtx, ctrlMsg("end", sent)...)
	cancel()
	if err != nil {
		w.Stop()
		return fmt.Errorf("send end after %d messages: %w", sent, err)
	}
	t0 := time.Now()
	closed = true
	push.Close() // waits (up to the linger) until the queue is written
	closeTime := time.Since(t0)
	p := w.Stop()
	fmt.Fprintf(stdout, "result sent=%d close_s=%.2f %s %s %s %s\n", sent, closeTime.Seconds(),
		bytesKV("rss_peak", p.rss), bytesKV("heap_peak", p.heap), bytesKV("live_peak", p.live), bytesKV("held", held))
	return nil
}

// floodPull binds, receives slowly (a pause after every message) for the
// duration, then as fast as it can until "end", checking that every
// message came, in order.
func floodPull(ctx context.Context, c floodChildConfig, stdin io.Reader, stdout io.Writer) error {
	// Nothing is sent from here: nothing to linger for.
	pull, err := azmq.NewSocket(azmq.PULL, azmq.WithRecvHWM(c.hwm), azmq.WithLinger(0))
	if err != nil {
		return err
	}
	defer pull.Close()
	if err := pull.Bind(c.endpoint); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "endpoint=%s\n", pull.LastEndpoint())
	for i := range floodWarm {
		msg, err := pull.Recv(ctx)
		if err != nil {
			return fmt.Errorf("warm-up message %d: %w", i, err)
		}
		if len(msg) != 2 || string(msg[0]) != "warm" {
			return fmt.Errorf("warm-up message %d: %d frames, not a warm-up", i, len(msg))
		}
	}
	time.Sleep(floodSettle)
	fmt.Fprintf(stdout, "baseline %s\n", bytesKV("rss", procStatus("VmRSS")))
	if err := waitGo(stdin); err != nil {
		return err
	}

	w := watchMem(floodSample)
	var st floodRecvState
	slowUntil := time.Now().Add(c.duration)
	drainCtx, cancel := context.WithTimeout(ctx, c.duration+c.linger)
	defer cancel()
	slow, held := true, int64(-1)
	for !st.ended {
		msg, err := pull.Recv(drainCtx)
		if err != nil {
			w.Stop()
			return fmt.Errorf("after %d messages: %w", st.received, err)
		}
		if err := st.take(msg, c.size); err != nil {
			w.Stop()
			return err
		}
		switch {
		case !slow:
		case time.Now().Before(slowUntil):
			time.Sleep(c.pause)
		default:
			// The end of the slow part, when the queue is fullest.
			slow, held = false, liveAfterGC()
		}
	}
	p := w.Stop()
	fmt.Fprintf(stdout, "result received=%d in_order=%t end=%d %s %s %s %s\n", st.received, st.misordered == 0, st.end,
		bytesKV("rss_peak", p.rss), bytesKV("heap_peak", p.heap), bytesKV("live_peak", p.live), bytesKV("held", held))
	return nil
}

// floodRecvState checks the stream of a PULL side.
type floodRecvState struct {
	received   uint64 // data messages
	misordered uint64 // data messages whose number was not the next one
	end        uint64 // the count "end" announced
	ended      bool
}

func (s *floodRecvState) take(msg [][]byte, size int) error {
	switch {
	case len(msg) == 2 && string(msg[0]) == "end" && len(msg[1]) == 8:
		s.end, s.ended = binary.BigEndian.Uint64(msg[1]), true
	case len(msg) == 1 && len(msg[0]) == size:
		if binary.BigEndian.Uint64(msg[0]) != s.received {
			s.misordered++
		}
		s.received++
	default:
		return fmt.Errorf("message %d: %d frames, not a %d-byte data message or end", s.received, len(msg), size)
	}
	return nil
}
