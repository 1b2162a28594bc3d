package features

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ts "github.com/tree-sitter/go-tree-sitter"
	tsjs "github.com/tree-sitter/tree-sitter-javascript/bindings/go"
	tspy "github.com/tree-sitter/tree-sitter-python/bindings/go"

	"github.com/moatproject/moat/scan/sequence"
)

// Version identifies the extraction logic; it is part of the report cache key
// and changes whenever the events produced for some input change.
const Version = "features/6"

// Defaults for Options.
const (
	DefaultMaxParseBytes     = 1 << 20
	DefaultMaxFileParseBytes = 1 << 20
	DefaultParseTimeout      = 2 * time.Second
)

// ErrClosed is returned by Extract after Close.
var ErrClosed = errors.New("features: extractor closed")

// Options configure an Extractor. The zero value is usable.
type Options struct {
	// MaxParseBytes caps the source parsed at once (default 1 MiB): a
	// larger file is parsed in windows of at most this much code, one at a
	// time, so it also bounds the parse memory of one extraction. See
	// Extract.
	MaxParseBytes int
	// MaxFileParseBytes caps the code parsed of one file (default
	// DefaultMaxFileParseBytes, at least MaxParseBytes). The rest of a
	// longer file is analysed lexically and the file gets a
	// "file.truncated" event.
	MaxFileParseBytes int
	// ParseTimeout bounds one parse (default 2 s). A file that exceeds it
	// yields a single "parse.error" event.
	ParseTimeout time.Duration
	// MaxParsers bounds the parsers kept per language, and so the number of
	// concurrent parses per language (default GOMAXPROCS).
	MaxParsers int
	// Logger receives warnings about files that could not be parsed
	// (default: discard).
	Logger *slog.Logger
}

// Extractor extracts behaviour events from JavaScript and Python files. It is
// safe for concurrent use; Close releases its parsers.
type Extractor struct {
	opts Options
	log  *slog.Logger
	js   *language
	py   *language
}

// New returns an Extractor. Parsers are created lazily on first use.
func New(opts Options) *Extractor {
	if opts.MaxParseBytes <= 0 {
		opts.MaxParseBytes = DefaultMaxParseBytes
	}
	if opts.MaxFileParseBytes <= 0 {
		opts.MaxFileParseBytes = DefaultMaxFileParseBytes
	}
	opts.MaxFileParseBytes = max(opts.MaxFileParseBytes, opts.MaxParseBytes)
	if opts.ParseTimeout <= 0 {
		opts.ParseTimeout = DefaultParseTimeout
	}
	if opts.MaxParsers <= 0 {
		opts.MaxParsers = runtime.GOMAXPROCS(0)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	useLibcAllocator()
	tuneMalloc()
	return &Extractor{
		opts: opts,
		log:  log,
		js:   newLanguage(langJS, ts.NewLanguage(tsjs.Language()), opts),
		py:   newLanguage(langPython, ts.NewLanguage(tspy.Language()), opts),
	}
}

// MaxParseBytes is the most source Extract parses at once
// (Options.MaxParseBytes): what one extraction holds parse trees of.
func (e *Extractor) MaxParseBytes() int { return e.opts.MaxParseBytes }

// MaxFileParseBytes is the most code of one file Extract parses
// (Options.MaxFileParseBytes); the rest is analysed lexically.
func (e *Extractor) MaxFileParseBytes() int { return e.opts.MaxFileParseBytes }

// Version reports the extraction version (see the Version constant).
func (e *Extractor) Version() string { return Version }

// Close closes every idle parser; parsers still in use are closed when their
// parse finishes. Extract fails with ErrClosed afterwards.
func (e *Extractor) Close() error {
	e.js.close()
	e.py.close()
	return nil
}

type langID uint8

const (
	langNone langID = iota
	langJS
	langPython
)

// detect picks the language from the file name.
func detect(p string) langID {
	switch strings.ToLower(path.Ext(p)) {
	case ".js", ".cjs", ".mjs", ".jsx":
		return langJS
	case ".py", ".pyw":
		return langPython
	}
	return langNone
}

// Extract returns the behaviour events of one file. Files of other languages
// yield an empty FileEvents and no error. The only errors are ErrClosed and
// the context's error.
//
// Every byte of a file is analysed. A file of up to MaxParseBytes is parsed
// whole. A longer one is first scanned by the lexer (lex.go): runs of lines
// that hold only comments or docstring text are left out, and the rest is
// parsed in windows of at most MaxParseBytes cut where the lexer finds plain
// code at its top level, one window's tree at a time, with event lines
// mapped back to the file. Once MaxFileParseBytes of a file have been
// parsed, the rest of it is analysed lexically (lexical.go) and the file is
// marked truncated ("file.truncated"). A window (or file) whose parse
// exceeds ParseTimeout yields "parse.error", is analysed lexically instead,
// and marks the file TimedOut.
func (e *Extractor) Extract(ctx context.Context, filePath string, src []byte) (*sequence.FileEvents, error) {
	fe := &sequence.FileEvents{Path: filePath, Events: []sequence.Event{}}
	var lang *language
	switch detect(filePath) {
	case langJS:
		lang = e.js
	case langPython:
		lang = e.py
	default:
		return fe, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("features: extract %s: %w", filePath, err)
	}
	if len(src) <= e.opts.MaxParseBytes {
		timedOut, err := e.parse(ctx, lang, filePath, src, nil, fe)
		if err != nil {
			return nil, err
		}
		if timedOut {
			fe.TimedOut = true
			x := newLexicalAnalysis(lang.id, filePath, src, nil)
			x.run(0, len(src), 0)
			fe.Events = appendLexical(fe.Events, x.events)
		}
		return fe, nil
	}
	if err := e.extractWindows(ctx, lang, filePath, src, fe); err != nil {
		return nil, err
	}
	return fe, nil
}

// ExtractLexical returns the events of the lexical analysis of the whole
// file, without parsing it: for files a caller's parse budget leaves out.
// The file is marked truncated.
func (e *Extractor) ExtractLexical(ctx context.Context, filePath string, src []byte) (*sequence.FileEvents, error) {
	fe := &sequence.FileEvents{Path: filePath, Events: []sequence.Event{}}
	id := detect(filePath)
	if id == langNone {
		return fe, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("features: extract %s: %w", filePath, err)
	}
	x := newLexicalAnalysis(id, filePath, src, nil)
	x.run(0, len(src), 0)
	fe.Truncated = true
	fe.Events = append(fe.Events, sequence.Event{Token: "file.truncated", File: filePath})
	fe.Events = appendLexical(fe.Events, x.events)
	return fe, nil
}

// appendLexical appends lexical events in line order.
func appendLexical(dst, evs []sequence.Event) []sequence.Event {
	slices.SortStableFunc(evs, func(a, b sequence.Event) int { return a.Line - b.Line })
	return append(dst, evs...)
}

// extractWindows extracts a file longer than MaxParseBytes (see Extract).
func (e *Extractor) extractWindows(ctx context.Context, lang *language, filePath string, src []byte, fe *sequence.FileEvents) error {
	ly := scanLayout(lang.id, src)
	w := e.opts.MaxParseBytes
	budget := e.opts.MaxFileParseBytes
	carry := map[string]string{} // aliases bound in earlier windows
	var lexical []struct{ from, to, row int }
	var buf []byte
	var segs []rowSeg
	var win sequence.FileEvents
	ws, row := 0, 0
	for ws < len(src) {
		we := ly.next(src, ws, w)
		kept := ly.kept(we) - ly.kept(ws)
		if kept > budget || fe.TimedOut {
			break
		}
		budget -= kept
		var endRow int
		buf, segs, endRow = ly.build(src, ws, we, row, buf[:0], segs[:0])
		win.Events, win.Imports = win.Events[:0], nil
		timedOut, err := e.parse(ctx, lang, filePath, buf, carry, &win)
		if err != nil {
			return err
		}
		for _, ev := range win.Events {
			if ev.Line > 0 {
				ev.Line = mapRow(segs, ev.Line-1) + 1
			}
			fe.Events = append(fe.Events, ev)
		}
		fe.Imports = append(fe.Imports, win.Imports...)
		if timedOut {
			fe.TimedOut = true
			lexical = append(lexical, struct{ from, to, row int }{ws, we, row})
		}
		ws, row = we, endRow
	}
	if ws < len(src) {
		fe.Truncated = true
		lexical = append(lexical, struct{ from, to, row int }{ws, len(src), row})
	}
	if len(lexical) > 0 {
		x := newLexicalAnalysis(lang.id, filePath, src, carry)
		for _, r := range lexical {
			x.run(r.from, r.to, r.row)
		}
		fe.Events = appendLexical(fe.Events, x.events)
	}
	fe.Events = dedupeFileEvents(fe.Events)
	if fe.Truncated {
		fe.Events = slices.Insert(fe.Events, 0, sequence.Event{Token: "file.truncated", File: filePath})
	}
	return nil
}

// onceTokens are the tokens a file reports once however many windows it has.
var onceTokens = map[string]bool{"parse.error": true, "file.truncated": true,
	"obfuscation.minified": true, "obfuscation.identifiers": true}

func dedupeFileEvents(evs []sequence.Event) []sequence.Event {
	seen := map[string]bool{}
	out := evs[:0]
	for _, ev := range evs {
		if onceTokens[ev.Token] {
			if seen[ev.Token] {
				continue
			}
			seen[ev.Token] = true
		}
		out = append(out, ev)
	}
	return out
}

// parse parses src whole and appends its events and imports to fe. carry,
// when not nil, seeds the analysis' aliases and receives those it binds.
// timedOut reports a parse over ParseTimeout (fe then gets "parse.error").
func (e *Extractor) parse(ctx context.Context, lang *language, filePath string, src []byte, carry map[string]string, fe *sequence.FileEvents) (timedOut bool, err error) {
	p, err := lang.get(ctx)
	if err != nil {
		return false, fmt.Errorf("features: extract %s: %w", filePath, err)
	}
	tree, cancelled := p.parse(ctx, src, e.opts.ParseTimeout)
	if cancelled {
		// The cancellation callback may still be running: retire the parser
		// rather than risk a stale flag aborting its next parse.
		lang.discard(p)
		if tree != nil {
			tree.Close()
		}
		return false, fmt.Errorf("features: extract %s: %w", filePath, context.Cause(ctx))
	}

	a := getAnalysis(lang, filePath, src)
	defer putAnalysis(a)
	if tree == nil {
		// A parser halted by its timeout is not reused: tree-sitter 0.25.0's
		// ts_parser_reset leaves canceled_balancing set when the halt came
		// during subtree balancing, and the parser's next parse then aborts
		// the process on `assert(self->finished_tree.ptr)` (fixed upstream
		// by tree-sitter PR 4176, not in the Go binding we pin).
		lang.discard(p)
		if len(src) >= trimAfter {
			trimCHeap() // what the halted parse had built
		}
		e.log.Warn("features: parse budget exceeded", "path", filePath, "bytes", len(src), "timeout", e.opts.ParseTimeout)
		a.fileEvent("parse.error")
		timedOut = true
	} else {
		err := flatten(tree, &a.tree)
		tree.Close()
		lang.put(p)
		if len(src) >= trimAfter {
			trimCHeap()
		}
		for k, v := range carry {
			a.aliases[k] = v
		}
		if err == nil {
			err = a.run(ctx)
		}
		if err != nil {
			return false, fmt.Errorf("features: extract %s: %w", filePath, err)
		}
		if carry != nil {
			for k, v := range a.aliases {
				if len(carry) >= maxLexicalAliases {
					break
				}
				carry[k] = v
			}
		}
	}
	fe.Events = a.output(fe.Events)
	fe.Imports = append(fe.Imports, a.imports...)
	return timedOut, nil
}

// language holds one grammar and its bounded parser pool.
type language struct {
	id   langID
	lang *ts.Language
	k    kinds

	slots chan struct{} // one token per parser that may exist
	idle  chan *parser

	mu     sync.Mutex
	closed bool

	created, destroyed atomic.Int64 // for tests
}

func newLanguage(id langID, l *ts.Language, opts Options) *language {
	lg := &language{
		id:    id,
		lang:  l,
		slots: make(chan struct{}, opts.MaxParsers),
		idle:  make(chan *parser, opts.MaxParsers),
	}
	lg.k = resolveKinds(id, l)
	return lg
}

// get returns an idle parser or creates one, waiting while MaxParsers are busy.
func (l *language) get(ctx context.Context) (*parser, error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		<-l.slots
		return nil, ErrClosed
	}
	select {
	case p := <-l.idle:
		return p, nil
	default:
	}
	p := newParser(l.lang)
	l.created.Add(1)
	return p, nil
}

// put returns a parser to the pool (or closes it once the pool is closed).
func (l *language) put(p *parser) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		p.close()
		l.destroyed.Add(1)
	} else {
		l.idle <- p // never blocks: at most cap(slots) parsers exist
	}
	<-l.slots
}

// discard closes a parser that must not be reused.
func (l *language) discard(p *parser) {
	p.close()
	l.destroyed.Add(1)
	<-l.slots
}

func (l *language) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	for {
		select {
		case p := <-l.idle:
			p.close()
			l.destroyed.Add(1)
		default:
			return
		}
	}
}

// parser is a tree-sitter parser plus its cancellation flag.
type parser struct {
	p    *ts.Parser
	flag cancelFlag
}

func newParser(l *ts.Language) *parser {
	p := ts.NewParser()
	if err := p.SetLanguage(l); err != nil {
		// The grammars are pinned in go.mod; a mismatch is a build defect.
		panic(fmt.Sprintf("features: grammar ABI mismatch: %v", err))
	}
	f := newCancelFlag()
	p.SetCancellationFlag(f.ptr()) //nolint:staticcheck // see package doc: ParseWithOptions leaks
	return &parser{p: p, flag: f}
}

func (p *parser) close() {
	p.p.Close()
	p.flag.free()
}

// parse parses src within timeout. It returns a nil tree when the budget was
// exceeded, and cancelled=true when ctx ended during the parse.
func (p *parser) parse(ctx context.Context, src []byte, timeout time.Duration) (tree *cTree, cancelled bool) {
	atomic.StoreUintptr(p.flag.ptr(), 0)
	p.p.SetTimeoutMicros(uint64(timeout / time.Microsecond)) //nolint:staticcheck // see package doc
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		atomic.StoreUintptr(p.flag.ptr(), 1)
		close(done)
	})
	tree = parseString(p.p, src)
	if !stop() {
		// The callback has started: wait until it has written the flag, so
		// the caller may free the parser (and the flag) safely.
		<-done
		return tree, true
	}
	return tree, false
}
