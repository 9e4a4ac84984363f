package azmq

import (
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/azmq/azmq/internal/transport"
)

// netConfig holds the options of tcp connections: keepalive, buffers,
// addresses, proxies.
type netConfig struct {
	keepAlive     *net.KeepAliveConfig // nil: azmq's default (on, 15 s / 15 s / 9)
	sndBuf        int                  // <= 0: the OS default
	rcvBuf        int
	tos           int
	device        string
	connTimeout   time.Duration
	reconnectStop ReconnectStop
	socksProxy    string
	socksUser     string
	socksPass     string
}

// apply sets what the transports take of it.
func (c *netConfig) apply(o *transport.Options) {
	o.Net = transport.Net{
		KeepAlive:      c.keepAlive,
		SendBuffer:     c.sndBuf,
		RecvBuffer:     c.rcvBuf,
		TOS:            c.tos,
		BindToDevice:   c.device,
		ConnectTimeout: c.connTimeout,
		SOCKSProxy:     c.socksProxy,
		SOCKSUser:      c.socksUser,
		SOCKSPass:      c.socksPass,
	}
}

// Bounds of the keepalive settings: Linux's (TCP_KEEPIDLE and
// TCP_KEEPINTVL at most 32767 s, TCP_KEEPCNT at most 127).
const (
	maxKeepAliveTime  = 32767 * time.Second
	maxKeepAliveCount = 127
)

// WithTCPKeepAlive sets TCP keepalive on the socket's tcp (and ws)
// connections, dialed and accepted. cfg.Enable false turns keepalive off;
// with it on, Idle is the quiet time before the first probe, Interval the
// time between probes and Count the probes unanswered before the
// connection is dropped: 0 takes Go's default (15 s, 15 s, 9) and -1 the
// OS's; times count in whole seconds (rounded up), Idle and Interval up to
// 32767 s, Count up to 127. These are libzmq's ZMQ_TCP_KEEPALIVE,
// ZMQ_TCP_KEEPALIVE_IDLE, ZMQ_TCP_KEEPALIVE_INTVL and ZMQ_TCP_KEEPALIVE_CNT
// in one. Default: on, 15 s idle, 15 s interval, 9 probes, which a dead
// peer takes about 2.5 minutes to be found out by; libzmq's default leaves
// it to the OS (usually off). Windows before 10 1709 cannot set Count
// and keeps its own (10). All socket types.
func WithTCPKeepAlive(cfg net.KeepAliveConfig) SocketOption {
	return func(c *socketConfig) error {
		for _, d := range []time.Duration{cfg.Idle, cfg.Interval} {
			if d < -1 || d > maxKeepAliveTime {
				return fmt.Errorf("azmq: WithTCPKeepAlive(%+v): Idle and Interval must be -1, 0 or up to %v", cfg, maxKeepAliveTime)
			}
		}
		if cfg.Count < -1 || cfg.Count > maxKeepAliveCount {
			return fmt.Errorf("azmq: WithTCPKeepAlive(%+v): Count must be -1, 0 or up to %d", cfg, maxKeepAliveCount)
		}
		c.keepAlive = &cfg
		return nil
	}
}

// checkBuffer validates a buffer size option.
func checkBuffer(name string, n int) error {
	if n < -1 || n > math.MaxInt32 {
		return fmt.Errorf("azmq: %s(%d): must be -1, 0 (the OS default) or a size in bytes up to %d", name, n, math.MaxInt32)
	}
	return nil
}

// WithSendBuffer sets the kernel's send buffer of the socket's tcp, ws and
// ipc connections (SO_SNDBUF) to n bytes; the OS may round it (Linux
// doubles it, for its bookkeeping) and caps it (net.core.wmem_max).
// Default -1; 0 and -1 leave the OS default, as libzmq's ZMQ_SNDBUF. All
// socket types.
func WithSendBuffer(n int) SocketOption {
	return func(c *socketConfig) error {
		if err := checkBuffer("WithSendBuffer", n); err != nil {
			return err
		}
		c.sndBuf = n
		return nil
	}
}

// WithRecvBuffer sets the kernel's receive buffer of the socket's tcp, ws
// and ipc connections (SO_RCVBUF) to n bytes, before they connect or
// listen, so that it shapes the TCP window; the OS may round it (Linux
// doubles it) and caps it (net.core.rmem_max). Default -1; 0 and -1 leave
// the OS default, as libzmq's ZMQ_RCVBUF. All socket types.
func WithRecvBuffer(n int) SocketOption {
	return func(c *socketConfig) error {
		if err := checkBuffer("WithRecvBuffer", n); err != nil {
			return err
		}
		c.rcvBuf = n
		return nil
	}
}

// WithTOS sets the IP type-of-service byte (IP_TOS; IPV6_TCLASS on IPv6)
// of the socket's tcp and ws connections, dialed and accepted: DSCP in
// its upper six bits, ECN in the lower two (which the kernel may manage
// itself). 0..255; default 0 (left as the OS has it), as libzmq's ZMQ_TOS.
// Windows takes the value but marks packets only where its QoS policy
// allows. All socket types.
func WithTOS(tos int) SocketOption {
	return func(c *socketConfig) error {
		if tos < 0 || tos > 255 {
			return fmt.Errorf("azmq: WithTOS(%d): must be 0..255", tos)
		}
		c.tos = tos
		return nil
	}
}

// maxDeviceName is the longest interface name Linux has (IFNAMSIZ less
// the NUL).
const maxDeviceName = 15

// WithBindToDevice binds the socket's tcp and ws connections and
// listeners to the network interface named (SO_BINDTODEVICE): they send
// and receive through it only, whatever the routes say, e.g. "eth0" or
// the loopback "lo". Default "": none. Linux only, as libzmq's
// ZMQ_BINDTODEVICE: elsewhere it fails with ErrNotSupported. Setting it
// needs CAP_NET_RAW before Linux 5.7. All socket types.
func WithBindToDevice(name string) SocketOption {
	return func(c *socketConfig) error {
		if !transport.BindToDeviceSupported {
			return fmt.Errorf("azmq: WithBindToDevice(%q): SO_BINDTODEVICE is Linux-only: %w", name, ErrNotSupported)
		}
		if len(name) > maxDeviceName {
			return fmt.Errorf("azmq: WithBindToDevice(%q): an interface name has at most %d bytes", name, maxDeviceName)
		}
		c.device = name
		return nil
	}
}

// WithConnectTimeout bounds each tcp (and ipc) dial of Connect to d: a
// dial that takes longer fails (Monitor: EventConnectDelayed) and is tried
// again after the reconnect interval. Default 0: the OS's own timeout
// (minutes on Linux), as libzmq's ZMQ_CONNECT_TIMEOUT. Through a SOCKS
// proxy it bounds the dial of the proxy. All socket types.
func WithConnectTimeout(d time.Duration) SocketOption {
	return func(c *socketConfig) error {
		if d < 0 {
			return fmt.Errorf("azmq: WithConnectTimeout(%v): must be >= 0", d)
		}
		c.connTimeout = d
		return nil
	}
}

// ReconnectStop says when a Connect gives up instead of retrying
// (WithReconnectStop); its flags combine with |.
type ReconnectStop int

// The conditions of WithReconnectStop, libzmq's ZMQ_RECONNECT_STOP_*.
const (
	// ReconnectStopConnRefused: the dial was refused (ECONNREFUSED):
	// nobody listens there.
	ReconnectStopConnRefused ReconnectStop = 1 << iota
	// ReconnectStopHandshakeFailed: the ZMTP handshake failed, refused by
	// the peer (wrong mechanism, credentials, socket type) or broken off.
	ReconnectStopHandshakeFailed
	// ReconnectStopAfterDisconnect: no reconnect after Disconnect. azmq's
	// Disconnect always stops that Connect's retries at once, so this
	// flag asks for what azmq does anyway; it is taken for parity with
	// libzmq 4.3.5, whose reconnect timer could outlive a disconnect.
	ReconnectStopAfterDisconnect
	reconnectStopAll = ReconnectStopConnRefused | ReconnectStopHandshakeFailed | ReconnectStopAfterDisconnect
)

// WithReconnectStop makes a Connect stop retrying when one of the
// conditions in flags happens: the socket then drops that Connect, with
// its queued messages, as Disconnect would, and Monitor reports
// EventConnectStopped with the reason. Default 0: retry for ever, as
// libzmq's ZMQ_RECONNECT_STOP. A connection that is lost after its
// handshake succeeded is reconnected as usual. All socket types.
func WithReconnectStop(flags ReconnectStop) SocketOption {
	return func(c *socketConfig) error {
		if flags&^reconnectStopAll != 0 {
			return fmt.Errorf("azmq: WithReconnectStop(%#x): unknown flags %#x", int(flags), int(flags&^reconnectStopAll))
		}
		c.reconnectStop = flags
		return nil
	}
}

// WithSOCKSProxy makes the socket's tcp Connects go through the SOCKS5
// proxy at addr, "host:port" (RFC 1928): the proxy connects to the
// endpoint, which is sent as an address when it is an IP literal and as a
// name for the proxy to resolve otherwise, as libzmq does. The keepalive,
// buffer, TOS, device, source-address and connect-timeout settings apply
// to the connection to the proxy. Bind, ipc and ws are not affected; a
// refusal by the proxy is a failed dial (EventConnectDelayed), retried.
// Default "": no proxy. libzmq's ZMQ_SOCKS_PROXY. All socket types.
func WithSOCKSProxy(addr string) SocketOption {
	return func(c *socketConfig) error {
		if addr != "" {
			if err := transport.CheckProxy(addr); err != nil {
				return fmt.Errorf("azmq: WithSOCKSProxy(%q): must be host:port: %w", addr, err)
			}
		}
		c.socksProxy = addr
		return nil
	}
}

// WithSOCKSAuth authenticates to the SOCKS5 proxy of WithSOCKSProxy with
// a username (1..255 bytes) and password (up to 255 bytes), RFC 1929; the
// proxy is then offered that method only, and a proxy that refuses the
// credentials fails the dial with an error wrapping ErrSOCKSAuth (Monitor:
// EventConnectDelayed), retried. The password crosses the network in the
// clear, as RFC 1929 has it. Default: none (no authentication is offered).
// libzmq 4.3.5's ZMQ_SOCKS_USERNAME and ZMQ_SOCKS_PASSWORD. All socket
// types.
func WithSOCKSAuth(username, password string) SocketOption {
	return func(c *socketConfig) error {
		if len(username) < 1 || len(username) > 255 {
			return fmt.Errorf("azmq: WithSOCKSAuth: username of %d bytes, must be 1..255", len(username))
		}
		if len(password) > 255 {
			return fmt.Errorf("azmq: WithSOCKSAuth: password of %d bytes, must be up to 255", len(password))
		}
		c.socksUser, c.socksPass = username, password
		return nil
	}
}

// destination returns the destination of a tcp endpoint address: what
// follows its source address ("src;dst"), if it has one.
func destination(addr string) string {
	return addr[strings.LastIndexByte(addr, ';')+1:]
}

// ErrSOCKSAuth: the SOCKS5 proxy refused WithSOCKSAuth's credentials.
var ErrSOCKSAuth = transport.ErrSOCKSAuth

// stopReconnect reports whether the socket's WithReconnectStop ends the
// Connect c after the failure err (of the dial, or of the handshake when
// handshake). If so it drops c, as Disconnect would, and says why on the
// monitor.
func (s *Socket) stopReconnect(c *connecter, err error, handshake bool) bool {
	f := s.cfg.reconnectStop
	switch {
	case err == nil || c.ctx.Err() != nil || s.isClosed():
		return false
	case handshake && f&ReconnectStopHandshakeFailed != 0:
	case !handshake && f&ReconnectStopConnRefused != 0 && transport.ConnRefused(err):
	default:
		return false
	}
	s.mu.Lock()
	for i, x := range s.connects {
		if x == c {
			s.connects = append(s.connects[:i], s.connects[i+1:]...)
			break
		}
	}
	if c.pipe != nil {
		delete(s.pipes, c.pipe)
	}
	s.mu.Unlock()
	c.cancel()
	if c.pipe != nil {
		c.pipe.In.Close()
		c.pipe.Out.Discard()
		s.patDetach(c.pipe)
	}
	s.emit(EventConnectStopped, c.given, err)
	return true
}
