package transport

import (
	"net"
	"sync"
)

// corkMax bounds what a corked connection holds before it writes anyway.
const corkMax = 256 << 10

// corkConn gathers the writes made while it is corked into one. The
// engine writes a batch of frames in one Write; coder/websocket writes and
// flushes each frame's message on its own, one system call each. Corked
// for the length of the engine's Write, the connection sends the batch
// in one (a tenth of the time per small message).
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    []byte
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.Conn.Write(p)
	}
	if len(c.buf)+len(p) > corkMax {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > corkMax {
			return c.Conn.Write(p)
		}
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// cork holds writes back until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was held back.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

func (c *corkConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > corkMax {
		c.buf = nil // one oversized batch does not stay
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// corkListener hands out corkConns.
type corkListener struct{ net.Listener }

func (l corkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &corkConn{Conn: c}, nil
}

// corkKey is the request context key of the connection's corkConn.
type corkKey struct{}
