// Command broker shows a request-reply broker: REQ clients connect to the
// broker's ROUTER (frontend), REP workers connect to its DEALER (backend),
// and two goroutines move messages between the two: requests go to the
// workers in turn, and each reply finds its way back to the client that
// asked, by the routing envelope the ROUTER put on the request.
//
// Clients, workers and broker run in this process; they talk over tcp, so
// any of them could as well be another program.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/azmq/azmq"
)

const (
	clients  = 3
	workers  = 2
	requests = 4 // per client
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx); err != nil {
		log.SetFlags(0)
		log.Print("broker: ", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	zctx := azmq.NewContext()
	defer zctx.Close()

	frontend, err := zctx.NewSocket(azmq.ROUTER)
	if err != nil {
		return err
	}
	defer frontend.Close()
	if err := frontend.Bind("tcp://127.0.0.1:*"); err != nil {
		return err
	}
	backend, err := zctx.NewSocket(azmq.DEALER)
	if err != nil {
		return err
	}
	defer backend.Close()
	if err := backend.Bind("tcp://127.0.0.1:*"); err != nil {
		return err
	}

	// The broker and the workers run until the clients are done; they
	// return nil when stopped, an error when they fail.
	bgCtx, stop := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer bg.Wait()
	defer stop()
	bgErr := make(chan error, 2+workers)
	background := func(f func() error) {
		bg.Add(1)
		go func() {
			defer bg.Done()
			if err := f(); err != nil {
				bgErr <- err
			}
		}()
	}
	background(func() error { return forward(bgCtx, frontend, backend) })
	background(func() error { return forward(bgCtx, backend, frontend) })
	for w := range workers {
		background(func() error { return worker(bgCtx, zctx, backend.LastEndpoint(), w) })
	}

	// The clients; run is done when each has had all its replies.
	clientErr := make(chan error, clients)
	for c := range clients {
		go func() { clientErr <- client(ctx, zctx, frontend.LastEndpoint(), c) }()
	}
	for range clients {
		select {
		case err := <-clientErr:
			if err != nil {
				return err
			}
		case err := <-bgErr:
			return err
		}
	}
	fmt.Printf("all %d clients got their %d replies\n", clients, requests)
	return nil
}

// forward moves whole messages from one socket to the other until ctx
// ends. The ROUTER adds the client's routing id as the first frame of a
// request and uses it to route the reply; the DEALER and the REP workers
// pass it along untouched.
func forward(ctx context.Context, from, to *azmq.Socket) error {
	for {
		msg, err := from.Recv(ctx)
		if err == nil {
			err = to.Send(ctx, msg...)
		}
		if ctx.Err() != nil {
			return nil // stopped
		}
		if err != nil {
			return fmt.Errorf("%s to %s: %w", from.Type(), to.Type(), err)
		}
	}
}

// client sends its requests one by one and checks every reply.
func client(ctx context.Context, zctx *azmq.Context, endpoint string, id int) error {
	req, err := zctx.NewSocket(azmq.REQ)
	if err != nil {
		return err
	}
	defer req.Close()
	if err := req.Connect(endpoint); err != nil {
		return err
	}
	for i := range requests {
		body := fmt.Sprintf("client %d request %d", id, i)
		if err := req.Send(ctx, []byte(body)); err != nil {
			return err
		}
		reply, err := req.Recv(ctx)
		if err != nil {
			return fmt.Errorf("client %d: %w", id, err)
		}
		if want := "done: " + body; string(reply[0]) != want {
			return fmt.Errorf("client %d: reply %q, want %q", id, reply[0], want)
		}
	}
	fmt.Printf("client %d: %d replies\n", id, requests)
	return nil
}

// worker answers requests until ctx ends.
func worker(ctx context.Context, zctx *azmq.Context, endpoint string, id int) error {
	rep, err := zctx.NewSocket(azmq.REP)
	if err != nil {
		return err
	}
	defer rep.Close()
	if err := rep.Connect(endpoint); err != nil {
		return err
	}
	for {
		msg, err := rep.Recv(ctx)
		if err == nil {
			err = rep.Send(ctx, append([]byte("done: "), msg[0]...))
		}
		if ctx.Err() != nil {
			return nil // stopped
		}
		if err != nil {
			return fmt.Errorf("worker %d: %w", id, err)
		}
	}
}
