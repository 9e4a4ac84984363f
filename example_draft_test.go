package azmq_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/azmq/azmq"
)

// A SERVER answers each CLIENT by the routing id its message came with.
func Example_clientServer() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	server, err := zctx.NewSocket(azmq.SERVER)
	if err != nil {
		log.Fatal(err)
	}
	if err := server.Bind("tcp://127.0.0.1:*"); err != nil {
		log.Fatal(err)
	}
	client, err := zctx.NewSocket(azmq.CLIENT)
	if err != nil {
		log.Fatal(err)
	}
	if err := client.Connect(server.LastEndpoint()); err != nil {
		log.Fatal(err)
	}

	if err := client.Send(ctx, []byte("ping")); err != nil {
		log.Fatal(err)
	}
	req, err := server.RecvMsg(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := server.SendTo(ctx, req.RoutingID, []byte("pong")); err != nil {
		log.Fatal(err)
	}
	rep, err := client.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("server got %s, client got %s\n", req.Frames[0], rep[0])
	// Output: server got ping, client got pong
}

// A RADIO sends to groups; a DISH receives the groups it joined.
func Example_radioDish() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	radio, err := zctx.NewSocket(azmq.RADIO)
	if err != nil {
		log.Fatal(err)
	}
	if err := radio.Bind("inproc://news"); err != nil {
		log.Fatal(err)
	}
	dish, err := zctx.NewSocket(azmq.DISH)
	if err != nil {
		log.Fatal(err)
	}
	if err := dish.Join("weather"); err != nil {
		log.Fatal(err)
	}
	if err := dish.Connect("inproc://news"); err != nil {
		log.Fatal(err)
	}

	// Over inproc the JOIN is there at once; over tcp a RADIO drops what
	// it sends before the DISH's JOIN has arrived, as PUB does.
	radio.SendGroup(ctx, "sport", []byte("2-1"))
	radio.SendGroup(ctx, "weather", []byte("sunny"))
	m, err := dish.RecvMsg(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s\n", m.Group, m.Frames[0])
	// Output: weather: sunny
}

// A SCATTER deals its messages out round-robin; each GATHER fair-queues
// what it gets.
func Example_scatterGather() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	scatter, err := zctx.NewSocket(azmq.SCATTER)
	if err != nil {
		log.Fatal(err)
	}
	if err := scatter.Bind("inproc://work"); err != nil {
		log.Fatal(err)
	}
	var gathers []*azmq.Socket
	for range 2 {
		g, err := zctx.NewSocket(azmq.GATHER)
		if err != nil {
			log.Fatal(err)
		}
		if err := g.Connect("inproc://work"); err != nil {
			log.Fatal(err)
		}
		gathers = append(gathers, g)
	}
	for _, task := range []string{"a", "b", "c", "d"} {
		if err := scatter.Send(ctx, []byte(task)); err != nil {
			log.Fatal(err)
		}
	}
	for i, g := range gathers {
		for range 2 {
			m, err := g.Recv(ctx)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("gather %d: %s\n", i, m[0])
		}
	}
	// Output:
	// gather 0: a
	// gather 0: c
	// gather 1: b
	// gather 1: d
}

// PEERs address each other by routing id: ConnectPeer returns the id of
// the connection it makes, and a message received tells its sender's.
func Example_peer() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	alice, err := zctx.NewSocket(azmq.PEER)
	if err != nil {
		log.Fatal(err)
	}
	if err := alice.Bind("tcp://127.0.0.1:*"); err != nil {
		log.Fatal(err)
	}
	bob, err := zctx.NewSocket(azmq.PEER)
	if err != nil {
		log.Fatal(err)
	}
	toAlice, err := bob.ConnectPeer(alice.LastEndpoint())
	if err != nil {
		log.Fatal(err)
	}
	if err := bob.SendTo(ctx, toAlice, []byte("hi alice")); err != nil {
		log.Fatal(err)
	}
	m, err := alice.RecvMsg(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := alice.SendTo(ctx, m.RoutingID, []byte("hi bob")); err != nil {
		log.Fatal(err)
	}
	r, err := bob.RecvMsg(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("alice got %q; bob got %q from the id ConnectPeer gave: %v\n", m.Frames[0], r.Frames[0], r.RoutingID == toAlice)
	// Output: alice got "hi alice"; bob got "hi bob" from the id ConnectPeer gave: true
}

// A CHANNEL is a PAIR whose messages are one frame.
func Example_channel() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	a, err := zctx.NewSocket(azmq.CHANNEL)
	if err != nil {
		log.Fatal(err)
	}
	if err := a.Bind("inproc://chan"); err != nil {
		log.Fatal(err)
	}
	b, err := zctx.NewSocket(azmq.CHANNEL)
	if err != nil {
		log.Fatal(err)
	}
	if err := b.Connect("inproc://chan"); err != nil {
		log.Fatal(err)
	}
	if err := b.Send(ctx, []byte("one"), []byte("two")); err != nil {
		fmt.Println("multipart:", err)
	}
	if err := b.Send(ctx, []byte("one")); err != nil {
		log.Fatal(err)
	}
	m, err := a.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", m[0])
	// Output:
	// multipart: azmq: this socket type sends single-frame messages only
	// one
}
