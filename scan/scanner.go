package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/moatproject/moat/internal/cpuclass"
	"github.com/moatproject/moat/scan/archive"
	"github.com/moatproject/moat/scan/behaviour"
	"github.com/moatproject/moat/scan/sequence"
)

// version identifies the orchestration logic of this package (manifest
// events, entry points, findings). Bump it when a change alters reports.
const version = "scan/3"

// Defaults for Options.
const (
	DefaultTimeout     = 20 * time.Second
	DefaultMaxFindings = 50
	// DefaultUnitThreshold is the unit score that decides a verdict: the
	// lowest at which the shipped model's units added no false block on
	// the benign npm and PyPI corpora (bench/detection.sh; the model card
	// has the figures).
	DefaultUnitThreshold = 0.9997
	// DefaultParseInFlight bounds the source bytes being extracted at once
	// by all scans of a Scanner together. Parsing costs memory in proportion
	// to the source (tree-sitter's tree, its flattened copy: tens of bytes per
	// source byte), so this, not the number of scans, bounds the scanner's
	// peak memory. It fits one file of features' default 1 MiB parse cap
	// (or many small ones): with room for two, the parse trees of a cold
	// npm install added about 20 MB more to moat serve's peak RSS, for no
	// speed on the two cores measured.
	DefaultParseInFlight = 1 << 20
)

// Error kinds of a Report besides the archive.Kind* values.
const (
	KindTimeout  = "timeout"  // the per-scan timeout expired
	KindCanceled = "canceled" // the caller's context was cancelled
	KindIO       = "io"       // a folder could not be read
	KindInternal = "internal" // a bug: a panic or an unexpected stage error
	// KindUnanalysed: install-time code could not be parsed (its parse
	// timed out), so the scan cannot vouch for it; the report keeps its
	// events, with "install.unanalysed" on each such file.
	KindUnanalysed = "unanalysed"
)

// BatchScorer is implemented by classifiers that score many sequences at
// once. The scanner uses it to weigh findings by occlusion.
type BatchScorer interface {
	ScoreBatch(ctx context.Context, seqs [][]string) ([]float64, error)
}

// Options configure a Scanner. The zero value means the defaults.
type Options struct {
	// Limits bound archive reading (zero fields: archive.DefaultLimits()).
	Limits archive.Limits
	// Timeout bounds one scan (default 20 s).
	Timeout time.Duration
	// Parallel bounds concurrent Extract calls per scan (default GOMAXPROCS).
	Parallel int
	// Logger receives debug logs (default: discarded).
	Logger *slog.Logger
	// Sequence tunes the sequence builder.
	Sequence sequence.Options
	// Vocab is the classifier's vocabulary; its version is part of
	// Version (default sequence.DefaultVocab()).
	Vocab *sequence.Vocab
	// MaxFindings caps Report.Findings (default 50).
	MaxFindings int
	// ParseBudget caps the source bytes parsed per scan (default
	// DefaultParseBudget; negative: no cap). See budgetJobs for the order;
	// files left out are analysed lexically where the extractor can
	// (LexicalExtractor).
	ParseBudget int
	// ParseInFlight bounds the source bytes handed to Extract and not yet
	// done with, across all concurrent scans of this Scanner (default
	// DefaultParseInFlight; negative: no bound). A file larger than the
	// bound waits until it is alone.
	ParseInFlight int
	// MaxUnits caps the execution units scored apart from the whole
	// package (default sequence.DefaultMaxUnits; negative: none, the
	// package sequence alone decides).
	MaxUnits int
	// UnitThreshold is the score at and above which one unit decides the
	// verdict (default DefaultUnitThreshold; never below the classifier's
	// threshold).
	UnitThreshold float64
	// OnParse, if set, is called before each file's extraction with the
	// number of source bytes handed to the extractor; the function it
	// returns is called when that extraction is done. moat serve counts a
	// large parse's C memory against its Go memory limit with it
	// (internal/gctune).
	OnParse func(srcBytes int) (done func())
}

// LexicalExtractor is implemented by extractors that analyse every byte of a
// file but parse at most MaxFileParseBytes of it, at most MaxParseBytes at
// once, and analyse the rest lexically. The parse budget then counts no more
// than MaxFileParseBytes of a file, ParseInFlight no more than MaxParseBytes,
// and files the budget leaves out get ExtractLexical instead of nothing.
type LexicalExtractor interface {
	MaxParseBytes() int
	MaxFileParseBytes() int
	// ExtractLexical analyses a file without parsing it.
	ExtractLexical(ctx context.Context, path string, src []byte) (*sequence.FileEvents, error)
}

// Scanner turns artifacts into Reports. It is safe for concurrent use.
type Scanner struct {
	ex   Extractor
	cl   Classifier
	opts Options
	log  *slog.Logger
	ver  string

	lex      LexicalExtractor    // nil: the extractor has no lexical pass
	inFlight *semaphore.Weighted // source bytes in Extract; nil: unbounded
}

// New returns a Scanner that extracts with ex and classifies with cl.
func New(ex Extractor, cl Classifier, opts Options) *Scanner {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.GOMAXPROCS(0)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Vocab == nil {
		opts.Vocab = sequence.DefaultVocab()
	}
	if opts.MaxFindings <= 0 {
		opts.MaxFindings = DefaultMaxFindings
	}
	if opts.ParseBudget == 0 {
		opts.ParseBudget = DefaultParseBudget
	}
	if opts.UnitThreshold == 0 {
		opts.UnitThreshold = DefaultUnitThreshold
	}
	if opts.MaxUnits == 0 {
		opts.MaxUnits = sequence.DefaultMaxUnits
	}
	if opts.ParseInFlight == 0 {
		opts.ParseInFlight = DefaultParseInFlight
	}
	lex, _ := ex.(LexicalExtractor)
	var inFlight *semaphore.Weighted
	if opts.ParseInFlight > 0 {
		inFlight = semaphore.NewWeighted(int64(opts.ParseInFlight))
	}
	seq := opts.Sequence
	if seq.MaxTokens <= 0 {
		seq.MaxTokens = sequence.DefaultMaxTokens
	}
	if seq.MaxRepeat <= 0 {
		seq.MaxRepeat = sequence.DefaultMaxRepeat
	}
	opts.Sequence = seq
	return &Scanner{
		ex:   ex,
		cl:   cl,
		opts: opts,
		log:  opts.Logger,
		ver: fmt.Sprintf("%s+%s+budget/%d+seq/%dx%d+units/%d@%g+%s+%s+%s", version, ex.Version(), max(opts.ParseBudget, -1),
			seq.MaxTokens, seq.MaxRepeat, max(opts.MaxUnits, 0), opts.UnitThreshold, opts.Vocab.Version(), behaviour.Version, cl.Version()),
		lex:      lex,
		inFlight: inFlight,
	}
}

// Version identifies everything that shapes a Report: this package, the
// extractor, the sequence options, the vocabulary and the classifier. It
// is the report cache key next to the artifact's SHA-256 and changes when
// any of them changes.
func (s *Scanner) Version() string { return s.ver }

// Scan scans one artifact. It never returns nil and never panics: failures
// are reported with Verdict "error", Error and ErrorKind.
func (s *Scanner) Scan(ctx context.Context, in Input) *Report {
	r := s.newReport(in.Filename, in)
	if r.SHA256 == "" {
		sum := sha256.Sum256(in.Data)
		r.SHA256 = hex.EncodeToString(sum[:])
	}
	s.run(ctx, r, in, func() (*archive.Archive, error) {
		return archive.Read(in.Filename, in.Data, s.archiveOptions())
	})
	return r
}

// ScanDir scans a package folder (an unpacked npm package, a source tree).
// SHA256 stays empty: a folder has no artifact hash.
func (s *Scanner) ScanDir(ctx context.Context, dir string) *Report {
	return s.ScanDirInput(ctx, dir, Input{})
}

// ScanDirInput is ScanDir with what the caller already knows about the
// package: hints.Ecosystem, Name and Version are used as in Scan; its
// other fields are ignored.
func (s *Scanner) ScanDirInput(ctx context.Context, dir string, hints Input) *Report {
	in := Input{Filename: dir, Ecosystem: hints.Ecosystem, Name: hints.Name, Version: hints.Version}
	r := s.newReport(dir, in)
	s.run(ctx, r, in, func() (*archive.Archive, error) {
		return archive.ReadDir(dir, s.archiveOptions())
	})
	return r
}

// archiveOptions keeps whole files (up to Limits.MaxFileBytes): every byte
// of a source is analysed (see LexicalExtractor), so none is dropped here.
func (s *Scanner) archiveOptions() archive.Options {
	return archive.Options{Limits: s.opts.Limits, Want: archive.WantSource}
}

func (s *Scanner) newReport(p string, in Input) *Report {
	return &Report{
		Path:           p,
		Ecosystem:      in.Ecosystem,
		Name:           in.Name,
		Version:        in.Version,
		SHA256:         in.SHA256,
		Threshold:      s.cl.Threshold(),
		Findings:       []Finding{},
		Sequence:       []string{},
		ScannerVersion: s.ver,
		ModelVersion:   s.cl.Version(),
	}
}

// run executes the pipeline under the scan timeout, in its own goroutine so
// that a stage that overruns cannot hold the caller past the deadline, and
// with panics turned into "internal" errors.
func (s *Scanner) run(ctx context.Context, r *Report, in Input, read func() (*archive.Archive, error)) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()

	type result struct {
		res *Report
		err error
	}
	done := make(chan result, 1)
	res := *r // the goroutine works on a copy: r is only written below
	go func() {
		var out result
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("scan panic", "path", res.Path, "panic", p, "stack", string(debug.Stack()))
				out = result{err: &panicError{p}}
			}
			done <- out
		}()
		cpuclass.Do(ctx, func() { out.err = s.pipeline(ctx, &res, in, read) })
		out.res = &res
	}()

	var err error
	select {
	case out := <-done:
		if out.err == nil {
			*r = *out.res
		}
		err = out.err
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		s.fail(ctx, r, err)
	}
	r.DurationMS = time.Since(start).Milliseconds()
}

type panicError struct{ v any }

func (e *panicError) Error() string { return fmt.Sprintf("internal error: panic: %v", e.v) }

// fail records err on r with its kind.
func (s *Scanner) fail(ctx context.Context, r *Report, err error) {
	var ae *archive.Error
	var pe *panicError
	switch {
	case errors.As(err, &ae):
		r.ErrorKind = ae.Kind
	case errors.As(err, &pe):
		r.ErrorKind = KindInternal
	case errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.ErrorKind = KindTimeout
		err = fmt.Errorf("scan timed out after %s", s.opts.Timeout)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		r.ErrorKind = KindCanceled
	case errors.Is(err, errIO):
		r.ErrorKind = KindIO
	default:
		r.ErrorKind = KindInternal
	}
	r.Verdict = VerdictError
	r.Error = err.Error()
	r.Score, r.PackageScore = 0, 0
	r.Units, r.Rules, r.DecidedBy = nil, nil, ""
	r.Findings = []Finding{}
	s.log.Debug("scan failed", "path", r.Path, "kind", r.ErrorKind, "err", err)
}

// errIO marks folder read failures.
var errIO = errors.New("read failed")

func (s *Scanner) pipeline(ctx context.Context, r *Report, in Input, read func() (*archive.Archive, error)) error {
	a, err := read()
	if err != nil {
		var ae *archive.Error
		if !errors.As(err, &ae) {
			err = fmt.Errorf("%w: %w", errIO, err)
		}
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	in.Filename = r.Path
	p := newPlan(a, in)
	r.Ecosystem, r.Name, r.Version = p.eco, p.name, p.version

	files, unanalysed, err := s.extract(ctx, p)
	if err != nil {
		return err
	}
	seq := sequence.Build(p.pkg, files, s.opts.Sequence)
	r.Sequence = seq.Tokens
	r.Events = seq.Events
	if err := s.decide(ctx, r, p.pkg, files, seq); err != nil {
		return err
	}
	if len(unanalysed) > 0 && r.Verdict != VerdictMalicious {
		// Code that runs at install time and could not be parsed is never
		// taken as benign: the report is an error, which the policy's
		// on_scan_error decides on (block by default).
		r.Verdict = VerdictError
		r.ErrorKind = KindUnanalysed
		r.Error = "code that runs at install or import time could not be analysed: " + strings.Join(unanalysed, ", ")
		r.Score, r.PackageScore = 0, 0
		r.Units, r.Rules, r.DecidedBy = nil, nil, ""
		r.Findings = []Finding{}
	}
	return nil
}

// extract runs the plan's jobs on at most Parallel goroutines and
// assembles the FileEvents the sequence builder sees. unanalysed lists the
// install-time files whose parse timed out; each gets an
// "install.unanalysed" event.
func (s *Scanner) extract(ctx context.Context, p *plan) (files []*sequence.FileEvents, unanalysed []string, err error) {
	results := make([]*sequence.FileEvents, len(p.jobs))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, s.opts.Parallel)
	var wg sync.WaitGroup
	fileCap, window := 0, 0
	if s.lex != nil {
		fileCap, window = s.lex.MaxFileParseBytes(), s.lex.MaxParseBytes()
	}
	keep, skipped := budgetJobs(p, s.opts.ParseBudget, fileCap)
	for _, i := range skipped {
		if s.lex != nil {
			continue // analysed lexically below
		}
		results[i] = &sequence.FileEvents{Path: p.jobs[i].path, Events: []sequence.Event{skippedEvent(p.jobs[i].path)}, Truncated: true}
		p.jobs[i].src = nil // only the jobs being extracted hold source bytes from here on
	}
	for i, j := range p.jobs {
		if !keep[i] && s.lex == nil {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		p.jobs[i].src = nil // j holds it until its extraction is done
		wg.Add(1)
		go func() {
			var weight int64
			var parsed func() // OnParse's done
			defer func() {
				if parsed != nil {
					parsed()
				}
				if v := recover(); v != nil {
					s.log.Error("extract panic", "file", j.path, "panic", v, "stack", string(debug.Stack()))
					cancel(&panicError{v})
				}
				if weight > 0 {
					s.inFlight.Release(weight)
				}
				<-sem
				wg.Done()
			}()
			if !keep[i] {
				// Over the parse budget: the lexical pass holds no parse trees.
				var fe *sequence.FileEvents
				var err error
				cpuclass.Do(ctx, func() { fe, err = s.lex.ExtractLexical(ctx, j.path, j.src) })
				if err != nil {
					cancel(fmt.Errorf("extract %s: %w", j.path, err))
					return
				}
				results[i] = fe
				return
			}
			if s.inFlight != nil {
				w := min(int64(len(j.src)), int64(s.opts.ParseInFlight))
				if window > 0 {
					w = min(w, int64(window)) // parse trees of one window at a time
				}
				if err := s.inFlight.Acquire(ctx, w); err != nil {
					return // ctx is done: its cause is the scan's error
				}
				weight = w
			}
			if s.opts.OnParse != nil {
				parsed = s.opts.OnParse(len(j.src))
			}
			var fe *sequence.FileEvents
			var err error
			cpuclass.Do(ctx, func() { fe, err = s.ex.Extract(ctx, j.path, j.src) })
			if err != nil {
				cancel(fmt.Errorf("extract %s: %w", j.path, err))
				return
			}
			results[i] = fe
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}

	out := make([]*sequence.FileEvents, 0, len(p.files))
	for _, c := range p.files {
		fe := &sequence.FileEvents{Path: c.path, Imports: slices.Clone(c.imports)}
		for _, pt := range c.parts {
			fe.Events = append(fe.Events, pt.events...)
			if pt.job < 0 || results[pt.job] == nil {
				continue
			}
			res := results[pt.job]
			for _, e := range res.Events {
				if pt.line > 0 {
					e.File, e.Line = c.path, pt.line
				} else if e.File == "" || e.File == p.jobs[pt.job].path {
					e.File = c.path
				}
				fe.Events = append(fe.Events, e)
			}
			fe.Imports = append(fe.Imports, res.Imports...)
			fe.Truncated = fe.Truncated || res.Truncated
			fe.TimedOut = fe.TimedOut || res.TimedOut
		}
		out = append(out, fe)
	}
	// Install-time code that was not analysed whole (a parse that timed
	// out, or a file longer than the archive keeps) is never taken as
	// benign; nor is import-time code the archive cut short, whose tail
	// runs on the first require or import.
	var install, imported map[string]bool // computed on first need
	for _, fe := range out {
		cut := p.cut[fe.Path]
		if !fe.TimedOut && !cut {
			continue
		}
		if install == nil {
			install = sequence.Reached(p.pkg, out, p.pkg.Install)
			imported = sequence.Reached(p.pkg, out, p.pkg.Import)
		}
		path := sequence.CleanPath(fe.Path)
		why := "parse timed out"
		if cut {
			why = "over the archive's per-file limit: its tail was not read"
			if !fe.Truncated {
				fe.Truncated = true
				fe.Events = append(fe.Events, sequence.Event{Token: "file.truncated", File: fe.Path, Snippet: "file " + why})
			}
		}
		switch {
		case install[path]:
			fe.Events = append(fe.Events, sequence.Event{Token: "install.unanalysed", File: fe.Path,
				Snippet: "install-time code not analysed whole (" + why + ")"})
			unanalysed = append(unanalysed, fe.Path+" ("+why+")")
		case cut && imported[path]:
			unanalysed = append(unanalysed, fe.Path+" (import-time, "+why+")")
		}
	}
	return out, unanalysed, nil
}
