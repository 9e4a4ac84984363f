package azmq_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/azmq/azmq"
)

// One port serves a web page at "/" and a REP socket at "/zmq": the
// socket is an http.Handler (ZeroMQ over WebSocket, ZWS 2.0).
func ExampleSocket_ServeHTTP() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	rep, err := zctx.NewSocket(azmq.REP)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the web page")
	})
	mux.Handle("/zmq", rep)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	defer rep.Close() // its connections left the server at the upgrade

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		log.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("GET / = %s\n", page)

	req, err := zctx.NewSocket(azmq.REQ)
	if err != nil {
		log.Fatal(err)
	}
	defer req.Close()
	if err := req.Connect("ws://" + ln.Addr().String() + "/zmq"); err != nil {
		log.Fatal(err)
	}
	if err := req.Send(ctx, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	msg, err := rep.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("REP got %s\n", msg[0])
	if err := rep.Send(ctx, []byte("world")); err != nil {
		log.Fatal(err)
	}
	if msg, err = req.Recv(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("REQ got %s\n", msg[0])
	// Output:
	// GET / = hello from the web page
	// REP got hello
	// REQ got world
}
