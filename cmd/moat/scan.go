package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/moatproject/moat/internal/config"
	"github.com/moatproject/moat/scan"
)

const scanUsage = `usage: moat scan [--json] [--explain] [--ecosystem npm|pypi] [--config FILE] PATH...

Scans package archives (.tgz .tar.gz .tar.bz2 .zip .whl) or package folders
statically - nothing is installed or run - and prints one verdict per input.
The ecosystem is inferred from the contents (package.json, PKG-INFO,
setup.py, pyproject.toml, *.py) unless --ecosystem is given.

Output: a table by default; --json prints one JSON report per input per
line (the scan.Report shape); --explain adds each input's behaviour
sequence, phase by phase, with file:line and a snippet for every event
(and, with --json, the "events" field).

Exit status: 1 if any input is judged malicious (this wins over errors, so
"flagged" is never hidden by another input's failure); otherwise 2 if any
input could not be scanned or on a usage error; 0 when every input is clean.

Flags:
`

// maxInputBytes bounds an archive read from disk (the archive limits bound
// what it may expand to).
const maxInputBytes = 1 << 30

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("moat scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, scanUsage)
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "print one JSON report per input per line")
	explain := fs.Bool("explain", false, "print each input's behaviour sequence with locations")
	eco := fs.String("ecosystem", "", "treat inputs as `npm|pypi` packages (default: infer)")
	cfgPath := fs.String("config", "", "YAML config `file` (scan section: timeout, classifier, model)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError
	}
	var ecosystem scan.Ecosystem
	switch *eco {
	case "":
	case "npm", "pypi":
		ecosystem = scan.Ecosystem(*eco)
	default:
		fmt.Fprintf(stderr, "moat scan: --ecosystem must be npm or pypi, not %q\n", *eco)
		return exitError
	}
	cfg, err := config.Load(*cfgPath, os.Environ())
	if err != nil {
		fmt.Fprintln(stderr, "moat scan:", err)
		return exitError
	}
	scanner, closeScanner, err := buildScanner(scannerOptionsFrom(cfg, slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Fprintln(stderr, "moat scan:", err)
		return exitError
	}
	defer closeScanner()

	paths := fs.Args()
	reports := scanAll(ctx, scanner, paths, ecosystem, progressWriter(stderr, len(paths)))

	code := exitOK
	for _, r := range reports {
		switch {
		case r.Flagged():
			code = exitFlagged
		case r.Verdict == scan.VerdictError && code == exitOK:
			code = exitError
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range reports {
			if !*explain {
				r.Events = nil
			}
			if err := enc.Encode(r); err != nil {
				fmt.Fprintln(stderr, "moat scan:", err)
				return exitError
			}
		}
		return code
	}
	printTable(stdout, reports)
	if *explain {
		for _, r := range reports {
			fmt.Fprintln(stdout)
			printExplain(stdout, r)
		}
	}
	return code
}

// scanAll scans the inputs on a few workers and returns the reports in
// input order.
func scanAll(ctx context.Context, s *scan.Scanner, paths []string, eco scan.Ecosystem, progress io.Writer) []*scan.Report {
	reports := make([]*scan.Report, len(paths))
	next := make(chan int)
	done := make(chan struct{}, len(paths))
	workers := min(max(runtime.GOMAXPROCS(0)/2, 1), len(paths))
	for range workers {
		go func() {
			for i := range next {
				reports[i] = scanPath(ctx, s, paths[i], eco)
				done <- struct{}{}
			}
		}()
	}
	go func() {
		for i := range paths {
			next <- i
		}
		close(next)
	}()
	for n := 1; n <= len(paths); n++ {
		<-done
		if progress != nil {
			fmt.Fprintf(progress, "\rmoat scan: %d/%d", n, len(paths))
		}
	}
	if progress != nil {
		fmt.Fprint(progress, "\r\033[K")
	}
	return reports
}

// scanPath scans one file or folder; Report.Path is the path as given.
func scanPath(ctx context.Context, s *scan.Scanner, p string, eco scan.Ecosystem) *scan.Report {
	var r *scan.Report
	fi, err := os.Stat(p)
	switch {
	case err == nil && fi.IsDir():
		r = s.ScanDirInput(ctx, p, scan.Input{Ecosystem: eco})
	case err == nil:
		var data []byte
		data, err = readFileLimited(p, maxInputBytes)
		if err == nil {
			r = s.Scan(ctx, scan.Input{Ecosystem: eco, Filename: p, Data: data})
		}
	}
	if err != nil {
		// Let the scanner build a well-formed error report for unreadable paths.
		r = s.ScanDirInput(ctx, p, scan.Input{Ecosystem: eco})
		r.Error = err.Error()
	}
	r.Path = p
	return r
}

func readFileLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, limit)
	}
	return data, nil
}

// progressWriter returns stderr for progress lines when it is a terminal
// and there are enough inputs to be worth it, else nil.
func progressWriter(stderr io.Writer, n int) io.Writer {
	f, ok := stderr.(*os.File)
	if !ok || n < 4 {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return stderr
}

// topFindings is how many findings a table row shows.
const topFindings = 3

func printTable(w io.Writer, reports []*scan.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tVERDICT\tSCORE/THRESHOLD\tTOP FINDINGS")
	for _, r := range reports {
		score := fmt.Sprintf("%.3f/%.2f", r.Score, r.Threshold)
		var detail string
		if r.Verdict == scan.VerdictError {
			score = "-"
			detail = oneLine(r.ErrorKind + ": " + r.Error)
		} else {
			var parts []string
			for _, f := range r.Findings[:min(topFindings, len(r.Findings))] {
				parts = append(parts, fmt.Sprintf("%s %s", f.Feature, location(f.File, f.Line)))
			}
			if extra := len(r.Findings) - topFindings; extra > 0 {
				parts = append(parts, fmt.Sprintf("(+%d)", extra))
			}
			detail = strings.Join(parts, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", oneLine(r.Path), r.Verdict, score, detail)
	}
	tw.Flush()
}

// printExplain prints a report's sequence, phase by phase.
func printExplain(w io.Writer, r *scan.Report) {
	fmt.Fprintf(w, "%s: %s", oneLine(r.Path), r.Verdict)
	if r.Verdict == scan.VerdictError {
		fmt.Fprintf(w, " (%s: %s)\n", r.ErrorKind, oneLine(r.Error))
		return
	}
	fmt.Fprintf(w, " (score %.3f, threshold %.2f; %s %s@%s)\n", r.Score, r.Threshold, r.Ecosystem, r.Name, r.Version)
	if len(r.Events) == 0 {
		fmt.Fprintln(w, "  (no behaviour events)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range r.Events {
		if e.File == "" {
			tw.Flush()
			fmt.Fprintf(w, "  %s\n", e.Token)
			continue
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", e.Token, location(e.File, e.Line), oneLine(e.Snippet))
	}
	tw.Flush()
	if len(r.Findings) > 0 {
		fmt.Fprintln(w, "  findings:")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "    %s\t%s\tweight %.3f\n", f.Feature, location(f.File, f.Line), f.Weight)
		}
		tw.Flush()
	}
}

func location(file string, line int) string {
	if line <= 0 {
		return oneLine(file)
	}
	return fmt.Sprintf("%s:%d", oneLine(file), line)
}

// oneLine keeps hostile names and snippets on one terminal line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
