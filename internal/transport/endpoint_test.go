package transport

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Endpoint
		wantErr error // nil: must succeed
	}{
		// tcp, valid
		{in: "tcp://127.0.0.1:5555", want: Endpoint{"tcp", "127.0.0.1:5555"}},
		{in: "tcp://127.0.0.1:*", want: Endpoint{"tcp", "127.0.0.1:*"}},
		{in: "tcp://*:*", want: Endpoint{"tcp", "*:*"}},
		{in: "tcp://*:0", want: Endpoint{"tcp", "*:0"}},
		{in: "tcp://*:65535", want: Endpoint{"tcp", "*:65535"}},
		{in: "tcp://[::1]:5555", want: Endpoint{"tcp", "[::1]:5555"}},
		{in: "tcp://[::]:*", want: Endpoint{"tcp", "[::]:*"}},
		{in: "tcp://[fe80::1%eth0]:5555", want: Endpoint{"tcp", "[fe80::1%eth0]:5555"}},
		{in: "tcp://localhost:5555", want: Endpoint{"tcp", "localhost:5555"}},
		{in: "tcp://example.com.:1", want: Endpoint{"tcp", "example.com.:1"}},
		{in: "tcp://eth0:5555", want: Endpoint{"tcp", "eth0:5555"}},
		{in: "tcp://my_host-1:5555", want: Endpoint{"tcp", "my_host-1:5555"}},
		// tcp, invalid
		{in: "tcp://127.0.0.1", wantErr: ErrEndpoint},
		{in: "tcp://127.0.0.1:", wantErr: ErrEndpoint},
		{in: "tcp://:5555", wantErr: ErrEndpoint},
		{in: "tcp://", wantErr: ErrEndpoint},
		{in: "tcp://127.0.0.1:65536", wantErr: ErrEndpoint},
		{in: "tcp://127.0.0.1:-1", wantErr: ErrEndpoint},
		{in: "tcp://127.0.0.1:+80", wantErr: ErrEndpoint},
		{in: "tcp://127.0.0.1:http", wantErr: ErrEndpoint},
		{in: "tcp://127.0.0.1:5555 ", wantErr: ErrEndpoint},
		{in: "tcp://::1:5555", wantErr: ErrEndpoint},
		{in: "tcp://[::1:5555", wantErr: ErrEndpoint},
		{in: "tcp://[::1]5555", wantErr: ErrEndpoint},
		{in: "tcp://[::1]", wantErr: ErrEndpoint},
		{in: "tcp://[::1]:", wantErr: ErrEndpoint},
		{in: "tcp://[127.0.0.1]:5555", wantErr: ErrEndpoint},
		{in: "tcp://[*]:5555", wantErr: ErrEndpoint},
		{in: "tcp://bad host:5555", wantErr: ErrEndpoint},
		{in: "tcp://a/b:5555", wantErr: ErrEndpoint},
		{in: "tcp://" + strings.Repeat("a", 254) + ":1", wantErr: ErrEndpoint},
		// tcp with a source address (libzmq's "src;dst"), valid
		{in: "tcp://127.0.0.2:0;127.0.0.1:5555", want: Endpoint{"tcp", "127.0.0.2:0;127.0.0.1:5555"}},
		{in: "tcp://127.0.0.2:*;localhost:5555", want: Endpoint{"tcp", "127.0.0.2:*;localhost:5555"}},
		{in: "tcp://*:6000;127.0.0.1:5555", want: Endpoint{"tcp", "*:6000;127.0.0.1:5555"}},
		{in: "tcp://eth0:0;10.0.0.1:5555", want: Endpoint{"tcp", "eth0:0;10.0.0.1:5555"}},
		{in: "tcp://[::1]:0;[::1]:5555", want: Endpoint{"tcp", "[::1]:0;[::1]:5555"}},
		// tcp with a source address, invalid: libzmq wants its port too
		{in: "tcp://192.168.1.1;10.0.0.1:5555", wantErr: ErrEndpoint},
		{in: "tcp://eth0;10.0.0.1:5555", wantErr: ErrEndpoint},
		{in: "tcp://;10.0.0.1:5555", wantErr: ErrEndpoint},
		{in: "tcp://127.0.0.2:0;", wantErr: ErrEndpoint},
		{in: "tcp://127.0.0.2:0;10.0.0.1", wantErr: ErrEndpoint},
		{in: "tcp://a:1;b:2;10.0.0.1:5555", wantErr: ErrEndpoint},
		{in: "tcp://127.0.0.2:70000;10.0.0.1:5555", wantErr: ErrEndpoint},
		{in: "tcp://224.0.0.1:0;10.0.0.1:5555", wantErr: ErrEndpoint},
		{in: "tcp://bad host:0;10.0.0.1:5555", wantErr: ErrEndpoint},
		{in: "ws://127.0.0.2:0;127.0.0.1:5555/", wantErr: ErrUnsupportedTransport},
		// ipc (the forms that depend on the platform: TestParseIPC)
		{in: "ipc://", wantErr: ErrEndpoint},
		{in: "ipc://@", wantErr: ErrEndpoint},
		{in: "ipc://a\x00b", wantErr: ErrEndpoint},
		// inproc
		{in: "inproc://name", want: Endpoint{"inproc", "name"}},
		{in: "inproc://a:b/c", want: Endpoint{"inproc", "a:b/c"}},
		{in: "inproc://", wantErr: ErrEndpoint},
		// scheme
		{in: "127.0.0.1:5555", wantErr: ErrEndpoint},
		{in: "tcp:/127.0.0.1:5555", wantErr: ErrEndpoint},
		{in: "", wantErr: ErrEndpoint},
		{in: "://x", wantErr: ErrEndpoint},
		// ws, wss
		{in: "ws://127.0.0.1:5555", want: Endpoint{"ws", "127.0.0.1:5555"}},
		{in: "wss://127.0.0.1:5555", want: Endpoint{"wss", "127.0.0.1:5555"}},
		{in: "ws://*:*/zmq", want: Endpoint{"ws", "*:*/zmq"}},
		{in: "ws://[::1]:80/a/b-c_d.e~f", want: Endpoint{"ws", "[::1]:80/a/b-c_d.e~f"}},
		{in: "wss://example.com:443/", want: Endpoint{"wss", "example.com:443/"}},
		{in: "ws://127.0.0.1/zmq", wantErr: ErrEndpoint},
		{in: "ws://127.0.0.1:5555/a b", wantErr: ErrEndpoint},
		{in: "ws://127.0.0.1:5555/a?b", wantErr: ErrEndpoint},
		{in: "ws://127.0.0.1:5555/a#b", wantErr: ErrEndpoint},
		{in: "ws://127.0.0.1:5555/*", wantErr: ErrEndpoint},
		{in: "ws://127.0.0.1:5555/\x7f", wantErr: ErrEndpoint},
		{in: "ws://:5555/", wantErr: ErrEndpoint},
		{in: "wss://127.0.0.1:99999/", wantErr: ErrEndpoint},
		{in: "ws://", wantErr: ErrEndpoint},
		{in: "pgm://eth0;239.192.1.1:5555", wantErr: ErrUnsupportedTransport},
		{in: "epgm://eth0;239.192.1.1:5555", wantErr: ErrUnsupportedTransport},
		{in: "udp://127.0.0.1:5555", wantErr: ErrUnsupportedTransport},
		{in: "TCP://127.0.0.1:5555", wantErr: ErrUnsupportedTransport},
		{in: "foo://bar", wantErr: ErrEndpoint},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Parse(%q) error: %v", tt.in, err)
				}
				if got != tt.want {
					t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
				}
				if got.String() != tt.in {
					t.Fatalf("String() = %q, want %q", got.String(), tt.in)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error %v", tt.in, got, tt.wantErr)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%q) error %v, want errors.Is %v", tt.in, err, tt.wantErr)
			}
			// Every Parse error is a bad endpoint, unsupported ones included.
			if !errors.Is(err, ErrEndpoint) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrEndpoint", tt.in, err)
			}
			if !strings.HasPrefix(err.Error(), "transport: endpoint ") || !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
				t.Fatalf("Parse(%q) error %q should name the input", tt.in, err)
			}
			if got != (Endpoint{}) {
				t.Fatalf("Parse(%q) returned %+v with error", tt.in, got)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := Parse("tcp://x")
	const want = `transport: endpoint "tcp://x": missing port: bad endpoint`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// TestParseIPC checks the ipc forms whose validity depends on the platform:
// paths need AF_UNIX, "@name" Linux, pipe names Windows. Where the platform
// lacks the feature, Parse must refuse the endpoint as unsupported.
func TestParseIPC(t *testing.T) {
	const (
		unix     = "AF_UNIX"
		abstract = "abstract namespace"
		pipe     = "named pipes"
	)
	have := map[string]bool{
		unix:     afUnixSupported() == nil,
		abstract: abstractNamespace,
		pipe:     namedPipes,
	}
	long := strings.Repeat("n", maxPipeName-len(pipePrefix))
	tests := []struct {
		in      string
		needs   string
		want    Endpoint
		wantErr error // on a platform that has what the endpoint needs
	}{
		{in: "ipc:///tmp/x.sock", needs: unix, want: Endpoint{"ipc", "/tmp/x.sock"}},
		{in: "ipc://relative.sock", needs: unix, want: Endpoint{"ipc", "relative.sock"}},
		{in: "ipc://*", needs: unix, want: Endpoint{"ipc", "*"}},
		{in: `ipc://C:\Users\me\x.sock`, needs: unix, want: Endpoint{"ipc", `C:\Users\me\x.sock`}},
		{in: "ipc://pipe/x", needs: unix, want: Endpoint{"ipc", "pipe/x"}}, // a relative path, not a pipe
		{in: "ipc://@abstract", needs: abstract, want: Endpoint{"ipc", "@abstract"}},
		{in: `ipc://\\.\pipe\x`, needs: pipe, want: Endpoint{"ipc", `\\.\pipe\x`}},
		{in: `ipc://\\.\PIPE\x`, needs: pipe, want: Endpoint{"ipc", `\\.\PIPE\x`}},
		{in: `ipc://\\.\pipe\a\b c`, needs: pipe, want: Endpoint{"ipc", `\\.\pipe\a\b c`}},
		{in: `ipc://\\.\pipe\*`, needs: pipe, want: Endpoint{"ipc", `\\.\pipe\*`}},
		{in: "ipc:////./pipe/x", needs: pipe, want: Endpoint{"ipc", "//./pipe/x"}},
		{in: "ipc://pipe:x", needs: pipe, want: Endpoint{"ipc", "pipe:x"}},
		{in: "ipc://Pipe:x", needs: pipe, want: Endpoint{"ipc", "Pipe:x"}},
		{in: `ipc://\\.\pipe\` + long, needs: pipe, want: Endpoint{"ipc", `\\.\pipe\` + long}},
		{in: `ipc://\\.\pipe\` + long + "n", needs: pipe, wantErr: ErrEndpoint},
		{in: `ipc://\\.\pipe\`, needs: pipe, wantErr: ErrEndpoint},
		{in: "ipc://pipe:", needs: pipe, wantErr: ErrEndpoint},
		{in: "ipc:///" + strings.Repeat("p", maxIPCPath-1), needs: unix, want: Endpoint{"ipc", "/" + strings.Repeat("p", maxIPCPath-1)}},
		{in: "ipc:///" + strings.Repeat("p", maxIPCPath), needs: unix, wantErr: ErrEndpoint},
		{in: "ipc://@" + strings.Repeat("a", maxIPCPath), needs: abstract, want: Endpoint{"ipc", "@" + strings.Repeat("a", maxIPCPath)}},
		{in: "ipc://@" + strings.Repeat("a", maxIPCPath+1), needs: abstract, wantErr: ErrEndpoint},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			switch {
			case !have[tt.needs]:
				if !errors.Is(err, ErrUnsupportedTransport) || !errors.Is(err, ErrEndpoint) {
					t.Fatalf("Parse(%q) = %+v, %v; without %s want an error wrapping ErrUnsupportedTransport and ErrEndpoint", tt.in, got, err, tt.needs)
				}
				if tt.needs == pipe && !strings.Contains(err.Error(), "Windows-only") {
					t.Fatalf("Parse(%q) error %q should say named pipes are Windows-only", tt.in, err)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse(%q) = %+v, %v; want error %v", tt.in, got, err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			case got != tt.want || got.String() != tt.in:
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPipeName(t *testing.T) {
	tests := []struct {
		addr, name string
		ok         bool
	}{
		{`\\.\pipe\x`, `\\.\pipe\x`, true},
		{`\\.\Pipe\x/y`, `\\.\pipe\x/y`, true},
		{"//./pipe/x/y", `\\.\pipe\x/y`, true},
		{"pipe:x", `\\.\pipe\x`, true},
		{"PIPE:*", `\\.\pipe\*`, true},
		{"pipe:", `\\.\pipe\`, true},
		{"pipe/x", "", false},
		{`\\.\pipes\x`, "", false},
		{`\\server\pipe\x`, "", false},
		{"/tmp/pipe:x", "", false},
		{"pipe", "", false},
	}
	for _, tt := range tests {
		name, ok := pipeName(tt.addr)
		if name != tt.name || ok != tt.ok {
			t.Errorf("pipeName(%q) = %q, %v; want %q, %v", tt.addr, name, ok, tt.name, tt.ok)
		}
	}
}
