package npm

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrMalformed is wrapped by every error about a document that is not a
// well-formed packument.
var ErrMalformed = errors.New("npm: malformed packument")

// maxDepth bounds nesting, like encoding/json.
const maxDepth = 10000

// scanner is a validating, allocation-free JSON walker over a byte slice.
// It records byte offsets so that a document can be re-emitted by splicing
// instead of re-serialising, which keeps every untouched byte identical and
// makes rewriting a 10 MB packument cost one pass.
type scanner struct {
	d     []byte
	i     int
	depth int // containers open in object calls
}

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrMalformed, fmt.Sprintf(format, args...), s.i)
}

func (s *scanner) ws() {
	for s.i < len(s.d) {
		switch s.d[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.d) {
		return 0
	}
	return s.d[s.i]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		if s.i >= len(s.d) {
			return s.errf("unexpected end, want %q", c)
		}
		return s.errf("unexpected %q, want %q", s.d[s.i], c)
	}
	s.i++
	return nil
}

// strSafe marks bytes that may appear unescaped inside a JSON string with
// no further attention.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str scans a string starting at s.i (which must be '"') and returns its
// span, quotes included, and whether it contains escapes.
func (s *scanner) str() (start, end int, esc bool, err error) {
	d := s.d
	start = s.i
	if start >= len(d) || d[start] != '"' {
		return 0, 0, false, s.errf("want a string")
	}
	i := start + 1
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character (SWAR; exact, no false negatives).
		for i+8 <= len(d) {
			w := binary.LittleEndian.Uint64(d[i:])
			if hasLess(w, 0x20)|hasZero(w^(ones*'"'))|hasZero(w^(ones*'\\')) != 0 {
				break
			}
			i += 8
		}
		for i < len(d) && strSafe[d[i]] {
			i++
		}
		if i >= len(d) {
			s.i = i
			return 0, 0, false, s.errf("unterminated string")
		}
		switch c := d[i]; {
		case c == '"':
			s.i = i + 1
			return start, i + 1, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(d) {
				s.i = i
				return 0, 0, false, s.errf("unterminated escape")
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					s.i = i
					return 0, 0, false, s.errf("bad \\u escape")
				}
				i += 6
			default:
				s.i = i
				return 0, 0, false, s.errf("bad escape")
			}
		default:
			s.i = i
			return 0, 0, false, s.errf("control character in string")
		}
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasZero is non-zero iff some byte of w is zero.
func hasZero(w uint64) uint64 { return (w - ones) & ^w & highs }

// hasLess is non-zero iff some byte of w is below n (n <= 128).
func hasLess(w uint64, n uint64) uint64 { return (w - ones*n) & ^w & highs }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// decodeStr returns the Go value of the string at d[start:end] (quotes
// included), decoding exactly as encoding/json does.
func decodeStr(d []byte, start, end int, esc bool) string {
	raw := d[start+1 : end-1]
	if !esc && utf8.Valid(raw) {
		return string(raw)
	}
	var v string
	if err := json.Unmarshal(d[start:end], &v); err != nil {
		return string(raw) // unreachable: str validated it
	}
	return v
}

// stringValue reads a string value and decodes it.
func (s *scanner) stringValue() (string, error) {
	st, en, esc, err := s.str()
	if err != nil {
		return "", err
	}
	return decodeStr(s.d, st, en, esc), nil
}

// rawKey is an object key as scanned; decoding it is deferred because
// most keys are only compared with a few known names.
type rawKey struct {
	d          []byte
	start, end int // the key's span, quotes included
	esc        bool
}

// String decodes the key (as encoding/json and JSON.parse do).
func (k rawKey) String() string { return decodeStr(k.d, k.start, k.end, k.esc) }

// Is reports whether the decoded key equals name, without allocating for
// keys written without escapes.
func (k rawKey) Is(name string) bool {
	if !k.esc {
		return string(k.d[k.start+1:k.end-1]) == name
	}
	return k.String() == name
}

// match returns the first of names equal to k, or "".
func (k rawKey) match(names ...string) string {
	for _, n := range names {
		if k.Is(n) {
			return n
		}
	}
	return ""
}

// key reads an object key and the ':' after it, leaving s.i at the value.
func (s *scanner) key() (rawKey, error) {
	s.ws()
	st, en, esc, err := s.str()
	if err != nil {
		return rawKey{}, err
	}
	if err := s.expect(':'); err != nil {
		return rawKey{}, err
	}
	s.ws()
	return rawKey{d: s.d, start: st, end: en, esc: esc}, nil
}

// next consumes the ',' or closing byte after an object member or array
// element; it reports whether another member follows.
func (s *scanner) next(closing byte) (bool, error) {
	switch s.peek() {
	case ',':
		s.i++
		return true, nil
	case closing:
		s.i++
		return false, nil
	}
	if s.i >= len(s.d) {
		return false, s.errf("unexpected end, want ',' or %q", closing)
	}
	return false, s.errf("unexpected %q, want ',' or %q", s.d[s.i], closing)
}

// object walks an object starting at s.i, calling member for each key with
// s.i at the value; member must consume the value. It reports the number of
// members.
func (s *scanner) object(member func(k rawKey) error) (int, error) {
	if err := s.expect('{'); err != nil {
		return 0, err
	}
	if s.depth++; s.depth > maxDepth {
		return 0, s.errf("nested too deeply")
	}
	defer func() { s.depth-- }()
	if s.peek() == '}' {
		s.i++
		return 0, nil
	}
	n := 0
	for {
		k, err := s.key()
		if err != nil {
			return n, err
		}
		if err := member(k); err != nil {
			return n, err
		}
		n++
		more, err := s.next('}')
		if err != nil {
			return n, err
		}
		if !more {
			return n, nil
		}
	}
}

// skip validates and skips one value of any kind, iteratively.
func (s *scanner) skip() error {
	var buf [64]byte
	stack := buf[:0]
	for {
		// A value starts here.
		c := s.peek()
		switch {
		case c == '{' || c == '[':
			s.i++
			closing := byte('}')
			if c == '[' {
				closing = ']'
			}
			if s.depth+len(stack)+1 > maxDepth {
				return s.errf("nested too deeply")
			}
			if s.peek() == closing {
				s.i++
				break
			}
			stack = append(stack, closing)
			if c == '{' {
				if _, err := s.key(); err != nil {
					return err
				}
			}
			continue
		case c == '"':
			if _, _, _, err := s.str(); err != nil {
				return err
			}
		case c == 't':
			if err := s.literal("true"); err != nil {
				return err
			}
		case c == 'f':
			if err := s.literal("false"); err != nil {
				return err
			}
		case c == 'n':
			if err := s.literal("null"); err != nil {
				return err
			}
		case c == '-' || c >= '0' && c <= '9':
			if err := s.number(); err != nil {
				return err
			}
		case s.i >= len(s.d):
			return s.errf("unexpected end, want a value")
		default:
			return s.errf("unexpected %q, want a value", c)
		}
		// A value ended: close containers until another value is due.
		for {
			if len(stack) == 0 {
				return nil
			}
			closing := stack[len(stack)-1]
			more, err := s.next(closing)
			if err != nil {
				return err
			}
			if more {
				if closing == '}' {
					if _, err := s.key(); err != nil {
						return err
					}
				}
				break
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.d)-s.i < len(lit) || string(s.d[s.i:s.i+len(lit)]) != lit {
		return s.errf("bad literal")
	}
	s.i += len(lit)
	return nil
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	d, i := s.d, s.i
	digits := func() bool {
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		s.i = i
		return s.errf("bad number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			s.i = i
			return s.errf("bad number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			s.i = i
			return s.errf("bad number")
		}
	}
	s.i = i
	return nil
}

// appendJSONString appends s as a JSON string (no HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONStringBody(b, s)
	return append(b, '"')
}

// appendJSONStringBody appends s escaped for use inside a JSON string.
func appendJSONStringBody(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}
