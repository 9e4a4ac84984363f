// Command hello is ZeroMQ's first example: a REQ socket sends "hello" and a
// REP socket answers "world", both in this one process, over tcp.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/azmq/azmq"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx); err != nil {
		log.SetFlags(0)
		log.Print("hello: ", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	zctx := azmq.NewContext()
	defer zctx.Close()

	rep, err := zctx.NewSocket(azmq.REP)
	if err != nil {
		return err
	}
	defer rep.Close()
	// Port * picks any free port; LastEndpoint tells which one.
	if err := rep.Bind("tcp://127.0.0.1:*"); err != nil {
		return err
	}
	endpoint := rep.LastEndpoint()
	fmt.Println("REP bound to", endpoint)

	req, err := zctx.NewSocket(azmq.REQ)
	if err != nil {
		return err
	}
	defer req.Close()
	if err := req.Connect(endpoint); err != nil {
		return err
	}

	// The server: receive one request, answer it.
	served := make(chan error, 1)
	go func() {
		msg, err := rep.Recv(ctx)
		if err != nil {
			served <- err
			return
		}
		fmt.Printf("REP received %q\n", msg[0])
		served <- rep.Send(ctx, []byte("world"))
	}()

	// The client: send a request, wait for the reply.
	if err := req.Send(ctx, []byte("hello")); err != nil {
		return err
	}
	reply, err := req.Recv(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("REQ received %q\n", reply[0])
	return <-served
}
