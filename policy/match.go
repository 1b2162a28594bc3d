package policy

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/moatproject/moat/internal/pep440"
	"github.com/moatproject/moat/internal/semver"
	"github.com/moatproject/moat/scan"
)

// NormalizeName returns the canonical form of a package name, the form in
// which policy compares names and looks them up in the feed: PyPI names per
// PEP 503 (lower case, runs of "-", "_", "." folded to one "-"); npm names
// lower-cased, with an escaped scope separator ("@scope%2fname") decoded.
// Glob metacharacters pass through, so patterns normalise the same way.
func NormalizeName(eco scan.Ecosystem, name string) string {
	name = strings.TrimSpace(name)
	switch eco {
	case scan.PyPI:
		name = strings.ToLower(name)
		var b strings.Builder
		b.Grow(len(name))
		sep := false
		for i := 0; i < len(name); i++ {
			c := name[i]
			if c == '-' || c == '_' || c == '.' {
				sep = true
				continue
			}
			if sep {
				b.WriteByte('-')
				sep = false
			}
			b.WriteByte(c)
		}
		if sep {
			b.WriteByte('-')
		}
		return b.String()
	case scan.NPM:
		name = strings.ToLower(name)
		return strings.Replace(name, "%2f", "/", 1)
	}
	return name
}

// compiledRule is a Rule prepared for matching.
type compiledRule struct {
	rule   Rule
	source string // "config" or "override", for Decision.Rule
	name   string // normalised name or pattern
	glob   bool
	spec   int                       // specificity: higher wins
	match  func(version string) bool // nil: any version
}

var errNoEcosystem = errors.New("ecosystem must be npm or pypi")

func compileRule(r Rule, source string) (compiledRule, error) {
	c := compiledRule{rule: r, source: source}
	if r.Ecosystem != scan.NPM && r.Ecosystem != scan.PyPI {
		return c, fmt.Errorf("package %q: %w (got %q)", r.Package, errNoEcosystem, r.Ecosystem)
	}
	if strings.TrimSpace(r.Package) == "" {
		return c, errors.New("package is required")
	}
	c.name = NormalizeName(r.Ecosystem, r.Package)
	c.glob = strings.ContainsAny(c.name, "*?[")
	if c.glob {
		if err := validGlob(c.name); err != nil {
			return c, fmt.Errorf("package %q: %w", r.Package, err)
		}
	}
	versionRank := 0
	v, rng := strings.TrimSpace(r.Version), strings.TrimSpace(r.Range)
	switch {
	case v != "" && rng != "":
		return c, fmt.Errorf("package %q: version and range are mutually exclusive", r.Package)
	case v != "":
		m, err := exactMatcher(r.Ecosystem, v)
		if err != nil {
			return c, fmt.Errorf("package %q: version %q: %w", r.Package, v, err)
		}
		c.match, versionRank = m, 2
	case rng != "":
		m, err := rangeMatcher(r.Ecosystem, rng)
		if err != nil {
			return c, fmt.Errorf("package %q: range %q: %w", r.Package, rng, err)
		}
		c.match, versionRank = m, 1
	}
	// exact version > range > any version; within each, exact name > glob.
	c.spec = versionRank*2 + boolInt(!c.glob)
	return c, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (c *compiledRule) matches(name, version string) bool {
	if c.glob {
		if ok, _ := path.Match(c.name, name); !ok {
			return false
		}
	} else if c.name != name {
		return false
	}
	if c.match == nil {
		return true
	}
	return version != "" && c.match(version)
}

// exactMatcher matches one version: for PyPI by PEP 440 equality ("1.0"
// equals "1.0.0"), for npm by semver equality (a leading "v" or "=" and
// build metadata ignored).
func exactMatcher(eco scan.Ecosystem, want string) (func(string) bool, error) {
	switch eco {
	case scan.PyPI:
		if _, err := pep440.Parse(want); err != nil {
			return nil, err
		}
		return rangeMatcher(eco, "=="+want)
	default:
		if _, err := semver.Parse(want); err != nil {
			return nil, err
		}
		return rangeMatcher(eco, strings.TrimLeft(want, "v="))
	}
}

func rangeMatcher(eco scan.Ecosystem, rng string) (func(string) bool, error) {
	switch eco {
	case scan.PyPI:
		spec, err := pep440.ParseSpecifier(rng)
		if err != nil {
			return nil, err
		}
		return func(v string) bool {
			pv, err := pep440.Parse(v)
			return err == nil && spec.Contains(pv)
		}, nil
	default:
		r, err := semver.ParseRange(rng)
		if err != nil {
			return nil, err
		}
		return func(v string) bool {
			pv, err := semver.Parse(v)
			return err == nil && r.Contains(pv)
		}, nil
	}
}

// globList is a compiled list of exact names and patterns.
type globList []compiledRule

func compileGlobs(eco scan.Ecosystem, pats []string) globList {
	var out globList
	for _, p := range pats {
		n := NormalizeName(eco, p)
		out = append(out, compiledRule{name: n, glob: strings.ContainsAny(n, "*?[")})
	}
	return out
}

func (g globList) matches(name string) bool {
	for i := range g {
		if g[i].matches(name, "") {
			return true
		}
	}
	return false
}
