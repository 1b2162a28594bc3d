package model

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Output kinds a model graph may have (Manifest.Output).
const (
	OutputProbability = "probability" // sigmoid already applied in the graph
	OutputLogits      = "logits"      // scan/model applies the sigmoid
)

// Manifest is the part of models/manifest.json that loading needs; the
// training pipeline (models/train) writes more (metrics, counts, split).
type Manifest struct {
	ModelVersion string  `json:"model_version"`
	ONNXSHA256   string  `json:"onnx_sha256"`
	VocabSHA256  string  `json:"vocab_sha256,omitempty"`
	Threshold    float64 `json:"threshold"`
	MaxLen       int     `json:"max_len"`
	// Output names the graph's single output: "probability" (float [batch],
	// the default) or "logits" (float [batch], sigmoid applied here).
	Output string `json:"output,omitempty"`
	// Validation holds the metrics the pipeline measured (opaque here).
	Validation json.RawMessage `json:"validation,omitempty"`
}

// ParseManifest decodes and checks a manifest.json.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	var errs []error
	if m.ModelVersion == "" {
		errs = append(errs, errors.New("model_version is empty"))
	}
	if len(m.ONNXSHA256) != sha256.Size*2 {
		errs = append(errs, fmt.Errorf("onnx_sha256 %q is not a sha256", m.ONNXSHA256))
	}
	if m.Threshold <= 0 || m.Threshold > 1 {
		errs = append(errs, fmt.Errorf("threshold %v is not in (0, 1]", m.Threshold))
	}
	if m.MaxLen < 3 {
		errs = append(errs, fmt.Errorf("max_len %d is too small", m.MaxLen))
	}
	switch m.Output {
	case "":
		m.Output = OutputProbability
	case OutputProbability, OutputLogits:
	default:
		errs = append(errs, fmt.Errorf("output %q is neither %q nor %q", m.Output, OutputProbability, OutputLogits))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid manifest: %w", err)
	}
	return &m, nil
}

func checkSHA256(what string, data []byte, want string) error {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, want) {
		return fmt.Errorf("%w: %s has sha256 %s, manifest says %s", ErrChecksum, what, got, want)
	}
	return nil
}

// Special tokens, in the order every vocabulary starts with.
var specials = [...]string{"[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]"}

// vocab maps tokens to ids (the line index in vocab.txt).
type vocab struct {
	ids           map[string]int64
	pad, cls, sep int64
	unk           int64
}

func parseVocab(b []byte) (*vocab, error) {
	v := &vocab{ids: make(map[string]int64)}
	sc := bufio.NewScanner(bytes.NewReader(b))
	var n int64
	for sc.Scan() {
		tok := strings.TrimSpace(sc.Text())
		if tok == "" {
			continue
		}
		if _, dup := v.ids[tok]; dup {
			return nil, fmt.Errorf("vocab: duplicate token %q", tok)
		}
		v.ids[tok] = n
		n++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vocab: %w", err)
	}
	for i, s := range specials {
		if id, ok := v.ids[s]; !ok || id != int64(i) {
			return nil, fmt.Errorf("vocab: must start with %v", specials)
		}
	}
	v.pad, v.cls, v.sep, v.unk = 0, 1, 2, 4
	return v, nil
}

// trim drops a leading [CLS] and a trailing [SEP] that the caller may
// already have added, and keeps the head of the rest (install-time first):
// at most maxLen-2 tokens, leaving room for [CLS] and [SEP].
func trim(tokens []string, maxLen int) []string {
	if len(tokens) > 0 && tokens[0] == "[CLS]" {
		tokens = tokens[1:]
	}
	if len(tokens) > 0 && tokens[len(tokens)-1] == "[SEP]" {
		tokens = tokens[:len(tokens)-1]
	}
	if len(tokens) > maxLen-2 {
		tokens = tokens[:maxLen-2]
	}
	return tokens
}

// encode writes [CLS] + tokens + [SEP] into ids (which must have room for
// len(tokens)+2) for tokens already trimmed; unknown tokens map to [UNK].
// This is the rule models/train/model.py's encode follows.
func (v *vocab) encode(tokens []string, ids []int64) {
	ids[0] = v.cls
	for i, t := range tokens {
		id, ok := v.ids[t]
		if !ok {
			id = v.unk
		}
		ids[i+1] = id
	}
	ids[len(tokens)+1] = v.sep
}
