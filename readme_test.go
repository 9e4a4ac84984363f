package azmq_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeCompiles builds and vets every ```go block of README.md as a
// program of its own against this module. Each block must be a complete
// program (it starts with "package main"), so that every Go snippet a
// reader copies from the README is checked; a fragment fails the test.
// scripts/walkthrough.sh runs this test in a fresh clone, too.
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
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go [0-9.]+$`).Find(gomod)
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	// The module's own go.sum answers for its dependencies.
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(readme), "```go\n")[1:]
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go block")
	}
	for i, b := range blocks {
		n := i + 1
		code, _, ok := strings.Cut(b, "```")
		if !ok {
			t.Fatalf("README.md's go block %d is not closed", n)
		}
		if !strings.HasPrefix(code, "package main\n") {
			first, _, _ := strings.Cut(code, "\n")
			t.Errorf("README.md's go block %d (%q...) is not a complete program: every Go block must start with \"package main\", so that it is built", n, first)
			continue
		}
		dir := t.TempDir()
		mod := "module readme\n\n" + string(goLine) + "\n\nrequire github.com/azmq/azmq v0.0.0\n\nreplace github.com/azmq/azmq => " + filepath.ToSlash(root) + "\n"
		for name, data := range map[string][]byte{"go.mod": []byte(mod), "go.sum": sum, "main.go": []byte(code)} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, args := range [][]string{{"build", "-o", filepath.Join(dir, "prog.exe"), "."}, {"vet", "."}} {
			cmd := exec.Command(goBin, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("README.md's go block %d: go %s: %v\n%s\n%s", n, args[0], err, out, code)
				break
			}
		}
	}
}
