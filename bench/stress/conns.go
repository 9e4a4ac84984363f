package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/azmq/azmq"
)

// The connection-scale modes: one ROUTER serving N DEALERs, each in its own
// process, so each side's cost per connection can be read off.
//
//	stress conns_server ENDPOINT N   ROUTER binds, echoes until N peers made ROUNDS round trips
//	stress conns_client ENDPOINT N   N DEALER sockets connect, each makes ROUNDS round trips
const connsRounds = 3

// procStats is what one process holds: goroutines, Go heap and stacks, RSS.
type procStats struct {
	goroutines int
	heap, rss  uint64
}

func readStats() procStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return procStats{
		goroutines: runtime.NumGoroutine(),
		heap:       ms.HeapInuse + ms.StackInuse,
		rss:        rssBytes(),
	}
}

// rssBytes reads the resident set size (Linux; 0 elsewhere).
func rssBytes() uint64 { return uint64(max(procStatus("VmRSS"), 0)) }

// statsLine reports the growth from base over n connections.
func statsLine(side string, n int, base, now procStats, d time.Duration) string {
	per := func(a, b uint64) float64 {
		if b < a {
			return 0
		}
		return float64(b-a) / float64(n) / 1024
	}
	return fmt.Sprintf("side=%s conns=%d seconds=%.2f goroutines_per_conn=%.2f heap_kib_per_conn=%.1f rss_kib_per_conn=%.1f rss_mib=%.1f",
		side, n, d.Seconds(), float64(now.goroutines-base.goroutines)/float64(n),
		per(base.heap, now.heap), per(base.rss, now.rss), float64(now.rss)/(1<<20))
}

func connsServer(ctx context.Context, ep string, n int, stdout, stderr io.Writer) error {
	base := readStats()
	zctx := azmq.NewContext()
	defer zctx.Close()
	r, err := zctx.NewSocket(azmq.ROUTER) // the default linger flushes the last replies
	if err != nil {
		return err
	}
	if err := r.Bind(ep); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "endpoint=%s\n", r.LastEndpoint())
	seen := make(map[string]int, n)
	done := 0
	var start time.Time
	var at procStats
	for done < n {
		m, err := r.Recv(ctx)
		if err != nil {
			return err
		}
		if start.IsZero() {
			start = time.Now()
		}
		id := string(m[0])
		seen[id]++
		if len(seen) == n && at.goroutines == 0 {
			at = readStats() // every peer connected and heard from
		}
		if seen[id] == connsRounds {
			done++
		}
		if err := r.Send(ctx, m...); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, statsLine("server", n, base, at, time.Since(start)))
	return nil
}

func connsClient(ctx context.Context, ep string, n int, stdout io.Writer) error {
	base := readStats()
	zctx := azmq.NewContext()
	defer zctx.Close()
	socks := make([]*azmq.Socket, n)
	for i := range socks {
		s, err := zctx.NewSocket(azmq.DEALER, azmq.WithLinger(0), azmq.WithReconnectInterval(50*time.Millisecond))
		if err != nil {
			return err
		}
		if err := s.Connect(ep); err != nil {
			return err
		}
		socks[i] = s
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	var at procStats
	var atOnce sync.Once
	var mid sync.WaitGroup
	mid.Add(n)
	for _, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < connsRounds; round++ {
				if err := s.Send(ctx, []byte("ping")); err != nil {
					errs <- err
					return
				}
				if _, err := s.Recv(ctx); err != nil {
					errs <- err
					return
				}
				if round == 0 {
					mid.Done()
					mid.Wait() // all connected: measure once, then go on
					atOnce.Do(func() { at = readStats() })
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Fprintln(stdout, statsLine("client", n, base, at, time.Since(start)))
	return nil
}
