package transport

import (
	"bytes"
	"net"
	"testing"
)

// countConn records each Write it gets.
type countConn struct {
	net.Conn
	writes [][]byte
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func TestCorkConn(t *testing.T) {
	under := &countConn{}
	c := &corkConn{Conn: under}
	c.Write([]byte("a")) // not corked: at once
	c.cork()
	c.Write([]byte("b"))
	c.Write([]byte("c"))
	if len(under.writes) != 1 {
		t.Fatalf("%d writes while corked, want 1 (the uncorked one)", len(under.writes))
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{'x'}, corkMax+1)
	c.cork()
	c.Write([]byte("d"))
	c.Write(big) // flushes "d", then goes out whole
	c.uncork()
	want := []string{"a", "bc", "d", string(big)}
	if len(under.writes) != len(want) {
		t.Fatalf("%d writes, want %d", len(under.writes), len(want))
	}
	for i, w := range want {
		if string(under.writes[i]) != w {
			t.Fatalf("write %d = %.10q, want %.10q", i, under.writes[i], w)
		}
	}
}
