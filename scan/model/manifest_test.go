package model

import (
	"slices"
	"strings"
	"testing"

	"github.com/moatproject/moat/models"
)

func TestParseManifest(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		in      string
		wantErr string
		output  string
	}{
		{"minimal", `{"model_version":"v1","onnx_sha256":"` + sha + `","threshold":0.9,"max_len":512}`, "", OutputProbability},
		{"logits", `{"model_version":"v1","onnx_sha256":"` + sha + `","threshold":0.9,"max_len":512,"output":"logits"}`, "", OutputLogits},
		{"not json", `{`, "parse manifest", ""},
		{"no version", `{"onnx_sha256":"` + sha + `","threshold":0.9,"max_len":512}`, "model_version", ""},
		{"bad sha", `{"model_version":"v1","onnx_sha256":"abc","threshold":0.9,"max_len":512}`, "onnx_sha256", ""},
		{"threshold out of range", `{"model_version":"v1","onnx_sha256":"` + sha + `","threshold":1.5,"max_len":512}`, "threshold", ""},
		{"max_len", `{"model_version":"v1","onnx_sha256":"` + sha + `","threshold":0.5,"max_len":2}`, "max_len", ""},
		{"output", `{"model_version":"v1","onnx_sha256":"` + sha + `","threshold":0.5,"max_len":8,"output":"softmax"}`, "output", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Output != tt.output {
				t.Errorf("Output = %q, want %q", m.Output, tt.output)
			}
		})
	}
}

func TestShippedManifest(t *testing.T) {
	m, err := ParseManifest(models.Manifest())
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSHA256("model.onnx", models.ONNX(), m.ONNXSHA256); err != nil {
		t.Error(err)
	}
	if err := checkSHA256("vocab.txt", models.Vocab(), m.VocabSHA256); err != nil {
		t.Error(err)
	}
	if _, err := parseVocab(models.Vocab()); err != nil {
		t.Error(err)
	}
	if n := len(models.ONNX()); n > 10<<20 {
		t.Errorf("model.onnx is %d bytes; keep the shipped model under 10 MiB", n)
	}
}

func TestVocabEncode(t *testing.T) {
	v, err := parseVocab([]byte("[PAD]\n[CLS]\n[SEP]\n[MASK]\n[UNK]\nfs.read\nnet.call\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		tokens []string
		maxLen int
		want   []int64
	}{
		{"empty", nil, 8, []int64{1, 2}},
		{"known and unknown", []string{"fs.read", "nope", "net.call"}, 8, []int64{1, 5, 4, 6, 2}},
		{"wrapped already", []string{"[CLS]", "fs.read", "[SEP]"}, 8, []int64{1, 5, 2}},
		{"truncated keeps head", []string{"net.call", "fs.read", "fs.read", "fs.read"}, 4, []int64{1, 6, 5, 2}},
		{"only specials", []string{"[CLS]", "[SEP]"}, 8, []int64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks := trim(tt.tokens, tt.maxLen)
			ids := make([]int64, len(toks)+2)
			v.encode(toks, ids)
			if !slices.Equal(ids, tt.want) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestParseVocabErrors(t *testing.T) {
	for name, in := range map[string]string{
		"no specials":   "fs.read\n",
		"wrong order":   "[CLS]\n[PAD]\n[SEP]\n[MASK]\n[UNK]\n",
		"duplicate":     "[PAD]\n[CLS]\n[SEP]\n[MASK]\n[UNK]\nx\nx\n",
		"missing [UNK]": "[PAD]\n[CLS]\n[SEP]\n[MASK]\n",
	} {
		if _, err := parseVocab([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add(models.Manifest())
	f.Add([]byte(`{"model_version":"v","onnx_sha256":"","threshold":0.5,"max_len":3}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err == nil && (m.Threshold <= 0 || m.Threshold > 1 || m.MaxLen < 3) {
			t.Fatalf("accepted invalid manifest %+v", m)
		}
	})
}

func FuzzVocab(f *testing.F) {
	f.Add(models.Vocab(), "fs.read net.call [SEP]")
	f.Add([]byte("[PAD]\n[CLS]\n[SEP]\n[MASK]\n[UNK]\n"), "[CLS]")
	f.Fuzz(func(t *testing.T, b []byte, seq string) {
		v, err := parseVocab(b)
		if err != nil {
			return
		}
		toks := trim(strings.Fields(seq), 16)
		ids := make([]int64, len(toks)+2)
		v.encode(toks, ids)
		if len(ids) > 16 || ids[0] != v.cls || ids[len(ids)-1] != v.sep {
			t.Fatalf("bad encoding %v", ids)
		}
		for _, id := range ids {
			if id < 0 || id >= int64(len(v.ids)) {
				t.Fatalf("id %d out of range", id)
			}
		}
	})
}
