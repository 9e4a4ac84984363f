package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/azmq/azmq/z85"
	"golang.org/x/crypto/curve25519"
)

func TestKeygen(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"keygen"}, &out, &errb); code != 0 {
		t.Fatalf("keygen exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != "== CURVE PUBLIC KEY ==" || lines[2] != "== CURVE SECRET KEY ==" {
		t.Fatalf("keygen output:\n%s", out.String())
	}
	pub, err := z85.Decode(lines[1])
	if err != nil || len(pub) != 32 {
		t.Fatalf("public key %q: %v", lines[1], err)
	}
	sec, err := z85.Decode(lines[3])
	if err != nil || len(sec) != 32 {
		t.Fatalf("secret key %q: %v", lines[3], err)
	}
	derived, err := curve25519.X25519(sec, curve25519.Basepoint)
	if err != nil || !bytes.Equal(derived, pub) {
		t.Fatalf("the public key is not the secret key's")
	}
	if code := run([]string{"keygen", "extra"}, &out, &errb); code != 2 {
		t.Fatalf("keygen with an argument: exit %d, want 2", code)
	}
}
