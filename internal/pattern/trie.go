package pattern

import (
	"bytes"
	"slices"

	"github.com/azmq/azmq/internal/pipe"
)

// trie is a radix tree of subscription topics (prefixes of a message's
// first frame). Edges carry whole byte strings rather than single bytes,
// so a long topic costs one node, not one per byte, and matching a message
// walks at most its first frame once.
//
// The same tree serves both sides: a subscriber counts references per
// topic (refs), a publisher keeps per topic the set of pipes subscribed to
// it (subs). A node exists only while it holds a value or forks.
type trie struct {
	root trieNode
}

type trieNode struct {
	label []byte // edge from the parent; never empty below the root
	kids  []*trieNode
	refs  int
	// subs are the pipes subscribed to the node's topic, each once (a
	// pipe's own topics say whether it is here). A slice, not a map:
	// every message walks it, and ranging over a small map costs more
	// than the match itself.
	subs []*subPipe
}

func (n *trieNode) hasValue() bool { return n.refs > 0 || len(n.subs) > 0 }

func (n *trieNode) kid(c byte) (int, *trieNode) {
	for i, k := range n.kids {
		if k.label[0] == c {
			return i, k
		}
	}
	return -1, nil
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// insert returns the node for topic, creating (and splitting) as needed.
func (t *trie) insert(topic []byte) *trieNode {
	n := &t.root
	for len(topic) > 0 {
		i, k := n.kid(topic[0])
		if k == nil {
			k = &trieNode{label: bytes.Clone(topic)}
			n.kids = append(n.kids, k)
			return k
		}
		c := commonPrefix(k.label, topic)
		if c < len(k.label) {
			// Split k's edge: a new node takes the common part.
			mid := &trieNode{label: k.label[:c:c], kids: []*trieNode{k}}
			k.label = k.label[c:]
			n.kids[i] = mid
			k = mid
		}
		n = k
		topic = topic[c:]
	}
	return n
}

// path returns the nodes from the root to topic's node, or nil if topic
// has no node.
func (t *trie) path(topic []byte, buf []*trieNode) []*trieNode {
	n := &t.root
	buf = append(buf[:0], n)
	for len(topic) > 0 {
		_, k := n.kid(topic[0])
		if k == nil || !bytes.HasPrefix(topic, k.label) {
			return nil
		}
		n = k
		topic = topic[len(k.label):]
		buf = append(buf, n)
	}
	return buf
}

// prune removes or merges the nodes on path that no longer hold a value,
// so memory follows the live subscriptions.
func (t *trie) prune(path []*trieNode) {
	for i := len(path) - 1; i > 0; i-- {
		n, parent := path[i], path[i-1]
		if n.hasValue() {
			return
		}
		switch len(n.kids) {
		case 0:
			j, _ := parent.kid(n.label[0])
			parent.kids = append(parent.kids[:j], parent.kids[j+1:]...)
			continue // the parent may now be empty too
		case 1:
			// A valueless node with one child is just a longer edge.
			k := n.kids[0]
			k.label = append(n.label[:len(n.label):len(n.label)], k.label...)
			j, _ := parent.kid(n.label[0])
			parent.kids[j] = k
		}
		return
	}
}

// walk calls fn for every node whose topic is a prefix of data, root first.
func (t *trie) walk(data []byte, fn func(*trieNode)) {
	n := &t.root
	fn(n)
	for len(data) > 0 {
		_, k := n.kid(data[0])
		if k == nil || !bytes.HasPrefix(data, k.label) {
			return
		}
		n = k
		data = data[len(k.label):]
		fn(n)
	}
}

// each calls fn with every topic holding a value (fn must not keep topic).
func (t *trie) each(fn func(topic []byte, n *trieNode)) {
	var rec func(n *trieNode, prefix []byte)
	rec = func(n *trieNode, prefix []byte) {
		prefix = append(prefix, n.label...)
		if n.hasValue() {
			fn(prefix, n)
		}
		for _, k := range n.kids {
			rec(k, prefix)
		}
	}
	rec(&t.root, nil)
}

// countTrie is a subscriber's local set: every topic with a reference count
// (libzmq trie.cpp).
type countTrie struct {
	t   trie
	buf []*trieNode
}

// add counts one more reference to topic.
func (c *countTrie) add(topic []byte) { c.t.insert(topic).refs++ }

// rm drops one reference; last reports that none is left. Removing a topic
// never added reports ok false.
func (c *countTrie) rm(topic []byte) (last, ok bool) {
	c.buf = c.t.path(topic, c.buf)
	if c.buf == nil || c.buf[len(c.buf)-1].refs == 0 {
		return false, false
	}
	n := c.buf[len(c.buf)-1]
	n.refs--
	if n.refs > 0 {
		return false, true
	}
	c.t.prune(c.buf)
	return true, true
}

// match reports whether some topic is a prefix of data.
func (c *countTrie) match(data []byte) bool {
	n := &c.t.root
	if n.refs > 0 {
		return true
	}
	for len(data) > 0 {
		_, k := n.kid(data[0])
		if k == nil || !bytes.HasPrefix(data, k.label) {
			return false
		}
		if k.refs > 0 {
			return true
		}
		n = k
		data = data[len(k.label):]
	}
	return false
}

// topics lists every topic once (for resending on a new connection).
func (c *countTrie) topics() [][]byte {
	var out [][]byte
	c.t.each(func(topic []byte, _ *trieNode) { out = append(out, bytes.Clone(topic)) })
	return out
}

// subPipe is a publisher's view of one subscriber: its pipe and its SET of
// topics (a duplicate subscribe changes nothing, one cancel removes).
type subPipe struct {
	p      *pipe.Pipe
	topics map[string]struct{}
	cost   int64  // SubscriptionCost of its topics
	mark   uint64 // last message it was matched for, to send once
	// asked (XPUB Manual) is what it subscribed to, which the
	// application applies or not: cancelled for it when it leaves.
	asked topicSet
}

// topicSet is a set of topics with their SubscriptionCost.
type topicSet struct {
	m    map[string]struct{}
	cost int64
}

func (ts *topicSet) has(topic []byte) bool {
	_, ok := ts.m[string(topic)]
	return ok
}

func (ts *topicSet) add(topic []byte) {
	if ts.has(topic) {
		return
	}
	if ts.m == nil {
		ts.m = make(map[string]struct{})
	}
	ts.m[string(topic)] = struct{}{}
	ts.cost += SubscriptionCost(topic)
}

func (ts *topicSet) rm(topic []byte) {
	if ts.has(topic) {
		delete(ts.m, string(topic))
		ts.cost -= SubscriptionCost(topic)
	}
}

// mtrie maps topics to the pipes subscribed to them (libzmq mtrie).
type mtrie struct {
	t   trie
	gen uint64
	buf []*trieNode
}

// holds reports whether sp is subscribed to topic.
func (sp *subPipe) holds(topic []byte) bool {
	_, ok := sp.topics[string(topic)]
	return ok
}

// add subscribes sp to topic. first reports that no pipe held it before.
// A duplicate subscription of the same pipe changes nothing.
func (m *mtrie) add(sp *subPipe, topic []byte) (first bool) {
	if sp.holds(topic) {
		return false
	}
	if sp.topics == nil {
		sp.topics = make(map[string]struct{})
	}
	sp.topics[string(topic)] = struct{}{}
	sp.cost += SubscriptionCost(topic)
	n := m.t.insert(topic)
	n.subs = append(n.subs, sp)
	return len(n.subs) == 1
}

// rm cancels sp's subscription to topic. last reports that no pipe holds
// it any more. Cancelling a topic sp does not hold does nothing.
func (m *mtrie) rm(sp *subPipe, topic []byte) (last bool) {
	if _, ok := sp.topics[string(topic)]; !ok {
		return false
	}
	delete(sp.topics, string(topic))
	sp.cost -= SubscriptionCost(topic)
	m.buf = m.t.path(topic, m.buf)
	if m.buf == nil {
		return false
	}
	n := m.buf[len(m.buf)-1]
	if i := slices.Index(n.subs, sp); i >= 0 {
		last := len(n.subs) - 1
		n.subs[i] = n.subs[last]
		n.subs[last] = nil
		n.subs = n.subs[:last]
	}
	if len(n.subs) > 0 {
		return false
	}
	n.subs = nil
	m.t.prune(m.buf)
	return true
}

// rmAll drops every subscription of sp, calling last for each topic no
// other pipe holds.
func (m *mtrie) rmAll(sp *subPipe, last func(topic string)) {
	for topic := range sp.topics {
		if m.rm(sp, []byte(topic)) && last != nil {
			last(topic)
		}
	}
}

// match calls fn once for every pipe subscribed to a prefix of data.
func (m *mtrie) match(data []byte, fn func(*subPipe)) {
	m.gen++
	gen := m.gen
	m.t.walk(data, func(n *trieNode) {
		for _, sp := range n.subs {
			if sp.mark != gen {
				sp.mark = gen
				fn(sp)
			}
		}
	})
}
