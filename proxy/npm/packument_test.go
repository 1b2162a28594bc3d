package npm

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/semver"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testBase = "http://127.0.0.1:7878/npm"

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

func hideVersions(vs ...string) func(VersionInfo) bool {
	return func(v VersionInfo) bool {
		for _, h := range vs {
			if v.Version == h {
				return true
			}
		}
		return false
	}
}

func TestParsePackumentFull(t *testing.T) {
	p, err := ParsePackument(readFixture(t, "full.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "demo-pkg" {
		t.Errorf("Name = %q", p.Name)
	}
	wantTags := map[string]string{"latest": "2.0.0", "next": "3.0.0-beta.1", "legacy": "1.0.0"}
	if !reflect.DeepEqual(p.DistTags, wantTags) {
		t.Errorf("DistTags = %v", p.DistTags)
	}
	if got := p.Time["created"]; !got.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Time[created] = %v", got)
	}
	if !p.Modified.Equal(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("Modified = %v", p.Modified)
	}
	vs := p.Versions()
	var order []string
	for _, v := range vs {
		order = append(order, v.Version)
	}
	if want := []string{"1.0.0", "1.1.0", "2.0.0", "3.0.0-beta.1"}; !reflect.DeepEqual(order, want) {
		t.Errorf("Versions order = %v, want %v", order, want)
	}
	v1 := vs[0]
	want1 := VersionInfo{
		Version: "1.0.0",
		Dist: Dist{
			Tarball:   "https://registry.example.invalid/demo-pkg/-/demo-pkg-1.0.0.tgz",
			Integrity: "sha512-AAAA",
			Shasum:    "0123456789abcdef0123456789abcdef01234567",
			Unpacked:  1024,
		},
		Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if !reflect.DeepEqual(v1, want1) {
		t.Errorf("Versions()[0] = %+v\nwant %+v", v1, want1)
	}
	if !vs[1].Deprecated || vs[0].Deprecated {
		t.Error("Deprecated not read")
	}
	if !vs[2].HasInstallScript || vs[0].HasInstallScript {
		t.Error("HasInstallScript not derived from scripts")
	}
	if v, ok := p.Version("2.0.0"); !ok || v.Dist.Integrity != "sha512-CCCC" {
		t.Errorf("Version(2.0.0) = %+v, %v", v, ok)
	}
	if _, ok := p.Version("9.9.9"); ok {
		t.Error("Version(9.9.9) found")
	}
}

func TestRewriteGolden(t *testing.T) {
	tests := []struct {
		fixture, golden string
		hide            []string
	}{
		{"full.json", "full.rewritten.json", nil},
		{"full.json", "full.hide-latest.json", []string{"2.0.0"}},
		{"full.json", "full.hide-prerelease.json", []string{"3.0.0-beta.1"}},
		{"full.json", "full.hide-all.json", []string{"1.0.0", "1.1.0", "2.0.0", "3.0.0-beta.1"}},
		{"abbreviated.json", "abbreviated.rewritten.json", nil},
		{"abbreviated.json", "abbreviated.hide-latest.json", []string{"1.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			in := readFixture(t, tt.fixture)
			p, err := ParsePackument(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.Rewrite(RewriteOptions{TarballBase: testBase + "/", Hide: hideVersions(tt.hide...)})
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(out) {
				t.Fatalf("output is not valid JSON: %s", out)
			}
			checkRewrite(t, in, out, testBase, p.Name, func(v string) bool { return hideVersions(tt.hide...)(VersionInfo{Version: v}) })
			golden(t, tt.golden, out)
		})
	}
}

func TestRewriteDistTags(t *testing.T) {
	doc := func(latest string, versions ...string) []byte {
		var b strings.Builder
		fmt.Fprintf(&b, `{"name":"x","dist-tags":{"latest":%q,"beta":"3.0.0-beta.2"},"versions":{`, latest)
		for i, v := range versions {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `%q:{"dist":{"tarball":"https://registry.example.invalid/x/-/x-%s.tgz"}}`, v, v)
		}
		b.WriteString("}}")
		return []byte(b.String())
	}
	tests := []struct {
		name       string
		latest     string
		versions   []string
		hide       []string
		wantLatest string // "" = no latest tag
		wantBeta   bool
	}{
		{"nothing hidden", "2.0.0", []string{"1.0.0", "2.0.0", "3.0.0-beta.2"}, nil, "2.0.0", true},
		{"latest to previous stable", "2.0.0", []string{"1.0.0", "1.5.0", "2.0.0", "3.0.0-beta.2"}, []string{"2.0.0"}, "1.5.0", true},
		{"not above old latest", "2.0.0", []string{"1.0.0", "2.0.0", "2.5.0"}, []string{"2.0.0"}, "1.0.0", true},
		{"above when nothing below", "2.0.0", []string{"2.0.0", "2.5.0"}, []string{"2.0.0"}, "2.5.0", true},
		{"prerelease when no stable", "2.0.0", []string{"2.0.0", "3.0.0-beta.2"}, []string{"2.0.0"}, "3.0.0-beta.2", true},
		{"dropped when nothing left", "2.0.0", []string{"2.0.0"}, []string{"2.0.0"}, "", true},
		{"beta dropped", "2.0.0", []string{"2.0.0", "3.0.0-beta.2"}, []string{"3.0.0-beta.2"}, "2.0.0", false},
		{"latest not a version", "9.0.0", []string{"1.0.0", "2.0.0"}, []string{"1.0.0"}, "9.0.0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePackument(doc(tt.latest, tt.versions...))
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.Rewrite(RewriteOptions{TarballBase: testBase, Hide: hideVersions(tt.hide...)})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				DistTags map[string]string `json:"dist-tags"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if got.DistTags["latest"] != tt.wantLatest {
				t.Errorf("latest = %q, want %q (%s)", got.DistTags["latest"], tt.wantLatest, out)
			}
			if _, ok := got.DistTags["beta"]; ok != tt.wantBeta {
				t.Errorf("beta present = %v, want %v", ok, tt.wantBeta)
			}
		})
	}
}

func TestRewriteInsertsTarball(t *testing.T) {
	in := []byte(`{"name":"@s/x","versions":{"1.0.0":{},"1.0.1":{"version":"1.0.1"},"1.0.2":{"dist":{}},"1.0.3":{"dist":{"integrity":"sha512-x"}},"1.0.4":{"dist":{"tarball":null}}}}`)
	p, err := ParsePackument(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Rewrite(RewriteOptions{TarballBase: testBase})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"@s/x","versions":{` +
		`"1.0.0":{"dist":{"tarball":"http://127.0.0.1:7878/npm/@s/x/-/x-1.0.0.tgz"}},` +
		`"1.0.1":{"dist":{"tarball":"http://127.0.0.1:7878/npm/@s/x/-/x-1.0.1.tgz"},"version":"1.0.1"},` +
		`"1.0.2":{"dist":{"tarball":"http://127.0.0.1:7878/npm/@s/x/-/x-1.0.2.tgz"}},` +
		`"1.0.3":{"dist":{"tarball":"http://127.0.0.1:7878/npm/@s/x/-/x-1.0.3.tgz","integrity":"sha512-x"}},` +
		`"1.0.4":{"dist":{"tarball":"http://127.0.0.1:7878/npm/@s/x/-/x-1.0.4.tgz"}}}}`
	if string(out) != want {
		t.Errorf("Rewrite =\n%s\nwant\n%s", out, want)
	}
}

func TestParsePackumentMalformed(t *testing.T) {
	for _, in := range []string{
		``,
		`[]`,
		`{"name":"x"`,
		`{"name":"x"} x`,
		`{"name":"x","versions":[]}`,
		`{"name":"x","versions":{"1.0.0":"str"}}`,
		`{"name":"x","versions":{"1.0.0":{"dist":"str"}}}`,
		`{"name":"x","versions":{"1.0.0":{},"1.0.0":{}}}`,
		`{"name":"x","versions":{},"versions":{}}`,
		`{"name":"x","versions":{"1.0.0":{"dist":{"tarball":"a","tarball":"b"}}}}`,
		`{"name":"x","versions":{"1.0.0":{"dist":{},"dist":{}}}}`,
		`{"name":"x","dist-tags":{"latest":"1.0.0","latest":"2.0.0"}}`,
		`{"name":"x","readme":"a` + "\x01" + `"}`,
		`{"name":"x","n":01}`,
		`{"name":"x","n":1.}`,
		`{"name":"x","n":tru}`,
		`{"name":"x","s":"\x"}`,
		`{"name":"x","s":"\u12"}`,
		`{"name":"x",}`,
		`{"name" "x"}`,
		`{"a":[1,]}`,
		`{"a":[1 2]}`,
		`{"a":{"b":1,}}`,
		strings.Repeat("[", 20000),
		`{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	} {
		_, err := ParsePackument([]byte(in))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("ParsePackument(%.40q) error = %v, want ErrMalformed", in, err)
		}
	}
}

func TestRewriteRefusesBadName(t *testing.T) {
	p, err := ParsePackument([]byte(`{"name":"../evil","versions":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Rewrite(RewriteOptions{TarballBase: testBase}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Rewrite error = %v, want ErrInvalidName", err)
	}
	if _, err := p.Rewrite(RewriteOptions{TarballBase: testBase, Name: "good"}); err != nil {
		t.Errorf("Rewrite with Name override: %v", err)
	}
}

// checkRewrite compares out with a reference rewrite of in done with
// encoding/json and maps: the two must be equal as JSON values.
func checkRewrite(t testing.TB, in, out []byte, base, name string, hidden func(string) bool) {
	t.Helper()
	var got, want map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output does not decode: %v\n%s", err, out)
	}
	if err := json.Unmarshal(in, &want); err != nil {
		t.Fatalf("ParsePackument accepted input encoding/json refuses: %v", err)
	}
	referenceRewrite(want, base, name, hidden)
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("rewrite differs from reference\n got: %s\nwant: %s", g, w)
	}
}

func referenceRewrite(doc map[string]any, base, name string, hideFn func(string) bool) {
	versions, _ := doc["versions"].(map[string]any)
	orig := make(map[string]bool, len(versions))
	for v := range versions {
		orig[v] = true
	}
	// Only versions that exist count as hidden for time and dist-tags.
	hidden := func(v string) bool { return orig[v] && hideFn(v) }
	var kept []semver.Version
	for v, body := range versions {
		if hidden(v) {
			delete(versions, v)
			continue
		}
		if sv, err := semver.Parse(v); err == nil {
			kept = append(kept, sv)
		}
		obj := body.(map[string]any)
		dist, ok := obj["dist"].(map[string]any)
		if !ok {
			dist = map[string]any{}
			obj["dist"] = dist
		}
		dist["tarball"] = strings.TrimRight(base, "/") + TarballPath(name, v)
	}
	if tm, ok := doc["time"].(map[string]any); ok {
		for k := range tm {
			if k != "created" && k != "modified" && hidden(k) {
				delete(tm, k)
			}
		}
	}
	tags, ok := doc["dist-tags"].(map[string]any)
	if !ok {
		return
	}
	for k, v := range tags {
		s, ok := v.(string)
		if !ok || !hidden(s) {
			continue
		}
		delete(tags, k)
		if k != "latest" {
			continue
		}
		old, oldErr := semver.Parse(s)
		pick := func(stable, capped bool) (semver.Version, bool) {
			var best semver.Version
			found := false
			for _, sv := range kept {
				if sv.Prerelease() == stable || (capped && (oldErr != nil || semver.Compare(sv, old) > 0)) {
					continue
				}
				if !found || semver.Compare(sv, best) > 0 {
					best, found = sv, true
				}
			}
			return best, found
		}
		for _, c := range [][2]bool{{true, true}, {true, false}, {false, true}, {false, false}} {
			if sv, ok := pick(c[0], c[1]); ok {
				tags["latest"] = sv.String()
				break
			}
		}
	}
}

func FuzzRewritePackument(f *testing.F) {
	for _, name := range []string{"full.json", "abbreviated.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
		f.Add(b, uint8(3))
		f.Add(b, uint8(255))
	}
	f.Add([]byte(`{"name":"x","versions":{"1.0.0":{},"2.0.0":{"dist":{}}},"dist-tags":{"latest":"2.0.0"},"time":{"2.0.0":"2020-01-01T00:00:00Z"}}`), uint8(1))
	f.Add([]byte(`{"name":"x","versions":null,"time":{"unpublished":{"time":"x"}}}`), uint8(1))
	f.Add([]byte(`{"\u006eame":"x","versions":{"1\u002e0.0":{"dist":{"tarball":1}}}}`), uint8(1))
	f.Add([]byte(`[1,-0.5e+3,"\u00e9\n",{"a":[true,false,null]},{}]`), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, mask uint8) {
		// Differential check of the scanner against encoding/json.
		sc := &scanner{d: in}
		err := sc.skip()
		if err == nil && (sc.peek() != 0 || sc.i != len(in)) {
			err = sc.errf("trailing data")
		}
		if json.Valid(in) != (err == nil) {
			t.Fatalf("json.Valid(%q) = %v but scanner error = %v", in, json.Valid(in), err)
		}
		p, err := ParsePackument(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		hidden := func(v string) bool {
			h := uint8(len(v))
			for i := 0; i < len(v); i++ {
				h = h*31 + v[i]
			}
			return mask != 0 && h%8 < mask%8
		}
		out, err := p.Rewrite(RewriteOptions{TarballBase: testBase, Hide: func(v VersionInfo) bool { return hidden(v.Version) }})
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("Rewrite: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not valid JSON: %s", out)
		}
		checkRewrite(t, in, out, testBase, p.Name, hidden)
		// The output parses again and rewriting it again changes nothing.
		p2, err := ParsePackument(out)
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		for _, v := range p2.Versions() {
			if hidden(v.Version) {
				t.Fatalf("hidden version %q left", v.Version)
			}
			if want := testBase + TarballPath(p.Name, v.Version); v.Dist.Tarball != want {
				t.Fatalf("tarball of %q = %q, want %q", v.Version, v.Dist.Tarball, want)
			}
		}
		out2, err := p2.Rewrite(RewriteOptions{TarballBase: testBase})
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second rewrite differs: %v", err)
		}
	})
}

// bigPackument builds a ~10 MB full packument with n versions and a large
// readme.
func bigPackument(n, readmeBytes int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"_id":"big-pkg","name":"big-pkg","description":"a big one","dist-tags":{"latest":"`)
	fmt.Fprintf(&b, "%d.%d.%d", (n-1)/100, (n-1)%100/10, (n-1)%10)
	b.WriteString(`","next":"99.0.0-rc.1"},"versions":{`)
	for i := 0; i < n; i++ {
		v := fmt.Sprintf("%d.%d.%d", i/100, i%100/10, i%10)
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"name":"big-pkg","version":"%s","description":"a big one","main":"index.js","scripts":{"test":"mocha","build":"tsc -p ."},`+
			`"repository":{"type":"git","url":"git+https://git.example.invalid/big/big-pkg.git"},"keywords":["a","b","c"],"author":{"name":"A. Uthor","email":"a@example.invalid"},`+
			`"license":"MIT","dependencies":{"dep-one":"^1.2.3","dep-two":"~4.5.6","dep-three":">=7 <8"},"devDependencies":{"mocha":"^10.0.0","typescript":"^5.0.0"},`+
			`"gitHead":"0123456789abcdef0123456789abcdef01234567","_id":"big-pkg@%s","_nodeVersion":"20.11.0","_npmVersion":"10.2.4",`+
			`"dist":{"integrity":"sha512-3P6Y4vGvUj2HCxwPqmj3jlmIK+e4ppBMOI3V8GbHqbUP+4FWFaIkR8MrGZlmqPpL1k8xtEwLsVvmmjUyh+1uIg==","shasum":"0123456789abcdef0123456789abcdef01234567",`+
			`"tarball":"https://registry.example.invalid/big-pkg/-/big-pkg-%s.tgz","fileCount":42,"unpackedSize":123456,`+
			`"signatures":[{"keyid":"SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA","sig":"MEUCIQDQbT4rB2Xr1Q7uJ3zZ3QeW+6K8s7aFh2wXyV2e1dBtAIgZm8r1Q7uJ3zZ3QeW+6K8s7aFh2wXyV2e1dBtA="}]},`+
			`"maintainers":[{"name":"a","email":"a@example.invalid"}],"_npmUser":{"name":"a","email":"a@example.invalid"},"directories":{},`+
			`"_npmOperationalInternal":{"host":"s3://npm-registry-packages","tmp":"tmp/big-pkg_%s_1700000000000_0.1"},"_hasShrinkwrap":false}`,
			v, v, v, v, v)
	}
	b.WriteString(`},"time":{"created":"2015-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `,"%d.%d.%d":"2016-01-01T00:00:%02d.000Z"`, i/100, i%100/10, i%10, i%60)
	}
	b.WriteString(`},"maintainers":[{"name":"a","email":"a@example.invalid"}],"readme":"`)
	line := `Lorem ipsum dolor sit amet, \"consectetur\" adipiscing elit \u00e9 <b>bold</b> \n`
	for b.Len() < readmeBytes {
		b.WriteString(line)
	}
	b.WriteString(`","readmeFilename":"README.md","license":"MIT"}`)
	return b.Bytes()
}

func TestBigPackument(t *testing.T) {
	in := bigPackument(300, 200_000)
	p, err := ParsePackument(in)
	if err != nil {
		t.Fatal(err)
	}
	hide := func(v string) bool { return strings.HasSuffix(v, ".7") || v == "2.9.9" }
	out, err := p.Rewrite(RewriteOptions{TarballBase: testBase, Hide: func(v VersionInfo) bool { return hide(v.Version) }})
	if err != nil {
		t.Fatal(err)
	}
	checkRewrite(t, in, out, testBase, p.Name, hide)
}

func BenchmarkRewritePackument10MB(b *testing.B) {
	in := bigPackument(3000, 10<<20)
	b.Logf("packument: %.1f MB, 3000 versions", float64(len(in))/(1<<20))
	hide := func(v VersionInfo) bool { return strings.HasSuffix(v.Version, ".3") }
	b.Run("parse+rewrite", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		defer reportCPU(b)()
		for b.Loop() {
			p, err := ParsePackument(in)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Rewrite(RewriteOptions{TarballBase: testBase, Hide: hide}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rewrite-only", func(b *testing.B) {
		p, err := ParsePackument(in)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(in)))
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := p.Rewrite(RewriteOptions{TarballBase: testBase}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json-unmarshal-for-comparison", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		defer reportCPU(b)()
		for b.Loop() {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(in, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportCPU adds a cpu-ms/op metric (process CPU time, GC included).
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		}
	}
}
