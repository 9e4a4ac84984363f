module github.com/azmq/azmq

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	go.uber.org/goleak v1.3.0
	golang.org/x/crypto v0.59.0
)

require golang.org/x/sys v0.50.0
