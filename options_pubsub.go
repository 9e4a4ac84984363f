package azmq

import (
	"bytes"

	"github.com/azmq/azmq/internal/pattern"
)

// pubsubConfig holds the options of PUB, SUB, XPUB and XSUB, and CONFLATE.
type pubsubConfig struct {
	ps pattern.PubSubOptions
}

// pattern is what the publish-subscribe patterns take of it.
func (c *pubsubConfig) pattern() pattern.PubSubOptions { return c.ps }

// WithXPubVerbose(true) makes an XPUB's Recv return every subscription
// its subscribers send (01 + topic), not only the first one to each topic;
// cancels still come only when the last subscriber of a topic leaves it.
// Default false. libzmq's ZMQ_XPUB_VERBOSE; like it, it turns
// WithXPubVerboser off. XPUB only.
func WithXPubVerbose(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithXPubVerbose", XPUB)
		c.ps.VerboseSubs, c.ps.VerboseUnsubs = on, false
		return nil
	}
}

// WithXPubVerboser(true) is WithXPubVerbose(true) for cancels as well:
// Recv returns every subscription and every cancel (00 + topic), and when a
// subscriber goes, a cancel for each of its topics, whoever else holds
// them. Default false. libzmq's ZMQ_XPUB_VERBOSER. XPUB only.
func WithXPubVerboser(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithXPubVerboser", XPUB)
		c.ps.VerboseSubs, c.ps.VerboseUnsubs = on, on
		return nil
	}
}

// WithXPubManual(true) leaves an XPUB's subscriptions to the application:
// what subscribers send is not applied; Recv returns every subscription
// and cancel, and Subscribe and Unsubscribe on the XPUB apply a topic to
// the subscriber whose (un)subscription Recv returned last (they do nothing
// when there is none, or it has left). When a subscriber leaves, Recv
// returns a cancel for each topic it had asked for. Topics a subscriber
// asks for count toward WithMaxSubscriptionBytes. Default false. libzmq's
// ZMQ_XPUB_MANUAL. XPUB only.
func WithXPubManual(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithXPubManual", XPUB)
		c.ps.Manual = on
		if !on {
			c.ps.LastValue = false
		}
		return nil
	}
}

// WithXPubManualLastValue(true) is WithXPubManual(true), and once Recv has
// returned a subscription, the next message sent goes to that subscriber
// only (if it is for it), say the last value of the topic it asked for;
// messages after that go to every matching subscriber again. Default
// false. libzmq's ZMQ_XPUB_MANUAL_LAST_VALUE (a draft option there).
// XPUB only.
func WithXPubManualLastValue(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithXPubManualLastValue", XPUB)
		c.ps.Manual, c.ps.LastValue = on, on
		return nil
	}
}

// WithXPubNoDrop(true) makes Send wait while any subscriber the message is
// for has a full queue (WithSendHWM) instead of dropping the message for
// it; the message then goes to all of them at once. ctx ends the wait, and
// then nothing was sent; an already-ended ctx makes a Send that does not
// wait and fails with ctx's error at the mark. A subscriber that does not
// read thus holds up the others. Default false. libzmq's ZMQ_XPUB_NODROP.
// PUB and XPUB.
func WithXPubNoDrop(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithXPubNoDrop", PUB, XPUB)
		c.ps.NoDrop = on
		return nil
	}
}

// WithXPubWelcomeMsg makes a PUB or XPUB send msg, a single frame, to each
// subscriber as it attaches: a connection accepted gets it first; a
// Connect queues it with the queue it makes, and each reconnection gets it
// again, for a restarted subscriber is a new one (libzmq sends it on a
// Connect's first connection only). A subscriber receives it only if it
// subscribes to a prefix of it.
// An empty msg sends none (the default). libzmq's ZMQ_XPUB_WELCOME_MSG.
// PUB and XPUB.
func WithXPubWelcomeMsg(msg []byte) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithXPubWelcomeMsg", PUB, XPUB)
		c.ps.Welcome = nil
		if len(msg) > 0 {
			c.ps.Welcome = bytes.Clone(msg)
		}
		return nil
	}
}

// WithInvertMatching(true) inverts topic matching: a PUB or XPUB sends each
// message to the subscribers none of whose topics prefix it (a subscriber
// with no topic gets everything), and a SUB keeps the messages that match
// none of its topics. Its SUBs must set it too, or they keep nothing of
// what such a PUB sends them. Default false. libzmq's ZMQ_INVERT_MATCHING.
// PUB, XPUB and SUB.
func WithInvertMatching(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithInvertMatching", PUB, XPUB, SUB)
		c.ps.Invert = on
		return nil
	}
}

// WithConflate(true) keeps only the newest message in each queue that
// carries messages: a new one replaces the one waiting, so the reader gets
// the last value, and Send never waits for room (it still waits, on PUSH
// and DEALER, while there is no peer). The high-water marks are then 1.
// The queues that carry subscriptions (from a SUB to its PUBs) are left
// whole. A message is kept or replaced whole, whatever its frames: unlike
// libzmq, which does not support multipart messages with it, azmq keeps
// the last complete message. Default false. libzmq's ZMQ_CONFLATE. PUSH,
// PULL, PUB, SUB and DEALER, the types libzmq applies it to.
func WithConflate(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithConflate", PUSH, PULL, PUB, SUB, DEALER)
		c.ps.Conflate = on
		return nil
	}
}
