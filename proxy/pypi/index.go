package pypi

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Project is one project page of the Simple Repository API, independent of
// its form (HTML or JSON).
type Project struct {
	Name     string
	Meta     Meta
	Files    []File
	Versions []string // PEP 700; nil when the page has none (HTML)
}

// Meta is the page's metadata.
type Meta struct {
	APIVersion string // "1.0", "1.1"...
}

// File is one distribution file of a project page.
type File struct {
	Filename string
	URL      string // absolute, without fragment
	// Hashes maps lower-case algorithm names to hex digests; nil when none.
	Hashes         map[string]string
	RequiresPython string // unescaped; "" when absent
	CoreMetadata   Metadata
	Yanked         Yanked
	Size           int64     // -1 when unknown
	UploadTime     time.Time // zero when unknown
	Gpg            bool      // a detached signature is available (data-gpg-sig / gpg-sig)
}

// Metadata says whether the file's core metadata is served at URL +
// ".metadata" (PEP 658/714), and its hashes.
type Metadata struct {
	Present bool
	Hashes  map[string]string // nil when none
}

// Yanked is PEP 592's yank status.
type Yanked struct {
	Yanked bool
	Reason string
}

// ErrMalformed is wrapped by every error about an index page that cannot
// be parsed; parsers never return a partial result.
var ErrMalformed = errors.New("pypi: malformed index page")

// ErrUnsupported is wrapped when a page declares an API major version moat
// does not speak.
var ErrUnsupported = errors.New("pypi: unsupported repository API version")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// APIVersion is the Simple API version moat renders.
const APIVersion = "1.1"

// checkAPIVersion accepts "1" or "1.x".
func checkAPIVersion(v string) error {
	major, minor, _ := strings.Cut(v, ".")
	if _, err := strconv.ParseUint(major, 10, 16); err != nil {
		return malformed("bad repository version %q", v)
	}
	if minor != "" {
		if _, err := strconv.ParseUint(minor, 10, 16); err != nil {
			return malformed("bad repository version %q", v)
		}
	}
	if major != "1" {
		return fmt.Errorf("%w %q", ErrUnsupported, v)
	}
	return nil
}

// resolve makes href absolute against base and splits off its fragment.
func resolve(base *url.URL, href string) (*url.URL, string, error) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return nil, "", malformed("bad URL %q: %v", href, err)
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	frag := u.Fragment
	u.Fragment, u.RawFragment = "", ""
	// url.Parse takes some hosts in a scheme-relative reference that it
	// refuses in an absolute URL ("//h::/f" parses, "https://h::/f" does
	// not): keep only a URL that parses back as moat will write it.
	if _, err := url.Parse(u.String()); err != nil {
		return nil, "", malformed("bad URL %q: %v", href, err)
	}
	return u, frag, nil
}

// urlFilename is the last path segment of u (what pip uses as the file name).
func urlFilename(u *url.URL) string {
	p := u.Path
	if p == "" || strings.HasSuffix(p, "/") {
		return ""
	}
	return path.Base(p)
}

// parseHashPair parses "algo=hexdigest".
func parseHashPair(s string) (algo, digest string, err error) {
	algo, digest, ok := strings.Cut(s, "=")
	algo = strings.ToLower(algo)
	if !ok || !validAlgo(algo) {
		return "", "", malformed("bad hash %q", s)
	}
	if err := checkDigest(algo, digest); err != nil {
		return "", "", err
	}
	return algo, digest, nil
}

func validAlgo(a string) bool {
	if a == "" || len(a) > 32 {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// hashlibAlgo reports whether a is one of Python's
// hashlib.algorithms_guaranteed, the names PEP 503 allows.
func hashlibAlgo(a string) bool {
	switch a {
	case "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s",
		"sha3_224", "sha3_256", "sha3_384", "sha3_512", "shake_128", "shake_256":
		return true
	}
	return false
}

// digestLen is the hex length of a known algorithm's digest (0: unknown).
func digestLen(algo string) int {
	switch algo {
	case "md5":
		return 32
	case "sha1":
		return 40
	case "sha224", "sha3_224":
		return 56
	case "sha256", "sha3_256", "blake2s":
		return 64
	case "sha384", "sha3_384":
		return 96
	case "sha512", "sha3_512", "blake2b":
		return 128
	}
	return 0
}

func checkDigest(algo, d string) error {
	if d == "" || len(d) > 256 {
		return malformed("bad %s digest %q", algo, d)
	}
	for i := 0; i < len(d); i++ {
		if !isHex(d[i]) {
			return malformed("bad %s digest %q", algo, d)
		}
	}
	if n := digestLen(algo); n != 0 && len(d) != n {
		return malformed("bad %s digest length %d", algo, len(d))
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// preferredHash picks the hash to put in a URL fragment or an HTML
// attribute: sha256 when present, else the alphabetically first algorithm.
func preferredHash(h map[string]string) (string, string, bool) {
	if d, ok := h["sha256"]; ok {
		return "sha256", d, true
	}
	if len(h) == 0 {
		return "", "", false
	}
	algos := make([]string, 0, len(h))
	for a := range h {
		algos = append(algos, a)
	}
	sort.Strings(algos)
	return algos[0], h[algos[0]], true
}

// FileVersions returns the distinct versions named by the files of p (as
// written in their file names, in first-seen order), for pages (HTML) that
// carry no PEP 700 version list. Files whose names do not parse are skipped.
func (p *Project) FileVersions() []string {
	var out []string
	seen := make(map[string]bool)
	for _, f := range p.Files {
		fi, err := ParseFilename(f.Filename)
		if err != nil || seen[fi.Version] {
			continue
		}
		seen[fi.Version] = true
		out = append(out, fi.Version)
	}
	return out
}
