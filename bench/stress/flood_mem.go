package main

import (
	"bufio"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procStatus reads a "kB" field of /proc/self/status ("VmRSS", "VmHWM")
// in bytes; -1 where there is no such file (every OS but Linux).
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// memPeaks is the most a process held while it was watched.
type memPeaks struct {
	// rss is the peak resident set: the kernel's own high-water mark
	// (VmHWM), which sees even a spike between two samples, or the
	// largest sample if that is higher. -1 where unknown.
	rss int64
	// heap is the peak of the Go heap's objects, live or garbage not yet
	// collected; live is the peak of what the collector found live. The
	// difference is the collector's headroom (GOGC).
	heap, live int64
}

// liveAfterGC collects and returns the bytes the collector found live:
// what the process holds right now, without garbage. It costs one
// collection, so it is only called when the flood ends, at the moment the
// queues are fullest.
func liveAfterGC() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return -1
	}
	return int64(s[0].Value.Uint64())
}

// memWatch samples the process's memory until Stop.
type memWatch struct {
	stop chan struct{}
	done sync.WaitGroup
	peak memPeaks // owned by the sampling goroutine until done
}

// watchMem starts sampling every interval.
func watchMem(every time.Duration) *memWatch {
	w := &memWatch{stop: make(chan struct{}), peak: memPeaks{rss: -1, heap: -1, live: -1}}
	w.done.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		samples := []metrics.Sample{
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/gc/heap/live:bytes"},
		}
		for {
			w.sample(samples)
			select {
			case <-t.C:
			case <-w.stop:
				w.sample(samples)
				return
			}
		}
	})
	return w
}

func (w *memWatch) sample(s []metrics.Sample) {
	w.peak.rss = max(w.peak.rss, procStatus("VmRSS"))
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		w.peak.heap = max(w.peak.heap, int64(s[0].Value.Uint64()))
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		w.peak.live = max(w.peak.live, int64(s[1].Value.Uint64()))
	}
}

// Stop ends the sampling and returns the peaks.
func (w *memWatch) Stop() memPeaks {
	close(w.stop)
	w.done.Wait()
	p := w.peak
	p.rss = max(p.rss, procStatus("VmHWM"))
	return p
}
