package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/testutil/faultfake"
	"github.com/moatproject/moat/internal/testutil/pypifake"
)

// Load-test bounds.
const (
	loadClients    = 200
	loadMaxHWMKiB  = 300 << 10 // peak RSS of the moat process
	defaultLoadSec = 10
)

// TestLoadCachedArtifacts runs 200 concurrent clients for
// MOAT_LOAD_SECONDS (default 10) against a moat subprocess whose cache
// holds npm tarballs, packuments and PyPI wheels: every response must be a
// 200 with the right bytes, and moat's peak RSS (VmHWM) must stay under
// 300 MB. It logs requests/s, latency percentiles and the peak RSS.
func TestLoadCachedArtifacts(t *testing.T) {
	if testing.Short() {
		t.Skip("load test; skipped with -short")
	}
	seconds := defaultLoadSec
	if s := os.Getenv("MOAT_LOAD_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MOAT_LOAD_SECONDS=%q: want a positive integer", s)
		}
		seconds = n
	}

	up := faultfake.New()
	t.Cleanup(up.Close)
	type target struct {
		path string
		want []byte // nil: metadata, checked by wantSub
		sub  string
	}
	var targets []target
	for i := range 16 {
		name := fmt.Sprintf("loadpkg%d", i)
		var src strings.Builder
		for j := range 400 * (i + 1) {
			fmt.Fprintf(&src, "exports.f%d = function (a, b) { return a + b * %d; };\n", j, j)
		}
		tgz := faultfake.Tgz(name, "1.0.0", map[string][]byte{"index.js": []byte(src.String())})
		up.AddTarball(name, "1.0.0", tgz)
		targets = append(targets, target{path: "/npm/" + name + "/-/" + name + "-1.0.0.tgz", want: tgz})
		if i < 4 {
			targets = append(targets, target{path: "/npm/" + name, sub: "/npm/" + name + "/-/" + name + "-1.0.0.tgz"})
		}
	}
	for i := range 4 {
		proj := fmt.Sprintf("loadproj%d", i)
		fn, data, _ := pypifake.Wheel(proj, "1.0.0", map[string]string{proj + "/__init__.py": strings.Repeat("X = 1\n", 2000*(i+1))})
		up.AddFile(proj, fn, data)
		targets = append(targets, target{path: "/pypi/files/" + proj + "/" + fn, want: data})
	}

	p := startMoatProc(t, t.TempDir(), up)
	check := func(tg target, code int, body []byte) error {
		switch {
		case code != http.StatusOK:
			return fmt.Errorf("GET %s: status %d: %.200s", tg.path, code, body)
		case tg.want != nil && !bytes.Equal(body, tg.want):
			return fmt.Errorf("GET %s: %d bytes that differ from the upstream's %d", tg.path, len(body), len(tg.want))
		case tg.want == nil && !bytes.Contains(body, []byte(tg.sub)):
			return fmt.Errorf("GET %s: metadata lacks %q", tg.path, tg.sub)
		}
		return nil
	}
	for _, tg := range targets { // warm the cache: fetched, verified, stored, scanned
		resp, err := http.Get(p.URL + tg.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := check(tg, resp.StatusCode, body); err != nil {
			t.Fatalf("warming: %v\n%s", err, p.logs.String())
		}
	}
	warmHWM, _ := procStatus(p.cmd.Process.Pid, "VmHWM")

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * loadClients, MaxIdleConnsPerHost: 2 * loadClients}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var (
		wg       sync.WaitGroup
		errCount atomic.Int64
		errMu    sync.Mutex
		firstErr []error
	)
	lat := make([][]time.Duration, loadClients)
	stop := time.Now().Add(time.Duration(seconds) * time.Second)
	start := time.Now()
	for w := range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := bytes.NewBuffer(make([]byte, 0, 256<<10))
			for i := w; time.Now().Before(stop); i++ {
				tg := targets[i%len(targets)]
				t0 := time.Now()
				resp, err := client.Get(p.URL + tg.path)
				if err == nil {
					buf.Reset()
					_, err = buf.ReadFrom(resp.Body)
					resp.Body.Close()
					if err == nil {
						err = check(tg, resp.StatusCode, buf.Bytes())
					}
				}
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil {
					if errCount.Add(1) <= 5 {
						errMu.Lock()
						firstErr = append(firstErr, err)
						errMu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	hwm, err := procStatus(p.cmd.Process.Pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	rss, _ := procStatus(p.cmd.Process.Pid, "VmRSS")
	p.stop(t)

	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(q float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(q*float64(len(all))))]
	}
	t.Logf("%d clients, %v: %d requests (%.0f/s), %d errors; latency p50 %v p99 %v max %v",
		loadClients, elapsed.Round(time.Millisecond), len(all), float64(len(all))/elapsed.Seconds(), errCount.Load(),
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(time.Millisecond))
	t.Logf("moat peak RSS (VmHWM) %.1f MB (%.1f MB after warming), RSS at the end %.1f MB; bound %d MB",
		float64(hwm)/1024, float64(warmHWM)/1024, float64(rss)/1024, loadMaxHWMKiB>>10)
	for _, err := range firstErr {
		t.Error(err)
	}
	if n := errCount.Load(); n > 0 {
		t.Errorf("%d of %d requests failed", n, len(all))
	}
	if hwm > loadMaxHWMKiB {
		t.Errorf("moat's peak RSS %.1f MB exceeds %d MB", float64(hwm)/1024, loadMaxHWMKiB>>10)
	}
}
