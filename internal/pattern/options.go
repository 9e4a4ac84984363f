package pattern

// PubSubOptions are the options of PUB, SUB, XPUB and XSUB, and CONFLATE
// (Options). The zero value is libzmq's default for each.
type PubSubOptions struct {
	// VerboseSubs makes XPUB hand the application every subscription,
	// not only the first to a topic (ZMQ_XPUB_VERBOSE).
	VerboseSubs bool
	// VerboseUnsubs also hands it every cancel, and, when a subscriber
	// goes, a cancel for each of its topics (ZMQ_XPUB_VERBOSER).
	VerboseUnsubs bool
	// Manual leaves XPUB's subscriptions to the application, which
	// applies them with Subscribe/Unsubscribe to the subscriber whose
	// (un)subscription it last received (ZMQ_XPUB_MANUAL).
	Manual bool
	// LastValue, with Manual, sends the first message after such a
	// Subscribe only to that subscriber (ZMQ_XPUB_MANUAL_LAST_VALUE).
	LastValue bool
	// NoDrop makes PUB/XPUB's Send wait while a matching subscriber's
	// queue is full, instead of dropping for it (ZMQ_XPUB_NODROP).
	NoDrop bool
	// Welcome, when not nil, is sent to each new subscriber as it
	// attaches (ZMQ_XPUB_WELCOME_MSG).
	Welcome []byte
	// Invert makes PUB/XPUB send to the subscribers that do not match,
	// and SUB keep the messages that match none of its topics
	// (ZMQ_INVERT_MATCHING).
	Invert bool
	// Conflate keeps only the last message in each queue that carries
	// data (ZMQ_CONFLATE).
	Conflate bool
}

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
