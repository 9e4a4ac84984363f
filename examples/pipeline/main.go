// Command pipeline shows the parallel pipeline: a ventilator PUSHes tasks
// to a pool of workers (load-balanced), each worker PUSHes its result to a
// sink, which PULLs them all (fair-queued) and checks nothing was lost.
//
// Everything runs in this process over inproc, the transport for
// goroutines of one program; with tcp:// endpoints the workers could be
// other processes or machines, unchanged.
package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/azmq/azmq"
)

const (
	tasks   = 100
	workers = 4
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx); err != nil {
		log.SetFlags(0)
		log.Print("pipeline: ", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	zctx := azmq.NewContext()
	defer zctx.Close()

	// The sink binds first; on inproc connecting first would work too.
	sink, err := zctx.NewSocket(azmq.PULL)
	if err != nil {
		return err
	}
	defer sink.Close()
	if err := sink.Bind("inproc://results"); err != nil {
		return err
	}

	ventilator, err := zctx.NewSocket(azmq.PUSH)
	if err != nil {
		return err
	}
	defer ventilator.Close()
	if err := ventilator.Bind("inproc://tasks"); err != nil {
		return err
	}

	// The workers stop when the run is over.
	workCtx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopWorkers()
	done := make([]int, workers)
	for w := range workers {
		in, err := zctx.NewSocket(azmq.PULL)
		if err != nil {
			return err
		}
		out, err := zctx.NewSocket(azmq.PUSH)
		if err != nil {
			return err
		}
		if err := in.Connect("inproc://tasks"); err != nil {
			return err
		}
		if err := out.Connect("inproc://results"); err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer in.Close()
			defer out.Close()
			done[w] = worker(workCtx, in, out)
		}()
	}

	// The ventilator: task i asks for i squared. Send waits while every
	// worker's queue is full, so a slow pool slows the ventilator down.
	var want uint64
	for i := range uint64(tasks) {
		if err := ventilator.Send(ctx, binary.BigEndian.AppendUint64(nil, i)); err != nil {
			return err
		}
		want += i * i
	}

	// The sink: every task must come back exactly once.
	var sum uint64
	for range tasks {
		msg, err := sink.Recv(ctx)
		if err != nil {
			return fmt.Errorf("sink: %w", err)
		}
		sum += binary.BigEndian.Uint64(msg[0])
	}
	if sum != want {
		return fmt.Errorf("sink: sum of results %d, want %d", sum, want)
	}
	stopWorkers()
	wg.Wait()
	fmt.Printf("sink: %d results, sum %d: all tasks done\n", tasks, sum)
	for w, n := range done {
		fmt.Printf("worker %d did %d tasks\n", w, n)
	}
	return nil
}

// worker squares numbers until ctx ends and returns how many it did.
func worker(ctx context.Context, in, out *azmq.Socket) int {
	n := 0
	for {
		msg, err := in.Recv(ctx)
		if err != nil {
			return n // ctx ended: the run is over
		}
		x := binary.BigEndian.Uint64(msg[0])
		if err := out.Send(ctx, binary.BigEndian.AppendUint64(nil, x*x)); err != nil {
			return n
		}
		n++
	}
}
