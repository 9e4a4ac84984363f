package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// ErrSOCKS is wrapped by every error of a SOCKS5 exchange: a proxy that
// breaks the protocol, refuses our methods or refuses the connection.
var ErrSOCKS = errors.New("socks5")

// ErrSOCKSAuth is wrapped (with ErrSOCKS) when the proxy refuses the
// username and password.
var ErrSOCKSAuth = errors.New("socks5: authentication refused")

// socksTimeout bounds the SOCKS exchange when no handshake timeout is set:
// a proxy that accepts and then says nothing must not hold a dial for ever.
const socksTimeout = 30 * time.Second

// The SOCKS5 protocol's numbers (RFC 1928, RFC 1929).
const (
	socksVersion   = 5
	socksNoAuth    = 0x00
	socksUserPass  = 0x02
	socksNoMethod  = 0xff
	socksConnect   = 0x01
	socksIPv4      = 0x01
	socksDomain    = 0x03
	socksIPv6      = 0x04
	socksAuthVer   = 0x01
	socksMaxDomain = 255
)

// socksReplies names the reply codes of RFC 1928 §6.
var socksReplies = [...]string{
	1: "general SOCKS server failure",
	2: "connection not allowed by ruleset",
	3: "network unreachable",
	4: "host unreachable",
	5: "connection refused",
	6: "TTL expired",
	7: "command not supported",
	8: "address type not supported",
}

// dialSOCKS dials n.SOCKSProxy with d and asks it to connect to dst. As
// libzmq does, it offers one method, username/password when a username is
// set and none otherwise, and sends dst as an IPv4 or IPv6 address when it
// is an IP literal, as a domain name for the proxy to resolve otherwise.
func dialSOCKS(ctx context.Context, d *net.Dialer, n Net, dst tcpAddr, timeout time.Duration) (net.Conn, error) {
	if !dst.isIP && len(dst.host) > socksMaxDomain {
		return nil, fmt.Errorf("%w: host name of %d bytes, over SOCKS5's %d", ErrSOCKS, len(dst.host), socksMaxDomain)
	}
	c, err := d.DialContext(ctx, "tcp", n.SOCKSProxy)
	if err != nil {
		return nil, fmt.Errorf("socks5 proxy %s: %w", n.SOCKSProxy, err)
	}
	if timeout <= 0 {
		timeout = socksTimeout
	}
	c.SetDeadline(time.Now().Add(timeout))
	// ctx ending unblocks the exchange at once.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	err = socksHandshake(c, n.SOCKSUser, n.SOCKSPass, dst)
	if !stop() || ctx.Err() != nil {
		c.Close()
		return nil, ctx.Err()
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("socks5 proxy %s: %w", n.SOCKSProxy, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// socksHandshake runs the SOCKS5 exchange on c. Every read is of a known,
// small length.
func socksHandshake(c net.Conn, user, pass string, dst tcpAddr) error {
	method := byte(socksNoAuth)
	if user != "" {
		method = socksUserPass
	}
	if _, err := c.Write([]byte{socksVersion, 1, method}); err != nil {
		return err
	}
	var b [2]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return socksReadErr("method choice", err)
	}
	switch {
	case b[0] != socksVersion:
		return fmt.Errorf("%w: proxy answered version %d, not 5", ErrSOCKS, b[0])
	case b[1] == socksNoMethod:
		return fmt.Errorf("%w: proxy accepts no method we offer (%s)", ErrSOCKS, methodName(method))
	case b[1] != method:
		return fmt.Errorf("%w: proxy chose method %#x, not the one offered (%s)", ErrSOCKS, b[1], methodName(method))
	}
	if method == socksUserPass {
		if len(user) > 255 || len(pass) > 255 {
			return fmt.Errorf("%w: username or password over 255 bytes", ErrSOCKS)
		}
		req := make([]byte, 0, 3+len(user)+len(pass))
		req = append(req, socksAuthVer, byte(len(user)))
		req = append(req, user...)
		req = append(req, byte(len(pass)))
		req = append(req, pass...)
		if _, err := c.Write(req); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return socksReadErr("authentication reply", err)
		}
		if b[0] != socksAuthVer {
			return fmt.Errorf("%w: authentication reply version %d, not 1", ErrSOCKS, b[0])
		}
		if b[1] != 0 {
			return fmt.Errorf("%w (%w: status %d for user %q)", ErrSOCKSAuth, ErrSOCKS, b[1], user)
		}
	}
	if _, err := c.Write(socksRequest(dst)); err != nil {
		return err
	}
	return socksReply(c)
}

// socksRequest encodes CONNECT dst.
func socksRequest(dst tcpAddr) []byte {
	req := []byte{socksVersion, socksConnect, 0}
	switch {
	case dst.isIP && dst.ip.Unmap().Is4():
		ip := dst.ip.Unmap().As4()
		req = append(req, socksIPv4)
		req = append(req, ip[:]...)
	case dst.isIP:
		ip := dst.ip.As16()
		req = append(req, socksIPv6)
		req = append(req, ip[:]...)
	default:
		req = append(req, socksDomain, byte(len(dst.host)))
		req = append(req, dst.host...)
	}
	port, _ := strconv.ParseUint(dst.port, 10, 16) // Dial checked it: 1..65535
	return append(req, byte(port>>8), byte(port))
}

// socksReply reads the reply to CONNECT: its code, then the bound address,
// which is read past (at most 255+2 bytes) and not used.
func socksReply(c net.Conn) error {
	var h [5]byte // VER REP RSV ATYP and the address's first byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return socksReadErr("connect reply", err)
	}
	if h[0] != socksVersion {
		return fmt.Errorf("%w: connect reply version %d, not 5", ErrSOCKS, h[0])
	}
	if h[1] != 0 {
		if int(h[1]) < len(socksReplies) {
			return fmt.Errorf("%w: proxy: %s (code %d)", ErrSOCKS, socksReplies[h[1]], h[1])
		}
		return fmt.Errorf("%w: proxy refused the connection with unknown code %d", ErrSOCKS, h[1])
	}
	var rest int // what follows h: the address's remaining bytes and the port
	switch h[3] {
	case socksIPv4:
		rest = 4 - 1 + 2
	case socksIPv6:
		rest = 16 - 1 + 2
	case socksDomain:
		rest = int(h[4]) + 2
	default:
		return fmt.Errorf("%w: connect reply with unknown address type %d", ErrSOCKS, h[3])
	}
	var buf [socksMaxDomain + 2]byte
	if _, err := io.ReadFull(c, buf[:rest]); err != nil {
		return socksReadErr("connect reply", err)
	}
	return nil
}

func socksReadErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: proxy closed the connection before its %s", ErrSOCKS, what)
	}
	return fmt.Errorf("%w: reading the %s: %w", ErrSOCKS, what, err)
}

func methodName(m byte) string {
	if m == socksUserPass {
		return "username/password"
	}
	return "no authentication"
}

// CheckProxy validates a SOCKS proxy address: host:port, host a name or IP
// literal (IPv6 in brackets), port 1..65535.
func CheckProxy(addr string) error {
	a, err := splitTCP(addr)
	if err != nil {
		return err
	}
	if a.host == wildcard || a.wildcardPort() {
		return bad("a proxy needs a host and a port other than 0 and \"*\"")
	}
	return nil
}
