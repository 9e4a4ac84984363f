package azmq_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/azmq/azmq"
)

// A shared queue: REQ clients talk to a ROUTER, REP workers to a DEALER,
// and Proxy moves requests and replies between the two until its context
// ends.
func ExampleProxy() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	frontend, err := zctx.NewSocket(azmq.ROUTER)
	if err != nil {
		log.Fatal(err)
	}
	if err := frontend.Bind("inproc://clients"); err != nil {
		log.Fatal(err)
	}
	backend, err := zctx.NewSocket(azmq.DEALER)
	if err != nil {
		log.Fatal(err)
	}
	if err := backend.Bind("inproc://workers"); err != nil {
		log.Fatal(err)
	}

	proxyCtx, stopProxy := context.WithCancel(ctx)
	proxied := make(chan error, 1)
	go func() { proxied <- azmq.Proxy(proxyCtx, frontend, backend, nil) }()

	// A worker, answering each greeting.
	worker, err := zctx.NewSocket(azmq.REP)
	if err != nil {
		log.Fatal(err)
	}
	if err := worker.Connect("inproc://workers"); err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			req, err := worker.Recv(ctx)
			if err != nil {
				return
			}
			worker.Send(ctx, []byte(string(req[0])+", world"))
		}
	}()

	client, err := zctx.NewSocket(azmq.REQ)
	if err != nil {
		log.Fatal(err)
	}
	if err := client.Connect("inproc://clients"); err != nil {
		log.Fatal(err)
	}
	for _, greeting := range []string{"hello", "bonjour"} {
		if err := client.Send(ctx, []byte(greeting)); err != nil {
			log.Fatal(err)
		}
		reply, err := client.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", reply[0])
	}

	stopProxy()
	err = <-proxied
	fmt.Println("proxy stopped:", errors.Is(err, context.Canceled))
	// Output:
	// hello, world
	// bonjour, world
	// proxy stopped: true
}
