//go:build cgo

package scan_test

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moatproject/moat/scan"
)

var (
	corpusFull    = flag.Bool("corpus.full", false, "TestCorpus: scan every member instead of a sample")
	corpusSample  = flag.Int("corpus.sample", 400, "TestCorpus: members sampled per source")
	corpusTimeout = flag.Duration("corpus.timeout", 10*time.Second, "TestCorpus: per-archive scan timeout")
)

// sharedData is ../shared/data seen from the module root, unless
// MOAT_SHARED_DATA says otherwise.
func sharedData() string {
	if d := os.Getenv("MOAT_SHARED_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data")
}

func dataCache() string {
	if d := os.Getenv("MOAT_DATA_CACHE"); d != "" {
		return d
	}
	h, _ := os.UserHomeDir()
	return filepath.Join(h, ".cache", "moat-data")
}

// corpusItem is one artifact to scan, loaded lazily.
type corpusItem struct {
	name string
	load func() ([]byte, error)
}

// corpusSource is a labelled collection of artifacts, walked in order.
type corpusSource struct {
	name, label string
	walk        func(sample func(name string) bool, visit func(corpusItem) error) error
	count       func() (int, error)
}

// outerTar reads the members of a tar of archives one by one, in memory:
// the outer tar is never extracted to disk (its members may be real
// malware and are only ever handed to the scanner as bytes).
func outerTar(name, label, p string) corpusSource {
	members := func(f func(h *tar.Header, tr *tar.Reader) error) error {
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		tr := tar.NewReader(bufio.NewReaderSize(fh, 1<<20))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if h.Typeflag != tar.TypeReg {
				continue
			}
			if err := f(h, tr); err != nil {
				return err
			}
		}
	}
	return corpusSource{
		name: name, label: label,
		count: func() (int, error) {
			n := 0
			err := members(func(*tar.Header, *tar.Reader) error { n++; return nil })
			return n, err
		},
		walk: func(sample func(string) bool, visit func(corpusItem) error) error {
			return members(func(h *tar.Header, tr *tar.Reader) error {
				if !sample(h.Name) || h.Size > 64<<20 {
					return nil
				}
				data, err := io.ReadAll(tr)
				if err != nil {
					return err
				}
				return visit(corpusItem{name: h.Name, load: func() ([]byte, error) { return data, nil }})
			})
		},
	}
}

// fileGlob lists benign artifacts stored as plain files.
func fileGlob(name, label, pattern string) corpusSource {
	files, _ := filepath.Glob(pattern)
	return corpusSource{
		name: name, label: label,
		count: func() (int, error) { return len(files), nil },
		walk: func(sample func(string) bool, visit func(corpusItem) error) error {
			for _, f := range files {
				if sample(f) {
					if err := visit(corpusItem{name: f, load: func() ([]byte, error) { return os.ReadFile(f) }}); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

func corpusSources() []corpusSource {
	d := sharedData()
	var srcs []corpusSource
	add := func(s corpusSource, p string) {
		if _, err := os.Stat(p); err == nil {
			srcs = append(srcs, s)
		}
	}
	add(outerTar("malicious/pypi-train", "malicious", filepath.Join(d, "malicious", "pypi-train.tar")), filepath.Join(d, "malicious", "pypi-train.tar"))
	add(outerTar("malicious/npm-snippets", "mixed", filepath.Join(d, "malicious", "npm-snippets.tar")), filepath.Join(d, "malicious", "npm-snippets.tar"))
	benign, _ := filepath.Glob(filepath.Join(d, "benign", "*.tar"))
	for _, p := range benign {
		add(outerTar("benign/"+strings.TrimSuffix(filepath.Base(p), ".tar"), "benign", p), p)
	}
	npm := filepath.Join(dataCache(), "npm")
	add(fileGlob("benign/npm-cache", "benign", filepath.Join(npm, "*.tgz")), npm)
	return srcs
}

// corpusStats counts one source's outcomes.
type corpusStats struct {
	n        int
	verdicts map[string]int
	errors   map[string]int
	slowest  time.Duration
	slowName string
	failures []string // crashes and hangs
}

// TestCorpus scans the research corpora (MOAT_CORPUS=1; see
// scripts/scan-corpus.sh): every member of the malicious PyPI tar and the
// benign collections, or a deterministic sample of each (-corpus.sample,
// -corpus.full). It reports verdict counts and error kinds per source and
// fails on any crash (an "internal" error) or hang (a scan that outlives
// its timeout).
func TestCorpus(t *testing.T) {
	if os.Getenv("MOAT_CORPUS") != "1" {
		t.Skip("set MOAT_CORPUS=1 to scan the research corpora")
	}
	srcs := corpusSources()
	if len(srcs) == 0 {
		t.Skip("no corpus found under " + sharedData())
	}
	s := newRealScannerWith(t, scan.Options{Timeout: *corpusTimeout})
	for _, src := range srcs {
		total, err := src.count()
		if err != nil {
			t.Errorf("%s: %v", src.name, err)
			continue
		}
		sample := func(string) bool { return true }
		if !*corpusFull && total > *corpusSample {
			// Deterministic sample by name hash.
			sample = func(name string) bool {
				h := fnv.New32a()
				h.Write([]byte(name))
				return int(h.Sum32()%uint32(total)) < *corpusSample
			}
		}
		st := scanSource(t, s, src, sample)
		detected := ""
		if src.label != "mixed" {
			flagged := st.verdicts[scan.VerdictMalicious]
			detected = fmt.Sprintf(" flagged %.1f%%", 100*float64(flagged)/float64(max(st.n, 1)))
		}
		t.Logf("%-28s %-9s %5d/%5d scanned:%s verdicts %v errors %v slowest %s (%s)",
			src.name, src.label, st.n, total, detected, st.verdicts, st.errors, st.slowest.Round(time.Millisecond), st.slowName)
		for _, f := range st.failures {
			t.Errorf("%s: %s", src.name, f)
		}
	}
}

func scanSource(t *testing.T, s *scan.Scanner, src corpusSource, sample func(string) bool) corpusStats {
	st := corpusStats{verdicts: map[string]int{}, errors: map[string]int{}}
	var mu sync.Mutex
	work := make(chan corpusItem)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				data, err := it.load()
				if err != nil {
					mu.Lock()
					st.failures = append(st.failures, fmt.Sprintf("%s: %v", it.name, err))
					mu.Unlock()
					continue
				}
				done := make(chan *scan.Report, 1)
				start := time.Now()
				go func() { done <- s.Scan(context.Background(), scan.Input{Filename: filepath.Base(it.name), Data: data}) }()
				var r *scan.Report
				select {
				case r = <-done:
				case <-time.After(*corpusTimeout + 10*time.Second):
				}
				d := time.Since(start)
				mu.Lock()
				st.n++
				switch {
				case r == nil:
					st.failures = append(st.failures, fmt.Sprintf("%s: hang (no report after %s)", it.name, d))
				case r.ErrorKind == scan.KindInternal:
					st.failures = append(st.failures, fmt.Sprintf("%s: crash: %s", it.name, r.Error))
				}
				if r != nil {
					st.verdicts[r.Verdict]++
					if r.ErrorKind != "" {
						st.errors[r.ErrorKind]++
					}
				}
				if d > st.slowest {
					st.slowest, st.slowName = d, filepath.Base(it.name)
				}
				mu.Unlock()
			}
		}()
	}
	err := src.walk(sample, func(it corpusItem) error { work <- it; return nil })
	close(work)
	wg.Wait()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		st.failures = append(st.failures, fmt.Sprintf("reading the corpus: %v", err))
	}
	return st
}

// BenchmarkScanNPMCorpus scans the benign npm corpus
// (${MOAT_DATA_CACHE:-~/.cache/moat-data}/npm/*.tgz) one package at a time
// and reports the median and p99 latency per package and the peak RSS.
// MOAT_BENCH_SAMPLE=N limits it to the first N packages; MOAT_BENCH_GLOB
// scans the archives that glob names instead (to profile a few slow ones
// with -cpuprofile). Run with -benchtime=1x.
func BenchmarkScanNPMCorpus(b *testing.B) {
	pattern := filepath.Join(dataCache(), "npm", "*.tgz")
	if g := os.Getenv("MOAT_BENCH_GLOB"); g != "" {
		pattern = g
	}
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		b.Skip("no npm corpus; run ../shared/data/fetch-benign.sh")
	}
	if n := envInt("MOAT_BENCH_SAMPLE"); n > 0 && n < len(files) {
		files = files[:n]
	}
	s := newRealScannerWith(b, scan.Options{})
	var lat []time.Duration
	verdicts := map[string]int{}
	b.ResetTimer()
	for range b.N {
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			r := s.Scan(context.Background(), scan.Input{Filename: filepath.Base(f), Data: data})
			lat = append(lat, time.Since(start))
			verdicts[r.Verdict]++
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 {
		return float64(lat[min(int(q*float64(len(lat))), len(lat)-1)]) / 1e6
	}
	b.ReportMetric(ms(0.5), "median-ms/pkg")
	b.ReportMetric(ms(0.99), "p99-ms/pkg")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(0, "ns/op")
	keys := slices.Sorted(maps.Keys(verdicts))
	b.Logf("%d packages, verdicts %v (%v)", len(lat), verdicts, keys)
}

func envInt(k string) int {
	var n int
	fmt.Sscan(os.Getenv(k), &n)
	return n
}

// peakRSS reads VmHWM from /proc (Linux); 0 elsewhere.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}
