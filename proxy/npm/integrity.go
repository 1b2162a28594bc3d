package npm

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
)

// Hash is one expected digest of an artifact.
type Hash struct {
	Algo   string // "sha512", "sha384", "sha256" or "sha1"
	Digest []byte
}

// String formats h as an SRI token ("sha512-<base64>").
func (h Hash) String() string { return h.Algo + "-" + base64.StdEncoding.EncodeToString(h.Digest) }

// algoRank orders the supported algorithms, strongest first.
func algoRank(algo string) int {
	switch algo {
	case "sha512":
		return 4
	case "sha384":
		return 3
	case "sha256":
		return 2
	case "sha1":
		return 1
	}
	return 0
}

func newHash(algo string) hash.Hash {
	switch algo {
	case "sha512":
		return sha512.New()
	case "sha384":
		return sha512.New384()
	case "sha256":
		return sha256.New()
	case "sha1":
		return sha1.New()
	}
	return nil
}

func digestSize(algo string) int {
	switch algo {
	case "sha512":
		return sha512.Size
	case "sha384":
		return sha512.Size384
	case "sha256":
		return sha256.Size
	case "sha1":
		return sha1.Size
	}
	return 0
}

// ErrNoHash means the metadata carries neither a usable integrity nor a
// shasum: the artifact cannot be verified.
var ErrNoHash = errors.New("npm: no integrity or shasum to verify against")

// ErrBadIntegrity is wrapped when an integrity or shasum string is malformed.
var ErrBadIntegrity = errors.New("npm: malformed integrity")

// ErrIntegrity is matched (errors.Is) by every *IntegrityError.
var ErrIntegrity = errors.New("npm: integrity mismatch")

// IntegrityError reports bytes that do not match the expected digest.
type IntegrityError struct {
	Algo     string
	Expected string // SRI form of the expected digest(s)
	Got      string // SRI form of the computed digest
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("npm: integrity mismatch: expected %s, got %s", e.Expected, e.Got)
}

// Is makes errors.Is(err, ErrIntegrity) hold.
func (e *IntegrityError) Is(target error) bool { return target == ErrIntegrity }

// ParseIntegrity parses a Subresource Integrity string: white-space
// separated "algo-base64[?options]" tokens. Tokens of unsupported
// algorithms are skipped; a supported token that does not decode to a digest
// of the right size is an error. The result is sorted strongest first
// (sha512 > sha384 > sha256 > sha1). No supported token gives ErrNoHash.
func ParseIntegrity(sri string) ([]Hash, error) {
	var out []Hash
	for _, tok := range strings.Fields(sri) {
		algo, val, ok := strings.Cut(tok, "-")
		if !ok {
			continue
		}
		algo = strings.ToLower(algo)
		if algoRank(algo) == 0 {
			continue
		}
		if i := strings.IndexByte(val, '?'); i >= 0 {
			val = val[:i]
		}
		d, err := decodeBase64(val)
		if err != nil || len(d) != digestSize(algo) {
			return nil, fmt.Errorf("%w: bad %s digest %q", ErrBadIntegrity, algo, val)
		}
		out = append(out, Hash{Algo: algo, Digest: d})
	}
	if len(out) == 0 {
		return nil, ErrNoHash
	}
	slices.SortStableFunc(out, func(a, b Hash) int { return algoRank(b.Algo) - algoRank(a.Algo) })
	return out, nil
}

func decodeBase64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// expected returns the digests to check: those of the strongest algorithm of
// integrity, else the shasum's SHA-1.
func expected(integrity, shasum string) ([]Hash, error) {
	if strings.TrimSpace(integrity) != "" {
		hs, err := ParseIntegrity(integrity)
		switch {
		case err == nil:
			n := 1
			for n < len(hs) && hs[n].Algo == hs[0].Algo {
				n++
			}
			return hs[:n], nil
		case !errors.Is(err, ErrNoHash):
			return nil, err
		}
	}
	if s := strings.TrimSpace(shasum); s != "" {
		d, err := hex.DecodeString(s)
		if err != nil || len(d) != sha1.Size {
			return nil, fmt.Errorf("%w: bad shasum %q", ErrBadIntegrity, shasum)
		}
		return []Hash{{Algo: "sha1", Digest: d}}, nil
	}
	return nil, ErrNoHash
}

// Verify checks data against the strongest digest available: integrity
// (SRI) first, else the SHA-1 shasum. It returns a *IntegrityError on
// mismatch and ErrNoHash when there is nothing to check against.
func Verify(data []byte, integrity, shasum string) error {
	c, err := NewChecker(integrity, shasum)
	if err != nil {
		return err
	}
	_, _ = c.Write(data)
	return c.Verify()
}

// Checker verifies an artifact while it streams past (an io.Writer), and
// computes its SHA-256 (moat's blob key) in the same pass.
type Checker struct {
	want   []Hash
	h      hash.Hash // the expected algorithm
	sha256 hash.Hash // nil when h is already SHA-256
	n      int64
}

// NewChecker prepares a Checker for the strongest digest in integrity or
// shasum (see Verify).
func NewChecker(integrity, shasum string) (*Checker, error) {
	want, err := expected(integrity, shasum)
	if err != nil {
		return nil, err
	}
	c := &Checker{want: want, h: newHash(want[0].Algo)}
	if want[0].Algo != "sha256" {
		c.sha256 = sha256.New()
	}
	return c, nil
}

// Write hashes p; it never fails.
func (c *Checker) Write(p []byte) (int, error) {
	c.h.Write(p)
	if c.sha256 != nil {
		c.sha256.Write(p)
	}
	c.n += int64(len(p))
	return len(p), nil
}

// Size is the number of bytes written so far.
func (c *Checker) Size() int64 { return c.n }

// Algo is the algorithm being checked.
func (c *Checker) Algo() string { return c.want[0].Algo }

// Verify compares the bytes written so far with the expected digest(s); any
// one digest of the strongest algorithm matching is enough (as in ssri).
func (c *Checker) Verify() error {
	got := c.h.Sum(nil)
	for _, w := range c.want {
		if subtle.ConstantTimeCompare(w.Digest, got) == 1 {
			return nil
		}
	}
	exp := make([]string, len(c.want))
	for i, w := range c.want {
		exp[i] = w.String()
	}
	return &IntegrityError{
		Algo:     c.want[0].Algo,
		Expected: strings.Join(exp, " "),
		Got:      Hash{Algo: c.want[0].Algo, Digest: got}.String(),
	}
}

// SHA256 returns the hex SHA-256 of the bytes written so far.
func (c *Checker) SHA256() string {
	h := c.sha256
	if h == nil {
		h = c.h
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Integrity returns the SRI string ("sha512-...") of data, as npm writes it.
func Integrity(data []byte) string {
	s := sha512.Sum512(data)
	return Hash{Algo: "sha512", Digest: s[:]}.String()
}
