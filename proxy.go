package azmq

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/azmq/azmq/internal/msgcopy"
)

// captureQueue bounds the messages waiting for the capture socket: when
// the capture socket cannot keep up, further copies are dropped rather
// than slowing the proxy down.
const captureQueue = 1024

// Proxy moves messages between frontend and backend, in both directions
// where the socket types allow, until ctx ends (it then returns ctx.Err())
// or a socket fails or is closed (it then returns that error, wrapped: use
// errors.Is). It is libzmq's zmq_proxy:
//
//   - ROUTER frontend, DEALER backend: a shared queue between clients and
//     workers; the routing envelope travels with each request and reply.
//   - XSUB frontend, XPUB backend: a forwarder; messages flow down, and the
//     subscriptions (and unsubscriptions) of the downstream subscribers
//     flow back up to the publishers.
//   - PULL frontend, PUSH backend: a streamer, in one direction only.
//
// A direction runs only where its source can receive and its destination
// can send (PUB, PUSH cannot receive; SUB, PULL cannot send); a pair with
// no direction at all is an error wrapping ErrNotSupported. Multipart
// messages stay whole. A message a ROUTER cannot route (an unknown routing
// id under WithRouterMandatory) is dropped, as ROUTER does by default.
//
// If capture is not nil, a copy of every message received on either side
// is sent to it, in the order received. Capture is best effort: the copies
// wait in a bounded queue, and while the capture socket blocks (a PUSH
// with no peer, say) the queue fills and further copies are dropped; the
// proxy itself never waits for it. A PUB capture socket never blocks. A
// capture socket that fails (is closed) ends the proxy with its error.
//
// Proxy runs one goroutine per direction (and one for capture); all of
// them have ended when it returns. It does not close the sockets.
func Proxy(ctx context.Context, frontend, backend, capture *Socket) error {
	return runProxy(ctx, frontend, backend, capture, nil)
}

// ProxySteerable is Proxy controlled through a control socket, as libzmq's
// zmq_proxy_steerable. Each message received on control is a command (its
// first frame):
//
//   - "PAUSE": stop taking messages from frontend and backend; they wait in
//     the sockets' queues (a message already taken is still delivered).
//   - "RESUME": take messages again.
//   - "TERMINATE": stop; ProxySteerable then returns nil.
//   - "STATISTICS": reply with 8 frames, each a uint64 in little-endian
//     order (libzmq's layout on the usual little-endian hosts): messages
//     received on frontend, their bytes, messages sent on frontend, their
//     bytes, then the same four for backend. A multipart message counts
//     once; its bytes are the sum of its frames.
//
// When control is a REP socket, every command is answered (as a REP must):
// STATISTICS with its 8 frames, every other command (unknown ones included)
// with one empty frame. Other control types (PAIR, DEALER, PULL, SUB...)
// get the STATISTICS reply when they can send, and nothing else. Unknown
// commands are ignored. With a nil control, ProxySteerable is Proxy.
func ProxySteerable(ctx context.Context, frontend, backend, capture, control *Socket) error {
	return runProxy(ctx, frontend, backend, capture, control)
}

// canRecv and canSend tell what a socket type allows.
func canRecv(t SocketType) bool { return t != PUB && t != PUSH }
func canSend(t SocketType) bool { return t != SUB && t != PULL }

// proxyStats counts one side's traffic, in libzmq's order.
type proxyStats struct {
	msgsIn, bytesIn, msgsOut, bytesOut atomic.Uint64
}

// gate holds the pause state of a steerable proxy. While running, ctx is
// the context of the current "epoch", cancelled by PAUSE so that waiting
// Recv calls give up without taking anything; RESUME starts a new epoch.
type gate struct {
	parent context.Context

	mu      sync.Mutex
	ctx     context.Context    // nil while paused
	cancel  context.CancelFunc //
	resumed chan struct{}      // while paused: closed at RESUME
}

func newGate(parent context.Context) *gate {
	g := &gate{parent: parent}
	g.ctx, g.cancel = context.WithCancel(parent)
	return g
}

// wait returns the current epoch's context, waiting while paused.
func (g *gate) wait() (context.Context, error) {
	for {
		if err := g.parent.Err(); err != nil {
			return nil, err
		}
		g.mu.Lock()
		if g.ctx != nil {
			c := g.ctx
			g.mu.Unlock()
			return c, nil
		}
		ch := g.resumed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-g.parent.Done():
			return nil, g.parent.Err()
		}
	}
}

func (g *gate) pause() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx == nil {
		return
	}
	g.cancel()
	g.ctx, g.cancel = nil, nil
	g.resumed = make(chan struct{})
}

func (g *gate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx != nil {
		return
	}
	g.ctx, g.cancel = context.WithCancel(g.parent)
	close(g.resumed)
	g.resumed = nil
}

func (g *gate) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cancel != nil {
		g.cancel()
	}
}

// proxyRun is the state of one Proxy call.
type proxyRun struct {
	ctx    context.Context // ends when the call is over
	cancel context.CancelFunc
	gate   *gate
	wg     sync.WaitGroup

	captured chan [][]byte // nil without capture

	mu         sync.Mutex
	err        error
	terminated bool
}

// fail records the first failure and stops everything.
func (p *proxyRun) fail(err error) {
	p.mu.Lock()
	if p.err == nil && !p.terminated {
		p.err = err
	}
	p.mu.Unlock()
	p.cancel()
}

func (p *proxyRun) terminate() {
	p.mu.Lock()
	if p.err == nil {
		p.terminated = true
	}
	p.mu.Unlock()
	p.cancel()
}

func runProxy(ctx context.Context, frontend, backend, capture, control *Socket) error {
	if frontend == nil || backend == nil {
		return errors.New("azmq: Proxy: frontend and backend must not be nil")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	fwd := canRecv(frontend.Type()) && canSend(backend.Type())
	bwd := canRecv(backend.Type()) && canSend(frontend.Type())
	if !fwd && !bwd {
		return fmt.Errorf("azmq: Proxy: %w: no message can flow between a %v frontend and a %v backend",
			ErrNotSupported, frontend.Type(), backend.Type())
	}
	if capture != nil && !canSend(capture.Type()) {
		return fmt.Errorf("azmq: Proxy: %w: a %v socket cannot capture (it cannot send)", ErrNotSupported, capture.Type())
	}
	if control != nil && !canRecv(control.Type()) {
		return fmt.Errorf("azmq: Proxy: %w: a %v socket cannot be a control socket (it cannot receive)", ErrNotSupported, control.Type())
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	p := &proxyRun{}
	p.ctx, p.cancel = context.WithCancel(ctx)
	defer p.cancel()
	p.gate = newGate(p.ctx)
	var fstats, bstats proxyStats

	if capture != nil {
		p.captured = make(chan [][]byte, captureQueue)
		p.wg.Add(1)
		go p.captureLoop(capture)
	}
	if fwd {
		p.wg.Add(1)
		go p.forward("frontend", frontend, &fstats, "backend", backend, &bstats)
	}
	if bwd {
		p.wg.Add(1)
		go p.forward("backend", backend, &bstats, "frontend", frontend, &fstats)
	}
	if control != nil {
		p.wg.Add(1)
		go p.controlLoop(control, &fstats, &bstats)
	}
	p.wg.Wait()
	p.gate.stop()

	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.err != nil:
		return p.err
	case p.terminated:
		return nil
	}
	return ctx.Err()
}

// forward moves messages from src to dst until the proxy ends.
func (p *proxyRun) forward(srcName string, src *Socket, srcStats *proxyStats, dstName string, dst *Socket, dstStats *proxyStats) {
	defer p.wg.Done()
	for {
		ectx, err := p.gate.wait()
		if err != nil {
			return // the proxy is over
		}
		if ectx.Err() != nil {
			continue // paused since: even a ready message stays where it is
		}
		msg, err := src.Recv(ectx)
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			if ectx.Err() != nil {
				continue // paused: nothing was taken
			}
			p.fail(fmt.Errorf("azmq: Proxy: %s: %w", srcName, err))
			return
		}
		n := 0
		for _, f := range msg {
			n += len(f)
		}
		srcStats.msgsIn.Add(1)
		srcStats.bytesIn.Add(uint64(n))
		if p.captured != nil {
			// A copy: the message goes on to dst without one, and the same
			// slices must not go to two sockets.
			select {
			case p.captured <- msgcopy.Copy(msg):
			default: // the capture socket is behind: drop this copy
			}
		}
		// What Recv returned is the proxy's to give away: no copy.
		if err := dst.SendNoCopy(p.ctx, msg...); err != nil {
			if p.ctx.Err() != nil {
				return
			}
			if errors.Is(err, ErrHostUnreachable) {
				continue // unroutable: dropped, as a ROUTER does by default
			}
			p.fail(fmt.Errorf("azmq: Proxy: %s: %w", dstName, err))
			return
		}
		dstStats.msgsOut.Add(1)
		dstStats.bytesOut.Add(uint64(n))
	}
}

func (p *proxyRun) captureLoop(capture *Socket) {
	defer p.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			return
		case m := <-p.captured:
			if err := capture.SendNoCopy(p.ctx, m...); err != nil {
				if p.ctx.Err() != nil {
					return
				}
				p.fail(fmt.Errorf("azmq: Proxy: capture: %w", err))
				return
			}
		}
	}
}

func (p *proxyRun) controlLoop(control *Socket, fstats, bstats *proxyStats) {
	defer p.wg.Done()
	rep := control.Type() == REP
	for {
		msg, err := control.Recv(p.ctx)
		if err != nil {
			if p.ctx.Err() == nil {
				p.fail(fmt.Errorf("azmq: Proxy: control: %w", err))
			}
			return
		}
		var cmd string
		if len(msg) > 0 {
			cmd = string(msg[0])
		}
		var reply [][]byte
		switch cmd {
		case "PAUSE":
			p.gate.pause()
		case "RESUME":
			p.gate.resume()
		case "TERMINATE":
			if rep {
				// Best effort: the answer goes out before the proxy ends.
				_ = control.Send(p.ctx, []byte{})
			}
			p.terminate()
			return
		case "STATISTICS":
			if canSend(control.Type()) {
				reply = statsReply(fstats, bstats)
			}
		}
		if reply == nil && rep {
			reply = [][]byte{{}}
		}
		if reply != nil {
			if err := control.Send(p.ctx, reply...); err != nil {
				if p.ctx.Err() == nil {
					p.fail(fmt.Errorf("azmq: Proxy: control: %w", err))
				}
				return
			}
		}
	}
}

// statsReply is the 8-frame STATISTICS answer.
func statsReply(f, b *proxyStats) [][]byte {
	vals := [8]uint64{
		f.msgsIn.Load(), f.bytesIn.Load(), f.msgsOut.Load(), f.bytesOut.Load(),
		b.msgsIn.Load(), b.bytesIn.Load(), b.msgsOut.Load(), b.bytesOut.Load(),
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = binary.LittleEndian.AppendUint64(nil, v)
	}
	return out
}
