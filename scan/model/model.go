// Package model owns moat's learned classifier at run time: it loads the
// ONNX graph trained by models/train (a small BERT-style encoder over
// behaviour tokens), checks it against its manifest, and scores token
// sequences through ONNX Runtime. It is the only importer of onnxruntime_go
// (cgo); *Model implements scan.Classifier.
//
// The graph takes input_ids and attention_mask (int64 [batch, len]) and
// returns probability (float32 [batch], sigmoid applied; a graph whose
// manifest says "output": "logits" returns logits and the sigmoid is applied
// here). A sequence is encoded as [CLS] + its first max_len-2 tokens + [SEP]
// (the head is kept: install-time behaviour comes first), unknown tokens as
// [UNK].
//
// ONNX Runtime is a shared library loaded at run time
// (scripts/install-onnxruntime.sh installs it); see Options.LibraryPath for
// how it is found. Its environment is process-wide: the first Load
// initialises it and the last Close releases it.
package model

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/moatproject/moat/models"
)

// Options configure Load. Each of the graph, vocabulary and manifest comes
// from its path when set, else from its Data field, else from the model
// embedded in the binary (package models).
type Options struct {
	ModelPath, VocabPath, ManifestPath string
	ModelData, VocabData, ManifestData []byte

	// LibraryPath is the ONNX Runtime shared library. Empty: $MOAT_ORT_LIB,
	// else lib/libonnxruntime.so.1 next to the executable, else
	// ./lib/libonnxruntime.so.1. A missing library is an error
	// (ErrLibraryNotFound), never a silent fallback.
	LibraryPath string
	// IntraOpThreads is ONNX Runtime's intra-op thread count (default 1:
	// moat scores many packages in parallel rather than one fast).
	IntraOpThreads int
	// MaxLen caps the encoded length ([CLS] and [SEP] included); 0 or more
	// than the manifest's max_len means the manifest's.
	MaxLen int
	// MaxBatch caps how many sequences ScoreBatch runs at once (default 32).
	MaxBatch int
	// MaxBatchCells caps rows x length² of one ScoreBatch run, length
	// counting [CLS] and [SEP] (default DefaultMaxBatchCells). Attention
	// materialises a length x length matrix per row and head, so this, not
	// MaxBatch, bounds a run's memory once sequences are long; and ONNX
	// Runtime's CPU arena keeps the memory of the largest run for good: one
	// run of 32 rows of 512 tokens left the process 500 MB larger.
	MaxBatchCells int
	Logger        *slog.Logger
}

// DefaultMaxBatchCells lets ScoreBatch run together 32 sequences of up to
// 126 tokens, 3 of up to 416, and sequences of 512 one at a time, which
// needs no more memory than Score of 512 tokens: about 25 MB of arena.
const DefaultMaxBatchCells = 1 << 19

// Model is a loaded classifier. It is safe for concurrent use; Close
// releases it.
type Model struct {
	mu     sync.RWMutex // read-held by runs, write-held by Close
	closed bool
	sess   *ort.DynamicAdvancedSession

	manifest *Manifest
	vocab    *vocab
	maxLen   int
	maxBatch int
	maxCells int
}

// Load reads, verifies and opens a model.
func Load(opts Options) (*Model, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	manBytes, manFrom, err := source(opts.ManifestPath, opts.ManifestData, models.Manifest)
	if err != nil {
		return nil, err
	}
	man, err := ParseManifest(manBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", manFrom, err)
	}
	graph, graphFrom, err := source(opts.ModelPath, opts.ModelData, models.ONNX)
	if err != nil {
		return nil, err
	}
	if err := checkSHA256(graphFrom, graph, man.ONNXSHA256); err != nil {
		return nil, err
	}
	vocabBytes, vocabFrom, err := source(opts.VocabPath, opts.VocabData, models.Vocab)
	if err != nil {
		return nil, err
	}
	if man.VocabSHA256 != "" {
		if err := checkSHA256(vocabFrom, vocabBytes, man.VocabSHA256); err != nil {
			return nil, err
		}
	}
	voc, err := parseVocab(vocabBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", vocabFrom, err)
	}

	exe, _ := os.Executable()
	lib, err := resolveLibrary(opts.LibraryPath, os.Getenv(LibraryEnv), exe)
	if err != nil {
		return nil, err
	}
	if err := acquireRuntime(lib); err != nil {
		return nil, err
	}
	m := &Model{manifest: man, vocab: voc, maxLen: man.MaxLen, maxBatch: orDefault(opts.MaxBatch, 32),
		maxCells: orDefault(opts.MaxBatchCells, DefaultMaxBatchCells)}
	if opts.MaxLen > 0 && opts.MaxLen < m.maxLen {
		m.maxLen = max(opts.MaxLen, 3)
	}
	if m.sess, err = newSession(graph, man.Output, orDefault(opts.IntraOpThreads, 1)); err != nil {
		_ = releaseRuntime()
		return nil, fmt.Errorf("%s: %w", graphFrom, err)
	}
	log.Info("model loaded", "version", man.ModelVersion, "from", graphFrom, "library", lib,
		"threshold", man.Threshold, "max_len", m.maxLen, "threads", orDefault(opts.IntraOpThreads, 1),
		"duration", time.Since(start))
	return m, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// source returns the bytes of one model file and where they came from.
func source(path string, data []byte, embedded func() []byte) ([]byte, string, error) {
	switch {
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("read model file: %w", err)
		}
		return b, path, nil
	case data != nil:
		return data, "in-memory data", nil
	default:
		return embedded(), "embedded model", nil
	}
}

func newSession(graph []byte, output string, threads int) (*ort.DynamicAdvancedSession, error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(graph)
	if err != nil {
		return nil, fmt.Errorf("inspect onnx graph: %w", err)
	}
	names := map[string]bool{}
	for _, in := range ins {
		names[in.Name] = true
	}
	if !names["input_ids"] || !names["attention_mask"] || len(ins) != 2 {
		return nil, fmt.Errorf("onnx graph inputs %v, want input_ids and attention_mask", ins)
	}
	if len(outs) != 1 || outs[0].Name != output {
		return nil, fmt.Errorf("onnx graph outputs %v, want one named %q", outs, output)
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(threads); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	// No CPU arena: an arena keeps the largest batch's tensors (tens of MB
	// for a batch of 512-token sequences) for the life of the session,
	// which was a third of moat serve's resident memory after an install.
	// Without it each run's buffers go back to the allocator.
	if err := so.SetCpuMemArena(false); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(graph,
		[]string{"input_ids", "attention_mask"}, []string{output}, so)
	if err != nil {
		return nil, fmt.Errorf("create onnx runtime session: %w", err)
	}
	return sess, nil
}

// Threshold is the score at or above which a package is judged malicious.
func (m *Model) Threshold() float64 { return m.manifest.Threshold }

// Version is the model version from the manifest.
func (m *Model) Version() string { return m.manifest.ModelVersion }

// MaxLen is the encoded length cap in use ([CLS] and [SEP] included).
func (m *Model) MaxLen() int { return m.maxLen }

// Manifest returns the manifest the model was loaded with (do not modify).
func (m *Model) Manifest() *Manifest { return m.manifest }

// Score returns the probability that the package with this behaviour
// sequence is malicious.
func (m *Model) Score(ctx context.Context, tokens []string) (float64, error) {
	toks := trim(tokens, m.maxLen)
	n := len(toks) + 2
	ids := make([]int64, 2*n)
	m.vocab.encode(toks, ids[:n])
	mask := ids[n:]
	for i := range mask {
		mask[i] = 1
	}
	p, err := m.run(ctx, ids[:n], mask, 1, n)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

// ScoreBatch scores many sequences (e.g. occlusion variants of one
// package). Sequences of similar length run together, at most MaxBatch
// (and MaxBatchCells) at a time, padded to the longest in their group.
func (m *Model) ScoreBatch(ctx context.Context, batch [][]string) ([]float64, error) {
	out := make([]float64, len(batch))
	trimmed := make([][]string, len(batch))
	order := make([]int, len(batch))
	for i, toks := range batch {
		trimmed[i] = trim(toks, m.maxLen)
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(trimmed[a]) - len(trimmed[b]) })
	for len(order) > 0 {
		// Rows are sorted by length: the last row of a chunk is its longest.
		n := 1
		for n < len(order) && n < m.maxBatch {
			l := len(trimmed[order[n]]) + 2
			if (n+1)*l*l > m.maxCells {
				break
			}
			n++
		}
		chunk := order[:n]
		order = order[n:]
		l := len(trimmed[chunk[len(chunk)-1]]) + 2 // longest in chunk
		ids := make([]int64, len(chunk)*l)
		mask := make([]int64, len(chunk)*l)
		for row, i := range chunk {
			n := len(trimmed[i]) + 2
			m.vocab.encode(trimmed[i], ids[row*l:row*l+n])
			for j := range n {
				mask[row*l+j] = 1
			}
		}
		p, err := m.run(ctx, ids, mask, len(chunk), l)
		if err != nil {
			return nil, err
		}
		for row, i := range chunk {
			out[i] = p[row]
		}
	}
	return out, nil
}

// run executes the graph on one padded batch and returns probabilities.
// Cancelling ctx terminates a run in progress.
func (m *Model) run(ctx context.Context, ids, mask []int64, batch, length int) ([]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	shape := ort.NewShape(int64(batch), int64(length))
	idsT, err := ort.NewTensor(shape, ids)
	if err != nil {
		return nil, fmt.Errorf("input tensor: %w", err)
	}
	defer idsT.Destroy()
	maskT, err := ort.NewTensor(shape, mask)
	if err != nil {
		return nil, fmt.Errorf("input tensor: %w", err)
	}
	defer maskT.Destroy()
	outT, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(batch)))
	if err != nil {
		return nil, fmt.Errorf("output tensor: %w", err)
	}
	defer outT.Destroy()

	var runOpts *ort.RunOptions
	if ctx.Done() != nil {
		if runOpts, err = ort.NewRunOptions(); err != nil {
			return nil, fmt.Errorf("run options: %w", err)
		}
		var optsMu sync.Mutex
		stop := context.AfterFunc(ctx, func() {
			optsMu.Lock()
			defer optsMu.Unlock()
			if runOpts != nil {
				_ = runOpts.Terminate()
			}
		})
		defer func() {
			stop()
			optsMu.Lock()
			defer optsMu.Unlock()
			_ = runOpts.Destroy()
			runOpts = nil
		}()
	}
	if err := m.sess.RunWithOptions([]ort.Value{idsT, maskT}, []ort.Value{outT}, runOpts); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("run model: %w", err)
	}
	raw := outT.GetData()
	out := make([]float64, batch)
	for i, v := range raw {
		out[i] = float64(v)
		if m.manifest.Output == OutputLogits {
			out[i] = 1 / (1 + math.Exp(-out[i]))
		}
	}
	return out, nil
}

// Close releases the session (waiting for runs in progress) and, when it is
// the last open Model, the ONNX Runtime environment.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	return errors.Join(m.sess.Destroy(), releaseRuntime())
}

// Knows reports whether tok is in the model's vocabulary. The scanner drops
// tokens a model was not trained on before scoring, so a scanner that emits
// newer behaviour tokens than its model knows leaves the model's input as
// the model was trained to read it, instead of turning them into [UNK].
func (m *Model) Knows(tok string) bool {
	_, ok := m.vocab.ids[tok]
	return ok
}
