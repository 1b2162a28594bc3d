//go:build unix

package archive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		must(t, os.MkdirAll(filepath.Dir(full), 0o755))
		must(t, os.WriteFile(full, []byte(body), 0o644))
	}
	return root
}

func TestReadDir(t *testing.T) {
	root := writeTree(t, map[string]string{
		"package.json":            `{"name":"demo"}`,
		"index.js":                "require('./lib/a')\n",
		"lib/a.js":                "module.exports = 1\n",
		"logo.png":                "\x89PNG",
		".git/config":             "[core]\n",
		"node_modules/dep/x.js":   "x",
		"sub/node_modules/y/y.js": "y",
	})
	must(t, os.Symlink("../../outside", filepath.Join(root, "lib", "ln.js")))
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Logf("no fifo: %v", err)
	}
	a, err := ReadDir(root, Options{Want: WantSource})
	must(t, err)
	got := summary(a)
	want := lines(`format=dir root=""`,
		`file index.js 19 "require('./lib/a')\n"`,
		`file lib/a.js 19 "module.exports = 1\n"`,
		`file logo.png 4 -`,
		`file package.json 15 "{\"name\":\"demo\"}"`,
		`skip lib/ln.js: symlink to ../../outside`,
	)
	if _, err := os.Lstat(filepath.Join(root, "pipe")); err == nil {
		want += "skip pipe: irregular file (mode p---------)\n"
	}
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	// A symlinked root is followed; links below it are not.
	link := filepath.Join(t.TempDir(), "link")
	must(t, os.Symlink(root, link))
	if a2, err := ReadDir(link, Options{Want: WantSource}); err != nil || summary(a2) != got {
		t.Errorf("ReadDir via link: %v\n%s", err, summary(a2))
	}
}

func TestReadDirLimits(t *testing.T) {
	deep := strings.Repeat("d/", 5) + "f.js"
	tests := []struct {
		name  string
		files map[string]string
		lim   Limits
		kind  string
	}{
		{"too large", map[string]string{"a.js": strings.Repeat("a", 60), "b.js": strings.Repeat("b", 60)}, Limits{MaxTotalBytes: 100}, KindTooLarge},
		{"too many", map[string]string{"a.js": "", "b.js": "", "c.js": ""}, Limits{MaxFiles: 2}, KindTooManyFiles},
		{"too deep", map[string]string{deep: ""}, Limits{MaxDepth: 5}, KindDepth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadDir(writeTree(t, tt.files), Options{Limits: tt.lim})
			var ae *Error
			if !errors.As(err, &ae) || ae.Kind != tt.kind {
				t.Fatalf("err = %v, want kind %s", err, tt.kind)
			}
		})
	}
	if _, err := ReadDir(filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
		t.Error("missing folder: no error")
	}
	f := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(f, nil, 0o644))
	if _, err := ReadDir(f, Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file as root: %v", err)
	}
}

func TestReadDirTruncates(t *testing.T) {
	root := writeTree(t, map[string]string{"big.js": strings.Repeat("x", 100)})
	a, err := ReadDir(root, Options{Limits: Limits{MaxFileBytes: 16}})
	must(t, err)
	if f := a.Files[0]; f.Size != 100 || len(f.Data) != 16 || !f.Truncated {
		t.Errorf("got size %d, %d bytes kept, truncated %v", f.Size, len(f.Data), f.Truncated)
	}
}
