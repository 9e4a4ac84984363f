package azmq_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeCompiles builds every complete program (a ```go block that
// starts with "package main") of README.md against this module.
func TestReadmeCompiles(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH (the Windows leg runs test binaries only)")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(readme), "```go\n")[1:]
	n := 0
	for _, b := range blocks {
		code, _, ok := strings.Cut(b, "```")
		if !ok || !strings.HasPrefix(code, "package main") {
			continue
		}
		n++
		dir := t.TempDir()
		mod := "module readme\n\ngo 1.26\n\nrequire github.com/azmq/azmq v0.0.0\n\nreplace github.com/azmq/azmq => " + filepath.ToSlash(root) + "\n"
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		// The module's own go.sum answers for its dependencies.
		sum, _ := os.ReadFile(filepath.Join(root, "go.sum"))
		os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
		cmd := exec.Command(goBin, "vet", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("README program %d does not build: %v\n%s\n%s", n, err, out, code)
		}
	}
	if n == 0 {
		t.Fatal("README.md has no complete program")
	}
}
