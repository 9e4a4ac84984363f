//go:build !windows

package interop

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// The draft socket types are tested against the libzmq that zeromq.js
// ships, built with the draft API (Debian's is not): peer.mjs, run by node,
// with zeromq.js installed in interop/node by `npm ci` (scripts/deps.sh).

// nodeDir is where zeromq.js is installed, relative to this package.
const nodeDir = "node"

// nodeCheck is node's check that zeromq.js loads from nodeDir with the
// draft API; it prints the versions (as scripts/lib.sh's zeromqjs_check).
const nodeCheck = `let z;
try { z = require("zeromq"); require("zeromq/draft"); } catch (e) { console.error(e.message.split("\n")[0]); process.exit(1); }
if (!z.capability.draft) { console.error("its libzmq " + z.version + " lacks the draft API"); process.exit(1); }
console.log("node " + process.version + ", zeromq.js " + require("zeromq/package.json").version + ", libzmq " + z.version);`

// nodePeerAvailable finds node and checks zeromq.js, once per run.
var nodePeerAvailable = sync.OnceValues(func() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("no node on PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--no-warnings", "-e", nodeCheck)
	cmd.Dir = nodeDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if msg := bytes.TrimSpace(out); len(msg) > 0 {
			err = fmt.Errorf("%w: %s", err, abbrev(string(msg), 300))
		}
		return "", fmt.Errorf("zeromq.js does not load from interop/%s: %w", nodeDir, err)
	}
	return node, nil
})

// requireNodePeer skips the test when the zeromq.js peer cannot run, or
// fails it when AZMQ_INTEROP=1 says the peer must be there.
func requireNodePeer(t *testing.T) {
	t.Helper()
	if _, err := nodePeerAvailable(); err != nil {
		const how = "scripts/deps.sh zeromqjs, or npm ci in interop/node"
		if os.Getenv("AZMQ_INTEROP") == "1" {
			t.Fatalf("zeromq.js peer required (AZMQ_INTEROP=1) but unavailable: %v; install it with: %s", err, how)
		}
		t.Skipf("zeromq.js peer unavailable, skipping: %v (%s; AZMQ_INTEROP=1 turns this skip into a failure)", err, how)
	}
}

// startNodePeer starts peer.mjs with the spec, as startPeer does peer.py.
func startNodePeer(t *testing.T, sp spec) *peer {
	t.Helper()
	requireNodePeer(t)
	node, _ := nodePeerAvailable()
	script, err := filepath.Abs("peer.mjs")
	if err != nil {
		t.Fatal(err)
	}
	// --no-warnings: zeromq.js warns on stderr that the draft API is
	// experimental, which would bury a real message.
	return startProcess(t, "zeromq.js "+sp.Type, sp, node, "--no-warnings", script)
}

// nodeLink is link with a zeromq.js peer.
func nodeLink(t *testing.T, s *azmq.Socket, sp spec, tp topo) *peer {
	t.Helper()
	return linkWith(t, s, sp, tp, startNodePeer)
}

// runNodeCases is runCases with a zeromq.js peer.
func runNodeCases(t *testing.T, topos []topo, cases []pairCase) {
	runCasesWith(t, topos, cases, requireNodePeer, startNodePeer)
}

// nextWithin returns the peer's next line, or false when none comes
// within d; the peer ending fails the test.
func (p *peer) nextWithin(d time.Duration) (peerLine, bool) {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.failf("ended without the expected line (%s)", p.exitStatus())
		}
		return l, true
	case <-time.After(d):
		return peerLine{}, false
	}
}

// body1 is the one frame of a message line of a draft type, failing the
// test on any other count.
func (p *peer) body1(l peerLine) []byte {
	p.t.Helper()
	if len(l.frame) != 1 {
		p.failf("a message of %d frames (%s): the draft types send one", len(l.frame), abbrev(l.raw, 200))
	}
	return l.frame[0]
}

// udpFree reports whether a UDP socket of network can bind port on the
// wildcard address.
func udpFree(network string, port int) bool {
	c, err := net.ListenPacket(network, ":"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freeUDPPort is a UDP port free on every interface, for a libzmq DISH's
// udp bind: the test picks it, as libzmq resolves no port for a udp bind
// to "*". It is one below the system's range of ephemeral ports, a
// different one each call: a port of that range found free could be
// taken, before the bind, by any socket's own port (a RADIO's); and a
// libzmq DISH would not say so, its udp bind failing after zmq_bind has
// returned. An azmq DISH binds port "*" instead: the system picks, and
// no other socket can take the port between the pick and the bind.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	low := ephemeralLow()
	span := min(low-1024, 8192)
	for range span {
		port := low - 1 - int(udpPortNext.Add(1)%uint32(span))
		// Both families: a DISH binds udp://*:port on the IPv6 wildcard
		// where there is one, which an IPv6-only user of the port
		// refuses though udp4 is free.
		if !udpFree("udp4", port) || !udpFree("udp", port) {
			continue // taken by some service
		}
		return port
	}
	t.Fatalf("no free UDP port in the %d below %d", span, low)
	return 0
}

// udpPortNext counts the ports freeUDPPort handed out, from a random
// start, so that concurrent runs are unlikely to pick alike.
var udpPortNext = func() *atomic.Uint32 {
	var n atomic.Uint32
	n.Store(rand.Uint32())
	return &n
}()

// ephemeralLow is the first port of the system's ephemeral range (Linux
// says it; 49152 is the IANA range that BSDs and macOS use).
func ephemeralLow() int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 2048 {
				return n
			}
		}
	}
	return 49152
}

// udpEndpoint is udp://host:port.
func udpEndpoint(host string, port int) string {
	return "udp://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// ack waits for the {"ack": op} of an interactive step; acks of other
// steps are skipped, any other line fails the test.
func (p *peer) ack(op string) {
	p.t.Helper()
	for {
		l := p.next()
		if l.kind() != "ack" {
			p.failf("expected the ack of %q, got %s", op, abbrev(l.raw, 300))
		}
		if l.Ack == op {
			return
		}
	}
}
