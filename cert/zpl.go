package cert

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of the ZPL reader. A certificate is a few hundred bytes; these
// leave room for generous metadata and refuse anything else early.
const (
	// MaxFileSize is the largest certificate file Load reads; a larger one
	// is refused from its size alone, without reading it.
	MaxFileSize = 64 << 10
	// maxDepth is how deeply ZPL sections may nest; a certificate needs 2.
	maxDepth = 8
	// maxNodes bounds the entries of one file.
	maxNodes = 4096
)

// node is one ZPL entry: a name, perhaps a value, and the entries
// indented under it.
type node struct {
	name     string
	value    string
	hasValue bool
	line     int
	children []*node
}

// child returns the first child named name, or nil.
func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// isNameByte reports whether b may appear in a ZPL name (RFC 4: letters,
// digits and "$-_@.&+/").
func isNameByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("$-_@.&+/", b) >= 0
}

// parseZPL reads a ZPL document (RFC 4) into a tree under an unnamed root.
// It is lenient where czmq and pyzmq are: values quoted with " or ' or
// not at all, comments on their own lines or after a value, blank lines,
// CRLF line ends, and indentation by any consistent number of spaces or
// tabs (czmq writes 4 spaces a level). It is strict about the rest: a line
// that is not a name, an indentation that matches no open level, an
// unterminated quote, text after a quoted value, invalid UTF-8, and the
// size limits are errors naming file:line.
func parseZPL(file string, data []byte) (*node, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %s: %d bytes, limit %d", ErrTooLarge, file, len(data), MaxFileSize)
	}
	root := &node{}
	// stack[d] is the parent of the entries at depth d, and widths[d]
	// their indentation.
	stack := []*node{root}
	widths := []int{0}
	var last *node // the previous entry, which a deeper line nests under
	nodes := 0
	text := string(data)
	for lineNo := 1; len(text) > 0; lineNo++ {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		line = strings.TrimSuffix(line, "\r")
		synErr := func(format string, args ...any) error {
			return &SyntaxError{File: file, Line: lineNo, Msg: fmt.Sprintf(format, args...)}
		}
		if !utf8.ValidString(line) {
			return nil, synErr("invalid UTF-8")
		}
		width, rest := indent(line)
		if rest == "" || rest[0] == '#' {
			continue // blank or comment
		}
		depth := len(widths) - 1
		switch {
		case width > widths[depth]:
			// One level deeper: a child of the previous entry.
			if last == nil {
				return nil, synErr("indented line with nothing above it to belong to")
			}
			if depth+1 >= maxDepth {
				return nil, synErr("nested more than %d levels deep", maxDepth)
			}
			widths = append(widths, width)
			stack = append(stack, last)
			depth++
		case width < widths[depth]:
			// Back out to the open level with this indentation.
			for depth > 0 && widths[depth] > width {
				stack, widths = stack[:depth], widths[:depth]
				depth--
			}
			if widths[depth] != width {
				return nil, synErr("indentation matches no enclosing level")
			}
		}
		n, err := parseEntry(rest)
		if err != nil {
			return nil, synErr("%s", err)
		}
		if nodes++; nodes > maxNodes {
			return nil, synErr("more than %d entries", maxNodes)
		}
		n.line = lineNo
		parent := stack[depth]
		parent.children = append(parent.children, n)
		last = n
	}
	return root, nil
}

// indent returns the width of line's leading blanks, a tab counting as 4
// columns, and the rest of the line with trailing blanks removed.
func indent(line string) (int, string) {
	w, i := 0, 0
	for ; i < len(line); i++ {
		switch line[i] {
		case ' ':
			w++
		case '\t':
			w += 4
		default:
			return w, strings.TrimRight(line[i:], " \t")
		}
	}
	return w, ""
}

// parseEntry parses "name", "name = value", "name = "value"" or
// "name = 'value'", each perhaps followed by a comment.
func parseEntry(s string) (*node, error) {
	i := 0
	for i < len(s) && isNameByte(s[i]) {
		i++
	}
	if i == 0 {
		return nil, fmt.Errorf("expected a name, found %q", abbrev(s))
	}
	n := &node{name: s[:i]}
	s = strings.TrimLeft(s[i:], " \t")
	if s == "" || s[0] == '#' {
		return n, nil
	}
	if s[0] != '=' {
		return nil, fmt.Errorf("expected '=' or the end of the line after %q, found %q", n.name, abbrev(s))
	}
	s = strings.TrimLeft(s[1:], " \t")
	n.hasValue = true
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		end := strings.IndexByte(s[1:], s[0])
		if end < 0 {
			return nil, fmt.Errorf("value of %q: no closing %c", n.name, s[0])
		}
		n.value = s[1 : 1+end]
		after := strings.TrimLeft(s[2+end:], " \t")
		if after != "" && after[0] != '#' {
			return nil, fmt.Errorf("value of %q: unexpected %q after the closing quote", n.name, abbrev(after))
		}
		return n, nil
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	n.value = strings.TrimRight(s, " \t")
	return n, nil
}

// abbrev shortens s for an error message.
func abbrev(s string) string {
	const max = 24
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
