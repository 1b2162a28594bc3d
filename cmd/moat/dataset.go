package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/moatproject/moat/internal/dataset"
	"github.com/moatproject/moat/scan"
)

// tsvFlag collects the repeatable --tsv flag of moat dataset.
type tsvFlag []string

func (s *tsvFlag) String() string     { return strings.Join(*s, ",") }
func (s *tsvFlag) Set(v string) error { *s = append(*s, v); return nil }

// runDataset implements `moat dataset`: scan corpora of package archives
// into the JSONL training data of models/train.
func runDataset(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dataset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write the JSONL dataset to `FILE` (required; - for stdout)")
	label := fs.String("label", "", "label every package `malicious|benign` (default: from the --tsv note column)")
	source := fs.String("source", "", "source `NAME` recorded in every record (default: the --tsv source column, else the first input's name)")
	ecosystem := fs.String("ecosystem", "", "ecosystem `npm|pypi` of every package (default: the --tsv ecosystem column, else inferred)")
	workers := fs.Int("workers", 2, "archives scanned in parallel")
	timeout := fs.Duration("timeout", 2*time.Minute, "scan budget per archive (datasets favour completeness over latency)")
	classifier := fs.String("classifier", "rules", "rules|model: the classifier whose scores the records carry (training reads only the tokens; model: to measure the scanner as shipped)")
	resume := fs.Bool("resume", false, "append to --out, skipping the archives it already holds (after an interrupted run)")
	var tsvs tsvFlag
	fs.Var(&tsvs, "tsv", "corpus list `META.tsv` (relative_path, package, version, date_added, ...); repeatable")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: moat dataset --out FILE.jsonl [--label malicious|benign] [--source NAME] [--tsv META.tsv] [--ecosystem npm|pypi] [--resume] INPUT...

INPUT is a package archive, a folder of archives, a .tar whose entries are
archives (read in memory, never unpacked), or a Debian .deb. Each is scanned
and written as one JSON object per line: ecosystem, name, version, label,
source, first_seen, tokens, format. See models/train.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitError
	}
	if *out == "" || fs.NArg() == 0 {
		fs.Usage()
		return exitError
	}
	opts := dataset.Options{Source: *source, Workers: *workers, Ecosystem: scan.Ecosystem(*ecosystem)}
	if *ecosystem != "" && opts.Ecosystem != scan.NPM && opts.Ecosystem != scan.PyPI {
		fmt.Fprintf(stderr, "moat dataset: --ecosystem must be npm or pypi, not %q\n", *ecosystem)
		return exitError
	}
	switch *label {
	case "malicious":
		opts.Label = dataset.LabelMalicious
	case "benign":
		opts.Label = dataset.LabelBenign
	case "":
		opts.Label = dataset.LabelFromMeta
	default:
		fmt.Fprintf(stderr, "moat dataset: --label must be malicious or benign, not %q\n", *label)
		return exitError
	}
	if opts.Label == dataset.LabelFromMeta && len(tsvs) == 0 {
		fmt.Fprintln(stderr, "moat dataset: give --label, or a --tsv list whose note column labels each row")
		return exitError
	}
	for _, p := range tsvs {
		f, err := os.Open(p)
		if err != nil {
			fmt.Fprintf(stderr, "moat dataset: %v\n", err)
			return exitError
		}
		opts.Meta, err = dataset.ReadMeta(f, opts.Meta)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "moat dataset: %s: %v\n", p, err)
			return exitError
		}
	}
	opts.DefaultSource = strings.TrimSuffix(filepath.Base(fs.Arg(0)), filepath.Ext(fs.Arg(0)))
	if datasetIsTerminal(stderr) {
		opts.Progress = stderr
	}

	// Training needs only the sequence, so by default the light rule layer
	// stands in for the classifier (no model, no ONNX Runtime); --classifier
	// model records the shipped scanner's scores for measuring it.
	scanner, closeScanner, err := buildScanner(scannerOptions{Timeout: *timeout, Classifier: *classifier})
	if err != nil {
		fmt.Fprintf(stderr, "moat dataset: %v\n", err)
		return exitError
	}
	defer closeScanner()

	var w io.Writer
	var commit func(bool) error
	if *resume && *out != "-" {
		w, commit, opts.Done, err = resumeDatasetOutput(*out)
		if len(opts.Done) > 0 {
			fmt.Fprintf(stderr, "moat dataset: resuming after %d records in %s\n", len(opts.Done), *out)
		}
	} else {
		w, commit, err = createDatasetOutput(*out, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "moat dataset: %v\n", err)
		return exitError
	}
	st, err := dataset.Export(ctx, scanner, fs.Args(), w, opts)
	if cerr := commit(err == nil); err == nil {
		err = cerr
	}
	reasons := make([]string, 0, len(st.Skipped))
	for r, n := range st.Skipped {
		reasons = append(reasons, fmt.Sprintf("%s: %d", r, n))
	}
	slices.Sort(reasons)
	fmt.Fprintf(stderr, "moat dataset: %d archives, %d records written to %s", st.Archives, st.Written, *out)
	if len(reasons) > 0 {
		fmt.Fprintf(stderr, "; skipped %s", strings.Join(reasons, ", "))
	}
	fmt.Fprintln(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "moat dataset: %v\n", err)
		return exitError
	}
	return exitOK
}

// createDatasetOutput opens the dataset file. It is written under a temporary name
// and renamed into place only on success, so a failed run leaves no
// half-written dataset behind.
func createDatasetOutput(name string, stdout io.Writer) (io.Writer, func(ok bool) error, error) {
	if name == "-" {
		return stdout, func(bool) error { return nil }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return nil, nil, err
	}
	return f, func(ok bool) error {
		cerr := f.Close()
		if !ok || cerr != nil {
			os.Remove(f.Name())
			return cerr
		}
		if err := os.Rename(f.Name(), name); err != nil {
			os.Remove(f.Name())
			return err
		}
		return nil
	}, nil
}

// resumeDatasetOutput opens an existing dataset for appending: a torn last
// line (from a killed run) is cut off, and the archives already exported are
// returned so they are not scanned again. A missing file starts afresh.
func resumeDatasetOutput(name string) (io.Writer, func(ok bool) error, map[string]bool, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	keep := bytes.LastIndexByte(b, '\n') + 1
	done, err := dataset.ReadDone(bytes.NewReader(b[:keep]))
	if err == nil {
		err = f.Truncate(int64(keep))
	}
	if err == nil {
		_, err = f.Seek(int64(keep), io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("resume %s: %w", name, err)
	}
	return f, func(bool) error { return f.Close() }, done, nil
}

// datasetIsTerminal reports whether w is a terminal (for progress lines).
func datasetIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
