// The benchmark peers of `make bench-compare`: programs that measure other
// ZeroMQ implementations with the same command line as `azmq bench MODE`,
// and the runner that compares them. A module of its own, so that the
// libraries measured here never enter azmq's go.mod (see README.md).
module github.com/azmq/azmq/bench/peers

go 1.26.0

require (
	// go-zeromq/zmq4: the other pure-Go implementation, measured by ./gozeromq.
	github.com/go-zeromq/zmq4 v0.17.0
	// pebbe/zmq4: the cgo bindings to libzmq, measured by ./pebbe.
	github.com/pebbe/zmq4 v1.4.0
)

require (
	github.com/go-zeromq/goczmq/v4 v4.2.2 // indirect
	golang.org/x/sync v0.7.0 // indirect
	golang.org/x/text v0.15.0 // indirect
)
