package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/internal/testutil/faultfake"
	"github.com/moatproject/moat/scan"
)

// TestMain removes the moat binary the subprocess tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	builtMoat.remove()
	os.Exit(code)
}

// binaryBuild is the real moat binary, built once per test process for the
// tests that run `moat serve` as a subprocess (crash, load).
type binaryBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

var builtMoat binaryBuild

// moatBinary builds ./cmd/moat (cgo: the scanner uses tree-sitter) on first
// use and returns its path.
func moatBinary(t *testing.T) string {
	t.Helper()
	b := &builtMoat
	b.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			b.err = fmt.Errorf("the go tool is not on PATH: %w", err)
			return
		}
		if b.dir, b.err = os.MkdirTemp("", "moat-e2e-bin-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "moat")
		cmd := exec.Command(goTool, "build", "-o", b.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build ./cmd/moat: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func (b *binaryBuild) remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// moatProc is `moat serve` running as a subprocess on a data dir.
type moatProc struct {
	URL    string // http://127.0.0.1:PORT
	Data   string
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan struct{}
}

var listeningRE = regexp.MustCompile(`msg="moat registry mode listening" npm=http://([^/ ]+)/npm/`)

// startMoatProc starts the moat binary on data in front of up and waits
// until it listens. It is killed at test cleanup if still running.
func startMoatProc(t *testing.T, data string, up *faultfake.Server, extraEnv ...string) *moatProc {
	t.Helper()
	bin := moatBinary(t)
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--proxy-listen", "off", "--data", data)
	cmd.Env = append(filteredEnv("MOAT_", "npm_config_", "NPM_CONFIG_"),
		"MOAT_NPM_UPSTREAM="+up.NPMRoot(), "MOAT_PYPI_UPSTREAM="+up.PyPIRoot(),
		"MOAT_SCAN_CLASSIFIER=rules", "MOAT_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, extraEnv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &moatProc{Data: data, cmd: cmd, logs: &syncBuffer{}, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill(t) })
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case <-p.exited:
		t.Fatalf("moat serve exited before listening:\n%s", p.logs.String())
	case <-time.After(60 * time.Second):
		p.kill(t)
		t.Fatalf("moat serve did not listen within 60s:\n%s", p.logs.String())
	}
	return p
}

// kill sends SIGKILL (a crash: no cleanup of any kind) and reaps the process.
func (p *moatProc) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("moat (pid %d) did not die after SIGKILL", p.cmd.Process.Pid)
	}
}

// stop shuts moat down gracefully (SIGTERM) and expects a clean exit.
func (p *moatProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if st := p.cmd.ProcessState; st != nil && !st.Success() {
			t.Errorf("moat exited with %v after SIGTERM:\n%s", st, p.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("moat did not shut down within 30s of SIGTERM")
		p.kill(t)
	}
}

// get fetches moat's path and returns the status and body.
func (p *moatProc) get(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// mustServe asserts that moat serves path with exactly want.
func (p *moatProc) mustServe(t *testing.T, path string, want []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, body, err := p.get(ctx, path)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET %s: %d %v %.300s\n%s", path, code, err, body, p.logs.String())
	}
	if !bytes.Equal(body, want) {
		t.Fatalf("GET %s: served %d bytes that differ from the upstream's %d", path, len(body), len(want))
	}
}

// checkBlobs asserts that every blob's content hashes to its name and
// returns the number of blobs and of temp files left in blobs/tmp.
func checkBlobs(t *testing.T, data string) (blobs, temps int) {
	t.Helper()
	root := filepath.Join(data, "blobs", "sha256")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		blobs++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != d.Name() {
			t.Errorf("blob %s holds %d bytes hashing to %x: a partial or corrupt blob under a final name", d.Name(), len(b), sum)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join(data, "blobs", "tmp"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return blobs, len(ents)
}

// assertNoTemps asserts blobs/tmp is empty (moat cleans it at start).
func assertNoTemps(t *testing.T, data string) {
	t.Helper()
	if _, temps := checkBlobs(t, data); temps != 0 {
		t.Errorf("%d temp files remain in blobs/tmp after moat started", temps)
	}
}

// checkStore opens the stopped moat's store: the bbolt lock must be free,
// the database must open and every bucket be readable, and each artifact
// in want (filename → bytes) must be recorded with its blob intact.
func checkStore(t *testing.T, data, name string, want map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(data, store.Options{LockTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("store does not reopen clean: %v", err)
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatalf("store stats (walks every bucket): %v", err)
	}
	t.Logf("store after the crashes: %d blobs, %d bytes; records %v", stats.Blobs, stats.BlobBytes, stats.Records)
	for file, b := range want {
		sum := sha256.Sum256(b)
		sha := hex.EncodeToString(sum[:])
		a, err := st.FindArtifact(ctx, scan.NPM, name, file)
		if err != nil || a.SHA256 != sha {
			t.Errorf("artifact %s: %+v, %v; want sha256 %s", file, a, err, sha)
			continue
		}
		f, n, err := st.OpenBlob(ctx, sha)
		if err != nil || n != int64(len(b)) {
			t.Errorf("blob of %s: %d bytes, %v", file, n, err)
			continue
		}
		f.Close()
	}
}

// noisyTarball is an npm tarball of about size bytes that does not
// compress, so moving and writing it takes measurable time.
func noisyTarball(rng *rand.Rand, name, version string, size int) []byte {
	noise := make([]byte, size)
	for i := 0; i+8 <= len(noise); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			noise[i+j] = byte(v >> (8 * j))
		}
	}
	return faultfake.Tgz(name, version, map[string][]byte{
		"index.js": []byte("module.exports = function () { return 42; };\n"),
		"data.bin": noise,
	})
}

// TestCrashMidDownload: moat is SIGKILLed while an upstream trickles a
// large tarball to it. The restarted moat opens its store, no blob is
// partial, no temp file survives, and the artifact then serves intact.
func TestCrashMidDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the moat binary; skipped with -short")
	}
	up := faultfake.New()
	t.Cleanup(up.Close)
	rng := rand.New(rand.NewPCG(1, 2))
	tgz := noisyTarball(rng, "bigpkg", "1.0.0", 4<<20)
	tb := up.AddTarball("bigpkg", "1.0.0", tgz)
	up.Set(tb.Path(), faultfake.Fault{Kind: faultfake.Trickle, Chunk: 64 << 10, Delay: 25 * time.Millisecond})
	data := t.TempDir()
	clientPath := "/npm/bigpkg/-/bigpkg-1.0.0.tgz"

	p := startMoatProc(t, data, up)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func(p *moatProc) { _, _, _ = p.get(ctx, clientPath) }(p)
	deadline := time.Now().Add(30 * time.Second)
	for up.Sent(tb.Path()) < int64(len(tgz))/4 {
		if time.Now().After(deadline) {
			t.Fatalf("the download never started:\n%s", p.logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	sent := up.Sent(tb.Path())
	p.kill(t)
	cancel()
	t.Logf("killed moat after the upstream sent %d of %d bytes", sent, len(tgz))
	blobs, temps := checkBlobs(t, data)
	t.Logf("after the kill: %d blobs, %d temp files", blobs, temps)

	up.Set(tb.Path(), faultfake.Fault{})
	p = startMoatProc(t, data, up)
	assertNoTemps(t, data)
	p.mustServe(t, clientPath, tgz)
	p.stop(t)
	checkBlobs(t, data)
	checkStore(t, data, "bigpkg", map[string][]byte{"bigpkg-1.0.0.tgz": tgz})
}

// TestCrashMidWrite SIGKILLs moat while it downloads, verifies, stores
// (temp file, fsync, rename, bbolt commit) and scans large tarballs the
// upstream serves fast, restarting it on the same data dir each time
// (MOAT_CRASH_ROUNDS rounds, default 8): even rounds at a random point of
// a cold request, odd rounds the moment a blob temp file exists. After every kill
// no blob may differ from its name and the restarted moat must open the
// store and clean blobs/tmp; at the end every version serves intact.
func TestCrashMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the moat binary; skipped with -short")
	}
	rounds := 8
	if s := os.Getenv("MOAT_CRASH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MOAT_CRASH_ROUNDS=%q: want a positive integer", s)
		}
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))

	up := faultfake.New()
	t.Cleanup(up.Close)
	want := map[string][]byte{}
	paths := make([]string, rounds+1)
	bodies := make([][]byte, rounds+1)
	for i := range rounds + 1 {
		v := fmt.Sprintf("1.0.%d", i)
		bodies[i] = noisyTarball(rng, "crashpkg", v, 6<<20)
		up.AddTarball("crashpkg", v, bodies[i])
		paths[i] = "/npm/crashpkg/-/crashpkg-" + v + ".tgz"
		want["crashpkg-"+v+".tgz"] = bodies[i]
	}
	data := t.TempDir()

	// Round 0 measures how long a cold request takes: the kills land
	// uniformly within that window.
	p := startMoatProc(t, data, up)
	t0 := time.Now()
	p.mustServe(t, paths[0], bodies[0])
	window := time.Since(t0)
	t.Logf("a cold 6 MiB tarball takes %v end to end", window.Round(time.Millisecond))
	p.kill(t)

	var leftTemps, stored int
	prevBlobs := 1 // round 0's tarball
	for i := 1; i <= rounds; i++ {
		p = startMoatProc(t, data, up)
		assertNoTemps(t, data)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func(p *moatProc) { defer close(done); _, _, _ = p.get(ctx, paths[i]) }(p)
		t0 := time.Now()
		how := "at random"
		if i%2 == 1 {
			// Odd rounds aim at the blob write itself: the kill lands as
			// soon as a temp file shows up in blobs/tmp.
			how = "on the temp file"
			if !waitForTemp(filepath.Join(data, "blobs", "tmp"), done, 3*window+time.Second) {
				how = "on the temp file (missed it)"
			}
		} else {
			time.Sleep(time.Duration(rng.Int64N(int64(window) * 6 / 5)))
		}
		delay := time.Since(t0)
		p.kill(t)
		cancel()
		<-done
		blobs, temps := checkBlobs(t, data)
		leftTemps += min(temps, 1)
		if blobs > prevBlobs { // this round's tarball made it to its final name
			stored++
		}
		prevBlobs = blobs
		t.Logf("round %d: killed %v in (%s); %d blobs, %d temp files", i, delay.Round(time.Millisecond), how, blobs, temps)
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("%d of %d kills left a temp file, %d landed after the blob was in place", leftTemps, rounds, stored)

	p = startMoatProc(t, data, up)
	assertNoTemps(t, data)
	for i := range paths {
		p.mustServe(t, paths[i], bodies[i])
	}
	p.stop(t)
	checkBlobs(t, data)
	checkStore(t, data, "crashpkg", want)
}

// waitForTemp polls dir until it holds a file (true), or until done is
// closed or timeout passes (false).
func waitForTemp(dir string, done <-chan struct{}, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
			return true
		}
		select {
		case <-done:
			return false
		default:
		}
		time.Sleep(200 * time.Microsecond)
	}
	return false
}

// procStatus reads a field (in kB) of /proc/PID/status, e.g. VmHWM.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}
