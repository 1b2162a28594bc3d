// Command loadclient is the HTTP load generator of bench/throughput.sh: it
// requests a list of paths from one server with a fixed number of
// concurrent keep-alive clients for a fixed time, checks every response
// (200, the same length each time for a path), and prints one JSON line
// with requests/s, throughput, latency percentiles and the error count.
//
//	loadclient -base http://127.0.0.1:7878 -paths urls.txt -c 64 -d 10s
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// result is the JSON line loadclient prints.
type result struct {
	Base        string  `json:"base"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	Requests    int     `json:"requests"`
	Errors      int64   `json:"errors"`
	RPS         float64 `json:"rps"`
	MBPerSec    float64 `json:"mb_per_s"`
	P50MS       float64 `json:"p50_ms"`
	P90MS       float64 `json:"p90_ms"`
	P99MS       float64 `json:"p99_ms"`
	MaxMS       float64 `json:"max_ms"`
	FirstError  string  `json:"first_error,omitempty"`
}

func main() {
	base := flag.String("base", "", "server root `URL`, e.g. http://127.0.0.1:7878")
	pathsFile := flag.String("paths", "", "`file` of request paths, one per line")
	conc := flag.Int("c", 16, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "measuring time")
	warmup := flag.Duration("warmup", time.Second, "load before measuring starts (not counted)")
	flag.Parse()
	if *base == "" || *pathsFile == "" || *conc < 1 {
		flag.Usage()
		os.Exit(2)
	}
	paths, err := readPaths(*pathsFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadclient:", err)
		os.Exit(2)
	}
	res, err := run(context.Background(), strings.TrimSuffix(*base, "/"), paths, *conc, *warmup, *dur)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadclient:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	if res.Errors > 0 {
		os.Exit(1)
	}
}

func readPaths(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var paths []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p := strings.TrimSpace(sc.Text()); p != "" && !strings.HasPrefix(p, "#") {
			paths = append(paths, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s lists no paths", name)
	}
	return paths, nil
}

// run drives conc clients over paths for warmup+dur and measures the last
// dur of it.
func run(ctx context.Context, base string, paths []string, conc int, warmup, dur time.Duration) (*result, error) {
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, DisableCompression: true},
		Timeout:   60 * time.Second,
	}
	defer client.CloseIdleConnections()
	sizes := make([]atomic.Int64, len(paths)) // first length seen per path; later ones must match
	for i := range sizes {
		sizes[i].Store(-1)
	}
	var (
		measuring atomic.Bool
		errCount  atomic.Int64
		firstErr  atomic.Pointer[error]
		bytesRead atomic.Int64
		wg        sync.WaitGroup
	)
	lat := make([][]time.Duration, conc)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * len(paths) / conc; ctx.Err() == nil; i++ {
				k := i % len(paths)
				t0 := time.Now()
				n, err := fetch(ctx, client, base+paths[k])
				d := time.Since(t0)
				if errors.Is(err, context.Canceled) {
					return
				}
				if err == nil && !sizes[k].CompareAndSwap(-1, n) && sizes[k].Load() != n {
					err = fmt.Errorf("GET %s: %d bytes, earlier %d", paths[k], n, sizes[k].Load())
				}
				if !measuring.Load() {
					continue
				}
				lat[w] = append(lat[w], d)
				bytesRead.Add(n)
				if err != nil {
					errCount.Add(1)
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	time.Sleep(warmup)
	measuring.Store(true)
	start := time.Now()
	time.Sleep(dur)
	measuring.Store(false)
	elapsed := time.Since(start)
	cancel()
	wg.Wait()

	all := slices.Concat(lat...)
	if len(all) == 0 {
		return nil, errors.New("no request completed")
	}
	slices.Sort(all)
	pct := func(q float64) float64 {
		return float64(all[min(len(all)-1, int(q*float64(len(all))))].Microseconds()) / 1000
	}
	res := &result{
		Base: base, Concurrency: conc, Seconds: elapsed.Seconds(), Requests: len(all), Errors: errCount.Load(),
		RPS: float64(len(all)) / elapsed.Seconds(), MBPerSec: float64(bytesRead.Load()) / elapsed.Seconds() / 1e6,
		P50MS: pct(0.50), P90MS: pct(0.90), P99MS: pct(0.99), MaxMS: pct(1),
	}
	if e := firstErr.Load(); e != nil {
		res.FirstError = (*e).Error()
	}
	return res, nil
}

// fetch GETs url and drains the body; anything but a 200 is an error.
func fetch(ctx context.Context, c *http.Client, url string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, fmt.Errorf("GET %s: reading body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return n, nil
}
