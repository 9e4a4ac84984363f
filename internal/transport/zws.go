package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/azmq/azmq/internal/wire"
)

// ZWS 2.0 (RFC 45) carries ZMTP over WebSocket without the ZMTP greeting:
// the mechanism is chosen by the WebSocket subprotocol, and each ZMTP frame
// travels as one binary WebSocket message of a flags byte and the body.
// zwsConn turns that into the byte stream the engine speaks, so the engine
// runs ws connections as it runs tcp ones: it reads a greeting synthesized
// from the negotiated subprotocol and ZMTP frames rebuilt from the
// messages, and the greeting and frames it writes become messages.
//
// The WebSocket layer is github.com/coder/websocket: maintained, every
// call takes a context, it is built on net/http (so Socket.ServeHTTP mounts
// on any http.Server) and has no dependencies of its own.

// Errors of ws connections.
var (
	// ErrWSText: the peer sent a text message; ZWS allows binary only.
	ErrWSText = errors.New("transport: ws: text message (ZWS 2.0 allows binary messages only)")
	// ErrWSTooLarge: a message exceeded the connection's limit.
	ErrWSTooLarge = errors.New("transport: ws: message larger than the limit")
	// ErrWSProtocol: a message that is no ZWS frame (empty, reserved flags).
	ErrWSProtocol = errors.New("transport: ws: malformed ZWS message")
	// ErrWSSubprotocol: the peers share no ZWS subprotocol.
	ErrWSSubprotocol = errors.New("transport: ws: no common ZWS 2.0 subprotocol")
	// ErrWSUpgrade: an HTTP request that is no WebSocket upgrade.
	ErrWSUpgrade = errors.New("transport: ws: not a WebSocket upgrade request")
	// ErrWSHeartbeat: a WebSocket ping got no pong within the timeout.
	ErrWSHeartbeat = errors.New("transport: ws: heartbeat timed out (no pong to a WebSocket ping)")
	// ErrTLSConfig: wss bind without a certificate.
	ErrTLSConfig = errors.New("transport: wss needs a TLS config with a certificate")
)

// ZWS flags byte (RFC 45).
const (
	zwsMore    = 0x01
	zwsCommand = 0x02
)

// DefaultWSMaxMessage bounds a ws message when the socket sets no
// WithMaxMsgSize: a message must be held whole before the engine sees its
// length, so "unlimited" cannot be taken literally.
const DefaultWSMaxMessage = 64 << 20

// wsOverhead is room above the message limit for a frame's wrapping: the
// flags byte, and CURVE's MESSAGE command around the body.
const wsOverhead = 256

// wsMinMessage is the smallest limit: the handshake's commands must fit
// (the engine reads commands of up to 64 KiB).
const wsMinMessage = 64 << 10

// keepBuf is the largest buffer kept between messages; larger ones, made
// for one large message, are given back.
const keepBuf = 1 << 20

// subprotocol names of ZWS 2.0. Plain "ZWS2.0" has no mechanism: each
// side's first message is its routing id, and nothing else is exchanged
// (browser clients such as jszmq offer only it).
const (
	zwsBare  = "ZWS2.0"
	zwsNull  = "ZWS2.0/NULL"
	zwsPlain = "ZWS2.0/PLAIN"
	zwsCurve = "ZWS2.0/CURVE"
)

// offer lists the subprotocols a client with mechanism mech proposes, as
// libzmq's ws client does; a server picks the NULL one when it can.
func offer(mech string) []string {
	switch mech {
	case "PLAIN":
		return []string{zwsPlain}
	case "CURVE":
		return []string{zwsCurve}
	default:
		return []string{zwsNull, zwsBare}
	}
}

// selectProtocol picks, among the client's offers, the subprotocol of the
// server's mechanism, as libzmq's select_protocol does.
func selectProtocol(offers []string, mech string) (string, bool) {
	for _, want := range offer(mech) {
		for _, p := range offers {
			if p == want {
				return p, true
			}
		}
	}
	return "", false
}

// mechanismOf is the ZMTP mechanism a negotiated subprotocol stands for.
func mechanismOf(proto string) (string, bool) {
	switch proto {
	case zwsNull, zwsBare:
		return "NULL", true
	case zwsPlain:
		return "PLAIN", true
	case zwsCurve:
		return "CURVE", true
	}
	return "", false
}

// messageLimit is the largest ws message accepted for a socket's
// WithMaxMsgSize (< 0: none set).
func messageLimit(maxMsg int64) int64 {
	n := int64(DefaultWSMaxMessage)
	if maxMsg >= 0 {
		n = maxMsg
	}
	return max(n, wsMinMessage) + wsOverhead
}

// wsMessages is what zwsConn needs of a WebSocket connection; the fuzz
// test and the unit tests feed it messages without a network.
type wsMessages interface {
	Reader(ctx context.Context) (websocket.MessageType, io.Reader, error)
	Write(ctx context.Context, typ websocket.MessageType, p []byte) error
	Ping(ctx context.Context) error
	CloseNow() error
}

// zwsConn is a net.Conn that speaks ZMTP to the engine over ZWS 2.0.
type zwsConn struct {
	ws            wsMessages
	local, remote net.Addr
	limit         int64 // largest message read

	// Read side; the engine reads from one goroutine at a time.
	rmu   sync.Mutex
	rhdr  [wire.GreetingSize]byte
	rpend []byte // greeting or frame header not yet read
	rbody []byte // frame body not yet read, after rpend
	rbuf  []byte // the message buffer, reused
	rerr  error  // sticky

	// Plain "ZWS2.0": the peer's routing id message stands for its READY,
	// and the engine's READY is sent as our routing id message.
	bare              bool
	bareRead, bareOut bool // the routing id message was read, was sent
	ready             []byte

	// Write side.
	wmu   sync.Mutex
	wskip int // bytes of the engine's greeting still to swallow
	whdr  [wire.LongHeaderSize]byte
	whn   int    // header bytes collected
	wbody bool   // collecting a body
	wleft uint64 // body bytes to come
	wmsg  []byte // the message being built: flags byte and body
	werr  error

	rd, wd   deadline
	closed   atomic.Bool
	closeOne sync.Once
	hbDead   atomic.Bool        // the heartbeat closed the connection
	seen     atomic.Int64       // when the peer last showed life (Unix ns)
	stop     context.Context    // ends at Close: stops the heartbeat
	cancel   context.CancelFunc //
	wg       sync.WaitGroup     // the heartbeat
	cork     *corkConn          // nil: writes go out one message at a time
}

// newZWSConn wraps an upgraded connection whose subprotocol names mech;
// peerAsServer is the peer's as-server bit in the synthesized greeting.
func newZWSConn(ws wsMessages, mech string, peerAsServer bool, limit int64, local, remote net.Addr) *zwsConn {
	c := &zwsConn{ws: ws, local: local, remote: remote, limit: limit, wskip: wire.GreetingSize}
	// ZMTP 3.0, not 3.1: the engine then sends subscriptions as data
	// frames, as ZWS peers expect.
	g := wire.AppendGreeting(c.rhdr[:0], wire.Greeting{Major: 3, Minor: 0, Mechanism: mech, AsServer: peerAsServer})
	c.rpend = g
	c.stop, c.cancel = context.WithCancel(context.Background())
	return c
}

// heartbeat pings every ivl and closes the connection when neither a
// pong nor a message comes within timeout of a ping. ZWS peers keep each
// other alive with WebSocket ping and pong (libzmq's ws engine ignores
// ZMTP PING commands, which CURVE would anyway hide inside its boxes), so
// the socket turns the engine's ZMTP heartbeat off on ws and the
// connection does it here. Any pong counts, not only one echoing the
// ping's payload as RFC 6455 asks: libzmq's pongs are empty. Pongs are
// seen while the engine reads, as a tcp engine sees PONGs.
func (c *zwsConn) heartbeat(ivl, timeout time.Duration) {
	if ivl <= 0 {
		return
	}
	if timeout <= 0 {
		timeout = ivl
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTimer(ivl)
		defer t.Stop()
		for {
			select {
			case <-c.stop.Done():
				return
			case <-t.C:
			}
			start := time.Now().UnixNano()
			ctx, cancel := context.WithTimeout(c.stop, timeout)
			err := c.ws.Ping(ctx) // returns at the timeout when the pong is libzmq's
			cancel()
			switch {
			case c.stop.Err() != nil, errors.Is(err, net.ErrClosed):
				return // closed: the reader says why
			case err != nil && c.seen.Load() < start:
				c.hbDead.Store(true)
				c.ws.CloseNow()
				return
			}
			t.Reset(ivl)
		}
	}()
}

// alive records a sign of life from the peer: a pong or a message.
func (c *zwsConn) alive() { c.seen.Store(time.Now().UnixNano()) }

// Read serves the synthesized greeting, then one ZMTP frame per message.
func (c *zwsConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	for len(c.rpend) == 0 && len(c.rbody) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		if err := c.next(); err != nil {
			c.rerr = err
			return 0, err
		}
	}
	n := copy(p, c.rpend)
	c.rpend = c.rpend[n:]
	if len(c.rpend) == 0 {
		m := copy(p[n:], c.rbody)
		c.rbody = c.rbody[m:]
		n += m
	}
	return n, nil
}

// next reads one message and turns it into a frame header (rpend) and
// body (rbody).
func (c *zwsConn) next() error {
	typ, r, err := c.ws.Reader(context.Background())
	if err != nil {
		return c.readErr(err)
	}
	c.alive()
	if typ != websocket.MessageBinary {
		return ErrWSText
	}
	if cap(c.rbuf) > keepBuf {
		c.rbuf = nil
	}
	buf := c.rbuf[:0]
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > c.limit {
				return fmt.Errorf("%w (%d bytes)", ErrWSTooLarge, c.limit)
			}
			// Grow by doubling up to one byte past the limit, so that a
			// large message costs its size, not the limit, up front.
			size := min(int64(max(2*cap(buf), 4096)), c.limit+1)
			nb := make([]byte, len(buf), size)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return c.readErr(err)
		}
	}
	if int64(len(buf)) > c.limit {
		return fmt.Errorf("%w (%d bytes)", ErrWSTooLarge, c.limit)
	}
	c.rbuf = buf
	if len(buf) == 0 {
		return fmt.Errorf("%w: empty message, no flags byte", ErrWSProtocol)
	}
	f := buf[0]
	if f&^(zwsMore|zwsCommand) != 0 {
		return fmt.Errorf("%w: reserved flag bits %#02x", ErrWSProtocol, f)
	}
	var flags byte
	if f&zwsMore != 0 {
		flags |= wire.FlagMore
	}
	if f&zwsCommand != 0 {
		flags |= wire.FlagCommand
	}
	if c.bare && !c.bareRead {
		c.bareRead = true
		return c.readyFrom(f, buf[1:])
	}
	c.rpend = wire.AppendFrameHeader(c.rhdr[:0], flags, len(buf)-1)
	c.rbody = buf[1:]
	return nil
}

// readyFrom serves the engine a READY for the peer's routing id message:
// its Identity, and no Socket-Type (ZWS2.0 has none to check).
func (c *zwsConn) readyFrom(flags byte, id []byte) error {
	if flags != 0 {
		return fmt.Errorf("%w: routing id message with flags %#02x", ErrWSProtocol, flags)
	}
	if len(id) > wire.MaxIdentity {
		return fmt.Errorf("%w: routing id of %d bytes", ErrWSProtocol, len(id))
	}
	var md wire.Metadata
	if len(id) > 0 {
		md = wire.Metadata{{Name: wire.PropIdentity, Value: id}}
	}
	c.ready = wire.AppendReady(c.ready[:0], md)
	c.rpend = c.ready
	return nil
}

// bareRoutingID turns the engine's READY, the first frame it writes,
// into our routing id message: its Identity, if it announces one.
func (c *zwsConn) bareRoutingID() error {
	c.bareOut = true
	var id []byte
	name, data, err := wire.ParseCommand(c.wmsg[1:])
	if c.wmsg[0] != zwsCommand || err != nil || string(name) != wire.CmdReady {
		return fmt.Errorf("%w: the engine's first frame is no READY", ErrWSProtocol)
	}
	md, err := wire.ParseMetadata(data)
	if err != nil {
		return err
	}
	if v, ok := md.Get(wire.PropIdentity); ok {
		id = v
	}
	c.wmsg = append(append(c.wmsg[:0], 0), id...)
	return nil
}

// readErr says why reading ended: our deadline, our Close, the peer's
// close (io.EOF, so the engine sees a peer that went away) or the cause.
func (c *zwsConn) readErr(err error) error {
	if c.rd.expired() {
		return os.ErrDeadlineExceeded
	}
	if c.closed.Load() {
		return net.ErrClosed
	}
	if c.hbDead.Load() {
		return ErrWSHeartbeat
	}
	if st := websocket.CloseStatus(err); st != -1 {
		if st == websocket.StatusNormalClosure || st == websocket.StatusGoingAway {
			return io.EOF
		}
		return fmt.Errorf("transport: ws: peer closed with status %d (%v): %w", int(st), err, io.EOF)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.EOF
	}
	return err
}

// Write swallows the engine's greeting and sends each ZMTP frame it writes
// as one binary message. Frames may arrive split across calls.
func (c *zwsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	if c.cork == nil {
		return c.write(p)
	}
	c.cork.cork()
	n, err := c.write(p)
	if uerr := c.cork.uncork(); uerr != nil && err == nil {
		// What was held back is lost: none of p can be said to be sent.
		n, err = 0, c.sendErr(uerr)
		c.werr = err
	}
	return n, err
}

// write is Write, wmu held.
func (c *zwsConn) write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		switch {
		case c.wskip > 0:
			n := min(c.wskip, len(p))
			c.wskip -= n
			p = p[n:]
		case !c.wbody:
			c.whdr[c.whn] = p[0]
			c.whn++
			p = p[1:]
			need := wire.ShortHeaderSize
			if c.whdr[0]&wire.FlagLong != 0 {
				need = wire.LongHeaderSize
			}
			if c.whn < need {
				continue
			}
			if need == wire.ShortHeaderSize {
				c.wleft = uint64(c.whdr[1])
			} else {
				c.wleft = binary.BigEndian.Uint64(c.whdr[1:9])
			}
			var f byte
			if c.whdr[0]&wire.FlagMore != 0 {
				f |= zwsMore
			}
			if c.whdr[0]&wire.FlagCommand != 0 {
				f |= zwsCommand
			}
			c.whn = 0
			c.wbody = true
			if cap(c.wmsg) > keepBuf {
				c.wmsg = nil
			}
			c.wmsg = append(c.wmsg[:0], f)
			if c.wleft == 0 {
				if err := c.send(); err != nil {
					return total - len(p), err
				}
			}
		default:
			n := int(min(c.wleft, uint64(len(p))))
			c.wmsg = append(c.wmsg, p[:n]...)
			c.wleft -= uint64(n)
			p = p[n:]
			if c.wleft == 0 {
				if err := c.send(); err != nil {
					return total - len(p), err
				}
			}
		}
	}
	return total, nil
}

// send writes the collected frame as one message: one WebSocket frame,
// since libzmq does not take fragmented messages.
func (c *zwsConn) send() error {
	c.wbody = false
	if c.bare && !c.bareOut {
		if err := c.bareRoutingID(); err != nil {
			c.werr = err
			return err
		}
	}
	if err := c.ws.Write(context.Background(), websocket.MessageBinary, c.wmsg); err != nil {
		c.werr = c.sendErr(err)
		return c.werr
	}
	return nil
}

// sendErr says why a write failed.
func (c *zwsConn) sendErr(err error) error {
	switch {
	case c.wd.expired():
		return os.ErrDeadlineExceeded
	case c.closed.Load():
		return net.ErrClosed
	case c.hbDead.Load():
		return ErrWSHeartbeat
	}
	return err
}

// Close closes the connection at once, without the WebSocket closing
// handshake: the engine closes only when it is done or gives up.
func (c *zwsConn) Close() error {
	err := net.ErrClosed
	c.closeOne.Do(func() {
		c.closed.Store(true)
		c.rd.stop()
		c.wd.stop()
		c.cancel()
		err = c.ws.CloseNow()
		c.wg.Wait()
	})
	return err
}

// IsWS reports whether c is a ws or wss connection: its heartbeat is the
// connection's own (see heartbeat), not the engine's.
func IsWS(c net.Conn) bool {
	_, ok := c.(*zwsConn)
	return ok
}

func (c *zwsConn) LocalAddr() net.Addr  { return c.local }
func (c *zwsConn) RemoteAddr() net.Addr { return c.remote }

// The engine uses deadlines only to end a connection (the handshake's
// timeout, a heartbeat's): one that passes closes it, which is how a
// blocked WebSocket read or write is stopped.
func (c *zwsConn) SetDeadline(t time.Time) error {
	c.rd.set(t, c.expire)
	c.wd.set(t, c.expire)
	return nil
}

func (c *zwsConn) SetReadDeadline(t time.Time) error {
	c.rd.set(t, c.expire)
	return nil
}

func (c *zwsConn) SetWriteDeadline(t time.Time) error {
	c.wd.set(t, c.expire)
	return nil
}

func (c *zwsConn) expire() { c.ws.CloseNow() }

// deadline is one of a zwsConn's deadlines.
type deadline struct {
	mu    sync.Mutex
	timer *time.Timer
	gone  bool // passed
}

func (d *deadline) set(t time.Time, expire func()) {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.gone = false
	if t.IsZero() {
		d.mu.Unlock()
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		d.gone = true
		d.mu.Unlock()
		expire()
		return
	}
	var tm *time.Timer
	tm = time.AfterFunc(dur, func() {
		d.mu.Lock()
		if d.timer != tm {
			d.mu.Unlock()
			return // moved meanwhile
		}
		d.gone = true
		d.mu.Unlock()
		expire()
	})
	d.timer = tm
	d.mu.Unlock()
}

func (d *deadline) stop() {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.mu.Unlock()
}

func (d *deadline) expired() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gone
}
