package zap_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/zap"
)

// A handler with one PLAIN user, asked directly as a ZAP client (a PLAIN
// server socket of the same Context) would ask it.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	h := zap.NewHandler()
	h.AddUser("admin", "secret")
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Serve(serveCtx, zctx) }()

	client, err := zctx.NewSocket(azmq.DEALER)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.Connect(zap.Endpoint); err != nil {
		log.Fatal(err)
	}
	for _, password := range []string{"secret", "guess"} {
		err := client.Send(ctx, []byte{}, []byte("1.0"), []byte("1"), []byte("global"),
			[]byte("127.0.0.1"), []byte(""), []byte("PLAIN"), []byte("admin"), []byte(password))
		if err != nil {
			log.Fatal(err)
		}
		reply, err := client.Recv(ctx) // [delimiter, version, id, status, text, user, metadata]
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s %s user=%q\n", password, reply[3], reply[4], reply[5])
	}

	stop()
	fmt.Println(<-done)
	// Output:
	// secret: 200 OK user="admin"
	// guess: 400 invalid username or password user=""
	// context canceled
}
