package pattern

// PubSubOptions are the options of PUB, SUB, XPUB and XSUB (Options).
type PubSubOptions struct{}

// RoutingOptions are the options of ROUTER, DEALER and REQ (Options).
// The zero value is libzmq's default for each.
type RoutingOptions struct {
	// Handover lets a ROUTER's new connection that announces a routing id
	// in use take it over; the old connection is dropped
	// (ZMQ_ROUTER_HANDOVER). Without it the newcomer is ignored.
	Handover bool
	// Probe makes ROUTER, DEALER and REQ send an empty message on each new
	// connection (ZMQ_PROBE_ROUTER).
	Probe bool
	// Notify is a ROUTER's ZMQ_ROUTER_NOTIFY: a mask of NotifyConnect
	// and NotifyDisconnect.
	Notify int
	// Correlate makes a REQ put a request id frame in front of each
	// request and drop replies that do not carry it (ZMQ_REQ_CORRELATE).
	Correlate bool
	// Relaxed lets a REQ send a new request before the reply to the last
	// one came; that reply is then dropped (ZMQ_REQ_RELAXED).
	Relaxed bool
}

// The bits of RoutingOptions.Notify (libzmq's ZMQ_NOTIFY_CONNECT and
// ZMQ_NOTIFY_DISCONNECT): the ROUTER receives [routing id, ""] when a
// connection is made or ends.
const (
	NotifyConnect    = 1
	NotifyDisconnect = 2
)
