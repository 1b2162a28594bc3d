package model

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/moatproject/moat/models"
)

// ortLibrary returns the ONNX Runtime library for tests: $MOAT_ORT_LIB, else
// lib/libonnxruntime.so.1 at the repository root. When neither exists the
// test is skipped, unless MOAT_REQUIRE_ORT is set (CI sets it).
func ortLibrary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(LibraryEnv); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "..", "lib", libraryName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("MOAT_REQUIRE_ORT") != "" {
			t.Fatalf("MOAT_REQUIRE_ORT is set but the ONNX Runtime library is missing (%v); run scripts/install-onnxruntime.sh", err)
		}
		t.Skipf("ONNX Runtime library not installed (%s); run scripts/install-onnxruntime.sh or set %s (set MOAT_REQUIRE_ORT to make this fatal)", p, LibraryEnv)
	}
	return p
}

func load(t testing.TB, opts Options) *Model {
	t.Helper()
	if opts.LibraryPath == "" {
		opts.LibraryPath = ortLibrary(t)
	}
	m, err := Load(opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

var sampleSequences = [][]string{
	{},
	{"[INSTALL]", "setup.py", "setup.cmdclass", "env.read.all", "net.import", "net.call", "url.webhook"},
	{"[INSTALL]", "install.script", "shell.download_exec", "process.call", "process.detached"},
	{"[IMPORT]", "fs.import", "fs.read", "os.import", "env.read", "[OTHER]", "encoding.import"},
	{"no.such.token", "[UNK]", "fs.read"},
}

func TestEmbeddedModel(t *testing.T) {
	m := load(t, Options{})
	if m.Version() == "" {
		t.Error("empty Version")
	}
	if th := m.Threshold(); th <= 0 || th > 1 {
		t.Errorf("Threshold = %v, want in (0, 1]", th)
	}
	ctx := context.Background()
	first := make([]float64, len(sampleSequences))
	for i, seq := range sampleSequences {
		p, err := m.Score(ctx, seq)
		if err != nil {
			t.Fatalf("Score(%v): %v", seq, err)
		}
		if p < 0 || p > 1 || math.IsNaN(p) {
			t.Errorf("Score(%v) = %v, want a probability", seq, p)
		}
		first[i] = p
	}
	// Deterministic: the same answer every time.
	for range 3 {
		for i, seq := range sampleSequences {
			if p, _ := m.Score(ctx, seq); p != first[i] {
				t.Errorf("Score(%v) = %v, earlier %v", seq, p, first[i])
			}
		}
	}
	// ScoreBatch pads to the longest sequence; padding must not matter.
	batch, err := m.ScoreBatch(ctx, sampleSequences)
	if err != nil {
		t.Fatalf("ScoreBatch: %v", err)
	}
	for i := range sampleSequences {
		if d := math.Abs(batch[i] - first[i]); d > 1e-5 {
			t.Errorf("ScoreBatch[%d] = %v, Score = %v (diff %g)", i, batch[i], first[i], d)
		}
	}
}

func TestTruncationKeepsHead(t *testing.T) {
	m := load(t, Options{MaxLen: 16})
	if m.MaxLen() != 16 {
		t.Fatalf("MaxLen = %d, want 16", m.MaxLen())
	}
	long := make([]string, 40)
	for i := range long {
		long[i] = "fs.read"
	}
	long[0], long[1] = "[INSTALL]", "setup.py"
	ctx := context.Background()
	full, err := m.Score(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	head, err := m.Score(ctx, long[:14])
	if err != nil {
		t.Fatal(err)
	}
	if full != head {
		t.Errorf("Score(40 tokens) = %v, Score(first 14) = %v: truncation must keep the head", full, head)
	}
	// An explicit [CLS] ... [SEP] is the same sequence.
	wrapped, _ := m.Score(ctx, append(append([]string{"[CLS]"}, long[:14]...), "[SEP]"))
	if wrapped != head {
		t.Errorf("Score([CLS] x [SEP]) = %v, Score(x) = %v", wrapped, head)
	}
}

// reference is models/train's reference.json: token sequences and the
// probability torch computed for each.
type reference struct {
	MaxLen int `json:"max_len"`
	Cases  []struct {
		Tokens      []string `json:"tokens"`
		Probability float64  `json:"probability"`
	} `json:"cases"`
}

func checkReference(t *testing.T, m *Model, refPath string) {
	t.Helper()
	b, err := os.ReadFile(refPath)
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("reference has no cases")
	}
	ctx := context.Background()
	seqs := make([][]string, len(ref.Cases))
	for i, c := range ref.Cases {
		seqs[i] = c.Tokens
		p, err := m.Score(ctx, c.Tokens)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(p - c.Probability); d > 1e-5 {
			t.Errorf("case %d (%d tokens): onnx runtime %v, torch %v (diff %g)", i, len(c.Tokens), p, c.Probability, d)
		}
	}
	batch, err := m.ScoreBatch(ctx, seqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range ref.Cases {
		if d := math.Abs(batch[i] - c.Probability); d > 1e-5 {
			t.Errorf("batch case %d: onnx runtime %v, torch %v (diff %g)", i, batch[i], c.Probability, d)
		}
	}
}

// TestReference checks the committed model against torch's outputs.
func TestReference(t *testing.T) {
	m := load(t, Options{})
	checkReference(t, m, filepath.Join("..", "..", "models", "reference.json"))
}

// TestExportedModel checks a freshly exported model (models/train/smoke_test.sh
// sets MOAT_MODEL_EXPORT_DIR) loads from files and matches torch within 1e-5.
func TestExportedModel(t *testing.T) {
	dir := os.Getenv("MOAT_MODEL_EXPORT_DIR")
	if dir == "" {
		t.Skip("MOAT_MODEL_EXPORT_DIR not set (models/train/smoke_test.sh sets it)")
	}
	m := load(t, Options{
		ModelPath:    filepath.Join(dir, "model.onnx"),
		VocabPath:    filepath.Join(dir, "vocab.txt"),
		ManifestPath: filepath.Join(dir, "manifest.json"),
	})
	checkReference(t, m, filepath.Join(dir, "reference.json"))
}

func TestConcurrentScore(t *testing.T) {
	m := load(t, Options{})
	ctx := context.Background()
	want := make([]float64, len(sampleSequences))
	for i, seq := range sampleSequences {
		want[i], _ = m.Score(ctx, seq)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 20 {
				i := (g + n) % len(sampleSequences)
				var got float64
				var err error
				if n%5 == 0 {
					var b []float64
					b, err = m.ScoreBatch(ctx, sampleSequences[i:])
					if err == nil {
						got = b[0]
					}
				} else {
					got, err = m.Score(ctx, sampleSequences[i])
				}
				if err != nil {
					t.Error(err)
					return
				}
				if math.Abs(got-want[i]) > 1e-5 {
					t.Errorf("goroutine %d: seq %d scored %v, want %v", g, i, got, want[i])
				}
			}
		})
	}
	wg.Wait()
}

func TestCanceledAndClosed(t *testing.T) {
	m := load(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Score(ctx, sampleSequences[1]); !errors.Is(err, context.Canceled) {
		t.Errorf("Score(canceled ctx) error = %v, want context.Canceled", err)
	}
	// A second model shares the runtime; closing one leaves the other usable.
	m2, err := Load(Options{LibraryPath: ortLibrary(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Score(context.Background(), sampleSequences[1]); !errors.Is(err, ErrClosed) {
		t.Errorf("Score after Close: error = %v, want ErrClosed", err)
	}
	if _, err := m.Score(context.Background(), sampleSequences[1]); err != nil {
		t.Errorf("first model after the second closed: %v", err)
	}
}

func TestMissingLibrary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope", libraryName)
	_, err := Load(Options{LibraryPath: missing})
	if !errors.Is(err, ErrLibraryNotFound) {
		t.Fatalf("error = %v, want ErrLibraryNotFound", err)
	}
	for _, want := range []string{missing, "scripts/install-onnxruntime.sh"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestUnusableLibrary(t *testing.T) {
	bogus := filepath.Join(t.TempDir(), libraryName)
	if err := os.WriteFile(bogus, []byte("not a shared library"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(Options{LibraryPath: bogus})
	if !errors.Is(err, ErrLibraryLoad) {
		t.Fatalf("error = %v, want ErrLibraryLoad", err)
	}
	if !strings.Contains(err.Error(), bogus) || !strings.Contains(err.Error(), "install-onnxruntime.sh") {
		t.Errorf("error %q should name the library and how to install one", err)
	}
	// A failed load leaves nothing behind: a good library still works.
	load(t, Options{})
}

func TestChecksumMismatch(t *testing.T) {
	var man map[string]any
	if err := json.Unmarshal(models.Manifest(), &man); err != nil {
		t.Fatal(err)
	}
	man["onnx_sha256"] = strings.Repeat("0", 64)
	bad, _ := json.Marshal(man)
	// No library needed: the checksum is checked first.
	_, err := Load(Options{ManifestData: bad, LibraryPath: "/nonexistent"})
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("error = %v, want ErrChecksum", err)
	}
	if !strings.Contains(err.Error(), "embedded model") {
		t.Errorf("error %q should say which file", err)
	}

	vocab := append(models.Vocab(), "extra.token\n"...)
	if _, err := Load(Options{VocabData: vocab, LibraryPath: "/nonexistent"}); !errors.Is(err, ErrChecksum) {
		t.Fatalf("changed vocab: error = %v, want ErrChecksum", err)
	}
}

func TestResolveLibrary(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib", libraryName)
	if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "moat")
	missing := filepath.Join(dir, "missing.so")
	tests := []struct {
		name, explicit, env, exe string
		want                     string
		wantErr                  bool
	}{
		{"explicit wins", lib, missing, "", lib, false},
		{"env", "", lib, "", lib, false},
		{"next to executable", "", "", exe, lib, false},
		{"explicit missing is an error, not a fallback", missing, "", exe, "", true},
		{"env missing is an error, not a fallback", "", missing, exe, "", true},
		{"nothing found", "", "", filepath.Join(dir, "bin", "moat"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveLibrary(tt.explicit, tt.env, tt.exe)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), "install-onnxruntime.sh") {
					t.Errorf("err = %v, want ErrLibraryNotFound with an install hint", err)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// ScoreBatch splits long sequences into small runs (MaxBatchCells) and
// scores them as Score does.
func TestScoreBatchCells(t *testing.T) {
	m := load(t, Options{MaxBatchCells: 3 * 130 * 130})
	ctx := context.Background()
	var seqs [][]string
	for _, n := range []int{5, 500, 40, 128, 300, 128, 128, 128, 1} {
		s := typical(n)
		s[n/2] = "net.call"
		seqs = append(seqs, s)
	}
	batch, err := m.ScoreBatch(ctx, seqs)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := load(t, Options{MaxBatchCells: 1 << 30}).ScoreBatch(ctx, seqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		p, err := m.Score(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if d := max(math.Abs(batch[i]-p), math.Abs(whole[i]-p)); d > 1e-5 {
			t.Errorf("sequence %d (%d tokens): Score %v, ScoreBatch %v, one run %v", i, len(s), p, batch[i], whole[i])
		}
	}
}
