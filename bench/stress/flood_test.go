package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A short flood through real processes of the tool: the table is
// well-formed and every message sent arrived, in order. Memory is
// printed, not judged: a fraction of a second on a busy machine says
// nothing reliable about peaks.
func TestFloodShort(t *testing.T) {
	exe := tool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	transports := "tcp,ipc"
	if runtime.GOOS == "windows" {
		transports = "tcp" // the ipc leg there is a named pipe; tcp suffices
	}
	cfg, err := newFloodConfig(transports, "16,4k", "50", 300*time.Millisecond, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := runFlood(ctx, cfg, exe, &out, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if want := len(cfg.transports) * 2; len(res) != want {
		t.Fatalf("%d results, want %d", len(res), want)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(res)+2 || lines[1] != floodHeader {
		t.Fatalf("want a title, the header and %d rows; got %q", len(res), lines)
	}
	for i, r := range res {
		if r.sent == 0 || !r.accounted() {
			t.Errorf("%s %d: sent %d, received %d, in order %v, end %d", r.transport, r.size, r.sent, r.received, r.inOrder, r.end)
		}
		if row := lines[i+2]; row != r.row() || !strings.HasPrefix(row, r.transport+" ") {
			t.Errorf("row %q does not match its result", row)
		}
		if runtime.GOOS == "linux" && (r.push.base <= 0 || r.push.peak <= 0 || r.pull.base <= 0 || r.pull.peak <= 0) {
			t.Errorf("%s %d: memory not measured: %+v %+v", r.transport, r.size, r.push, r.pull)
		}
	}
}

func TestFloodUsage(t *testing.T) {
	for _, args := range [][]string{
		{"flood", "-sizes", "4"},
		{"flood", "-hwm", "0"},
		{"flood", "-transports", "inproc"},
		{"flood_push", "-size", "16"},
		{"flood_pull", "-endpoint", "tcp://127.0.0.1:*", "-size", "7"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2; stderr %q", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"flood", "--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "-pause") {
		t.Errorf("--help: exit %d, output %q", code, out.String())
	}
}

func TestFloodRecvState(t *testing.T) {
	data := func(n uint64) [][]byte {
		b := make([]byte, 16)
		binary.BigEndian.PutUint64(b, n)
		return [][]byte{b}
	}
	var s floodRecvState
	for _, m := range [][][]byte{data(0), data(1), data(3), ctrlMsg("end", 4)} {
		if err := s.take(m, 16); err != nil {
			t.Fatal(err)
		}
	}
	if s.received != 3 || s.misordered != 1 || !s.ended || s.end != 4 {
		t.Errorf("state %+v", s)
	}
	if err := s.take([][]byte{make([]byte, 15)}, 16); err == nil {
		t.Error("a message of the wrong size was taken")
	}
}
