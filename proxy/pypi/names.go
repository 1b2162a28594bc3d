// Package pypi owns the Python package index protocols as moat speaks
// them: project name normalisation (PEP 503), distribution file names
// (wheels and sdists, PEP 427/625), the Simple Repository API in both forms
// (PEP 503 HTML and PEP 691 JSON, with PEP 592 yanking, PEP 629 versioning,
// PEP 658/714 core metadata and PEP 700 size, upload time and versions),
// parsing and rendering of project pages, and content negotiation.
//
// It is pure: no I/O, no HTTP. The handlers in package proxy are built on it.
package pypi

import (
	"errors"
	"fmt"
	"strings"
)

// NormalizeName returns the PEP 503 normalised form of a project name:
// runs of "-", "_" and "." become one "-", and letters are lower-cased
// (re.sub(r"[-_.]+", "-", name).lower()).
func NormalizeName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			if !sep {
				b.WriteByte('-')
			}
			sep = true
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		sep = false
		b.WriteByte(c)
	}
	return b.String()
}

// ValidName reports whether name is a valid project name (PEP 508):
// ASCII letters and digits, with ".", "_" and "-" inside.
func ValidName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum {
			continue
		}
		if (c == '.' || c == '_' || c == '-') && i > 0 && i < len(name)-1 {
			continue
		}
		return false
	}
	return true
}

// Kind is the kind of a distribution file.
type Kind int

const (
	Wheel Kind = iota + 1
	Sdist
)

func (k Kind) String() string {
	switch k {
	case Wheel:
		return "wheel"
	case Sdist:
		return "sdist"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// FileInfo is what a distribution file name says.
type FileInfo struct {
	Project  string // normalised
	Version  string // as written in the file name
	Kind     Kind
	BuildTag string // wheels only, may be empty
	Python   string // wheels only, e.g. "py3" or "cp312.cp313"
	ABI      string // wheels only, e.g. "none", "abi3"
	Platform string // wheels only, e.g. "any", "manylinux_2_17_x86_64"
	Ext      string // ".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz" or ".tar"
}

// ErrFilename is wrapped by ParseFilename's errors.
var ErrFilename = errors.New("pypi: invalid distribution file name")

var sdistExts = []string{".tar.gz", ".tar.bz2", ".tgz", ".zip", ".tar"}

// ParseFilename parses a wheel name {name}-{ver}(-{build})?-{py}-{abi}-{plat}.whl
// or an sdist name {name}-{ver}{ext}, splitting an sdist on its last "-" so
// that legacy names with dashes in the project part work. File names with
// path separators, control characters, white space or non-ASCII bytes are
// refused.
func ParseFilename(filename string) (FileInfo, error) {
	bad := func(reason string) (FileInfo, error) {
		return FileInfo{}, fmt.Errorf("%w %q: %s", ErrFilename, filename, reason)
	}
	if filename == "" || len(filename) > 512 {
		return bad("empty or too long")
	}
	for i := 0; i < len(filename); i++ {
		if c := filename[i]; c <= ' ' || c >= 0x7f || c == '/' || c == '\\' || c == '#' || c == '?' || c == '%' {
			return bad("forbidden character")
		}
	}
	lower := strings.ToLower(filename)
	if stem, ok := strings.CutSuffix(lower, ".whl"); ok {
		stem = filename[:len(stem)]
		parts := strings.Split(stem, "-")
		fi := FileInfo{Kind: Wheel, Ext: ".whl"}
		switch len(parts) {
		case 5:
			fi.Python, fi.ABI, fi.Platform = parts[2], parts[3], parts[4]
		case 6:
			fi.BuildTag, fi.Python, fi.ABI, fi.Platform = parts[2], parts[3], parts[4], parts[5]
			if fi.BuildTag == "" || fi.BuildTag[0] < '0' || fi.BuildTag[0] > '9' {
				return bad("build tag must start with a digit")
			}
		default:
			return bad("a wheel name has 5 or 6 dash-separated parts")
		}
		for _, p := range parts {
			if p == "" {
				return bad("empty part")
			}
		}
		if !ValidName(parts[0]) {
			return bad("bad project name")
		}
		if !validVersionText(parts[1]) {
			return bad("bad version")
		}
		fi.Project, fi.Version = NormalizeName(parts[0]), parts[1]
		return fi, nil
	}
	for _, ext := range sdistExts {
		stem, ok := strings.CutSuffix(lower, ext)
		if !ok {
			continue
		}
		stem = filename[:len(stem)]
		i := strings.LastIndexByte(stem, '-')
		if i <= 0 || i == len(stem)-1 {
			return bad("an sdist name is {name}-{version}" + ext)
		}
		name, ver := stem[:i], stem[i+1:]
		if !ValidName(name) {
			return bad("bad project name")
		}
		if !validVersionText(ver) {
			return bad("bad version")
		}
		return FileInfo{Project: NormalizeName(name), Version: ver, Kind: Sdist, Ext: ext}, nil
	}
	return bad("not a wheel or sdist")
}

// validVersionText accepts the characters a (possibly legacy) version can
// have in a file name; PEP 440 validity is the caller's business.
func validVersionText(v string) bool {
	if v == "" || v[0] == '.' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '!' || c == '+') {
			return false
		}
	}
	return true
}

// StripMetadataSuffix recognises a PEP 658 core-metadata file name
// ("{file}.metadata") and returns the distribution's file name.
func StripMetadataSuffix(filename string) (string, bool) {
	base, ok := strings.CutSuffix(filename, ".metadata")
	if !ok || base == "" {
		return filename, false
	}
	return base, true
}
