package azmq_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strconv"
	"strings"
	"time"

	"github.com/azmq/azmq"
)

// A request and its reply, between two sockets of one process.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	rep, err := zctx.NewSocket(azmq.REP)
	if err != nil {
		log.Fatal(err)
	}
	if err := rep.Bind("inproc://hello"); err != nil {
		log.Fatal(err)
	}
	req, err := zctx.NewSocket(azmq.REQ)
	if err != nil {
		log.Fatal(err)
	}
	if err := req.Connect("inproc://hello"); err != nil {
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
	msg, err = req.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("REQ got %s\n", msg[0])
	// Output:
	// REP got hello
	// REQ got world
}

// A SUB receives only the messages whose first frame starts with one of
// its subscriptions. Subscriptions travel to the publisher, and until one
// has arrived the publisher drops what it sends: this example publishes
// in a loop until the subscriber has what it waits for.
func ExampleSocket_Subscribe() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	pub, err := zctx.NewSocket(azmq.PUB)
	if err != nil {
		log.Fatal(err)
	}
	if err := pub.Bind("inproc://news"); err != nil {
		log.Fatal(err)
	}
	sub, err := zctx.NewSocket(azmq.SUB)
	if err != nil {
		log.Fatal(err)
	}
	if err := sub.Subscribe([]byte("sport")); err != nil {
		log.Fatal(err)
	}
	if err := sub.Connect("inproc://news"); err != nil {
		log.Fatal(err)
	}

	// The publisher: two topics, again and again, until the subscriber is
	// done. PUB never blocks; it drops what no subscriber wants.
	pubCtx, stop := context.WithCancel(ctx)
	published := make(chan struct{})
	go func() {
		defer close(published)
		for pubCtx.Err() == nil {
			if err := pub.Send(pubCtx, []byte("weather"), []byte("sunny")); err != nil {
				return
			}
			if err := pub.Send(pubCtx, []byte("sport"), []byte("3-1")); err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()

	for range 3 {
		msg, err := sub.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s\n", msg[0], msg[1])
	}
	stop()
	<-published
	// Output:
	// sport: 3-1
	// sport: 3-1
	// sport: 3-1
}

// A pipeline: a PUSH spreads tasks over the PULL sockets connected to it;
// here one worker squares numbers and a sink collects the results.
func Example_pipeline() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	ventilator, err := zctx.NewSocket(azmq.PUSH)
	if err != nil {
		log.Fatal(err)
	}
	if err := ventilator.Bind("inproc://tasks"); err != nil {
		log.Fatal(err)
	}
	sink, err := zctx.NewSocket(azmq.PULL)
	if err != nil {
		log.Fatal(err)
	}
	if err := sink.Bind("inproc://results"); err != nil {
		log.Fatal(err)
	}

	// The worker; it stops when zctx.Close closes its sockets.
	in, err := zctx.NewSocket(azmq.PULL)
	if err != nil {
		log.Fatal(err)
	}
	if err := in.Connect("inproc://tasks"); err != nil {
		log.Fatal(err)
	}
	out, err := zctx.NewSocket(azmq.PUSH)
	if err != nil {
		log.Fatal(err)
	}
	if err := out.Connect("inproc://results"); err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			msg, err := in.Recv(ctx)
			if err != nil {
				return
			}
			n, err := strconv.Atoi(string(msg[0]))
			if err != nil {
				log.Fatal(err)
			}
			if err := out.Send(ctx, fmt.Appendf(nil, "%d squared is %d", n, n*n)); err != nil {
				return
			}
		}
	}()

	for n := 1; n <= 3; n++ {
		if err := ventilator.Send(ctx, fmt.Append(nil, n)); err != nil {
			log.Fatal(err)
		}
	}
	for range 3 {
		msg, err := sink.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(msg[0]))
	}
	// Output:
	// 1 squared is 1
	// 2 squared is 4
	// 3 squared is 9
}

// A ROUTER receives each message with the sender's routing id as its
// first frame, and sends a message to the peer named by its first frame.
func Example_routerDealer() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	router, err := zctx.NewSocket(azmq.ROUTER)
	if err != nil {
		log.Fatal(err)
	}
	if err := router.Bind("inproc://router"); err != nil {
		log.Fatal(err)
	}
	dealer, err := zctx.NewSocket(azmq.DEALER, azmq.WithRoutingID([]byte("alice")))
	if err != nil {
		log.Fatal(err)
	}
	if err := dealer.Connect("inproc://router"); err != nil {
		log.Fatal(err)
	}

	if err := dealer.Send(ctx, []byte("ping")); err != nil {
		log.Fatal(err)
	}
	msg, err := router.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ROUTER got %q from %q\n", msg[1], msg[0])

	if err := router.Send(ctx, []byte("alice"), []byte("pong")); err != nil {
		log.Fatal(err)
	}
	msg, err = dealer.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("DEALER got %q\n", msg[0])
	// Output:
	// ROUTER got "ping" from "alice"
	// DEALER got "pong"
}

// PAIR connects exactly two sockets; either side sends whenever it likes.
func Example_pair() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	a, err := zctx.NewSocket(azmq.PAIR)
	if err != nil {
		log.Fatal(err)
	}
	if err := a.Bind("inproc://pair"); err != nil {
		log.Fatal(err)
	}
	b, err := zctx.NewSocket(azmq.PAIR)
	if err != nil {
		log.Fatal(err)
	}
	if err := b.Connect("inproc://pair"); err != nil {
		log.Fatal(err)
	}

	for _, word := range []string{"one", "two"} {
		if err := b.Send(ctx, []byte(word)); err != nil {
			log.Fatal(err)
		}
	}
	if err := a.Send(ctx, []byte("three"), []byte("frames"), []byte("together")); err != nil {
		log.Fatal(err)
	}
	for range 2 {
		msg, err := a.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("a got", string(msg[0]))
	}
	msg, err := b.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("b got %d frames: %s\n", len(msg), strings.Join(frames(msg), " "))
	// Output:
	// a got one
	// a got two
	// b got 3 frames: three frames together
}

func frames(msg [][]byte) []string {
	s := make([]string, len(msg))
	for i, f := range msg {
		s[i] = string(f)
	}
	return s
}

// Send blocks where the pattern says so: a PUSH with no peer has nowhere
// to put a message. The context ends the wait, and then nothing was sent.
func ExampleSocket_Send_cancel() {
	push, err := azmq.NewSocket(azmq.PUSH, azmq.WithLinger(0))
	if err != nil {
		log.Fatal(err)
	}
	defer push.Close()
	if err := push.Bind("inproc://nobody-connects"); err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = push.Send(ctx, []byte("anyone?"))
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// true
}

// Send copies the message, so one buffer can be filled and sent over and
// over; SendNoCopy hands a buffer over and it must not be touched again,
// which saves the copy of a large message.
func ExampleSocket_SendNoCopy() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	pull, err := zctx.NewSocket(azmq.PULL)
	if err != nil {
		log.Fatal(err)
	}
	if err := pull.Bind("inproc://nocopy"); err != nil {
		log.Fatal(err)
	}
	push, err := zctx.NewSocket(azmq.PUSH)
	if err != nil {
		log.Fatal(err)
	}
	if err := push.Connect("inproc://nocopy"); err != nil {
		log.Fatal(err)
	}

	// One buffer, refilled for every message: Send.
	buf := make([]byte, 5)
	for _, word := range []string{"alpha", "bravo"} {
		copy(buf, word)
		if err := push.Send(ctx, buf); err != nil {
			log.Fatal(err)
		}
	}
	// A buffer made for one message and given away: SendNoCopy.
	report := make([]byte, 1<<20)
	copy(report, "a large report")
	if err := push.SendNoCopy(ctx, report); err != nil {
		log.Fatal(err)
	}
	// From here on report is the receiver's: this side must not touch it.

	for range 3 {
		msg, err := pull.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%.14s\n", msg[0])
	}
	// Output:
	// alpha
	// bravo
	// a large report
}
