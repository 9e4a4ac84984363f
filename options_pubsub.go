package azmq

import "github.com/azmq/azmq/internal/pattern"

// pubsubConfig holds the options of PUB, SUB, XPUB and XSUB, and CONFLATE.
type pubsubConfig struct{}

// pattern is what the publish-subscribe patterns take of it.
func (c *pubsubConfig) pattern() pattern.PubSubOptions { return pattern.PubSubOptions{} }
