package sequence

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestVocabFile keeps the committed vocab.txt equal to DefaultVocab.
func TestVocabFile(t *testing.T) {
	var buf bytes.Buffer
	if _, err := DefaultVocab().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("vocab.txt", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v, err := LoadVocab("vocab.txt")
	if err != nil {
		t.Fatal(err)
	}
	if v.Version() != DefaultVocab().Version() {
		t.Fatalf("vocab.txt (%s) differs from DefaultVocab (%s); run go test ./scan/sequence -run TestVocabFile -update",
			v.Version(), DefaultVocab().Version())
	}
}

func TestVocab(t *testing.T) {
	v := DefaultVocab()
	for i, s := range Specials() {
		if id, ok := v.ID(s); !ok || id != int32(i) {
			t.Errorf("ID(%s) = %d, %v; want %d", s, id, ok, i)
		}
	}
	for _, tok := range append([]string{MarkInstall, MarkImport, MarkOther}, Tokens...) {
		if _, ok := v.ID(tok); !ok {
			t.Errorf("token %q missing", tok)
		}
	}
	got := v.Encode([]string{"[INSTALL]", "no.such.token", "net.call"})
	nc, _ := v.ID("net.call")
	in, _ := v.ID(MarkInstall)
	if want := []int32{in, 4, nc}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}

	var buf bytes.Buffer
	v.WriteTo(&buf)
	rt, err := ReadVocab(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if rt.Version() != v.Version() || rt.Len() != v.Len() {
		t.Errorf("round trip changed the vocabulary")
	}

	other, _ := NewVocab([]string{"b", "a"})
	if other.Version() == v.Version() {
		t.Error("different vocabularies share a version")
	}
	swapped, _ := NewVocab([]string{"a", "b"})
	if other.Version() == swapped.Version() {
		t.Error("order change kept the version")
	}
}

func TestReadVocabErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"no specials": "a\nb\n",
		"bad order":   "[PAD]\n[CLS]\n[MASK]\n[SEP]\n[UNK]\n",
		"duplicate":   "[PAD]\n[CLS]\n[SEP]\n[MASK]\n[UNK]\na\na\n",
		"blank line":  "[PAD]\n[CLS]\n[SEP]\n[MASK]\n[UNK]\n\n",
		"space":       "[PAD]\n[CLS]\n[SEP]\n[MASK]\n[UNK]\na b\n",
		"long line":   "[PAD]\n[CLS]\n[SEP]\n[MASK]\n[UNK]\n" + strings.Repeat("x", 5000) + "\n",
	} {
		if _, err := ReadVocab(strings.NewReader(in)); !errors.Is(err, ErrVocab) {
			t.Errorf("%s: err = %v, want ErrVocab", name, err)
		}
	}
}

func FuzzReadVocab(f *testing.F) {
	var buf bytes.Buffer
	DefaultVocab().WriteTo(&buf)
	f.Add(buf.String())
	f.Add("[PAD]\n[CLS]\n[SEP]\n[MASK]\n[UNK]\nx\r\ny\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		v, err := ReadVocab(strings.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		v.WriteTo(&out)
		v2, err := ReadVocab(&out)
		if err != nil || v2.Version() != v.Version() {
			t.Fatalf("round trip failed: %v", err)
		}
		ids := v.Encode(v.Tokens())
		for i, id := range ids {
			if id != int32(i) {
				t.Fatalf("Encode(Tokens())[%d] = %d", i, id)
			}
		}
	})
}
