// Package raw runs a connection that carries bytes with no ZeroMQ framing
// and no greeting: the link of a STREAM socket to a plain TCP or ipc peer
// (libzmq raw_engine.cpp). Each read from the connection becomes one
// single-frame message; each message sent is written as it is; an empty
// one ends the connection once what was queued before it is written.
//
// What a peer can make one connection hold:
//   - the read buffer: ReadSize (8 KiB, libzmq's in_batch_size);
//   - one chunk read and waiting for room in the pipe, at most ReadSize;
//   - the pipe: its HWM, in chunks of at most ReadSize each.
//
// When the pipe is full the connection is not read, so the peer's writes
// stall in its TCP window instead of growing memory here. There is no
// message size limit: raw bytes have no messages, only chunks.
package raw

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"github.com/azmq/azmq/internal/bufpool"
	"github.com/azmq/azmq/internal/pipe"
)

// ReadSize bounds one read, and so one received message.
const ReadSize = 8 << 10

// maxBatch bounds the messages taken from the pipe for one write.
const maxBatch = 64

// ErrHangup is why Run ends after an empty message: the socket closed the
// connection itself.
var ErrHangup = errors.New("raw: connection closed by an empty message")

// errDrained ends the writer when the socket is closing and every queued
// message has been written.
var errDrained = errors.New("raw: queue drained")

// Conn is one raw connection.
type Conn struct {
	conn net.Conn
	peer *pipe.Peer

	closeOnce sync.Once
	done      chan struct{}         // closed by Close
	abortErr  atomic.Pointer[error] // why Abort ended the connection
}

// New wraps a connection. peerAddress is the Peer-Address property of the
// messages it delivers ("" for none).
func New(c net.Conn, peerAddress string) *Conn {
	p := &pipe.Peer{}
	if peerAddress != "" {
		p.Props = []pipe.KV{{Name: "Peer-Address", Value: peerAddress}}
	}
	return &Conn{conn: c, peer: p, done: make(chan struct{})}
}

// Handshake has nothing to exchange: the peer is ready as soon as the
// connection is. A ctx that has ended still refuses it (the socket is
// closing).
func (c *Conn) Handshake(ctx context.Context) (*pipe.Peer, error) {
	if err := ctx.Err(); err != nil {
		c.Close()
		return nil, err
	}
	return c.peer, nil
}

// Close ends the connection at once; Run returns.
func (c *Conn) Close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.conn.Close()
	})
}

// Abort ends the connection at once; Run returns err.
func (c *Conn) Abort(err error) {
	c.abortErr.CompareAndSwap(nil, &err)
	c.Close()
}

// Run moves bytes until the connection ends: each read is pushed to p.In
// (waiting while it is full), each message of p.Out is written. It returns
// ErrHangup after an empty message, nil when p.Out was closed and every
// message in it written (the socket is closing), or else why the
// connection ended (io.EOF: the peer closed it). A closed p.In only stops
// the reading: the writer still drains p.Out. The writer goroutine has
// ended when Run returns.
func (c *Conn) Run(p *pipe.Pipe) error {
	werr := make(chan error, 1)
	go func() {
		err := c.writeLoop(p.Out)
		// Drained, hung up or failed: the connection is over either way,
		// and closing it ends the reader.
		c.Close()
		werr <- err
	}()
	rerr := c.readLoop(p.In)
	if errors.Is(rerr, pipe.ErrClosed) {
		// The socket stopped reading; the writer finishes its linger.
		return c.aborted(clean(<-werr))
	}
	c.Close()
	err := <-werr
	if !isClosed(rerr) && !errors.Is(err, ErrHangup) {
		return c.aborted(rerr)
	}
	return c.aborted(clean(err))
}

// aborted is Abort's reason if there was one, else err.
func (c *Conn) aborted(err error) error {
	if a := c.abortErr.Load(); a != nil {
		return *a
	}
	return err
}

func isClosed(err error) bool {
	return err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, errDrained)
}

func clean(err error) error {
	if isClosed(err) {
		return nil
	}
	return err
}

// readLoop pushes every chunk read to in until the connection fails or in
// is closed. The push waits for room: meanwhile nothing is read.
func (c *Conn) readLoop(in *pipe.Queue) error {
	buf := make([]byte, ReadSize)
	for {
		n, err := c.conn.Read(buf)
		if n > 0 {
			// A frame of its own, from bufpool so that Release can take
			// it back.
			chunk := bufpool.Get(n)
			copy(chunk, buf[:n])
			if perr := in.Push(context.Background(), pipe.Msg{Frames: [][]byte{chunk}}, c.done); perr != nil {
				return perr
			}
		}
		if err != nil {
			return err
		}
	}
}

// writeLoop writes the messages of out, as many as are queued in one
// writev, until out is closed and drained, an empty message comes, or the
// connection ends.
func (c *Conn) writeLoop(out *pipe.Queue) error {
	var (
		msgs  []pipe.Msg
		vec   net.Buffers
		owned [][]byte // Send's copies, given back once written
	)
	flush := func() error {
		var err error
		if len(vec) > 0 {
			v := vec // WriteTo consumes its receiver
			_, err = v.WriteTo(c.conn)
		}
		clear(vec)
		vec = vec[:0]
		for _, b := range owned {
			bufpool.PutOwn(b)
		}
		clear(owned)
		owned = owned[:0]
		return err
	}
	for {
		sig := out.Readable().C()
		var closed bool
		msgs, closed = out.PopBatch(msgs[:0], maxBatch)
		hangup := false
		for i := range msgs {
			m := &msgs[i]
			if size(m) == 0 {
				// What came after it is for a connection that is over.
				hangup = true
				break
			}
			for _, f := range m.Frames {
				if len(f) > 0 {
					vec = append(vec, f)
				}
				if m.Flags()&pipe.Owned != 0 && len(f) >= bufpool.MinSize {
					owned = append(owned, f)
				}
			}
		}
		clear(msgs)
		err := flush()
		switch {
		case err != nil:
			return err
		case hangup:
			return ErrHangup
		case len(msgs) > 0:
			continue // more may be queued: look without waiting
		case closed:
			return errDrained
		}
		select {
		case <-sig:
		case <-c.done:
			return net.ErrClosed
		}
	}
}

func size(m *pipe.Msg) int {
	n := 0
	for _, f := range m.Frames {
		n += len(f)
	}
	return n
}
