package pattern

// PubSubOptions are the options of PUB, SUB, XPUB and XSUB (Options).
type PubSubOptions struct{}

// RoutingOptions are the options of ROUTER, DEALER and REQ (Options).
type RoutingOptions struct{}
