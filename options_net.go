package azmq

import "github.com/azmq/azmq/internal/transport"

// netConfig holds the options of tcp connections: keepalive, buffers,
// addresses, proxies.
type netConfig struct{}

// apply sets what the transports take of it.
func (c *netConfig) apply(o *transport.Options) {}
