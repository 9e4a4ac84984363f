package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestConnsModes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The server binds any free port and prints it on stderr.
	srvOut, srvErr := &lockedBuf{}, &lockedBuf{}
	done := make(chan error, 1)
	go func() { done <- connsServer(ctx, "tcp://127.0.0.1:*", 50, srvOut, srvErr) }()
	var ep string
	for ep == "" {
		if ctx.Err() != nil {
			t.Fatal("server never bound")
		}
		if s := srvErr.String(); strings.HasPrefix(s, "endpoint=") {
			ep = strings.TrimSpace(strings.TrimPrefix(s, "endpoint="))
		}
		time.Sleep(5 * time.Millisecond)
	}
	var cliOut bytes.Buffer
	if err := connsClient(ctx, ep, 50, &cliOut); err != nil {
		t.Fatalf("client: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
	for _, out := range []string{cliOut.String(), srvOut.String()} {
		if !strings.Contains(out, "conns=50 ") || !strings.Contains(out, "goroutines_per_conn=") {
			t.Fatalf("stats line %q", out)
		}
	}
}
