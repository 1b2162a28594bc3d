package scan_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/scan/sequence"
)

// fixturesDir holds the hand-written, defanged fixture packages.
const fixturesDir = "../testdata/fixtures"

// fixtureNames lists the fixture folders.
func fixtureNames(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(fixturesDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("no fixtures")
	}
	return names
}

// fixtureArchive packs a fixture folder the way its registry would serve it:
// npm packages as .tgz under "package/", folders with a *.dist-info as a
// wheel, other PyPI packages as an sdist under "<name>-1.0/". Archives are
// deterministic (sorted entries, fixed times).
func fixtureArchive(t testing.TB, name string) (filename string, data []byte) {
	t.Helper()
	root := filepath.Join(fixturesDir, name)
	files := map[string][]byte{}
	wheel := false
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.IsDir() && strings.HasSuffix(d.Name(), ".dist-info") {
				wheel = true
			}
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range files {
			if !yield(p) {
				return
			}
		}
	})
	var buf bytes.Buffer
	switch {
	case wheel:
		zw := zip.NewWriter(&buf)
		for _, p := range paths {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: p, Method: zip.Deflate, Modified: time.Unix(1e9, 0)})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(files[p])
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return name + "-1.0-py3-none-any.whl", buf.Bytes()
	default:
		prefix, filename := "package/", name+"-1.0.0.tgz"
		if strings.HasPrefix(name, "pypi-") {
			prefix, filename = name+"-1.0/", name+"-1.0.tar.gz"
		}
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for _, p := range paths {
			hdr := &tar.Header{Name: prefix + p, Mode: 0o644, Size: int64(len(files[p])), ModTime: time.Unix(1e9, 0), Typeflag: tar.TypeReg}
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
			tw.Write(files[p])
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		gz.Close()
		return filename, buf.Bytes()
	}
}

// fakeExtractor is a line-based stand-in for scan/features, good enough for
// the fixtures: it lets the orchestration be tested without cgo.
type fakeExtractor struct {
	version string
	delay   time.Duration
	panics  bool
}

func (f *fakeExtractor) Version() string {
	if f.version == "" {
		return "fake/1"
	}
	return f.version
}

type fakeRule struct {
	re   *regexp.Regexp
	toks []string
}

func fakeRules(pairs ...string) []fakeRule {
	var out []fakeRule
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, fakeRule{regexp.MustCompile(pairs[i]), strings.Fields(pairs[i+1])})
	}
	return out
}

var (
	jsRules = fakeRules(
		`require\(['"](node:)?fs(/promises)?['"]\)`, "fs.import",
		`require\(['"](node:)?os['"]\)`, "os.import",
		`require\(['"](node:)?(https?|net)['"]\)`, "net.import",
		`require\(['"](node:)?child_process['"]\)`, "process.import",
		`readFileSync\(|readFile\(`, "fs.read",
		`os\.(hostname|userInfo|homedir)\(`, "os.call",
		`JSON\.stringify\(process\.env\)`, "env.read.all",
		`process\.env\.[A-Z]`, "env.read",
		`\.npmrc`, "sensitive.path",
		`https?://`, "url",
		`\.request\(|fetch\(`, "net.call",
		`eval\((Buffer\.from|atob)`, "encoding.call eval.decoded",
		`\beval\((?:[^B]|$)`, "eval.call",
		`['"][A-Za-z0-9+/=]{40,}['"]`, "string.base64",
		`\b(exec|spawn)\(`, "process.call",
	)
	pyRules = fakeRules(
		`^(import|from) os\b`, "os.import",
		`^(import|from) (urllib|requests|socket)`, "net.import",
		`^import base64|;import base64|^import base64;`, "encoding.import",
		`^(import|from) subprocess`, "process.import",
		`dict\(os\.environ\)|os\.environ\.copy\(\)`, "env.read.all",
		`os\.environ\.get\(|os\.getenv\(|os\.environ\[`, "env.read",
		`https?://`, "url",
		`https?://\d+\.\d+\.\d+\.\d+`, "url.ip",
		`urlopen\(|requests\.(get|post)\(`, "net.call",
		`exec\(base64\.b64decode`, "encoding.call eval.decoded",
		`class \w+\((install|develop)\)`, "setup.install_class",
		`cmdclass\s*=`, "setup.cmdclass",
		`\bopen\(`, "fs.read",
		`subprocess\.\w+\(|os\.system\(`, "process.call",
	)
	jsImport = regexp.MustCompile(`require\(['"](\.[^'"]*)['"]\)`)
	pyFrom   = regexp.MustCompile(`^from (\.*[\w.]*) import`)
	pyImport = regexp.MustCompile(`^import ([\w.]+)`)
)

func (f *fakeExtractor) Extract(ctx context.Context, p string, src []byte) (*sequence.FileEvents, error) {
	if f.panics {
		panic("fake extractor panic")
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	fe := &sequence.FileEvents{Path: p}
	var rs []fakeRule
	switch path.Ext(p) {
	case ".js", ".mjs", ".cjs":
		rs = jsRules
	case ".py":
		rs = pyRules
	default:
		return fe, nil
	}
	for i, line := range strings.Split(string(src), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "//") || strings.HasPrefix(trimmed, "#") {
			continue
		}
		for _, r := range rs {
			if r.re.MatchString(trimmed) {
				for _, tok := range r.toks {
					fe.Events = append(fe.Events, sequence.Event{Token: tok, File: p, Line: i + 1, Snippet: trimmed})
				}
			}
		}
		if path.Ext(p) == ".py" {
			if m := pyFrom.FindStringSubmatch(trimmed); m != nil {
				fe.Imports = append(fe.Imports, m[1])
			} else if m := pyImport.FindStringSubmatch(trimmed); m != nil {
				fe.Imports = append(fe.Imports, m[1])
			}
		} else {
			for _, m := range jsImport.FindAllStringSubmatch(trimmed, -1) {
				fe.Imports = append(fe.Imports, m[1])
			}
		}
	}
	return fe, nil
}

// tgz builds a .tgz from path → content, every path under prefix.
func tgz(t testing.TB, prefix string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for p := range files {
			if !yield(p) {
				return
			}
		}
	}) {
		hdr := &tar.Header{Name: prefix + p, Mode: 0o644, Size: int64(len(files[p])), ModTime: time.Unix(1e9, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[p]))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}
