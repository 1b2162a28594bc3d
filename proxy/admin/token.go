package admin

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile is the name of the admin token file in the data dir.
const TokenFile = "admin.token"

// minTokenLen is the shortest token accepted from a file (a hand-written
// token must still be hard to guess).
const minTokenLen = 32

// ErrNoTokenFile is returned by ReadToken when the data dir has no token
// (moat serve has never run there).
var ErrNoTokenFile = errors.New("admin: no admin token in the data dir")

// LoadOrCreateToken returns the admin token of dataDir, creating
// <dataDir>/admin.token (mode 0600, 32 random bytes as hex) on first use.
// A token file readable by group or others is tightened to 0600. The token
// is a secret: callers must never log it.
func LoadOrCreateToken(dataDir string) (string, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	path := filepath.Join(dataDir, TokenFile)
	for range 2 {
		tok, err := ReadToken(dataDir)
		if err == nil {
			if fi, serr := os.Stat(path); serr == nil && fi.Mode().Perm()&0o077 != 0 {
				if err := os.Chmod(path, 0o600); err != nil {
					return "", fmt.Errorf("admin token: %w", err)
				}
			}
			return tok, nil
		}
		if !errors.Is(err, ErrNoTokenFile) {
			return "", err
		}
		created, err := createToken(path)
		if errors.Is(err, fs.ErrExist) {
			continue // another process created it meanwhile: read theirs
		}
		return created, err
	}
	return "", fmt.Errorf("admin token: %s keeps changing", path)
}

func createToken(path string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	tok := hex.EncodeToString(b[:])
	// Write to a private temp file and link it into place, so a reader
	// never sees a partial token and a concurrent creator loses cleanly.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".admin.token-*")
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("admin token: %w", err)
	}
	_, werr := tmp.WriteString(tok + "\n")
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", err
		}
		return "", fmt.Errorf("admin token: %w", err)
	}
	return tok, nil
}

// ReadToken reads the admin token of dataDir without creating one; it
// returns ErrNoTokenFile when there is none. The CLI uses it to talk to the
// server running on that data dir.
func ReadToken(dataDir string) (string, error) {
	path := filepath.Join(dataDir, TokenFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w (%s)", ErrNoTokenFile, path)
	}
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < minTokenLen || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("admin token: %s does not hold a token (want at least %d characters on one line)", path, minTokenLen)
	}
	return tok, nil
}
