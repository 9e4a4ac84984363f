package azmq_test

import (
	"context"
	"fmt"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/zap"
)

// CURVE encrypts and authenticates: the client must know the server's
// public key, and the server's ZAP handler decides which client keys to
// admit.
func ExampleWithCurveServer() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()

	serverPub, serverSec, _ := azmq.NewCurveKeyPair()
	clientPub, clientSec, _ := azmq.NewCurveKeyPair()

	h := zap.NewHandler()
	h.AllowCurveKey(clientPub)
	wait, err := h.Start(ctx, zctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { cancel(); wait() }()

	rep, _ := zctx.NewSocket(azmq.REP, azmq.WithCurveServer(serverSec))
	rep.Bind("tcp://127.0.0.1:*")
	req, _ := zctx.NewSocket(azmq.REQ, azmq.WithCurveClient(serverPub, clientPub, clientSec))
	req.Connect(rep.LastEndpoint())

	req.Send(ctx, []byte("secret hello"))
	msg, err := rep.RecvMsg(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	user, _ := msg.Property("User-Id")
	fmt.Printf("%s from the client whose key is %v\n", msg.Frames[0], user == clientPub)
	// Output: secret hello from the client whose key is true
}
