package features

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/moatproject/moat/scan/sequence"
)

func newTestExtractor(t testing.TB) *Extractor {
	t.Helper()
	e := New(Options{})
	t.Cleanup(func() { e.Close() })
	return e
}

func extract(t testing.TB, e *Extractor, path, src string) *sequence.FileEvents {
	t.Helper()
	fe, err := e.Extract(context.Background(), path, []byte(src))
	if err != nil {
		t.Fatalf("Extract(%s): %v", path, err)
	}
	return fe
}

func tokens(fe *sequence.FileEvents) []string {
	out := make([]string, len(fe.Events))
	for i, ev := range fe.Events {
		out[i] = ev.Token
	}
	return out
}

func dump(fe *sequence.FileEvents) string {
	var b strings.Builder
	for _, ev := range fe.Events {
		b.WriteString(ev.Token)
		b.WriteString(" @")
		b.WriteString(itoa(ev.Line))
		b.WriteString(" ")
		b.WriteString(ev.Snippet)
		b.WriteString("\n")
	}
	return b.String()
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
