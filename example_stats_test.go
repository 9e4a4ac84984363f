package azmq_test

import (
	"context"
	"expvar"
	"fmt"
	"log"

	"github.com/azmq/azmq"
)

// Stats are cheap enough to leave on: here they are published with expvar,
// which serves them as JSON at /debug/vars on the program's http server
// (alongside any metrics system's exporter reading the same struct).
func ExampleSocket_Stats() {
	zctx := azmq.NewContext()
	defer zctx.Close()
	pull, err := zctx.NewSocket(azmq.PULL)
	if err != nil {
		log.Fatal(err)
	}
	push, err := zctx.NewSocket(azmq.PUSH)
	if err != nil {
		log.Fatal(err)
	}
	if err := pull.Bind("inproc://stats"); err != nil {
		log.Fatal(err)
	}
	if err := push.Connect("inproc://stats"); err != nil {
		log.Fatal(err)
	}
	expvar.Publish("azmq.pull", expvar.Func(func() any { return pull.Stats() }))

	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := push.Send(ctx, []byte("hello")); err != nil {
			log.Fatal(err)
		}
		if _, err := pull.Recv(ctx); err != nil {
			log.Fatal(err)
		}
	}
	st := pull.Stats()
	fmt.Printf("received %d messages, %d bytes; dropped %d\n", st.MsgsIn, st.BytesIn, st.Dropped)
	fmt.Println(expvar.Get("azmq.pull"))
	// Output:
	// received 3 messages, 15 bytes; dropped 0
	// {"MsgsOut":0,"BytesOut":0,"MsgsIn":3,"BytesIn":15,"Dropped":0,"Accepted":0,"Connected":0,"Reconnects":0,"Handshakes":0,"HandshakeFailures":0,"Disconnects":0}
}
