package dataset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/moatproject/moat/scan"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fakeScanner reports, as the sequence, the file names inside a tar input
// (so tests see what was scanned) or a token naming the input's filename.
type fakeScanner struct{ calls atomic.Int32 }

func (f *fakeScanner) Scan(_ context.Context, in scan.Input) *scan.Report {
	f.calls.Add(1)
	r := &scan.Report{Ecosystem: in.Ecosystem, Name: in.Name, Version: in.Version, Verdict: scan.VerdictClean}
	if r.Ecosystem == "" {
		r.Ecosystem = scan.PyPI
		if strings.HasSuffix(in.Filename, ".tgz") {
			r.Ecosystem = scan.NPM
		}
	}
	if bytes.Contains(in.Data, []byte("BROKEN")) {
		r.Verdict, r.Error, r.ErrorKind = scan.VerdictError, "bad archive", "archive.format"
		return r
	}
	if strings.HasSuffix(in.Filename, ".tar") {
		tr := tar.NewReader(bytes.NewReader(in.Data))
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			r.Sequence = append(r.Sequence, "file:"+h.Name)
		}
		return r
	}
	r.Sequence = []string{"[INSTALL]", "setup.py", "input:" + in.Filename}
	return r
}

func tarBytes(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// arBytes builds an ar archive (the .deb container).
func arBytes(members ...arMember) []byte {
	var buf bytes.Buffer
	buf.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&buf, "%-16s%-12s%-6s%-6s%-8s%-10d`\n", m.Name, "0", "0", "0", "100644", len(m.Data))
		buf.Write(m.Data)
		if len(m.Data)%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}

func xzBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("xz not installed")
	}
	cmd := exec.Command("xz", "-zc")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func write(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

const metaTSV = "ecosystem\tpackage\tversion\tdate_added\trelative_path\tsha256\tsource\tcontainer\tkam193_category\tkam193_campaign\tnote\n" +
	"pypi\tevilpkg\t1.0\t2023-05-01\tpypi/evilpkg/1.0/evilpkg-1.0.tar.gz\t-\tfixture-mal\tgzip\t\tcampaign-a\tMALICIOUS fixture\n" +
	"pypi\tsneaky\t2.0\t2023-06-02\tpypi/sneaky/2.0/sneaky-2.0.tar.gz\t-\tfixture-mal\tzip\tprobably_pentest\t\tMALICIOUS fixture\n" +
	"npm\tleft-pad-ok\t1.0.0\t\tnpm/left-pad-ok-1.0.0.tgz\t-\tfixture-npm\t\t\t\tBENIGN counterpart\n"

// corpus writes a small corpus of defanged fixtures: archives whose content
// the fake scanner never interprets.
func corpus(t *testing.T) (dir string, meta *MetaIndex) {
	t.Helper()
	dir = t.TempDir()
	pkgTgz := gz(t, tarBytes(t, map[string]string{"package/package.json": `{"name":"left-pad-ok","version":"1.0.0"}`}))
	sdist := gz(t, tarBytes(t, map[string]string{"evilpkg-1.0/setup.py": "print('fixture')\n"}))
	write(t, filepath.Join(dir, "single", "left-pad-ok-1.0.0.tgz"), pkgTgz)
	write(t, filepath.Join(dir, "folder", "b", "helper-0.1.tar.gz"), sdist)
	write(t, filepath.Join(dir, "folder", "a", "broken-1.0.tar.gz"), []byte("BROKEN"))
	write(t, filepath.Join(dir, "folder", "notes.txt"), []byte("not an archive"))
	write(t, filepath.Join(dir, "container.tar"), tarBytes(t, map[string]string{
		"pypi/evilpkg/1.0/evilpkg-1.0.tar.gz": string(sdist),
		"pypi/sneaky/2.0/sneaky-2.0.tar.gz":   "PK\x03\x04 zip bytes under a tar name",
	}))
	data := tarBytes(t, map[string]string{
		"./usr/lib/python3/dist-packages/debpkg/__init__.py": "import os\n",
		"./usr/lib/python3/dist-packages/debpkg/util.py":     "x = 1\n",
		"./usr/share/doc/python3-debpkg/copyright":           "fixture\n",
	})
	write(t, filepath.Join(dir, "python3-debpkg_1.2-1_all.deb"), arBytes(
		arMember{Name: "debian-binary", Data: []byte("2.0\n")},
		arMember{Name: "control.tar.xz", Data: xzBytes(t, tarBytes(t, map[string]string{"./control": "Package: python3-debpkg\n"}))},
		arMember{Name: "data.tar.xz", Data: xzBytes(t, data)},
	))
	meta, err := ReadMeta(strings.NewReader(metaTSV), nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir, meta
}

func TestExportGolden(t *testing.T) {
	dir, meta := corpus(t)
	inputs := []string{
		filepath.Join(dir, "single", "left-pad-ok-1.0.0.tgz"),
		filepath.Join(dir, "folder"),
		filepath.Join(dir, "container.tar"),
		filepath.Join(dir, "python3-debpkg_1.2-1_all.deb"),
	}
	var out, progress bytes.Buffer
	st, err := Export(context.Background(), &fakeScanner{}, inputs, &out,
		Options{Label: LabelMalicious, DefaultSource: "fixture", Meta: meta, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if st.Archives != 6 || st.Written != 5 || st.Skipped["scan: archive.format"] != 1 {
		t.Errorf("stats = %+v, want 6 archives, 5 written, 1 skipped for archive.format", st)
	}
	if !strings.Contains(progress.String(), "6 archives, 5 written") {
		t.Errorf("progress = %q", progress.String())
	}
	got := strings.ReplaceAll(out.String(), dir, "$DIR")
	golden := filepath.Join("testdata", "export.golden")
	if *update {
		write(t, golden, []byte(got))
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update):\n got:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestExportLabels(t *testing.T) {
	dir, meta := corpus(t)
	in := filepath.Join(dir, "single", "left-pad-ok-1.0.0.tgz")
	tests := []struct {
		name      string
		label     int
		meta      *MetaIndex
		wantLabel int
		wantSkip  string
	}{
		{"flag wins", LabelMalicious, meta, 1, ""},
		{"from note", LabelFromMeta, meta, 0, ""},
		{"no note, no flag", LabelFromMeta, nil, -1, "no label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			st, err := Export(context.Background(), &fakeScanner{}, []string{in}, &out, Options{Label: tt.label, Meta: tt.meta})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSkip != "" {
				if st.Skipped[tt.wantSkip] != 1 || out.Len() != 0 {
					t.Errorf("stats %+v, output %q; want one skipped for %q", st, out.String(), tt.wantSkip)
				}
				return
			}
			if !strings.Contains(out.String(), fmt.Sprintf(`"label":%d`, tt.wantLabel)) {
				t.Errorf("output %s, want label %d", out.String(), tt.wantLabel)
			}
		})
	}
}

func TestExportMissingInput(t *testing.T) {
	var out bytes.Buffer
	_, err := Export(context.Background(), &fakeScanner{}, []string{filepath.Join(t.TempDir(), "nope")}, &out, Options{Label: 1})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

func TestExportCanceled(t *testing.T) {
	dir, meta := corpus(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	_, err := Export(ctx, &fakeScanner{}, []string{dir}, &out, Options{Label: 1, Meta: meta})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestExportTooLarge(t *testing.T) {
	dir, _ := corpus(t)
	var out bytes.Buffer
	st, err := Export(context.Background(), &fakeScanner{}, []string{filepath.Join(dir, "container.tar")}, &out,
		Options{Label: 1, MaxArchiveBytes: 40})
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped["read: too_large"] != 1 {
		t.Errorf("stats = %+v, want one read: too_large", st)
	}
}

func TestReadMeta(t *testing.T) {
	x, err := ReadMeta(strings.NewReader(metaTSV), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key      string
		wantName string
		found    bool
	}{
		{"pypi/evilpkg/1.0/evilpkg-1.0.tar.gz", "evilpkg", true},
		{"./pypi/evilpkg/1.0/evilpkg-1.0.tar.gz", "evilpkg", true},
		{"elsewhere/left-pad-ok-1.0.0.tgz", "left-pad-ok", true}, // by file name
		{"unknown-1.0.tgz", "", false},
	}
	for _, tt := range tests {
		m, ok := x.Lookup(tt.key)
		if ok != tt.found || m.Name != tt.wantName {
			t.Errorf("Lookup(%q) = %+v, %v; want name %q, %v", tt.key, m, ok, tt.wantName, tt.found)
		}
	}
	if m, _ := x.Lookup("pypi/sneaky/2.0/sneaky-2.0.tar.gz"); m.Container != "zip" || m.Category != "probably_pentest" || m.label() != 1 {
		t.Errorf("sneaky meta = %+v", m)
	}
	for name, bad := range map[string]string{
		"empty":            "",
		"no relative_path": "package\tversion\nx\t1\n",
		"missing cell":     "package\trelative_path\nx\n",
	} {
		if _, err := ReadMeta(strings.NewReader(bad), nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseAr(t *testing.T) {
	good := arBytes(arMember{Name: "debian-binary", Data: []byte("2.0\n")}, arMember{Name: "odd", Data: []byte("x")}, arMember{Name: "data.tar", Data: []byte("yz")})
	ms, err := parseAr(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[1].Name != "odd" || string(ms[1].Data) != "x" || string(ms[2].Data) != "yz" {
		t.Errorf("members = %+v", ms)
	}
	for name, bad := range map[string][]byte{
		"no magic":      []byte("not ar"),
		"short header":  []byte("!<arch>\nabc"),
		"size past end": arBytes(arMember{Name: "x", Data: []byte("abc")})[:8+60+1],
	} {
		if _, err := parseAr(bad); !errors.Is(err, ErrDeb) {
			t.Errorf("%s: err = %v, want ErrDeb", name, err)
		}
	}
}

func TestDistPackagesPath(t *testing.T) {
	tests := map[string]string{
		"./usr/lib/python3/dist-packages/a/b.py":      "a/b.py",
		"usr/lib/python3.11/dist-packages/x.pth":      "x.pth",
		"./usr/share/doc/x/copyright":                 "",
		"./usr/lib/python3/dist-packages/../../etc/x": "",
	}
	for in, want := range tests {
		got, ok := distPackagesPath(in)
		if got != want || ok != (want != "") {
			t.Errorf("distPackagesPath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func FuzzParseAr(f *testing.F) {
	f.Add(arBytes(arMember{Name: "debian-binary", Data: []byte("2.0\n")}, arMember{Name: "data.tar.xz", Data: []byte("abc")}))
	f.Add([]byte("!<arch>\n"))
	f.Add([]byte("!<arch>\nx               0           0     0     100644  -1        `\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := parseAr(b)
		if err != nil {
			return
		}
		total := 0
		for _, m := range ms {
			total += len(m.Data)
		}
		if total > len(b) {
			t.Fatalf("members hold %d bytes of a %d-byte archive", total, len(b))
		}
	})
}

func FuzzReadMeta(f *testing.F) {
	f.Add(metaTSV)
	f.Add("relative_path\n\n./x.tgz\n")
	f.Fuzz(func(t *testing.T, s string) {
		x, err := ReadMeta(strings.NewReader(s), nil)
		if err != nil {
			return
		}
		for p, m := range x.byPath {
			if got, ok := x.Lookup(p); !ok || got != m {
				t.Fatalf("Lookup(%q) = %+v, %v; indexed %+v", p, got, ok, m)
			}
		}
	})
}

func TestNameFromFilename(t *testing.T) {
	tests := []struct{ in, name, version string }{
		{"left-pad-1.3.0.tgz", "left-pad", "1.3.0"},
		{"requests-2.31.0.tar.gz", "requests", "2.31.0"},
		{"pip-19.2.3-py2.py3-none-any.whl", "pip", "19.2.3"},
		{"python3-adal_1.2.7-2_all.deb", "adal", "1.2.7"},
		{"python3-x_1:2.0-1_all.deb", "x", "2.0"},
		{"noversion.zip", "noversion", ""},
	}
	for _, tt := range tests {
		if n, v := nameFromFilename(tt.in); n != tt.name || v != tt.version {
			t.Errorf("nameFromFilename(%q) = %q, %q; want %q, %q", tt.in, n, v, tt.name, tt.version)
		}
	}
}

func TestResume(t *testing.T) {
	dir, meta := corpus(t)
	var first bytes.Buffer
	if _, err := Export(context.Background(), &fakeScanner{}, []string{dir}, &first, Options{Label: 1, Meta: meta}); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(first.String(), "\n")
	// A run killed after two records, mid-way through the third.
	torn := lines[0] + lines[1] + lines[2][:10]
	done, err := ReadDone(strings.NewReader(torn))
	if err == nil || len(done) != 2 {
		t.Fatalf("ReadDone(torn) = %d paths, %v; want 2 and an error", len(done), err)
	}
	sc := &fakeScanner{}
	var rest bytes.Buffer
	st, err := Export(context.Background(), sc, []string{dir}, &rest, Options{Label: 1, Meta: meta, Done: done})
	if err != nil {
		t.Fatal(err)
	}
	if got := lines[0] + lines[1] + rest.String(); got != first.String() {
		t.Errorf("resumed output differs:\n%s\nwant:\n%s", got, first.String())
	}
	if int(sc.calls.Load()) != st.Archives || st.Archives != 4 {
		t.Errorf("resumed run scanned %d archives (stats %+v), want the 4 not done", sc.calls.Load(), st)
	}
}
