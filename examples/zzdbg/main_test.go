package zzdbg

import (
	"context"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

func TestClose(t *testing.T) {
	for _, tr := range []string{"tcp://127.0.0.1:*", "inproc://x", "ipc:///tmp/dbg.sock"} {
		ctx := context.Background()
		zctx := azmq.NewContext()
		rep, _ := zctx.NewSocket(azmq.REP)
		if err := rep.Bind(tr); err != nil {
			t.Fatal(err)
		}
		req, _ := zctx.NewSocket(azmq.REQ)
		req.Connect(rep.LastEndpoint())
		req.Send(ctx, []byte("hello"))
		rep.Recv(ctx)
		rep.Send(ctx, []byte("world"))
		req.Recv(ctx)
		t0 := time.Now()
		req.Close()
		t.Log(tr, "req close", time.Since(t0))
		t0 = time.Now()
		rep.Close()
		t.Log(tr, "rep close", time.Since(t0))
		t0 = time.Now()
		zctx.Close()
		t.Log(tr, "ctx close", time.Since(t0))
	}
}
