package azmq

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// netPair is two network namespaces made by the test, joined by a veth
// pair: a at addrA, b at addrB. Nothing else is reachable from them.
type netPair struct {
	t            *testing.T
	nsA, nsB     string
	devA         string
	addrA, addrB string
}

// newNetPair makes the namespaces, or skips the test where this machine
// cannot (not root, no ip command, no namespace support).
func newNetPair(t *testing.T) *netPair {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("silent partitions need network namespaces, which need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("silent partitions need the ip command (iproute2)")
	}
	id := os.Getpid() % 100000
	n := &netPair{
		t:     t,
		nsA:   fmt.Sprintf("azmq-a-%d", id),
		nsB:   fmt.Sprintf("azmq-b-%d", id),
		devA:  fmt.Sprintf("azva%d", id),
		addrA: fmt.Sprintf("10.231.%d.1", id%250),
		addrB: fmt.Sprintf("10.231.%d.2", id%250),
	}
	devB := fmt.Sprintf("azvb%d", id)
	if out, err := exec.Command("ip", "netns", "add", n.nsA).CombinedOutput(); err != nil {
		t.Skipf("this machine cannot make network namespaces: ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.nsA).Run() })
	n.ip("netns", "add", n.nsB)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.nsB).Run() })
	n.ip("link", "add", n.devA, "netns", n.nsA, "type", "veth", "peer", "name", devB, "netns", n.nsB)
	n.ip("-n", n.nsA, "addr", "add", n.addrA+"/24", "dev", n.devA)
	n.ip("-n", n.nsB, "addr", "add", n.addrB+"/24", "dev", devB)
	for _, c := range [][]string{
		{"-n", n.nsA, "link", "set", "lo", "up"}, {"-n", n.nsA, "link", "set", n.devA, "up"},
		{"-n", n.nsB, "link", "set", "lo", "up"}, {"-n", n.nsB, "link", "set", devB, "up"},
	} {
		n.ip(c...)
	}
	return n
}

func (n *netPair) ip(args ...string) {
	n.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		n.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// The two ways of cutting the link silently: no RST, no FIN, no ICMP the
// peers would see; packets just stop arriving.
var partitions = []struct {
	name      string
	cut, heal func(n *netPair)
}{
	{"blackhole", func(n *netPair) {
		n.ip("-n", n.nsA, "route", "add", "blackhole", n.addrB+"/32")
		n.ip("-n", n.nsB, "route", "add", "blackhole", n.addrA+"/32")
	}, func(n *netPair) {
		n.ip("-n", n.nsA, "route", "del", "blackhole", n.addrB+"/32")
		n.ip("-n", n.nsB, "route", "del", "blackhole", n.addrA+"/32")
	}},
	{"linkdown", func(n *netPair) {
		n.ip("-n", n.nsA, "link", "set", n.devA, "down")
	}, func(n *netPair) {
		n.ip("-n", n.nsA, "link", "set", n.devA, "up")
	}},
}

// A 5 s silent partition between a PUSH and a PULL in two processes, in
// two namespaces: heartbeats detect it on both sides well within the
// partition, what is sent while it lasts waits in the PUSH's queue, the
// PUSH reconnects once it heals, and the PULL gets every message exactly
// once and in order.
func TestSilentPartitionHealed(t *testing.T) {
	for _, part := range partitions {
		t.Run(part.name, func(t *testing.T) {
			n := newNetPair(t)
			ep := fmt.Sprintf("tcp://%s:5555", n.addrA)
			pull := startPeer(t, "pull", ep, true, true, 0, "ip", "netns", "exec", n.nsA)
			push := startPeer(t, "push", ep, false, true, 0, "ip", "netns", "exec", n.nsB)
			const size = 1000
			push.say("send 100 %d", size)
			pull.waitRecv(10*time.Second, 99)

			part.cut(n)
			cut := time.Now()
			// Heartbeats (every 250 ms, 1 s timeout) must notice on both
			// sides, long before TCP would.
			for _, p := range []*peerProc{push, pull} {
				if ev := p.waitLine(4*time.Second, "event Disconnected"); !strings.Contains(ev, "heartbeat") {
					t.Fatalf("the link was dropped for another reason: %s", ev)
				}
			}
			detected := time.Since(cut)
			push.say("send 100 %d", size) // queued: the PUSH has no connection
			push.waitLine(5*time.Second, "sent 200")
			time.Sleep(5*time.Second - time.Since(cut)) // the partition lasts 5 s
			part.heal(n)
			healed := time.Now()

			pull.waitRecv(20*time.Second, 199)
			resumed := time.Since(healed)
			push.say("send 100 %d", size)
			pull.waitRecv(10*time.Second, 299)
			if got := pull.received(); len(got) != 300 || !contiguous(got, 0) {
				t.Fatalf("PULL got %d messages (want 300, each once, in order)", len(got))
			}
			t.Logf("%s: both sides dropped the link %v into the partition; flow resumed %v after it healed; 300/300 messages",
				part.name, detected.Round(time.Millisecond), resumed.Round(time.Millisecond))
			push.say("quit")
			pull.say("quit")
		})
	}
}
