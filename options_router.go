package azmq

import "github.com/azmq/azmq/internal/pattern"

// routerConfig holds the options of ROUTER, DEALER and REQ beyond
// WithRouterMandatory.
type routerConfig struct{}

// pattern is what the request-reply patterns take of it.
func (c *routerConfig) pattern() pattern.RoutingOptions { return pattern.RoutingOptions{} }
