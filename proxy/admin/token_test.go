package admin

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestLoadOrCreateToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tok, err := LoadOrCreateToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := hex.DecodeString(tok); err != nil || len(b) != 32 {
		t.Errorf("token %q is not 32 bytes of hex", tok)
	}
	fi, err := os.Stat(filepath.Join(dir, TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("token file mode %o, want 600", perm)
	}
	again, err := LoadOrCreateToken(dir)
	if err != nil || again != tok {
		t.Errorf("second call: %q, %v; want the same token", again, err)
	}
	read, err := ReadToken(dir)
	if err != nil || read != tok {
		t.Errorf("ReadToken: %q, %v", read, err)
	}
	// No temp files are left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("data dir holds %d entries, want only the token", len(ents))
	}

	// A loose mode is tightened.
	if err := os.Chmod(filepath.Join(dir, TokenFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateToken(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, TokenFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode not tightened: %o", fi.Mode().Perm())
	}
}

func TestLoadOrCreateTokenConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Go(func() {
			tok, err := LoadOrCreateToken(dir)
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		})
	}
	wg.Wait()
	for _, tok := range toks[1:] {
		if tok != toks[0] {
			t.Fatalf("concurrent creators disagree: %q vs %q", tok, toks[0])
		}
	}
}

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadToken(dir); !errors.Is(err, ErrNoTokenFile) {
		t.Errorf("missing: %v", err)
	}
	for name, content := range map[string]string{
		"short":     "abc\n",
		"two lines": "0123456789abcdef0123456789abcdef\nsecond line here\n",
		"empty":     "",
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, TokenFile), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadToken(dir); err == nil || errors.Is(err, ErrNoTokenFile) {
				t.Errorf("got %v, want a content error", err)
			}
			if _, err := LoadOrCreateToken(dir); err == nil {
				t.Error("LoadOrCreateToken accepted a bad token file")
			}
		})
	}
	want := "  0123456789abcdef0123456789abcdef-hand-written  \n"
	if err := os.WriteFile(filepath.Join(dir, TokenFile), []byte(want), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadToken(dir); err != nil || got != "0123456789abcdef0123456789abcdef-hand-written" {
		t.Errorf("hand-written token: %q %v", got, err)
	}
}
