// Package pep440 implements Python's version identification and dependency
// specification (PEP 440): parsing and ordering of versions with epochs,
// pre-, post- and development releases and local labels, and version
// specifiers such as "~=1.4,!=1.5.*,<2" with the prerelease rules of pip's
// `packaging` library.
//
// moat uses it to order and filter the files of a PyPI project. It has no
// dependencies.
package pep440

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every parse error of this package.
var ErrInvalid = errors.New("pep440: invalid")

const maxLength = 256

// versionRE is packaging's VERSION_PATTERN (case-insensitive, anchored).
var versionRE = regexp.MustCompile(`(?i)^\s*v?(?:(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)` +
	`([-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?` +
	`((?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?` +
	`([-_.]?(dev)[-_.]?([0-9]+)?)?)` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$`)

// Version is a parsed PEP 440 version.
type Version struct {
	Epoch   uint64
	Release []uint64
	// PreL is "a", "b" or "rc" ("" when not a pre-release); PreN its number.
	PreL string
	PreN uint64
	// Post and Dev are -1 when absent.
	Post int64
	Dev  int64
	// Local holds the local version label's segments, lower-cased ("" none).
	Local string
}

// Parse parses a version such as "1.0", "2!1.0rc1.post2.dev3+ubuntu.1",
// accepting every spelling PEP 440 normalises ("1.0-ALPHA_1", "v1.0").
func Parse(s string) (Version, error) {
	if len(s) > maxLength {
		return Version{}, fmt.Errorf("%w version: longer than %d bytes", ErrInvalid, maxLength)
	}
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("%w version %q", ErrInvalid, s)
	}
	v := Version{Post: -1, Dev: -1}
	var err error
	num := func(s string) uint64 {
		if s == "" || err != nil {
			return 0
		}
		n, e := strconv.ParseUint(s, 10, 63)
		if e != nil {
			err = e
		}
		return n
	}
	v.Epoch = num(m[1])
	for _, r := range strings.Split(m[2], ".") {
		v.Release = append(v.Release, num(r))
	}
	if m[3] != "" {
		switch strings.ToLower(m[4]) {
		case "a", "alpha":
			v.PreL = "a"
		case "b", "beta":
			v.PreL = "b"
		default: // c, rc, pre, preview
			v.PreL = "rc"
		}
		v.PreN = num(m[5])
	}
	if m[6] != "" {
		v.Post = int64(num(m[7] + m[9]))
	}
	if m[10] != "" {
		v.Dev = int64(num(m[12]))
	}
	if m[13] != "" {
		v.Local = strings.Map(func(r rune) rune {
			if r == '-' || r == '_' {
				return '.'
			}
			if r >= 'A' && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, m[13])
	}
	if err != nil {
		return Version{}, fmt.Errorf("%w version %q: %v", ErrInvalid, s, err)
	}
	return v, nil
}

// MustParse is like Parse but panics on error.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// IsPrerelease reports whether v is a pre-release or a development release.
func (v Version) IsPrerelease() bool { return v.PreL != "" || v.Dev >= 0 }

// IsPostrelease reports whether v is a post-release.
func (v Version) IsPostrelease() bool { return v.Post >= 0 }

// Public returns v without its local label.
func (v Version) Public() Version {
	v.Local = ""
	return v
}

// BaseVersion returns the epoch and release segment only.
func (v Version) BaseVersion() Version {
	return Version{Epoch: v.Epoch, Release: v.Release, Post: -1, Dev: -1}
}

// String returns the normalised form of v.
func (v Version) String() string {
	var b strings.Builder
	if v.Epoch != 0 {
		b.WriteString(strconv.FormatUint(v.Epoch, 10))
		b.WriteByte('!')
	}
	for i, r := range v.Release {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(r, 10))
	}
	if v.PreL != "" {
		b.WriteString(v.PreL)
		b.WriteString(strconv.FormatUint(v.PreN, 10))
	}
	if v.Post >= 0 {
		b.WriteString(".post")
		b.WriteString(strconv.FormatInt(v.Post, 10))
	}
	if v.Dev >= 0 {
		b.WriteString(".dev")
		b.WriteString(strconv.FormatInt(v.Dev, 10))
	}
	if v.Local != "" {
		b.WriteByte('+')
		b.WriteString(v.Local)
	}
	return b.String()
}

// Compare returns -1, 0 or +1 as a sorts before, equal to or after b, by
// PEP 440's ordering (trailing zeros of the release are insignificant:
// 1.0 == 1.0.0).
func Compare(a, b Version) int {
	if c := cmp64(a.Epoch, b.Epoch); c != 0 {
		return c
	}
	n := max(len(a.Release), len(b.Release))
	for i := range n {
		var x, y uint64
		if i < len(a.Release) {
			x = a.Release[i]
		}
		if i < len(b.Release) {
			y = b.Release[i]
		}
		if c := cmp64(x, y); c != 0 {
			return c
		}
	}
	if c := cmpInt(preKey(a), preKey(b)); c != 0 {
		return c
	}
	if a.PreL != "" && b.PreL != "" {
		if c := cmp64(a.PreN, b.PreN); c != 0 {
			return c
		}
	}
	// Absent post sorts first (-1); absent dev sorts last.
	if c := cmpInt(int(a.Post), int(b.Post)); c != 0 {
		return c
	}
	if c := cmpInt(devKey(a.Dev), devKey(b.Dev)); c != 0 {
		return c
	}
	return compareLocal(a.Local, b.Local)
}

// Compare is the method form of the package-level Compare.
func (v Version) Compare(o Version) int { return Compare(v, o) }

// preKey ranks the pre-release phase: a dev release of the final version
// sorts before every pre-release (1.0.dev0 < 1.0a0), a final release after.
func preKey(v Version) int {
	switch v.PreL {
	case "a":
		return 1
	case "b":
		return 2
	case "rc":
		return 3
	}
	if v.Post < 0 && v.Dev >= 0 {
		return 0
	}
	return 4
}

func devKey(d int64) int {
	if d < 0 {
		return int(^uint(0) >> 1)
	}
	return int(d)
}

// compareLocal orders local labels: none sorts first; segments compare
// numerically when both are numeric, numeric after alphanumeric, and a
// shorter label sorts first when it is a prefix.
func compareLocal(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, y := as[i], bs[i]
		xn, xe := strconv.ParseUint(x, 10, 64)
		yn, ye := strconv.ParseUint(y, 10, 64)
		switch {
		case xe == nil && ye == nil:
			if c := cmp64(xn, yn); c != 0 {
				return c
			}
		case xe == nil:
			return 1
		case ye == nil:
			return -1
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(as), len(bs))
}

func cmp64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
