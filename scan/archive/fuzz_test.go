package archive

import (
	"archive/tar"
	"errors"
	"os"
	"path"
	"strings"
	"testing"
)

var fuzzNames = []string{"x.tgz", "x.tar.bz2", "x.tar", "x.whl", "x.zip", "x"}

func FuzzRead(f *testing.F) {
	f.Add(uint8(0), tgz(f,
		tent{name: "package/package.json", body: `{"name":"x"}`},
		tent{name: "package/index.js", body: "console.log(1)\n"},
		tent{name: "package/ln", typ: tar.TypeSymlink, link: "../x"},
	))
	f.Add(uint8(2), makeTar(f, tent{name: "p/a.py", body: "a"}, tent{name: "p/a.py", body: "b"}))
	f.Add(uint8(3), makeZip(f, zent{name: "demo/__init__.py", body: "x = 1\n"}, zent{name: "demo-1.0.dist-info/RECORD", body: ""}))
	f.Add(uint8(4), makeZip(f, zent{name: `demo-1.0\setup.py`, body: "s"}))
	if b, err := os.ReadFile("testdata/demo-1.0.tar.bz2"); err == nil {
		f.Add(uint8(1), b)
	}
	f.Add(uint8(5), []byte("garbage, not an archive"))
	f.Add(uint8(0), []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})

	lim := Limits{MaxTotalBytes: 1 << 20, MaxFileBytes: 4 << 10, MaxFiles: 200, MaxRatio: 200, MaxDepth: 16}
	f.Fuzz(func(t *testing.T, nameSel uint8, data []byte) {
		name := fuzzNames[int(nameSel)%len(fuzzNames)]
		a, err := Read(name, data, Options{Limits: lim, Want: func(p string, _ int64) bool { return !strings.HasSuffix(p, ".png") }})
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			switch ae.Kind {
			case KindFormat, KindTooLarge, KindTooManyFiles, KindRatio, KindBadPath, KindDepth:
			default:
				t.Fatalf("unknown kind %q", ae.Kind)
			}
			if a != nil {
				t.Fatal("archive returned along with an error")
			}
			return
		}
		var total int64
		seen := map[string]bool{}
		for _, f := range a.Files {
			checkPath(t, f.Path)
			if seen[f.Path] {
				t.Fatalf("duplicate path %q", f.Path)
			}
			seen[f.Path] = true
			if int64(len(f.Data)) > lim.MaxFileBytes || int64(len(f.Data)) > f.Size {
				t.Fatalf("%s: %d bytes kept of %d (limit %d)", f.Path, len(f.Data), f.Size, lim.MaxFileBytes)
			}
			if f.Data != nil && !f.Truncated && int64(len(f.Data)) != f.Size {
				t.Fatalf("%s: %d bytes kept of %d, not truncated", f.Path, len(f.Data), f.Size)
			}
			if f.Truncated && (f.Data == nil || f.Size <= lim.MaxFileBytes) {
				t.Fatalf("%s: truncated at size %d", f.Path, f.Size)
			}
			total += f.Size
		}
		if total > lim.MaxTotalBytes {
			t.Fatalf("total %d over limit", total)
		}
		if len(a.Files)+len(a.Skipped) > lim.MaxFiles { // each is a distinct entry
			t.Fatalf("%d entries", len(a.Files)+len(a.Skipped))
		}
		if strings.Contains(a.Root, "/") {
			t.Fatalf("root %q", a.Root)
		}
		for _, s := range a.Skipped {
			if s.Path != "." {
				checkPath(t, s.Path)
			}
		}
	})
}

func checkPath(t *testing.T, p string) {
	t.Helper()
	if p == "" || p == "." || strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) ||
		strings.Contains(p, `\`) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") ||
		strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || (len(p) > 1 && p[1] == ':') {
		t.Fatalf("unclean path %q", p)
	}
	if n := strings.Count(p, "/") + 1; n > 16 {
		t.Fatalf("path %q has depth %d", p, n)
	}
}
