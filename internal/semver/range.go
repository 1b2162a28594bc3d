package semver

import (
	"fmt"
	"strings"
)

// op is a primitive comparator operator.
type op uint8

const (
	opAny op = iota // matches everything ("*", "")
	opEQ
	opLT
	opLE
	opGT
	opGE
)

// comparator is one primitive comparison against a version.
type comparator struct {
	op op
	v  Version
}

func (c comparator) test(v Version) bool {
	switch c.op {
	case opAny:
		return true
	case opEQ:
		return Compare(v, c.v) == 0
	case opLT:
		return Compare(v, c.v) < 0
	case opLE:
		return Compare(v, c.v) <= 0
	case opGT:
		return Compare(v, c.v) > 0
	case opGE:
		return Compare(v, c.v) >= 0
	}
	return false
}

// Range is a parsed npm range: a union ("||") of comparator sets, each an
// intersection of primitive comparators. The zero Range matches nothing.
type Range struct {
	sets [][]comparator
	raw  string
}

// String returns the range as it was written.
func (r Range) String() string { return r.raw }

// ParseRange parses an npm range expression such as "^1.2.3 || 2.x",
// "1.2.3 - 2.3.4", ">=1.0.0 <2.0.0-0", "~1.2", "*" or "" (any version).
func ParseRange(s string) (Range, error) {
	if len(s) > maxLength {
		return Range{}, fmt.Errorf("%w range: longer than %d bytes", ErrInvalid, maxLength)
	}
	r := Range{raw: s}
	for _, part := range strings.Split(s, "||") {
		set, err := parseSet(strings.TrimSpace(part))
		if err != nil {
			return Range{}, fmt.Errorf("%w range %q: %v", ErrInvalid, s, err)
		}
		r.sets = append(r.sets, set)
	}
	return r, nil
}

// MustParseRange is like ParseRange but panics on error.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Contains reports whether v satisfies r. A prerelease version satisfies a
// comparator set only if one of the set's comparators names a prerelease of
// the same major.minor.patch (npm's default, includePrerelease=false).
func (r Range) Contains(v Version) bool {
	for _, set := range r.sets {
		if testSet(set, v) {
			return true
		}
	}
	return false
}

func testSet(set []comparator, v Version) bool {
	for _, c := range set {
		if !c.test(v) {
			return false
		}
	}
	if !v.Prerelease() {
		return true
	}
	for _, c := range set {
		if c.op == opAny || !c.v.Prerelease() {
			continue
		}
		if c.v.Major == v.Major && c.v.Minor == v.Minor && c.v.Patch == v.Patch {
			return true
		}
	}
	return false
}

// MaxSatisfying returns the highest of versions that r contains.
func MaxSatisfying(versions []Version, r Range) (Version, bool) {
	var best Version
	found := false
	for _, v := range versions {
		if r.Contains(v) && (!found || Compare(v, best) > 0) {
			best, found = v, true
		}
	}
	return best, found
}

// parseSet parses one comparator set (the text between "||").
func parseSet(s string) ([]comparator, error) {
	if s == "" {
		return []comparator{{op: opAny}}, nil
	}
	// Hyphen range: "A - B" (white space around the dash is required).
	if i := strings.Index(s, " - "); i >= 0 {
		return parseHyphen(strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+3:]))
	}
	toks := tokenize(s)
	var out []comparator
	for _, t := range toks {
		cs, err := parseComparator(t)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	if len(out) == 0 {
		out = []comparator{{op: opAny}}
	}
	return out, nil
}

// tokenize splits a comparator set on white space, gluing an operator to
// the version that follows it (">= 1.2.3" is one comparator).
func tokenize(s string) []string {
	fields := strings.Fields(s)
	var out []string
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if isOperatorOnly(f) && i+1 < len(fields) {
			f += fields[i+1]
			i++
		}
		out = append(out, f)
	}
	return out
}

func isOperatorOnly(f string) bool {
	switch f {
	case "<", "<=", ">", ">=", "=", "~", "~>", "^":
		return true
	}
	return false
}

func parseXR(s string) (partial, error) {
	t := strings.TrimLeft(s, "=")
	if t != "" && (t[0] == 'v' || t[0] == 'V') {
		t = t[1:]
	}
	if t == "" {
		return partial{x: [3]bool{true, true, true}}, nil
	}
	p, rest, ok := parsePartial(t, true)
	if !ok || rest != "" {
		return partial{}, fmt.Errorf("bad version %q", s)
	}
	return p, nil
}

func ver(major, minor, patch uint64, pre ...string) Version {
	return Version{Major: major, Minor: minor, Patch: patch, Pre: pre}
}

// zero is the "-0" prerelease suffix node-semver adds to exclusive upper
// bounds so that prereleases of the bound are excluded too.
var zeroPre = []string{"0"}

func parseHyphen(from, to string) ([]comparator, error) {
	a, err := parseXR(from)
	if err != nil {
		return nil, err
	}
	b, err := parseXR(to)
	if err != nil {
		return nil, err
	}
	var out []comparator
	switch {
	case a.x[0]:
	case a.x[1]:
		out = append(out, comparator{opGE, ver(a.v.Major, 0, 0)})
	case a.x[2]:
		out = append(out, comparator{opGE, ver(a.v.Major, a.v.Minor, 0)})
	default:
		out = append(out, comparator{opGE, a.v})
	}
	switch {
	case b.x[0]:
	case b.x[1]:
		out = append(out, comparator{opLT, ver(b.v.Major+1, 0, 0, zeroPre...)})
	case b.x[2]:
		out = append(out, comparator{opLT, ver(b.v.Major, b.v.Minor+1, 0, zeroPre...)})
	default:
		out = append(out, comparator{opLE, b.v})
	}
	if len(out) == 0 {
		out = append(out, comparator{op: opAny})
	}
	return out, nil
}

// parseComparator desugars one comparator token into primitive comparators,
// following node-semver's replaceTilde, replaceCaret and replaceXRange.
func parseComparator(t string) ([]comparator, error) {
	switch {
	case strings.HasPrefix(t, "~>"):
		return tilde(t[2:])
	case strings.HasPrefix(t, "~"):
		return tilde(t[1:])
	case strings.HasPrefix(t, "^"):
		return caret(t[1:])
	}
	var o string
	for _, cand := range []string{">=", "<=", ">", "<", "="} {
		if strings.HasPrefix(t, cand) {
			o = cand
			break
		}
	}
	p, err := parseXR(t[len(o):])
	if err != nil {
		return nil, err
	}
	if o == "=" && p.anyX() {
		o = ""
	}
	M, m, pt := p.v.Major, p.v.Minor, p.v.Patch
	switch {
	case p.x[0]:
		if o == ">" || o == "<" {
			return []comparator{{opLT, ver(0, 0, 0, zeroPre...)}}, nil
		}
		return []comparator{{op: opAny}}, nil
	case o != "" && p.anyX():
		if p.x[1] {
			m = 0
		}
		pt = 0
		switch o {
		case ">":
			o = ">="
			if p.x[1] {
				M++
				m = 0
			} else {
				m++
			}
		case "<=":
			o = "<"
			if p.x[1] {
				M++
			} else {
				m++
			}
		}
		v := ver(M, m, pt)
		if o == "<" {
			v.Pre = zeroPre
		}
		return []comparator{{opOf(o), v}}, nil
	case p.x[1]:
		return []comparator{{opGE, ver(M, 0, 0)}, {opLT, ver(M+1, 0, 0, zeroPre...)}}, nil
	case p.x[2]:
		return []comparator{{opGE, ver(M, m, 0)}, {opLT, ver(M, m+1, 0, zeroPre...)}}, nil
	}
	if o == "" {
		o = "="
	}
	return []comparator{{opOf(o), p.v}}, nil
}

func opOf(s string) op {
	switch s {
	case "<":
		return opLT
	case "<=":
		return opLE
	case ">":
		return opGT
	case ">=":
		return opGE
	}
	return opEQ
}

func tilde(s string) ([]comparator, error) {
	p, err := parseXR(s)
	if err != nil {
		return nil, err
	}
	M, m := p.v.Major, p.v.Minor
	switch {
	case p.x[0]:
		return []comparator{{op: opAny}}, nil
	case p.x[1]:
		return []comparator{{opGE, ver(M, 0, 0)}, {opLT, ver(M+1, 0, 0, zeroPre...)}}, nil
	case p.x[2]:
		return []comparator{{opGE, ver(M, m, 0)}, {opLT, ver(M, m+1, 0, zeroPre...)}}, nil
	}
	return []comparator{{opGE, p.v}, {opLT, ver(M, m+1, 0, zeroPre...)}}, nil
}

func caret(s string) ([]comparator, error) {
	p, err := parseXR(s)
	if err != nil {
		return nil, err
	}
	M, m, pt := p.v.Major, p.v.Minor, p.v.Patch
	switch {
	case p.x[0]:
		return []comparator{{op: opAny}}, nil
	case p.x[1]:
		return []comparator{{opGE, ver(M, 0, 0)}, {opLT, ver(M+1, 0, 0, zeroPre...)}}, nil
	case p.x[2]:
		if M == 0 {
			return []comparator{{opGE, ver(M, m, 0)}, {opLT, ver(M, m+1, 0, zeroPre...)}}, nil
		}
		return []comparator{{opGE, ver(M, m, 0)}, {opLT, ver(M+1, 0, 0, zeroPre...)}}, nil
	}
	lo := comparator{opGE, p.v}
	switch {
	case M != 0:
		return []comparator{lo, {opLT, ver(M+1, 0, 0, zeroPre...)}}, nil
	case m != 0:
		return []comparator{lo, {opLT, ver(0, m+1, 0, zeroPre...)}}, nil
	}
	return []comparator{lo, {opLT, ver(0, 0, pt+1, zeroPre...)}}, nil
}
