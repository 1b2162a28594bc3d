package pep440

import (
	"fmt"
	"strings"
)

// Clause is one version clause of a specifier, such as ">=1.4" or "!=1.5.*".
type Clause struct {
	Op       string // "~=", "==", "!=", "<=", ">=", "<", ">", "==="
	Version  Version
	Wildcard bool   // "==V.*" / "!=V.*"
	Raw      string // the version text as written (for "===")
}

// Specifier is a comma-separated list of clauses; a version must satisfy all
// of them. The empty Specifier matches every final release.
type Specifier struct {
	Clauses []Clause
	raw     string
}

// String returns the specifier as it was written.
func (s Specifier) String() string { return s.raw }

// ParseSpecifier parses a PEP 440 specifier set such as "~=1.4,!=1.5.*,<2"
// or ">=3.8" (the value of Requires-Python). Empty input gives a Specifier
// that matches every final release.
func ParseSpecifier(s string) (Specifier, error) {
	if len(s) > 4*maxLength {
		return Specifier{}, fmt.Errorf("%w specifier: longer than %d bytes", ErrInvalid, 4*maxLength)
	}
	spec := Specifier{raw: s}
	if strings.TrimSpace(s) == "" {
		return spec, nil
	}
	for _, part := range strings.Split(s, ",") {
		c, err := parseClause(strings.TrimSpace(part))
		if err != nil {
			return Specifier{}, fmt.Errorf("%w specifier %q: %v", ErrInvalid, s, err)
		}
		spec.Clauses = append(spec.Clauses, c)
	}
	return spec, nil
}

// MustParseSpecifier is like ParseSpecifier but panics on error.
func MustParseSpecifier(s string) Specifier {
	sp, err := ParseSpecifier(s)
	if err != nil {
		panic(err)
	}
	return sp
}

func parseClause(s string) (Clause, error) {
	var c Clause
	for _, op := range []string{"===", "~=", "==", "!=", "<=", ">=", "<", ">"} {
		if strings.HasPrefix(s, op) {
			c.Op = op
			break
		}
	}
	if c.Op == "" {
		return c, fmt.Errorf("clause %q: missing operator", s)
	}
	vs := strings.TrimSpace(s[len(c.Op):])
	c.Raw = vs
	if vs == "" {
		return c, fmt.Errorf("clause %q: missing version", s)
	}
	if c.Op == "===" {
		if strings.ContainsAny(vs, " \t,;") {
			return c, fmt.Errorf("clause %q: bad arbitrary version", s)
		}
		return c, nil
	}
	if (c.Op == "==" || c.Op == "!=") && strings.HasSuffix(vs, ".*") {
		c.Wildcard = true
		vs = vs[:len(vs)-2]
	}
	v, err := Parse(vs)
	if err != nil || strings.ContainsAny(vs, " \t") {
		return c, fmt.Errorf("clause %q: bad version", s)
	}
	c.Version = v
	switch {
	case c.Wildcard && (v.PreL != "" || v.Post >= 0 || v.Dev >= 0 || v.Local != ""):
		return c, fmt.Errorf("clause %q: a wildcard follows a release segment only", s)
	case v.Local != "" && c.Op != "==" && c.Op != "!=":
		return c, fmt.Errorf("clause %q: local versions only with == and !=", s)
	case c.Op == "~=" && len(v.Release) < 2:
		return c, fmt.Errorf("clause %q: ~= needs at least two release components", s)
	}
	return c, nil
}

// Prereleases reports whether the specifier mentions a pre-release in any
// clause but "!=", which makes Contains accept pre-releases, as packaging
// (>= 22) does.
func (s Specifier) Prereleases() bool {
	for _, c := range s.Clauses {
		switch c.Op {
		case "==", "~=", "<=", ">=", "<", ">":
			if c.Version.IsPrerelease() {
				return true
			}
		case "===":
			if v, err := Parse(c.Raw); err == nil && v.IsPrerelease() {
				return true
			}
		}
	}
	return false
}

// Contains reports whether v satisfies every clause. Pre-releases (and
// development releases) are excluded unless the specifier mentions one.
func (s Specifier) Contains(v Version) bool {
	return s.Match(v, s.Prereleases())
}

// Match is Contains with an explicit choice on pre-releases (pip's --pre).
func (s Specifier) Match(v Version, prereleases bool) bool {
	if v.IsPrerelease() && !prereleases {
		return false
	}
	for _, c := range s.Clauses {
		if !c.Contains(v) {
			return false
		}
	}
	return true
}

// Contains reports whether v satisfies the clause alone (pre-release
// exclusion is the Specifier's business).
func (c Clause) Contains(v Version) bool {
	switch c.Op {
	case "===":
		return strings.EqualFold(v.String(), c.Raw)
	case "==":
		return c.equal(v)
	case "!=":
		return !c.equal(v)
	case "~=":
		prefix := Clause{Op: "==", Wildcard: true, Version: Version{
			Epoch: c.Version.Epoch, Release: c.Version.Release[:len(c.Version.Release)-1], Post: -1, Dev: -1,
		}}
		return Compare(v.Public(), c.Version) >= 0 && prefix.equal(v)
	case "<=":
		return Compare(v.Public(), c.Version) <= 0
	case ">=":
		return Compare(v.Public(), c.Version) >= 0
	case "<":
		if Compare(v, c.Version) >= 0 {
			return false
		}
		// "<3.1" must not match pre-releases of 3.1 unless it names one.
		if !c.Version.IsPrerelease() && v.IsPrerelease() &&
			Compare(v.BaseVersion(), c.Version.BaseVersion()) == 0 {
			return false
		}
		return true
	case ">":
		if Compare(v, c.Version) <= 0 {
			return false
		}
		// ">3.1" must not match post-releases or local versions of 3.1.
		if !c.Version.IsPostrelease() && v.IsPostrelease() &&
			Compare(v.BaseVersion(), c.Version.BaseVersion()) == 0 {
			return false
		}
		if v.Local != "" && Compare(v.BaseVersion(), c.Version.BaseVersion()) == 0 {
			return false
		}
		return true
	}
	return false
}

// equal implements "==" (with prefix matching for wildcards and local
// labels ignored unless the clause has one).
func (c Clause) equal(v Version) bool {
	if c.Wildcard {
		if v.Epoch != c.Version.Epoch {
			return false
		}
		for i, want := range c.Version.Release {
			var got uint64
			if i < len(v.Release) {
				got = v.Release[i]
			}
			if got != want {
				return false
			}
		}
		return true
	}
	if c.Version.Local == "" {
		v = v.Public()
	}
	return Compare(v, c.Version) == 0
}
