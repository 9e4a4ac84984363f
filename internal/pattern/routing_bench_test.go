package pattern

import (
	"context"
	"testing"
)

// The request-reply hot paths with no routing option set: the options
// must not make them slower.

func BenchmarkReqRep(b *testing.B) {
	req, rep := newSock(b, REQ, Options{}), newSock(b, REP, Options{})
	connect(b, req, rep, REQ, REP, 1000)
	ctx := context.Background()
	m := msg("0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		if err := req.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
		got, _, err := rep.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := rep.Send(ctx, got); err != nil {
			b.Fatal(err)
		}
		if _, _, err := req.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDealerRouter(b *testing.B) {
	dealer, router := newSock(b, DEALER, Options{}), newSock(b, ROUTER, Options{})
	connect(b, dealer, router, DEALER, ROUTER, 1000)
	ctx := context.Background()
	m := msg("0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		if err := dealer.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
		got, _, err := router.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := router.Send(ctx, got); err != nil {
			b.Fatal(err)
		}
		if _, _, err := dealer.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
