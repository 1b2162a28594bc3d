package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"github.com/moatproject/moat/proxy/npm"
)

// npmVerifier checks a tarball against dist.integrity (strongest SRI hash),
// else dist.shasum.
func npmVerifier(a Artifact) (Verifier, error) {
	if a.Integrity == "" && a.Shasum == "" {
		return nil, fmt.Errorf("%s@%s: %w (no dist.integrity or dist.shasum)", a.Name, a.Version, ErrNoHash)
	}
	c, err := npm.NewChecker(a.Integrity, a.Shasum)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %w", a.Name, a.Version, err)
	}
	return c, nil
}

// pypiVerifier checks a file against the index's sha256.
func pypiVerifier(a Artifact) (Verifier, error) {
	if a.SHA256 == "" {
		return nil, fmt.Errorf("%s: %w (the index entry has no #sha256)", a.Filename, ErrNoHash)
	}
	if len(a.SHA256) != 64 {
		return nil, fmt.Errorf("%s: index sha256 %q is malformed", a.Filename, a.SHA256)
	}
	return &sha256Verifier{h: sha256.New(), want: strings.ToLower(a.SHA256)}, nil
}

type sha256Verifier struct {
	h    hash.Hash
	want string
}

func (v *sha256Verifier) Write(p []byte) (int, error) { return v.h.Write(p) }

func (v *sha256Verifier) Verify() error {
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
		return fmt.Errorf("sha256 mismatch: index says %s, upstream sent %s", v.want, got)
	}
	return nil
}
