package zap_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/cert"
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

// A decision of one's own: here a stand-in for a database query, which
// may be slow, so it gives up when ctx ends (the handler is stopping). A
// PLAIN server and client of the same Context show it at work.
func ExampleHandler_SetAuthFunc() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	accounts := map[string]string{"alice": "wonderland"} // the "database"
	lookup := func(ctx context.Context, user string) (string, error) {
		select {
		case <-time.After(10 * time.Millisecond): // the query's round trip
			return accounts[user], nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}

	h := zap.NewHandler()
	h.SetAuthFunc(func(ctx context.Context, r zap.Request) (zap.Decision, error) {
		if r.Mechanism != "PLAIN" {
			return zap.Decision{}, nil // refuse the others
		}
		want, err := lookup(ctx, r.Username)
		if err != nil {
			return zap.Decision{}, err // no decision: the client tries again later
		}
		// Real code keeps digests and compares them in constant time.
		ok := want != "" && want == r.Password
		return zap.Decision{Allow: ok, UserID: "user:" + r.Username}, nil
	})
	serveCtx, stop := context.WithCancel(ctx)
	wait, err := h.Start(serveCtx, zctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { stop(); wait() }()

	srv, err := zctx.NewSocket(azmq.REP, azmq.WithPlainServer(), azmq.WithLinger(0))
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Bind("tcp://127.0.0.1:*"); err != nil {
		log.Fatal(err)
	}
	cli, err := zctx.NewSocket(azmq.REQ, azmq.WithPlainClient("alice", "wonderland"), azmq.WithLinger(0))
	if err != nil {
		log.Fatal(err)
	}
	if err := cli.Connect(srv.LastEndpoint()); err != nil {
		log.Fatal(err)
	}
	if err := cli.Send(ctx, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	m, err := srv.RecvMsg(ctx)
	if err != nil {
		log.Fatal(err)
	}
	uid, _ := m.Property("User-Id")
	fmt.Printf("%s from %s\n", m.Frames[0], uid)
	// Output:
	// hello from user:alice
}

// A CURVE server that admits the clients whose public certificates are in
// a directory, as pyzmq's configure_curve(location=DIR) does; a
// certificate added later is admitted within zap.DirRecheck.
func ExampleHandler_AllowCurveDir() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dir, _ := os.MkdirTemp("", "clients")
	defer os.RemoveAll(dir)
	client, _ := cert.New()
	// The client keeps client.key_secret; the server's directory needs
	// only client.key.
	if err := client.SavePublic(filepath.Join(dir, "client.key")); err != nil {
		log.Fatal(err)
	}
	server, _ := cert.New()

	zctx := azmq.NewContext()
	defer zctx.Close()
	h := zap.NewHandler()
	if err := h.AllowCurveDir(dir); err != nil {
		log.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	wait, err := h.Start(serveCtx, zctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { stop(); wait() }()

	srv, err := zctx.NewSocket(azmq.PULL, azmq.WithCurveServer(server.SecretKey), azmq.WithLinger(0))
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Bind("tcp://127.0.0.1:*"); err != nil {
		log.Fatal(err)
	}
	cli, err := zctx.NewSocket(azmq.PUSH,
		azmq.WithCurveClient(server.PublicKey, client.PublicKey, client.SecretKey), azmq.WithLinger(0))
	if err != nil {
		log.Fatal(err)
	}
	if err := cli.Connect(srv.LastEndpoint()); err != nil {
		log.Fatal(err)
	}
	if err := cli.Send(ctx, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	m, err := srv.RecvMsg(ctx)
	if err != nil {
		log.Fatal(err)
	}
	uid, _ := m.Property("User-Id")
	fmt.Println(string(m.Frames[0]), uid == client.PublicKey)
	// Output:
	// hello true
}

// Each ZAP domain may have rules of its own; the others follow the
// Handler's (global) rules.
func ExampleHandler_Domain() {
	h := zap.NewHandler()
	h.AddUser("admin", "secret") // every domain without a policy of its own

	ops := h.Domain("ops") // servers with azmq.WithZAPDomain("ops")
	ops.Allow("10.0.0.0/8")
	ops.AddUser("operator", "s3cret") // admin is not an ops user
	if err := ops.AllowCurveDir("/etc/myapp/ops-clients"); err != nil {
		log.Fatal(err) // names the file and line of a malformed certificate
	}
}
