package sequence

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Model specials, always the first ids of a vocabulary in this order.
const (
	PAD  = "[PAD]"
	CLS  = "[CLS]"
	SEP  = "[SEP]"
	MASK = "[MASK]"
	UNK  = "[UNK]"
)

// Specials lists the model specials in id order: [PAD]=0 ... [UNK]=4.
func Specials() []string { return []string{PAD, CLS, SEP, MASK, UNK} }

// ErrVocab is wrapped by every error about a malformed vocabulary.
var ErrVocab = errors.New("sequence: bad vocabulary")

// maxTokenLen bounds one vocabulary line.
const maxTokenLen = 128

// Vocab maps tokens to the model's integer ids. It is immutable and safe
// for concurrent use.
type Vocab struct {
	tokens  []string
	ids     map[string]int32
	version string
}

// NewVocab builds a vocabulary: the specials, then tokens in order
// (duplicates of earlier entries are an error). tokens may start with the
// specials, in which case they must be exactly Specials().
func NewVocab(tokens []string) (*Vocab, error) {
	sp := Specials()
	if len(tokens) >= len(sp) && tokens[0] == PAD {
		for i, s := range sp {
			if tokens[i] != s {
				return nil, fmt.Errorf("%w: line %d is %q, want special %q", ErrVocab, i+1, tokens[i], s)
			}
		}
		tokens = tokens[len(sp):]
	}
	all := append(sp, tokens...)
	v := &Vocab{tokens: all, ids: make(map[string]int32, len(all))}
	for i, t := range all {
		if t == "" || len(t) > maxTokenLen || strings.ContainsAny(t, " \t\r\n") {
			return nil, fmt.Errorf("%w: invalid token %q at line %d", ErrVocab, t, i+1)
		}
		if _, dup := v.ids[t]; dup {
			return nil, fmt.Errorf("%w: duplicate token %q at line %d", ErrVocab, t, i+1)
		}
		v.ids[t] = int32(i)
	}
	h := sha256.New()
	for _, t := range all {
		io.WriteString(h, t)
		h.Write([]byte{'\n'})
	}
	v.version = "vocab-" + hex.EncodeToString(h.Sum(nil))[:12]
	return v, nil
}

// DefaultVocab is the vocabulary of this build: the specials, then Tokens
// (behaviour tokens and phase markers) in their canonical order. It is what
// scan/sequence/vocab.txt holds.
func DefaultVocab() *Vocab {
	v, err := NewVocab(Tokens)
	if err != nil {
		panic(err) // Tokens is a compile-time list: TestVocab catches a bad edit
	}
	return v
}

// ReadVocab reads a vocabulary in the text form written by WriteTo: one
// token per line, the specials first. Blank lines are not allowed.
func ReadVocab(r io.Reader) (*Vocab, error) {
	var toks []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), 4096)
	for sc.Scan() {
		toks = append(toks, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVocab, err)
	}
	sp := Specials()
	if len(toks) < len(sp) || toks[0] != PAD {
		return nil, fmt.Errorf("%w: must start with the specials %v", ErrVocab, sp)
	}
	return NewVocab(toks)
}

// LoadVocab reads the vocabulary file at path.
func LoadVocab(path string) (*Vocab, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sequence: load vocabulary: %w", err)
	}
	defer f.Close()
	v, err := ReadVocab(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// WriteTo writes the vocabulary as text, one token per line.
func (v *Vocab) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	for _, t := range v.tokens {
		b.WriteString(t)
		b.WriteByte('\n')
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// Version identifies the vocabulary by content ("vocab-" + 12 hex digits of
// the SHA-256 of its text form); it changes whenever a token is added,
// removed or moved.
func (v *Vocab) Version() string { return v.version }

// Len is the number of ids.
func (v *Vocab) Len() int { return len(v.tokens) }

// Tokens returns the tokens in id order.
func (v *Vocab) Tokens() []string { return append([]string(nil), v.tokens...) }

// ID returns the id of tok.
func (v *Vocab) ID(tok string) (int32, bool) {
	id, ok := v.ids[tok]
	return id, ok
}

// Encode maps tokens to ids one to one; unknown tokens become [UNK]. It
// adds no [CLS]/[SEP]/[PAD]: framing belongs to the model.
func (v *Vocab) Encode(tokens []string) []int32 {
	unk := v.ids[UNK]
	out := make([]int32, len(tokens))
	for i, t := range tokens {
		id, ok := v.ids[t]
		if !ok {
			id = unk
		}
		out[i] = id
	}
	return out
}
