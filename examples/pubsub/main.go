// Command pubsub shows publish-subscribe: one PUB socket sends messages on
// three topics and two SUB sockets each receive only the topic they
// subscribed to. The subscription filters by prefix of the first frame.
//
// A subscriber that connects late misses what was published before its
// subscription arrived (the "slow joiner"), so the publisher here keeps
// publishing until each subscriber has what it wants, or the deadline.
package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"strconv"
	"time"

	"github.com/azmq/azmq"
)

// want is how many messages each subscriber waits for.
const want = 5

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx); err != nil {
		log.SetFlags(0)
		log.Print("pubsub: ", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	zctx := azmq.NewContext()
	defer zctx.Close()

	pub, err := zctx.NewSocket(azmq.PUB)
	if err != nil {
		return err
	}
	defer pub.Close()
	if err := pub.Bind("tcp://127.0.0.1:*"); err != nil {
		return err
	}
	endpoint := pub.LastEndpoint()

	// Each subscriber runs in its own goroutine and reports when it has
	// received want messages of its topic.
	subCtx, stopSubs := context.WithCancel(ctx)
	defer stopSubs()
	topics := []string{"weather.", "sports."}
	results := make(chan error, len(topics))
	for _, topic := range topics {
		sub, err := zctx.NewSocket(azmq.SUB)
		if err != nil {
			return err
		}
		defer sub.Close()
		if err := sub.Subscribe([]byte(topic)); err != nil {
			return err
		}
		if err := sub.Connect(endpoint); err != nil {
			return err
		}
		go func() { results <- subscribe(subCtx, sub, topic) }()
	}

	// Publish on all three topics, "news." included, which nobody wants,
	// until both subscribers are done.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	pending := len(topics)
	for i := 0; pending > 0; i++ {
		select {
		case err := <-results:
			if err != nil {
				return err
			}
			pending--
			continue
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("subscribers still waiting: %w", ctx.Err())
		}
		for _, topic := range []string{"weather.", "sports.", "news."} {
			// PUB never blocks: with no subscriber the message is dropped.
			if err := pub.Send(ctx, []byte(topic+"update"), []byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
	}
	return nil
}

// subscribe receives want messages and checks each matches the prefix.
func subscribe(ctx context.Context, sub *azmq.Socket, prefix string) error {
	for n := 1; n <= want; n++ {
		msg, err := sub.Recv(ctx)
		if err != nil {
			return fmt.Errorf("SUB %q: %w", prefix, err)
		}
		if !bytes.HasPrefix(msg[0], []byte(prefix)) {
			return fmt.Errorf("SUB %q received %q: the filter let it through", prefix, msg[0])
		}
		fmt.Printf("SUB %-9q got %s #%s\n", prefix, msg[0], msg[1])
	}
	return nil
}
