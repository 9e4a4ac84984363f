package azmq_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/azmq/azmq"
)

// A STREAM socket serves HTTP to Go's own client, which knows nothing of
// ZeroMQ. The socket sees each connection as a routing id: it receives the
// request's bytes as they come, sends the response's, and closes the
// connection with an empty frame.
func Example_stream() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	srv, err := zctx.NewSocket(azmq.STREAM)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Bind("tcp://127.0.0.1:*"); err != nil {
		log.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		requests := map[string][]byte{} // what each connection sent so far
		for {
			msg, err := srv.Recv(ctx)
			if err != nil {
				return // the socket is closed
			}
			id, data := msg[0], msg[1]
			if len(data) == 0 {
				// A connection came or went.
				delete(requests, string(id))
				continue
			}
			req := append(requests[string(id)], data...)
			if !bytes.Contains(req, []byte("\r\n\r\n")) {
				requests[string(id)] = req // the headers are not all here yet
				continue
			}
			delete(requests, string(id))
			body := "hello from azmq\n"
			resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			if err := srv.Send(ctx, id, []byte(resp)); err != nil {
				log.Print(err)
			}
			// Close it, unless the client read the page and closed first.
			if err := srv.Send(ctx, id, nil); err != nil && !errors.Is(err, azmq.ErrHostUnreachable) {
				log.Print(err)
			}
		}
	}()

	tr := &http.Transport{DisableKeepAlives: true}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + strings.TrimPrefix(srv.LastEndpoint(), "tcp://") + "/")
	if err != nil {
		log.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	fmt.Print(string(body))

	tr.CloseIdleConnections()
	srv.Close()
	<-served
	// Output:
	// 200 OK
	// hello from azmq
}
