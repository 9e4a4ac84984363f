package main

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	azmqpkg "github.com/azmq/azmq"
)

func TestKeepAliveFlag(t *testing.T) {
	for _, c := range []struct {
		in   string
		want net.KeepAliveConfig
		bad  bool
	}{
		{in: "off", want: net.KeepAliveConfig{}},
		{in: "on", want: net.KeepAliveConfig{Enable: true}},
		{in: "30s", want: net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second}},
		{in: "1m,10s,4", want: net.KeepAliveConfig{Enable: true, Idle: time.Minute, Interval: 10 * time.Second, Count: 4}},
		{in: "", bad: true},
		{in: "yes", bad: true},
		{in: "30", bad: true},
		{in: "30s,-1s", bad: true},
		{in: "30s,10s,0", bad: true},
		{in: "30s,10s,4,1", bad: true},
	} {
		got, err := keepAlive(c.in)
		if c.bad {
			var u errUsage
			if err == nil || !errors.As(err, &u) {
				t.Errorf("keepAlive(%q) = %+v, %v; want a usage error", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("keepAlive(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

// TestOptFlags: each flag becomes its option, which NewSocket takes on
// the types that have it and refuses, naming it, on the others.
func TestOptFlags(t *testing.T) {
	z := azmqpkg.NewContext()
	defer z.Close()
	for _, c := range []struct {
		flags    optFlags
		ok, bad  azmqpkg.SocketType
		mentions string
	}{
		{optFlags{conflate: true}, azmqpkg.PULL, azmqpkg.REP, "WithConflate"},
		{optFlags{xpubVerbose: true}, azmqpkg.XPUB, azmqpkg.PUB, "WithXPubVerbose"},
		{optFlags{xpubNoDrop: true}, azmqpkg.PUB, azmqpkg.SUB, "WithXPubNoDrop"},
		{optFlags{routerHandover: true}, azmqpkg.ROUTER, azmqpkg.DEALER, "WithRouterHandover"},
		{optFlags{metadata: strList{"X-A=b"}}, azmqpkg.REQ, -1, ""},
		{optFlags{keepalive: "10s,5s,3"}, azmqpkg.DEALER, -1, ""},
	} {
		opts, err := c.flags.options()
		if err != nil {
			t.Fatalf("%+v: %v", c.flags, err)
		}
		s, err := z.NewSocket(c.ok, opts...)
		if err != nil {
			t.Errorf("%+v on %v: %v", c.flags, c.ok, err)
		} else {
			s.Close()
		}
		if c.bad < 0 {
			continue
		}
		if _, err := z.NewSocket(c.bad, opts...); err == nil || !strings.Contains(err.Error(), c.mentions) {
			t.Errorf("%+v on %v: %v; want an error naming %s", c.flags, c.bad, err, c.mentions)
		}
	}
	if _, err := (&optFlags{metadata: strList{"novalue"}}).options(); err == nil {
		t.Error("--metadata without = accepted")
	}
}
