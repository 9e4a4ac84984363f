package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Names of the connection metadata properties azmq sends. libzmq matches them
// case-sensitively, so send exactly these spellings.
const (
	// PropSocketType is the property holding the sender's socket type.
	PropSocketType = "Socket-Type"
	// PropIdentity is the property holding the routing id the sender asks for.
	PropIdentity = "Identity"
)

// Caps on a received property list (ParseMetadata). ZMTP sets none beyond
// the frame, but every property is memory the connection keeps for its
// lifetime: peers send two or three (Socket-Type, Identity, a few X-
// properties of their own), so these leave ample room and keep what a
// peer can make a connection hold close to what it sent.
const (
	// MaxProperties is the most properties one list may hold.
	MaxProperties = 128
	// MaxPropertyValue is the longest value a property may have.
	MaxPropertyValue = 16 << 10
	// MaxIdentity is the longest Identity (routing id) ZMTP allows.
	MaxIdentity = 255
)

// Property is one metadata property: a name and an opaque value.
type Property struct {
	// Name is 1..255 bytes of printable ASCII.
	Name string
	// Value is 0..2^31-1 bytes.
	Value []byte
}

// Metadata is a property list as carried by READY and INITIATE, in wire order.
type Metadata []Property

// Get returns the value of the first property whose name equals name,
// compared case-insensitively (RFC 37 says property names are
// case-insensitive), and whether there is one.
func (m Metadata) Get(name string) ([]byte, bool) {
	for _, p := range m {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return nil, false
}

// ValidPropertyName reports whether name can be sent as a metadata property
// name: 1..255 bytes of printable ASCII (space through tilde). This is the
// rule ParseMetadata applies; it accepts at least the RFC's letters, digits
// and "-_.+".
func ValidPropertyName(name string) bool {
	if len(name) == 0 || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !printable(name[i]) {
			return false
		}
	}
	return true
}

// MetadataLen returns the encoded length of m, that is len(AppendMetadata(nil, m)).
func MetadataLen(m Metadata) int {
	n := 0
	for _, p := range m {
		n += 1 + len(p.Name) + 4 + len(p.Value)
	}
	return n
}

// AppendMetadata appends the wire encoding of m to dst: for each property,
// name-len (u8), name, value-len (u32 big-endian) and value.
//
// AppendMetadata panics if a property name is empty or longer than 255 bytes,
// or a value is longer than 2^32-1 bytes; validate user-supplied names with
// ValidPropertyName first.
func AppendMetadata(dst []byte, m Metadata) []byte {
	for _, p := range m {
		if len(p.Name) == 0 || len(p.Name) > 255 {
			panic(fmt.Sprintf("wire: metadata property name length %d out of range 1..255", len(p.Name)))
		}
		if uint64(len(p.Value)) > math.MaxUint32 {
			panic("wire: metadata property value longer than 2^32-1 bytes")
		}
	}
	for _, p := range m {
		dst = append(dst, byte(len(p.Name)))
		dst = append(dst, p.Name...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p.Value)))
		dst = append(dst, p.Value...)
	}
	return dst
}

// ParseMetadata parses a whole property list. The property lengths must add
// up exactly to len(b); a name must be 1..255 bytes of printable ASCII; a
// value length must not exceed the bytes that remain nor MaxPropertyValue
// (MaxIdentity for Identity); there may be at most MaxProperties, and no
// two with the same name (compared case-insensitively, as RFC 37 compares
// names: a second value would be ambiguous, and libzmq keeps the first).
// Any violation is ErrMalformed, and everything is checked before anything
// is allocated. The result does not alias b, so the caller may reuse its
// buffer. An empty b yields an empty (nil) Metadata.
func ParseMetadata(b []byte) (Metadata, error) {
	// First pass: validate and size everything, allocating nothing. Names
	// are remembered by offset and a case-folded hash for the duplicate
	// check.
	var seen [MaxProperties]struct {
		off  int // of the name's length byte
		hash uint32
	}
	count, nameBytes, valueBytes := 0, 0, 0
	for off := 0; off < len(b); {
		if count == MaxProperties {
			return nil, fmt.Errorf("%w: metadata of more than %d properties", ErrMalformed, MaxProperties)
		}
		nl := int(b[off])
		off++
		if nl == 0 {
			return nil, fmt.Errorf("%w: metadata property %d has an empty name", ErrMalformed, count)
		}
		if nl > len(b)-off {
			return nil, fmt.Errorf("%w: metadata property %d name length %d exceeds %d remaining bytes", ErrMalformed, count, nl, len(b)-off)
		}
		h := uint32(2166136261) // FNV-1a of the lower-cased name
		for _, c := range b[off : off+nl] {
			if !printable(c) {
				return nil, fmt.Errorf("%w: metadata property %d name has non-printable byte %#02x", ErrMalformed, count, c)
			}
			h = (h ^ uint32(lower(c))) * 16777619
		}
		name := b[off : off+nl]
		for _, prev := range seen[:count] {
			if prev.hash == h && equalFold(b[prev.off+1:prev.off+1+int(b[prev.off])], name) {
				return nil, fmt.Errorf("%w: metadata property %q twice", ErrMalformed, name)
			}
		}
		seen[count].off, seen[count].hash = off-1, h
		off += nl
		if len(b)-off < 4 {
			return nil, fmt.Errorf("%w: metadata property %d value length truncated", ErrMalformed, count)
		}
		vl := uint64(binary.BigEndian.Uint32(b[off:]))
		off += 4
		if vl > uint64(len(b)-off) {
			return nil, fmt.Errorf("%w: metadata property %d value length %d exceeds %d remaining bytes", ErrMalformed, count, vl, len(b)-off)
		}
		switch {
		case vl > MaxIdentity && equalFold(name, []byte(PropIdentity)):
			return nil, fmt.Errorf("%w: Identity of %d bytes (ZMTP allows %d)", ErrMalformed, vl, MaxIdentity)
		case vl > MaxPropertyValue:
			return nil, fmt.Errorf("%w: metadata property %q value of %d bytes (at most %d)", ErrMalformed, name, vl, MaxPropertyValue)
		}
		off += int(vl)
		count++
		nameBytes += nl
		valueBytes += int(vl)
	}
	if count == 0 {
		return nil, nil
	}

	// Copy. One string holds all names and one slice all values, so the
	// result costs three allocations whatever its size.
	var sb strings.Builder
	sb.Grow(nameBytes)
	for off := 0; off < len(b); {
		nl := int(b[off])
		sb.Write(b[off+1 : off+1+nl])
		off += 1 + nl
		off += 4 + int(binary.BigEndian.Uint32(b[off:]))
	}
	names := sb.String()
	md := make(Metadata, count)
	values := make([]byte, valueBytes)
	for off, i := 0, 0; off < len(b); i++ {
		nl := int(b[off])
		off++
		md[i].Name = names[:nl]
		names = names[nl:]
		off += nl
		vl := int(binary.BigEndian.Uint32(b[off:]))
		off += 4
		copy(values, b[off:off+vl])
		md[i].Value = values[:vl:vl]
		values = values[vl:]
		off += vl
	}
	return md, nil
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold compares two ASCII names case-insensitively.
func equalFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}
