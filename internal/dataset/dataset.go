// Package dataset turns corpora of package archives into the JSONL training
// data of models/train: one Record per package with its behaviour sequence
// (from the scanner), label, source, first-seen date and archive format.
//
// Inputs are package archives, folders of them, .tar files whose entries are
// package archives (read as a stream, in memory: entries are never written to
// disk), and Debian .deb packages (their installed Python code, repacked in
// memory). Corpora are real malware: nothing here installs, imports,
// executes or unpacks anything to disk.
package dataset

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moatproject/moat/scan"
)

// Record is one line of the JSONL dataset (models/train reads it).
type Record struct {
	Ecosystem string   `json:"ecosystem"`
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Label     int      `json:"label"` // 1 malicious, 0 benign
	Source    string   `json:"source"`
	FirstSeen string   `json:"first_seen"`
	Tokens    []string `json:"tokens"`
	Format    string   `json:"format"` // sdist | wheel | npm | deb | src
	SHA256    string   `json:"sha256"`
	Path      string   `json:"path"` // where it came from (file, or container!entry)
	Campaign  string   `json:"campaign,omitempty"`
	Category  string   `json:"category,omitempty"`
	// The scan's decision, for measuring the scanner as shipped (the model
	// is retrained on Tokens alone).
	Verdict      string           `json:"verdict,omitempty"`
	Score        float64          `json:"score"`
	PackageScore float64          `json:"package_score"`
	DecidedBy    string           `json:"decided_by,omitempty"`
	Units        []scan.UnitScore `json:"units,omitempty"`
	Rules        []string         `json:"rules,omitempty"`
	ErrorKind    string           `json:"error_kind,omitempty"`
}

// Scanner is the part of *scan.Scanner the export needs.
type Scanner interface {
	Scan(ctx context.Context, in scan.Input) *scan.Report
}

// Label values for Options.Label.
const (
	LabelFromMeta  = -1 // take the label from the corpus list's note column
	LabelBenign    = 0
	LabelMalicious = 1
)

// Options configure Export.
type Options struct {
	Label int // LabelMalicious, LabelBenign, or LabelFromMeta
	// Source names the corpus in every Record; empty: the corpus list's
	// source column, else DefaultSource.
	Source, DefaultSource string
	Meta                  *MetaIndex
	// Ecosystem, when set, is the ecosystem of every package (else the
	// corpus list's, else what the scanner infers).
	Ecosystem scan.Ecosystem
	// Workers scanning in parallel (default 2).
	Workers int
	// MaxArchiveBytes skips larger archives (default 64 MiB).
	MaxArchiveBytes int64
	// Done, when set, lists archives (Record.Path) already exported: they
	// are neither scanned nor counted (see ReadDone, for resuming).
	Done map[string]bool
	// Progress, when set, receives a progress line now and then ("\r"-updated).
	Progress io.Writer
}

// Stats summarises an export.
type Stats struct {
	Archives int            // archives seen
	Written  int            // records written
	Skipped  map[string]int // archives not written, by reason
}

func (s *Stats) skip(reason string) {
	if s.Skipped == nil {
		s.Skipped = map[string]int{}
	}
	s.Skipped[reason]++
}

// item is one package archive to scan.
type item struct {
	path     string // display path: file, or container!entry
	key      string // lookup key for the corpus list
	filename string
	data     []byte
	err      error // set when the input could not be read
}

// Export scans every package archive under inputs and writes one JSON
// Record per line to w, in input order. Archives the scanner cannot read
// (or without a known label) are skipped and counted in Stats.
func Export(ctx context.Context, sc Scanner, inputs []string, w io.Writer, opts Options) (Stats, error) {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.MaxArchiveBytes <= 0 {
		opts.MaxArchiveBytes = 64 << 20
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type job struct {
		seq int
		it  item
	}
	type result struct {
		seq    int
		rec    *Record
		reason string // skip reason when rec is nil
	}
	jobs := make(chan job)
	results := make(chan result, opts.Workers)
	var st Stats
	var inputErr error

	go func() {
		defer close(jobs)
		seq := 0
		for it := range items(ctx, inputs, opts.MaxArchiveBytes) {
			if it.err != nil && it.path == "" { // the input itself failed
				inputErr = it.err
				return
			}
			if opts.Done[it.path] {
				continue
			}
			select {
			case jobs <- job{seq, it}:
				seq++
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() {
			for j := range jobs {
				rec, reason := record(ctx, sc, j.it, opts)
				select {
				case results <- result{j.seq, rec, reason}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	pending := map[int]result{}
	next := 0
	var writeErr error
	lastProgress := time.Time{}
	for r := range results {
		pending[r.seq] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			st.Archives++
			if r.rec == nil {
				st.skip(r.reason)
			} else if writeErr == nil {
				if writeErr = enc.Encode(r.rec); writeErr != nil {
					cancel()
				} else {
					st.Written++
				}
			}
		}
		if opts.Progress != nil && time.Since(lastProgress) > 200*time.Millisecond {
			lastProgress = time.Now()
			fmt.Fprintf(opts.Progress, "\rdataset: %d archives, %d written, %d skipped ", st.Archives, st.Written, st.Archives-st.Written)
		}
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "\rdataset: %d archives, %d written, %d skipped \n", st.Archives, st.Written, st.Archives-st.Written)
	}
	if writeErr != nil {
		return st, fmt.Errorf("write dataset: %w", writeErr)
	}
	if inputErr != nil {
		return st, inputErr
	}
	return st, ctx.Err()
}

// ReadDone returns the paths of the records in an existing dataset, to
// resume an export (Options.Done) after an interruption.
func ReadDone(r io.Reader) (map[string]bool, error) {
	done := map[string]bool{}
	dec := json.NewDecoder(r)
	for {
		var rec struct {
			Path string `json:"path"`
		}
		err := dec.Decode(&rec)
		if err == io.EOF {
			return done, nil
		}
		if err != nil {
			// A torn last line (the process was killed mid-write) ends it.
			return done, fmt.Errorf("read dataset: %w", err)
		}
		done[rec.Path] = true
	}
}

// record scans one archive; a nil Record comes with the reason it was skipped.
func record(ctx context.Context, sc Scanner, it item, opts Options) (*Record, string) {
	if it.err != nil {
		return nil, "read: " + errorKind(it.err)
	}
	meta, _ := opts.Meta.Lookup(it.key)
	label := opts.Label
	if label == LabelFromMeta {
		label = meta.label()
	}
	if label < 0 {
		return nil, "no label"
	}
	eco := firstNonEmpty(opts.Ecosystem, scan.Ecosystem(meta.Ecosystem))
	filename := it.filename
	format := ""
	data := it.data
	switch {
	case strings.HasSuffix(filename, ".deb"):
		b, err := debToTar(ctx, data, opts.MaxArchiveBytes)
		if err != nil {
			return nil, "deb: " + errorKind(err)
		}
		data, format, eco = b, "deb", scan.PyPI
		filename = strings.TrimSuffix(filename, ".deb") + ".tar"
	case meta.Container == "zip" && !strings.HasSuffix(filename, ".whl") && !strings.HasSuffix(filename, ".zip"):
		// The list says these bytes are a zip (often a wheel) under a tar name.
		filename = trimArchiveExt(filename) + ".zip"
	}
	sum := sha256.Sum256(it.data)
	rep := sc.Scan(ctx, scan.Input{Ecosystem: eco, Name: meta.Name, Version: meta.Version, Filename: filename, Data: data})
	if rep == nil {
		return nil, "scan: no report"
	}
	if rep.Verdict == scan.VerdictError || rep.Error != "" {
		kind := rep.ErrorKind
		if kind == "" {
			kind = "error"
		}
		return nil, "scan: " + kind
	}
	r := &Record{
		Ecosystem: string(firstNonEmpty(rep.Ecosystem, eco)),
		Name:      firstNonEmpty(meta.Name, rep.Name),
		Version:   firstNonEmpty(meta.Version, rep.Version),
		Label:     label,
		Source:    firstNonEmpty(opts.Source, meta.Source, opts.DefaultSource),
		FirstSeen: meta.FirstSeen,
		Tokens:    rep.Sequence,
		Format:    format,
		SHA256:    hex.EncodeToString(sum[:]),
		Path:      it.path,
		Campaign:  meta.Campaign,
		Category:  meta.Category,

		Verdict:      rep.Verdict,
		Score:        rep.Score,
		PackageScore: rep.PackageScore,
		DecidedBy:    rep.DecidedBy,
		Units:        rep.Units,
		ErrorKind:    rep.ErrorKind,
	}
	for _, h := range rep.Rules {
		r.Rules = append(r.Rules, h.Rule+"@"+h.File)
	}
	if r.Tokens == nil {
		r.Tokens = []string{}
	}
	if r.Name == "" {
		r.Name, r.Version = nameFromFilename(it.filename)
	}
	if r.Format == "" {
		r.Format = formatOf(r.Ecosystem, filename, meta)
	}
	return r, ""
}

func firstNonEmpty[T ~string](a ...T) T {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

func errorKind(err error) string {
	switch {
	case errors.Is(err, ErrDeb):
		return "deb"
	case errors.Is(err, errTooLarge):
		return "too_large"
	}
	return "io"
}

// formatOf classifies an archive for the format-leak guard of models/train.
func formatOf(eco, filename string, meta Meta) string {
	switch {
	case eco == string(scan.NPM):
		return "npm"
	case strings.Contains(meta.Kind, "source snapshot"):
		return "src"
	case strings.HasSuffix(filename, ".whl") || (strings.HasSuffix(filename, ".zip") && meta.Container == "zip"):
		return "wheel"
	}
	return "sdist"
}

var archiveExts = []string{".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip", ".whl", ".deb", ".egg"}

func isArchive(name string) bool {
	for _, e := range archiveExts {
		if strings.HasSuffix(strings.ToLower(name), e) {
			return true
		}
	}
	return false
}

func trimArchiveExt(name string) string {
	for _, e := range archiveExts {
		if strings.HasSuffix(strings.ToLower(name), e) {
			return name[:len(name)-len(e)]
		}
	}
	return name
}

// nameFromFilename guesses name and version from "name-1.2.3.tgz" style names.
func nameFromFilename(filename string) (string, string) {
	base := trimArchiveExt(path.Base(filename))
	if strings.HasSuffix(filename, ".deb") { // python3-foo_1.2-3_all.deb
		parts := strings.Split(base, "_")
		name := strings.TrimPrefix(parts[0], "python3-")
		if len(parts) < 2 {
			return name, ""
		}
		v := parts[1]
		if i := strings.LastIndexByte(v, '-'); i > 0 { // Debian revision
			v = v[:i]
		}
		if i := strings.IndexByte(v, ':'); i >= 0 { // epoch
			v = v[i+1:]
		}
		return name, v
	}
	if strings.HasSuffix(filename, ".whl") {
		parts := strings.SplitN(base, "-", 3)
		if len(parts) >= 2 {
			return parts[0], parts[1]
		}
	}
	if i := strings.LastIndexByte(base, '-'); i > 0 {
		return base[:i], base[i+1:]
	}
	return base, ""
}

var errTooLarge = errors.New("archive too large")

// items yields every package archive under inputs, in a stable order. An
// item with an empty path and an error means an input could not be read at
// all; per-archive read errors come with the archive's path.
func items(ctx context.Context, inputs []string, maxBytes int64) iter.Seq[item] {
	return func(yield func(item) bool) {
		for _, in := range inputs {
			if ctx.Err() != nil {
				return
			}
			fi, err := os.Stat(in)
			if err != nil {
				yield(item{err: fmt.Errorf("input: %w", err)})
				return
			}
			if fi.IsDir() {
				if !walkDir(ctx, in, maxBytes, yield) {
					return
				}
				continue
			}
			if !fileItems(in, filepath.Base(in), maxBytes, yield) {
				return
			}
		}
	}
}

func walkDir(ctx context.Context, root string, maxBytes int64, yield func(item) bool) bool {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && isArchive(d.Name()) {
			files = append(files, p)
		}
		return ctx.Err()
	})
	if err != nil {
		return yield(item{err: fmt.Errorf("input: %w", err)})
	}
	slices.Sort(files)
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		if !fileItems(f, filepath.ToSlash(rel), maxBytes, yield) {
			return false
		}
	}
	return true
}

// fileItems yields one archive file, or the entries of a .tar of archives.
func fileItems(file, key string, maxBytes int64, yield func(item) bool) bool {
	if strings.HasSuffix(strings.ToLower(file), ".tar") {
		if ok, cont := tarOfArchives(file, maxBytes, yield); ok {
			return cont
		}
	}
	data, err := readFile(file, maxBytes)
	return yield(item{path: file, key: key, filename: filepath.Base(file), data: data, err: err})
}

func readFile(file string, maxBytes int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, maxBytes)
}

func readLimited(r io.Reader, maxBytes int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("%w: over %d bytes", errTooLarge, maxBytes)
	}
	return b, nil
}

// tarOfArchives streams a .tar whose entries are package archives. ok is
// false when the tar is not one (its first file is not an archive), and the
// caller treats it as a package itself; cont is false when yield said stop.
func tarOfArchives(file string, maxBytes int64, yield func(item) bool) (ok, cont bool) {
	f, err := os.Open(file)
	if err != nil {
		return true, yield(item{err: fmt.Errorf("input: %w", err)})
	}
	defer f.Close()
	tr := tar.NewReader(f)
	first := true
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return !first, true
		}
		if err != nil {
			if first {
				return false, true
			}
			return true, yield(item{err: fmt.Errorf("%s: %w", file, err)})
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if first && !isArchive(h.Name) {
			return false, true
		}
		first = false
		if !isArchive(h.Name) {
			continue
		}
		name := strings.TrimPrefix(h.Name, "./")
		var data []byte
		var rerr error
		if h.Size > maxBytes {
			rerr = fmt.Errorf("%w: %d bytes", errTooLarge, h.Size)
		} else {
			data, rerr = readLimited(tr, maxBytes)
		}
		if !yield(item{path: file + "!" + name, key: name, filename: path.Base(name), data: data, err: rerr}) {
			return true, false
		}
	}
}
