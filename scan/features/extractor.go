package features

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	ts "github.com/tree-sitter/go-tree-sitter"
	tsjs "github.com/tree-sitter/tree-sitter-javascript/bindings/go"
	tspy "github.com/tree-sitter/tree-sitter-python/bindings/go"

	"github.com/moatproject/moat/scan/sequence"
)

// Version identifies the extraction logic; it is part of the report cache key
// and changes whenever the events produced for some input change.
const Version = "features/3"

// Defaults for Options.
const (
	DefaultMaxParseBytes = 1 << 20
	DefaultParseTimeout  = 2 * time.Second
)

// ErrClosed is returned by Extract after Close.
var ErrClosed = errors.New("features: extractor closed")

// Options configure an Extractor. The zero value is usable.
type Options struct {
	// MaxParseBytes caps how much of a file is parsed (default 1 MiB). Larger
	// files are cut at the last line boundary before the cap, only that head
	// is analysed, and the file gets a "file.truncated" event.
	MaxParseBytes int
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

// MaxParseBytes is the most of a file Extract parses (Options.MaxParseBytes):
// a longer file is cut before it. Callers may hand over only the first
// MaxParseBytes+1 bytes of a file and get the same events.
func (e *Extractor) MaxParseBytes() int { return e.opts.MaxParseBytes }

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
	if len(src) > e.opts.MaxParseBytes {
		src = cutHead(src, e.opts.MaxParseBytes)
		fe.Truncated = true
	}

	p, err := lang.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("features: extract %s: %w", filePath, err)
	}
	tree, cancelled := p.parse(ctx, src, e.opts.ParseTimeout)
	if cancelled {
		// The cancellation callback may still be running: retire the parser
		// rather than risk a stale flag aborting its next parse.
		lang.discard(p)
		if tree != nil {
			tree.Close()
		}
		return nil, fmt.Errorf("features: extract %s: %w", filePath, context.Cause(ctx))
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
	} else {
		err := flatten(tree, &a.tree)
		tree.Close()
		lang.put(p)
		if len(src) >= trimAfter {
			trimCHeap()
		}
		if err == nil {
			err = a.run(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("features: extract %s: %w", filePath, err)
		}
	}
	if fe.Truncated {
		a.prependFileEvent("file.truncated")
	}
	fe.Events = a.output(fe.Events)
	fe.Imports = append(fe.Imports, a.imports...)
	return fe, nil
}

// cutHead returns the longest prefix of src not over max bytes that ends at
// a line boundary (or, with no newline in range, at a UTF-8 boundary).
func cutHead(src []byte, max int) []byte {
	head := src[:max]
	if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
		return head[:i+1]
	}
	for i := 0; i < utf8.UTFMax && len(head) > 0; i++ {
		if r, _ := utf8.DecodeLastRune(head); r != utf8.RuneError {
			break
		}
		head = head[:len(head)-1]
	}
	return head
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
