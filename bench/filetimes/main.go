// Command filetimes times moat's feature extraction file by file, to find
// the files that make a package slow to scan:
//
//	go run ./bench/filetimes [-n 10] [-rounds 3] [-parse-timeout 2s] PACKAGE.tgz...
//
// Each archive is read the way the scanner reads it (scan/archive with
// archive.WantSource); each kept file goes through scan/features' Extract
// (tree-sitter parse and walk, default head cap and parse timeout) -rounds
// times, and the -n files with the highest median CPU time are printed with
// their size, event count and median wall time. CPU time is the calling
// thread's (the goroutine is locked to it, and the cgo parse runs on it), so
// it stays meaningful on a loaded machine where wall times are not. Sequencing and the model are not timed here;
// `moat scan --json` gives the whole scan's duration_ms.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/moatproject/moat/scan/archive"
	"github.com/moatproject/moat/scan/features"
)

type fileTime struct {
	path   string
	bytes  int
	events int
	median time.Duration // wall
	cpu    time.Duration // median CPU time of the thread
}

// threadCPU is the CPU time (user + system) the calling OS thread has used.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD (Linux)
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	n := flag.Int("n", 10, "print the `N` slowest files of each archive")
	rounds := flag.Int("rounds", 3, "time each file `R` times and keep the median")
	cpuProfile := flag.String("cpuprofile", "", "write a Go CPU profile to `FILE` (cgo time shows as runtime.cgocall)")
	parseTimeout := flag.Duration("parse-timeout", 0, "tree-sitter parse budget per file (default: the scanner's); raise it on a loaded machine so a file is timed whole")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: filetimes [-n N] [-rounds R] ARCHIVE...")
		os.Exit(2)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "filetimes:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	runtime.LockOSThread()
	ex := features.New(features.Options{ParseTimeout: *parseTimeout})
	defer ex.Close()
	ctx := context.Background()
	failed := false
	for _, p := range flag.Args() {
		if err := one(ctx, ex, p, *n, max(*rounds, 1)); err != nil {
			fmt.Fprintf(os.Stderr, "filetimes: %s: %v\n", p, err)
			failed = true
		}
	}
	if failed {
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func one(ctx context.Context, ex *features.Extractor, p string, n, rounds int) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	a, err := archive.Read(p, data, archive.Options{Want: archive.WantSource})
	if err != nil {
		return fmt.Errorf("read archive: %w", err)
	}
	var times []fileTime
	var total time.Duration
	for _, f := range a.Files {
		if f.Data == nil {
			continue
		}
		ds := make([]time.Duration, rounds)
		cs := make([]time.Duration, rounds)
		events := 0
		for i := range ds {
			t0, c0 := time.Now(), threadCPU()
			fe, err := ex.Extract(ctx, f.Path, f.Data)
			ds[i], cs[i] = time.Since(t0), threadCPU()-c0
			if err != nil {
				return fmt.Errorf("extract %s: %w", f.Path, err)
			}
			events = len(fe.Events)
		}
		slices.Sort(ds)
		slices.Sort(cs)
		times = append(times, fileTime{f.Path, len(f.Data), events, ds[len(ds)/2], cs[len(cs)/2]})
		total += cs[len(cs)/2]
	}
	slices.SortFunc(times, func(a, b fileTime) int { return int(b.cpu - a.cpu) })
	fmt.Printf("%s: %d files kept, extraction %.0f ms CPU in all (median of %d per file)\n", p, len(times), ms(total), rounds)
	for _, t := range times[:min(n, len(times))] {
		fmt.Printf("  cpu %8.1f ms  wall %8.1f ms  %8d bytes  %5d events  %s\n", ms(t.cpu), ms(t.median), t.bytes, t.events, t.path)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
