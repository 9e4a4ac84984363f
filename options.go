package azmq

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/wire"
)

// Defaults of the socket options.
const (
	DefaultHWM              = 1000
	DefaultLinger           = 5 * time.Second
	DefaultReconnectIvl     = 100 * time.Millisecond
	DefaultHandshakeTimeout = 30 * time.Second
	// DefaultMaxSubscriptionBytes is WithMaxSubscriptionBytes's default:
	// room for about 100,000 topics of 32 bytes from one subscriber.
	DefaultMaxSubscriptionBytes = 32 << 20
)

// SocketOption configures a socket. Options are checked by NewSocket: a bad
// value is an error that names the option, never a panic.
type SocketOption func(*socketConfig) error

// ContextOption configures a Context.
type ContextOption func(*Context)

type socketConfig struct {
	sendHWM, recvHWM int
	linger           time.Duration
	routingID        []byte
	reconnectIvl     time.Duration
	reconnectIvlMax  time.Duration
	handshake        time.Duration
	hbInterval       time.Duration
	hbTimeout        time.Duration
	hbTTL            time.Duration
	maxMsgSize       int64
	immediate        bool
	routerMandatory  bool
	maxSubBytes      int64
	mech             security.Mechanism // nil: NULL
	mechOpt          string             // the option that set mech
	zapDomain        string
	zapEnforce       bool          // WithZAPEnforceDomain
	metadata         wire.Metadata // WithMetadata
	tlsConfig        *tls.Config   // wss

	// Each area's options keep their settings in a room of their own
	// (options_*.go).
	pubsubConfig
	routerConfig
	netConfig

	// only lists the options that apply to some types only, checked by
	// NewSocket against the socket's type.
	only []typeRestriction
}

// typeRestriction says which socket types an option applies to.
type typeRestriction struct {
	option string
	types  []SocketType
}

// onlyFor records that the option named applies to types only: NewSocket
// of another type fails, naming both, as libzmq's setsockopt refuses an
// option the socket's type does not have (EINVAL).
func (c *socketConfig) onlyFor(option string, types ...SocketType) {
	c.only = append(c.only, typeRestriction{option, types})
}

// checkTypes fails when an option given does not apply to t.
func (c *socketConfig) checkTypes(t SocketType) error {
	for _, r := range c.only {
		if !slices.Contains(r.types, t) {
			return fmt.Errorf("azmq: NewSocket(%s): %s applies to %s only: %w", t, r.option, typeList(r.types), ErrNotSupported)
		}
	}
	return nil
}

// typeList names types for an error: "PUB, XPUB or RADIO".
func typeList(ts []SocketType) string {
	var b strings.Builder
	for i, t := range ts {
		switch {
		case i == 0:
		case i == len(ts)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(t.String())
	}
	return b.String()
}

func defaultConfig() socketConfig {
	return socketConfig{
		sendHWM:      DefaultHWM,
		recvHWM:      DefaultHWM,
		linger:       DefaultLinger,
		reconnectIvl: DefaultReconnectIvl,
		handshake:    DefaultHandshakeTimeout,
		maxMsgSize:   -1,
		maxSubBytes:  DefaultMaxSubscriptionBytes,
	}
}

// WithSendHWM limits the messages queued for each peer (default 1000;
// 0 = unlimited). At the limit PUSH, DEALER, REQ and PAIR block Send; PUB,
// XPUB and ROUTER drop the message for that peer.
func WithSendHWM(n int) SocketOption {
	return func(c *socketConfig) error {
		if n < 0 {
			return fmt.Errorf("azmq: WithSendHWM(%d): must be >= 0", n)
		}
		c.sendHWM = n
		return nil
	}
}

// WithRecvHWM limits the messages queued from each peer before azmq stops
// reading its connection (default 1000; 0 = unlimited). What a peer can
// make a socket hold is up to n of its messages, each bounded by
// WithMaxMsgSize (and a PULL with one peer takes up to 64 more out of
// its queue ahead of Recv, as libzmq's pipes read ahead in batches).
func WithRecvHWM(n int) SocketOption {
	return func(c *socketConfig) error {
		if n < 0 {
			return fmt.Errorf("azmq: WithRecvHWM(%d): must be >= 0", n)
		}
		c.recvHWM = n
		return nil
	}
}

// WithLinger sets how long Close waits for pending outbound messages to be
// sent (default 5 s; 0 = discard them at once; -1 = wait forever). Unlike
// libzmq's default (forever), azmq's Close never hangs unless asked to.
func WithLinger(d time.Duration) SocketOption {
	return func(c *socketConfig) error {
		if d < 0 && d != -1 {
			return fmt.Errorf("azmq: WithLinger(%v): must be >= 0 or -1", d)
		}
		c.linger = d
		return nil
	}
}

// WithRoutingID sets the identity announced to peers (1 to 255 bytes): a
// ROUTER peer addresses this socket by it. Default: none (the ROUTER makes
// one up). An id may not start with a zero byte: ROUTERs make up their ids
// so (libzmq reserves them likewise), and one chosen so could collide.
func WithRoutingID(id []byte) SocketOption {
	return func(c *socketConfig) error {
		if len(id) == 0 || len(id) > 255 {
			return fmt.Errorf("azmq: WithRoutingID: length %d, must be 1..255 bytes", len(id))
		}
		if id[0] == 0 {
			return fmt.Errorf("azmq: WithRoutingID(% x): an id starting with a zero byte is reserved for ids a ROUTER makes up", id)
		}
		c.routingID = append([]byte(nil), id...)
		return nil
	}
}

// WithReconnectInterval sets the wait before reconnecting a lost or
// refused connection (default 100 ms). Each wait is spread at random over
// ±25% of it, so that the many clients of a restarted server do not all
// come back at once. After the peer refuses the handshake (an ERROR, a
// ZAP refusal, a wrong mechanism or socket type) the wait doubles after
// each refusal, up to 30 s, whatever WithReconnectIntervalMax says: a
// refused client does not hammer its server.
func WithReconnectInterval(d time.Duration) SocketOption {
	return func(c *socketConfig) error {
		if d <= 0 {
			return fmt.Errorf("azmq: WithReconnectInterval(%v): must be > 0", d)
		}
		c.reconnectIvl = d
		return nil
	}
}

// WithReconnectIntervalMax makes the reconnect wait double after each
// failed attempt, up to d (default 0: the wait stays constant, as libzmq).
func WithReconnectIntervalMax(d time.Duration) SocketOption {
	return func(c *socketConfig) error {
		if d < 0 {
			return fmt.Errorf("azmq: WithReconnectIntervalMax(%v): must be >= 0", d)
		}
		c.reconnectIvlMax = d
		return nil
	}
}

// WithHandshakeTimeout drops a connection whose ZMTP handshake has not
// completed in d (default 30 s; 0 = no limit). Until then a stranger's
// connection costs its buffers and goroutines (about 47 KiB), so a
// socket open to untrusted peers wants a few seconds, not 30.
func WithHandshakeTimeout(d time.Duration) SocketOption {
	return func(c *socketConfig) error {
		if d < 0 {
			return fmt.Errorf("azmq: WithHandshakeTimeout(%v): must be >= 0", d)
		}
		c.handshake = d
		return nil
	}
}

// WithHeartbeat sends a ZMTP PING every interval and drops the connection
// when nothing arrives within timeout of a PING (0 = interval); ttl asks the
// peer to drop us if it hears nothing from us for that long (0 = no ask;
// at most 6553.5 s). Default: off. Over ws and wss the heartbeat is a
// WebSocket ping instead, as libzmq's ws engine has it (it ignores ZMTP
// PINGs), and any pong or message within timeout keeps the connection;
// a WebSocket ping carries no ttl.
func WithHeartbeat(interval, timeout, ttl time.Duration) SocketOption {
	return func(c *socketConfig) error {
		if interval < 0 || timeout < 0 || ttl < 0 {
			return fmt.Errorf("azmq: WithHeartbeat(%v, %v, %v): durations must be >= 0", interval, timeout, ttl)
		}
		if ttl > 0xffff*100*time.Millisecond {
			return fmt.Errorf("azmq: WithHeartbeat: ttl %v is over the protocol's 6553.5s", ttl)
		}
		c.hbInterval, c.hbTimeout, c.hbTTL = interval, timeout, ttl
		return nil
	}
}

// WithMaxMsgSize drops a connection that sends a message larger than n
// bytes (default -1: no limit, as in libzmq). A message counts the sizes of
// all its frames, and 64 bytes more for every frame after the first: that
// is what holding a frame costs, so n bounds the memory one incoming
// message can take, even one made of millions of empty frames, not only
// its payload. A single frame of n bytes passes. With no limit, a peer can
// make one message as large as it likes: set one for peers you do not
// trust (docs/SECURITY.md). Over ws and wss a frame is held whole before
// it is counted, so there the limit also bounds one frame, and with no
// limit set a frame may take 64 MiB. The limit applies to peers over tcp,
// ipc and ws; inproc peers are sockets of the same process, whose
// messages are handed over as they are and not checked.
func WithMaxMsgSize(n int64) SocketOption {
	return func(c *socketConfig) error {
		if n < -1 {
			return fmt.Errorf("azmq: WithMaxMsgSize(%d): must be >= 0 or -1", n)
		}
		c.maxMsgSize = n
		return nil
	}
}

// WithImmediate(true) queues messages only for completed connections: a
// connecting socket has no queue until its connection is up, so Send
// blocks (or drops, by type) instead of queueing for an absent peer.
// Default false.
func WithImmediate(on bool) SocketOption {
	return func(c *socketConfig) error { c.immediate = on; return nil }
}

// WithMaxSubscriptionBytes bounds the memory that one subscriber's topics
// can take in a PUB or XPUB (default DefaultMaxSubscriptionBytes, 32 MiB;
// 0 = no limit). Each distinct topic a subscriber holds counts 256 bytes
// plus twice its length, about what keeping it costs. A subscriber whose
// next topic would take it past n has its connection dropped, with
// Monitor saying why; one that subscribes to the same topic again costs
// nothing more. libzmq has no such limit: without one, a single subscriber
// can make the socket hold any number of topics. Subscribers over inproc
// (the process's own sockets) are not limited. A RADIO counts its DISHes'
// groups likewise. PUB, XPUB and RADIO only.
func WithMaxSubscriptionBytes(n int64) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithMaxSubscriptionBytes", PUB, XPUB, RADIO)
		if n < 0 {
			return fmt.Errorf("azmq: WithMaxSubscriptionBytes(%d): must be >= 0", n)
		}
		c.maxSubBytes = n
		return nil
	}
}

// WithRouterMandatory(true) makes a ROUTER's Send fail with
// ErrHostUnreachable for an unknown routing id, and block while that peer's
// queue is full, instead of dropping silently. Default false. ROUTER only.
func WithRouterMandatory(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithRouterMandatory", ROUTER)
		c.routerMandatory = on
		return nil
	}
}

// WithTLSConfig sets the TLS configuration of wss:// endpoints. Bind on
// wss needs it, with a certificate (Certificates or GetCertificate): there
// is no insecure default. Connect verifies the server with its RootCAs and
// ServerName; without the option it uses Go's default verification against
// the system's roots. The config is cloned at use, so later changes to cfg
// do not reach connections already made. nil is refused.
func WithTLSConfig(cfg *tls.Config) SocketOption {
	return func(c *socketConfig) error {
		if cfg == nil {
			return fmt.Errorf("azmq: WithTLSConfig(nil): a config is needed")
		}
		c.tlsConfig = cfg
		return nil
	}
}
