// Package npm owns the npm registry protocol as moat speaks it: routing of
// registry paths (scoped names, tarballs, the "/-/" endpoints), package name
// validation, packument parsing and rewriting (tarball URLs pointed at moat,
// hidden versions removed, dist-tags recomputed, everything else preserved
// byte for byte), and tarball integrity (SRI and shasum) verification.
//
// It is pure: no I/O, no HTTP. The handlers in package proxy are built on it.
package npm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/moatproject/moat/internal/semver"
)

// RouteKind says which registry endpoint a path addresses. (The kinds are
// prefixed with Route so they do not collide with the Packument type.)
type RouteKind int

const (
	// RoutePackument is "/name" or "/@scope%2fname" (also "/@scope/name").
	RoutePackument RouteKind = iota + 1
	// RoutePackumentVersion is "/name/1.2.3" or "/name/latest": one version's
	// manifest, by version or dist-tag (Route.Version).
	RoutePackumentVersion
	// RouteTarball is "/name/-/name-1.2.3.tgz" (Route.Filename, Route.Version).
	RouteTarball
	// RouteSearch is "/-/v1/search".
	RouteSearch
	// RouteAdvisories is "/-/npm/v1/security/advisories/bulk".
	RouteAdvisories
	// RouteOtherDash is any other "/-/..." endpoint (ping, whoami, ...): the
	// caller passes it through or refuses it.
	RouteOtherDash
)

var kindNames = [...]string{"", "packument", "packument-version", "tarball", "search", "advisories", "other-dash"}

func (k RouteKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("RouteKind(%d)", int(k))
}

// Route is a parsed registry path.
type Route struct {
	Kind RouteKind
	// Name is the decoded package name ("@scope/name" for scoped packages);
	// empty for the "/-/" kinds.
	Name string
	// Version is the version of a RouteTarball, or the version or dist-tag
	// of a RoutePackumentVersion.
	Version string
	// Filename is a RouteTarball's file name ("name-1.2.3.tgz").
	Filename string
	// Rest is the path of a "/-/" kind after "/-/" (escaped, as received).
	Rest string
}

// ErrInvalidPath is wrapped by every *PathError: the handler answers 404
// (or 400) and never forwards the path upstream.
var ErrInvalidPath = errors.New("npm: invalid registry path")

// PathError reports a path that is not a valid registry path.
type PathError struct {
	Path   string
	Reason string
}

func (e *PathError) Error() string {
	return fmt.Sprintf("npm: invalid registry path %q: %s", e.Path, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidPath) hold.
func (e *PathError) Is(target error) bool { return target == ErrInvalidPath }

// ParsePath routes escapedPath, the request path after the "/npm" prefix
// taken from URL.EscapedPath() (URL.Path has already decoded "%2f", which
// scoped packument paths need).
func ParsePath(escapedPath string) (Route, error) {
	bad := func(reason string) (Route, error) {
		return Route{}, &PathError{Path: escapedPath, Reason: reason}
	}
	if !strings.HasPrefix(escapedPath, "/") {
		return bad("does not start with /")
	}
	p := escapedPath[1:]
	if rest, ok := strings.CutPrefix(p, "-/"); ok {
		switch rest {
		case "v1/search":
			return Route{Kind: RouteSearch, Rest: rest}, nil
		case "npm/v1/security/advisories/bulk":
			return Route{Kind: RouteAdvisories, Rest: rest}, nil
		}
		return Route{Kind: RouteOtherDash, Rest: rest}, nil
	}
	if p == "" {
		return bad("empty package name")
	}
	segs := strings.Split(p, "/")
	var name string
	var n int // segments consumed by the name
	switch {
	case strings.HasPrefix(segs[0], "@"):
		scope, pkg, encoded := cutEncodedSlash(segs[0])
		switch {
		case encoded:
			n = 1
		case len(segs) >= 2:
			scope, pkg, n = segs[0], segs[1], 2
		default:
			return bad("scope without a package name")
		}
		s, err1 := url.PathUnescape(scope)
		k, err2 := url.PathUnescape(pkg)
		if err1 != nil || err2 != nil {
			return bad("bad percent-encoding")
		}
		name = s + "/" + k
	default:
		if len(segs[0]) >= 3 && strings.EqualFold(segs[0][:3], "%40") {
			return bad(`"@" must not be percent-encoded`)
		}
		s, err := url.PathUnescape(segs[0])
		if err != nil {
			return bad("bad percent-encoding")
		}
		name, n = s, 1
	}
	if err := ValidateName(name); err != nil {
		return bad(err.Error())
	}
	rest := segs[n:]
	switch len(rest) {
	case 0:
		return Route{Kind: RoutePackument, Name: name}, nil
	case 1:
		v, err := url.PathUnescape(rest[0])
		if err != nil || v == "" || !isURLSafe(strings.ReplaceAll(v, "+", "")) {
			return bad("bad version or tag")
		}
		return Route{Kind: RoutePackumentVersion, Name: name, Version: v}, nil
	case 2:
		if rest[0] != "-" {
			break
		}
		file, err := url.PathUnescape(rest[1])
		if err != nil {
			return bad("bad percent-encoding")
		}
		v, ok := ParseTarballFilename(name, file)
		if !ok {
			return bad("tarball file name does not match the package")
		}
		return Route{Kind: RouteTarball, Name: name, Version: v, Filename: file}, nil
	}
	return bad("unknown path shape")
}

// cutEncodedSlash splits "@scope%2fname" at its encoded slash.
func cutEncodedSlash(seg string) (scope, pkg string, ok bool) {
	for i := 0; i+3 <= len(seg); i++ {
		if seg[i] == '%' && seg[i+1] == '2' && (seg[i+2] == 'f' || seg[i+2] == 'F') {
			return seg[:i], seg[i+3:], true
		}
	}
	return "", "", false
}

// ParseTarballFilename returns the version encoded in a tarball file name,
// "<name>-<version>.tgz" where <name> is the package name without its scope.
// The version must be a valid semantic version written without a "v" or "="
// prefix.
func ParseTarballFilename(pkgName, filename string) (version string, ok bool) {
	base := pkgName
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		base = base[i+1:]
	}
	rest, ok := strings.CutPrefix(filename, base+"-")
	if !ok || base == "" {
		return "", false
	}
	v, ok := strings.CutSuffix(rest, ".tgz")
	if !ok || v == "" || v[0] < '0' || v[0] > '9' {
		return "", false
	}
	if _, err := semver.Parse(v); err != nil || strings.ContainsAny(v, " \t") {
		return "", false
	}
	return v, true
}

// TarballPath is the path, below the registry root, of a version's tarball:
// "/name/-/name-1.2.3.tgz" or "/@scope/name/-/name-1.2.3.tgz". Each segment
// is path-escaped, so a hostile version string cannot add segments.
func TarballPath(name, version string) string {
	scope, base, scoped := strings.Cut(name, "/")
	var b strings.Builder
	b.Grow(2*len(name) + len(version) + 8)
	b.WriteByte('/')
	if scoped {
		b.WriteString(url.PathEscape(scope))
		b.WriteByte('/')
	} else {
		base = scope
	}
	b.WriteString(url.PathEscape(base))
	b.WriteString("/-/")
	b.WriteString(url.PathEscape(base + "-" + version + ".tgz"))
	return b.String()
}

// ErrInvalidName is wrapped by ValidateName's errors.
var ErrInvalidName = errors.New("npm: invalid package name")

// ValidateName checks a package name the way npm's validate-npm-package-name
// does for names old or new, leniently (upper case and the old special
// characters ~'!()* are accepted): not empty, at most 214 bytes, no leading
// "." or "_", no "..", no white space or control characters, URL-safe, and
// scoped names of the form "@scope/name".
func ValidateName(name string) error {
	bad := func(reason string) error { return fmt.Errorf("%w %q: %s", ErrInvalidName, name, reason) }
	switch {
	case name == "":
		return bad("empty")
	case len(name) > 214:
		return bad("longer than 214 characters")
	case name[0] == '.' || name[0] == '_':
		return bad(`starts with "." or "_"`)
	case strings.Contains(name, ".."):
		return bad(`contains ".."`)
	case strings.EqualFold(name, "node_modules") || strings.EqualFold(name, "favicon.ico"):
		return bad("reserved name")
	}
	if name[0] == '@' {
		scope, pkg, ok := strings.Cut(name[1:], "/")
		if !ok || scope == "" || pkg == "" {
			return bad("scoped names are @scope/name")
		}
		if !isURLSafe(scope) || !isURLSafe(pkg) {
			return bad("not URL-safe")
		}
		if scope[0] == '.' || pkg[0] == '.' || pkg[0] == '_' {
			return bad(`scope or name starts with "." or "_"`)
		}
		return nil
	}
	if !isURLSafe(name) {
		return bad("not URL-safe")
	}
	return nil
}

// isURLSafe reports whether encodeURIComponent(s) == s: only
// A-Z a-z 0-9 - _ . ! ~ * ' ( ).
func isURLSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_.!~*'()", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// ErrorBody is the JSON body of a 4xx answer; npm prints its "error" field.
func ErrorBody(msg string) []byte {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	return b
}
