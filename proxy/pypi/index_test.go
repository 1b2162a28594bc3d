package pypi

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n got: %s\nwant: %s", name, got, want)
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

var testBase = mustURL("https://index.example.invalid/simple/demo-pkg/")

const (
	hashA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hashB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	hashC = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
)

func TestParseHTML(t *testing.T) {
	p, err := ParseHTML(readFixture(t, "project.html"), testBase)
	if err != nil {
		t.Fatal(err)
	}
	want := &Project{
		Name: "demo-pkg",
		Meta: Meta{APIVersion: "1.1"},
		Files: []File{
			{
				Filename:       "demo_pkg-1.0-py3-none-any.whl",
				URL:            "https://index.example.invalid/packages/ab/cd/demo_pkg-1.0-py3-none-any.whl",
				Hashes:         map[string]string{"sha256": hashA},
				RequiresPython: ">=3.8",
				CoreMetadata:   Metadata{Present: true, Hashes: map[string]string{"sha256": hashB}},
				Size:           -1,
			},
			{
				Filename: "demo-pkg-1.0.tar.gz",
				URL:      "https://files.example.invalid/packages/demo-pkg-1.0.tar.gz",
				Hashes:   map[string]string{"sha256": hashC},
				Yanked:   Yanked{Yanked: true},
				Size:     -1,
			},
			{
				Filename:       "demo_pkg-2.0rc1-cp312-abi3-manylinux_2_17_x86_64.whl",
				URL:            "https://files.example.invalid/packages/demo_pkg-2.0rc1-cp312-abi3-manylinux_2_17_x86_64.whl",
				Hashes:         map[string]string{"md5": "0123456789abcdef0123456789abcdef"},
				RequiresPython: ">=3.12,<4",
				Yanked:         Yanked{Yanked: true, Reason: "broken & bad"},
				Gpg:            true,
				Size:           -1,
			},
			{
				Filename:     "demo_pkg-2.0-py3-none-any.whl",
				URL:          "https://files.example.invalid/packages/demo_pkg-2.0-py3-none-any.whl",
				CoreMetadata: Metadata{Present: true},
				Size:         -1,
			},
		},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("ParseHTML =\n%s\nwant\n%s", dump(p), dump(want))
	}
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func TestParseHTMLBaseTag(t *testing.T) {
	body := `<html><head><base href="https://mirror.example.invalid/root/"></head><body><a href="x/pkg-1.0.tar.gz">pkg-1.0.tar.gz</a></body></html>`
	p, err := ParseHTML([]byte(body), testBase)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Files) != 1 || p.Files[0].URL != "https://mirror.example.invalid/root/x/pkg-1.0.tar.gz" {
		t.Errorf("files = %+v", p.Files)
	}
	if p.Meta.APIVersion != "1.0" {
		t.Errorf("default APIVersion = %q, want 1.0", p.Meta.APIVersion)
	}
}

func TestParseJSON(t *testing.T) {
	p, err := ParseJSON(readFixture(t, "project.json"), testBase)
	if err != nil {
		t.Fatal(err)
	}
	want := &Project{
		Name: "demo-pkg",
		Meta: Meta{APIVersion: "1.1"},
		Files: []File{
			{
				Filename:       "demo_pkg-1.0-py3-none-any.whl",
				URL:            "https://index.example.invalid/packages/ab/cd/demo_pkg-1.0-py3-none-any.whl",
				Hashes:         map[string]string{"sha256": hashA},
				RequiresPython: ">=3.8",
				CoreMetadata:   Metadata{Present: true, Hashes: map[string]string{"sha256": hashB}},
				Size:           12345,
				UploadTime:     time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC),
			},
			{
				Filename:   "demo-pkg-1.0.tar.gz",
				URL:        "https://files.example.invalid/packages/demo-pkg-1.0.tar.gz",
				Hashes:     map[string]string{"sha256": hashC},
				Yanked:     Yanked{Yanked: true},
				Size:       999,
				UploadTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			},
			{
				Filename:     "demo_pkg-2.0rc1-cp312-abi3-manylinux_2_17_x86_64.whl",
				URL:          "https://files.example.invalid/packages/demo_pkg-2.0rc1-cp312-abi3-manylinux_2_17_x86_64.whl",
				Yanked:       Yanked{Yanked: true, Reason: "broken & bad"},
				CoreMetadata: Metadata{Present: true},
				Gpg:          true,
				Size:         -1,
			},
		},
		Versions: []string{"1.0", "2.0rc1"},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("ParseJSON =\n%s\nwant\n%s", dump(p), dump(want))
	}
}

func TestParseMalformed(t *testing.T) {
	htmlCases := []string{
		`plain text, not a page`,
		`<html><a href="x-1.0.tar.gz">x-1.0.tar.gz`,
		`<html><a href="x-1.0.tar.gz`,
		`<html><!-- unterminated`,
		`<html><a href="x-1.0.tar.gz#sha256=zz">x</a>`,
		`<html><a href="x-1.0.tar.gz#sha256=abcd">x</a>`,
		`<html><a href="x-1.0.tar.gz" data-core-metadata="sha256=nothex">x</a>`,
		`<html><a href="x-1.0.tar.gz" data-core-metadata="whatever">x</a>`,
		`<html><meta name="pypi:repository-version" content="one"></html>`,
		`<html><a href="http://[::1">x-1.0.tar.gz</a>`,
		`<html><a href="//h::/x-1.0.tar.gz">x</a>`, // parses scheme-relative, not once absolute (fuzz)
	}
	for _, c := range htmlCases {
		if p, err := ParseHTML([]byte(c), testBase); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseHTML(%q) = %+v, %v; want ErrMalformed", c, p, err)
		}
	}
	if _, err := ParseHTML([]byte(`<meta name="pypi:repository-version" content="2.0">`), testBase); !errors.Is(err, ErrUnsupported) {
		t.Errorf("major 2: %v, want ErrUnsupported", err)
	}
	jsonCases := []string{
		``,
		`[]`,
		`{"meta":{"api-version":"1.0"},"name":"x"}`,
		`{"meta":{},"name":"x","files":[]}`,
		`{"name":"x","files":[]}`,
		`{"meta":{"api-version":"1.0"},"files":[]}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[{"url":"a"}]}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a"}]}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a","url":"a","hashes":{"sha256":"xyz"}}]}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a","url":"a","hashes":[]}]}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a","url":"a","yanked":1}]}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a","url":"a","size":-1}]}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a","url":"a","size":"1"}]}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a","url":"a","upload-time":"yesterday"}]}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a","url":"a","core-metadata":"yes"}]}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[],"versions":"1.0"}`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[]} trailing`,
		`{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a","url":"//h::/a"}]}`,
	}
	for _, c := range jsonCases {
		if p, err := ParseJSON([]byte(c), testBase); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseJSON(%q) = %+v, %v; want ErrMalformed", c, p, err)
		}
	}
	if _, err := ParseJSON([]byte(`{"meta":{"api-version":"2.0"},"name":"x","files":[]}`), testBase); !errors.Is(err, ErrUnsupported) {
		t.Errorf("major 2: %v, want ErrUnsupported", err)
	}
}

// renderProject is the fixed project of the render golden files.
func renderProject() *Project {
	return &Project{
		Name: "demo-pkg",
		Meta: Meta{APIVersion: "1.1"},
		Files: []File{
			{
				Filename: "demo_pkg-1.0-py3-none-any.whl", URL: "http://127.0.0.1:7878/pypi/files/demo_pkg-1.0-py3-none-any.whl",
				Hashes: map[string]string{"sha256": hashA}, RequiresPython: ">=3.8, <4",
				CoreMetadata: Metadata{Present: true, Hashes: map[string]string{"sha256": hashB}},
				Size:         12345, UploadTime: time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC),
			},
			{
				Filename: "demo-pkg-1.0.tar.gz", URL: "http://127.0.0.1:7878/pypi/files/demo-pkg-1.0.tar.gz",
				Hashes: map[string]string{"sha256": hashC}, Yanked: Yanked{Yanked: true, Reason: `bad "release" <script>`},
				Size: 999, Gpg: true,
			},
			{
				Filename: "demo_pkg-2.0-py3-none-any.whl", URL: "http://127.0.0.1:7878/pypi/files/demo_pkg-2.0-py3-none-any.whl",
				CoreMetadata: Metadata{Present: true}, Yanked: Yanked{Yanked: true}, Size: -1,
			},
		},
		Versions: []string{"1.0", "2.0"},
	}
}

func TestRenderGolden(t *testing.T) {
	p := renderProject()
	h := RenderHTML(p)
	golden(t, "render.html", h)
	j := RenderJSON(p)
	golden(t, "render.json", j)
	if !json.Valid(j) {
		t.Fatal("RenderJSON output is not JSON")
	}
	golden(t, "root.html", RenderRootHTML([]string{"Demo.Pkg", "requests"}))
	golden(t, "root.json", RenderRootJSON([]string{"Demo.Pkg", "requests"}))
}

// randomProject generates a project whose every field survives both forms
// (html: no sizes, times or versions, at most one hash per file).
func randomProject(r *rand.Rand, nFiles int, forHTML bool) *Project {
	hex := func(n int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[r.IntN(16)]
		}
		return string(b)
	}
	text := func() string {
		const chars = `abc <>&"'=,;!~ é` + "\u2028"
		n := r.IntN(12)
		var b strings.Builder
		for range n {
			b.WriteRune([]rune(chars)[r.IntN(len([]rune(chars)))])
		}
		return strings.TrimSpace(b.String())
	}
	p := &Project{Name: NormalizeName(fmt.Sprintf("Pkg_%d.x", r.IntN(1000))), Meta: Meta{APIVersion: APIVersion}}
	for i := range nFiles {
		name := fmt.Sprintf("%s-%d.%d.tar.gz", p.Name, i, r.IntN(10))
		if r.IntN(2) == 0 {
			name = fmt.Sprintf("pkg_x-%d.0-py3-none-any.whl", i)
		}
		f := File{Filename: name, URL: "https://files.example.invalid/p/" + hex(4) + "/" + url.PathEscape(name), Size: -1}
		if r.IntN(4) > 0 {
			f.Hashes = map[string]string{"sha256": hex(64)}
		}
		if !forHTML && r.IntN(3) == 0 {
			if f.Hashes == nil {
				f.Hashes = map[string]string{}
			}
			f.Hashes["sha512"] = hex(128)
		}
		if r.IntN(2) == 0 {
			f.RequiresPython = ">=3." + fmt.Sprint(r.IntN(13)) + text()
		}
		switch r.IntN(3) {
		case 1:
			f.CoreMetadata = Metadata{Present: true}
		case 2:
			f.CoreMetadata = Metadata{Present: true, Hashes: map[string]string{"sha256": hex(64)}}
		}
		if r.IntN(3) == 0 {
			f.Yanked = Yanked{Yanked: true, Reason: text()}
		}
		f.Gpg = r.IntN(5) == 0
		if !forHTML {
			if r.IntN(4) > 0 {
				f.Size = r.Int64N(1 << 40)
			}
			if r.IntN(4) > 0 {
				f.UploadTime = time.Unix(r.Int64N(2e9), r.Int64N(1e6)*1000).UTC()
			}
		}
		p.Files = append(p.Files, f)
	}
	if !forHTML {
		p.Versions = p.FileVersions()
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		ph := randomProject(r, i%7, true)
		got, err := ParseHTML(RenderHTML(ph), nil)
		if err != nil {
			t.Fatalf("ParseHTML(RenderHTML): %v\n%s", err, RenderHTML(ph))
		}
		if !reflect.DeepEqual(got, ph) {
			t.Fatalf("HTML round trip:\n got %s\nwant %s\npage %s", dump(got), dump(ph), RenderHTML(ph))
		}
		pj := randomProject(r, i%7, false)
		got, err = ParseJSON(RenderJSON(pj), nil)
		if err != nil {
			t.Fatalf("ParseJSON(RenderJSON): %v\n%s", err, RenderJSON(pj))
		}
		if !reflect.DeepEqual(got, pj) {
			t.Fatalf("JSON round trip:\n got %s\nwant %s", dump(got), dump(pj))
		}
	}
}

func TestRoot(t *testing.T) {
	names := []string{"Demo.Pkg", "a&b"}
	got, err := ParseRootHTML(RenderRootHTML(names))
	if err != nil || !reflect.DeepEqual(got, names) {
		t.Errorf("root HTML round trip = %v, %v", got, err)
	}
	got, err = ParseRootJSON(RenderRootJSON(names))
	if err != nil || !reflect.DeepEqual(got, names) {
		t.Errorf("root JSON round trip = %v, %v", got, err)
	}
	if _, err := ParseRootJSON([]byte(`{"projects":[]}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("root JSON without meta: %v", err)
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   Format
		err    error
	}{
		{"", FormatHTML, nil},
		{"application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01", FormatJSON, nil}, // pip
		{"application/vnd.pypi.simple.v1+json", FormatJSON, nil},
		{"application/vnd.pypi.simple.latest+json", FormatJSON, nil},
		{"application/vnd.pypi.simple.latest+html", FormatHTMLv1, nil},
		{"application/vnd.pypi.simple.v1+html", FormatHTMLv1, nil},
		{"text/html", FormatHTML, nil},
		{"*/*", FormatHTML, nil},
		{"application/vnd.pypi.simple.v1+json;q=0.5, text/html;q=0.9", FormatHTML, nil},
		{"text/html;q=0.5, application/vnd.pypi.simple.v1+json;q=0.5", FormatHTML, nil},
		{"APPLICATION/VND.PYPI.SIMPLE.V1+JSON", FormatJSON, nil},
		{"application/vnd.pypi.simple.v1+json;q=0, text/html", FormatHTML, nil},
		{"application/json", 0, ErrNotAcceptable},
		{"application/vnd.pypi.simple.v2+json", 0, ErrNotAcceptable},
		{"text/html;q=0", 0, ErrNotAcceptable},
		{"text/html;q=abc", 0, ErrNotAcceptable},
	}
	for _, tt := range tests {
		got, err := Negotiate(tt.accept)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Negotiate(%q) = %v, %v; want %v, %v", tt.accept, got, err, tt.want, tt.err)
		}
	}
	if FormatJSON.ContentType() != "application/vnd.pypi.simple.v1+json" || FormatHTML.ContentType() != "text/html" || FormatHTMLv1.ContentType() != "application/vnd.pypi.simple.v1+html" {
		t.Error("content types")
	}
}

func FuzzParseHTML(f *testing.F) {
	f.Add(readFixture(f, "project.html"))
	f.Add(RenderHTML(renderProject()))
	f.Add([]byte(`<a href=x-1.0.tar.gz#sha256=` + hashA + ` data-yanked>x</a>`))
	f.Add([]byte(`<A HREF='a'><b>x</b></A><a href="b"></abbr></a>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParseHTML(body, testBase)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrUnsupported", err)
			}
			if p != nil {
				t.Fatal("partial result with an error")
			}
			return
		}
		for _, f := range p.Files {
			if f.Filename == "" || strings.Contains(f.URL, "#") {
				t.Fatalf("bad file %+v", f)
			}
			u, err := url.Parse(f.URL)
			if err != nil || !u.IsAbs() {
				t.Fatalf("URL %q not absolute: %v", f.URL, err)
			}
		}
		// What moat renders parses back to the same files.
		p2, err := ParseHTML(RenderHTML(p), nil)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(p2.Files) != len(p.Files) {
			t.Fatalf("re-parse has %d files, want %d", len(p2.Files), len(p.Files))
		}
		for i := range p.Files {
			a, b := p.Files[i], p2.Files[i]
			if a.URL != b.URL || a.RequiresPython != b.RequiresPython || a.Yanked != b.Yanked || a.CoreMetadata.Present != b.CoreMetadata.Present {
				t.Fatalf("re-parse differs:\n%+v\n%+v", a, b)
			}
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add(readFixture(f, "project.json"))
	f.Add(RenderJSON(renderProject()))
	f.Add([]byte(`{"meta":{"api-version":"1.0"},"name":"x","files":[{"filename":"a","url":"b","hashes":{},"yanked":"r"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParseJSON(body, testBase)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrUnsupported", err)
			}
			if p != nil {
				t.Fatal("partial result with an error")
			}
			return
		}
		p.Meta.APIVersion = APIVersion
		if p.Versions != nil && len(p.Versions) == 0 {
			t.Fatal("empty non-nil Versions")
		}
		out := RenderJSON(p)
		p2, err := ParseJSON(out, nil)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		// Upload times keep microseconds only.
		for i := range p.Files {
			p.Files[i].UploadTime = p.Files[i].UploadTime.Truncate(time.Microsecond)
			if p.Files[i].UploadTime.Year() < 0 || p.Files[i].UploadTime.Year() > 9999 {
				return
			}
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("JSON round trip:\n got %s\nwant %s", dump(p2), dump(p))
		}
	})
}

// bigProject is a project with n files, as an upstream would send it.
func bigProject(n int) *Project {
	r := rand.New(rand.NewPCG(3, 4))
	p := randomProject(r, n, false)
	for i := range p.Files {
		p.Files[i].URL = "https://files.example.invalid/packages/" + fmt.Sprintf("%02x/%02x/", i%256, i/256) + p.Files[i].Filename
	}
	return p
}

func BenchmarkParseRenderHTML2000(b *testing.B) {
	p := bigProject(2000)
	for i := range p.Files { // HTML carries one hash, no sizes or times
		p.Files[i].Size, p.Files[i].UploadTime = -1, time.Time{}
	}
	page := RenderHTML(p)
	b.Logf("page: %d KB", len(page)/1024)
	b.SetBytes(int64(len(page)))
	defer reportCPU(b)()
	for b.Loop() {
		q, err := ParseHTML(page, testBase)
		if err != nil || len(q.Files) != 2000 {
			b.Fatal(err)
		}
		_ = RenderHTML(q)
	}
}

func BenchmarkParseRenderJSON2000(b *testing.B) {
	page := RenderJSON(bigProject(2000))
	b.Logf("page: %d KB", len(page)/1024)
	b.SetBytes(int64(len(page)))
	defer reportCPU(b)()
	for b.Loop() {
		q, err := ParseJSON(page, testBase)
		if err != nil || len(q.Files) != 2000 {
			b.Fatal(err)
		}
		_ = RenderJSON(q)
	}
}

// reportCPU adds a cpu-ms/op metric (process CPU time, GC included): wall
// time on a shared, loaded machine says little.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		}
	}
}
