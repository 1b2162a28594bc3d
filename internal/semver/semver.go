// Package semver implements npm's flavour of Semantic Versioning 2.0.0:
// version parsing and precedence, and npm range expressions (the grammar of
// node-semver: "||", hyphen ranges, x-ranges, "~", "^" and primitive
// comparators) including npm's rule that a prerelease version only satisfies
// a comparator set that names a prerelease of the same major.minor.patch.
//
// moat uses it to order the versions of a packument and to recompute
// dist-tags when versions are hidden. It has no dependencies.
package semver

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every parse error of this package.
var ErrInvalid = errors.New("semver: invalid")

// maxLength bounds the input accepted by Parse and ParseRange, like
// node-semver's MAX_LENGTH.
const maxLength = 256

// Version is a parsed semantic version. The zero value is 0.0.0.
type Version struct {
	Major, Minor, Patch uint64
	// Pre holds the dot-separated prerelease identifiers (nil for a release).
	Pre []string
	// Build holds the build metadata identifiers; they never affect precedence.
	Build []string
}

// Parse parses a version such as "1.2.3", "v1.2.3-beta.1" or "=1.0.0+build".
// Surrounding white space and a leading "=" or "v" are tolerated; build
// metadata is kept but ignored for precedence.
func Parse(s string) (Version, error) {
	if len(s) > maxLength {
		return Version{}, fmt.Errorf("%w version: longer than %d bytes", ErrInvalid, maxLength)
	}
	t := strings.TrimSpace(s)
	t = strings.TrimLeft(t, "=")
	t = strings.TrimSpace(t)
	if t != "" && (t[0] == 'v' || t[0] == 'V') {
		t = t[1:]
	}
	p, rest, ok := parsePartial(t, false)
	if !ok || rest != "" || p.x[0] || p.x[1] || p.x[2] {
		return Version{}, fmt.Errorf("%w version %q", ErrInvalid, s)
	}
	return p.v, nil
}

// MustParse is like Parse but panics on error; for tests and constants.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Prerelease reports whether v has prerelease identifiers.
func (v Version) Prerelease() bool { return len(v.Pre) > 0 }

// String formats v canonically, without build metadata (like node-semver's
// version property).
func (v Version) String() string {
	b := make([]byte, 0, 16)
	b = strconv.AppendUint(b, v.Major, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, v.Minor, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, v.Patch, 10)
	if len(v.Pre) > 0 {
		b = append(b, '-')
		b = append(b, strings.Join(v.Pre, ".")...)
	}
	return string(b)
}

// Compare returns -1, 0 or +1 as a has lower, equal or higher precedence
// than b. Build metadata is ignored.
func Compare(a, b Version) int {
	if c := cmpUint(a.Major, b.Major); c != 0 {
		return c
	}
	if c := cmpUint(a.Minor, b.Minor); c != 0 {
		return c
	}
	if c := cmpUint(a.Patch, b.Patch); c != 0 {
		return c
	}
	return comparePre(a.Pre, b.Pre)
}

// Compare is the method form of the package-level Compare.
func (v Version) Compare(o Version) int { return Compare(v, o) }

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func comparePre(a, b []string) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := compareIdent(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmpUint(uint64(len(a)), uint64(len(b)))
}

// compareIdent orders prerelease identifiers: numeric identifiers compare
// numerically and sort before alphanumeric ones, which compare in ASCII order.
func compareIdent(a, b string) int {
	an, bn := isNumeric(a), isNumeric(b)
	switch {
	case an && bn:
		// No leading zeros (enforced by the parser), so length then bytes.
		if len(a) != len(b) {
			return cmpUint(uint64(len(a)), uint64(len(b)))
		}
		return strings.Compare(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// partial is a possibly incomplete version as written in a range: each of
// the three numbers may be missing or a wildcard ("x", "X", "*").
type partial struct {
	v Version
	x [3]bool // component i is a wildcard or missing
}

func (p partial) anyX() bool { return p.x[0] || p.x[1] || p.x[2] }

// parsePartial reads a (partial, if allowPartial) version from the front of
// s and returns the unread remainder.
func parsePartial(s string, allowPartial bool) (partial, string, bool) {
	var p partial
	var nums [3]uint64
	i := 0
	full := true // all three components written (prerelease/build allowed)
	for c := 0; c < 3; c++ {
		if c > 0 {
			if i < len(s) && s[i] == '.' {
				i++
			} else {
				if !allowPartial {
					return p, s, false
				}
				for k := c; k < 3; k++ {
					p.x[k] = true
				}
				full = false
				break
			}
		}
		if allowPartial && i < len(s) && (s[i] == 'x' || s[i] == 'X' || s[i] == '*') {
			p.x[c] = true
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || (j-i > 1 && s[i] == '0') || j-i > 16 {
			return p, s, false
		}
		n, err := strconv.ParseUint(s[i:j], 10, 64)
		if err != nil || n > 1<<53-1 { // node-semver's MAX_SAFE_INTEGER
			return p, s, false
		}
		nums[c] = n
		i = j
	}
	// Once a component is a wildcard, the following ones are too.
	for c := 1; c < 3; c++ {
		if p.x[c-1] {
			p.x[c] = true
		}
	}
	for c := 0; c < 3; c++ {
		if p.x[c] {
			nums[c] = 0
		}
	}
	p.v.Major, p.v.Minor, p.v.Patch = nums[0], nums[1], nums[2]
	if full {
		if i < len(s) && s[i] == '-' {
			ids, n, ok := parseIdents(s[i+1:], true)
			if !ok {
				return p, s, false
			}
			p.v.Pre = ids
			i += 1 + n
		}
		if i < len(s) && s[i] == '+' {
			ids, n, ok := parseIdents(s[i+1:], false)
			if !ok {
				return p, s, false
			}
			p.v.Build = ids
			i += 1 + n
		}
	}
	return p, s[i:], true
}

// parseIdents reads dot-separated identifiers of [0-9A-Za-z-]; numeric
// prerelease identifiers must not have leading zeros.
func parseIdents(s string, pre bool) ([]string, int, bool) {
	var ids []string
	i := 0
	for {
		j := i
		for j < len(s) && isIdentChar(s[j]) {
			j++
		}
		if j == i {
			return nil, 0, false
		}
		id := s[i:j]
		if pre && len(id) > 1 && id[0] == '0' && isNumeric(id) {
			return nil, 0, false
		}
		ids = append(ids, id)
		i = j
		if i < len(s) && s[i] == '.' {
			i++
			continue
		}
		return ids, i, true
	}
}

func isIdentChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-'
}
