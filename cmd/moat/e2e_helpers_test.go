package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/config"
)

// moatInstance is an in-process `moat serve` for end-to-end tests.
type moatInstance struct {
	URL    string // http://127.0.0.1:PORT
	Data   string
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

// startMoat runs serve with cfg (listen address and data dir filled in when
// empty) and waits until it listens. It stops at test cleanup.
func startMoat(t *testing.T, cfg config.Config) *moatInstance {
	t.Helper()
	if cfg.Server.DataDir == "" || cfg.Server.DataDir == config.DefaultDataDir() {
		cfg.Server.DataDir = t.TempDir()
	}
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.ProxyListen = "off"
	ctx, cancel := context.WithCancel(context.Background())
	m := &moatInstance{Data: cfg.Server.DataDir, cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	ready := make(chan string, 1)
	go func() {
		m.done <- serve(ctx, cfg, serveEnv{stderr: m.logs, ready: func(a string) { ready <- a }})
	}()
	select {
	case addr := <-ready:
		m.URL = "http://" + addr
	case err := <-m.done:
		cancel()
		t.Fatalf("moat serve failed to start: %v\n%s", err, m.logs.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("moat serve did not start\n%s", m.logs.String())
	}
	t.Cleanup(func() { m.Stop(t) })
	return m
}

// Stop shuts moat down and waits for it (idempotent).
func (m *moatInstance) Stop(t *testing.T) {
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.cancel = nil
	select {
	case err := <-m.done:
		if err != nil {
			t.Errorf("moat serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("moat serve did not shut down")
	}
	if t.Failed() {
		t.Logf("moat logs:\n%s", m.logs.String())
	}
}

// testConfig is the default config: the shipped model, info logs.
func testConfig(npmUpstream string) config.Config {
	cfg := config.Default()
	cfg.NPM.Upstream = npmUpstream
	cfg.Log.Level = "info"
	// The shipped model through ONNX Runtime, as installed by
	// scripts/install-onnxruntime.sh (scripts/test.sh runs it first).
	if lib, err := filepath.Abs("../../lib/libonnxruntime.so.1"); err == nil && os.Getenv("MOAT_ORT_LIB") == "" {
		if _, err := os.Stat(lib); err == nil {
			cfg.Scan.ORTLibrary = lib
		}
	}
	return cfg
}

// npmRun runs the real npm CLI in dir with an isolated cache and userconfig.
func npmRun(t *testing.T, dir, cache string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	full := append([]string{}, args...)
	full = append(full, "--cache", cache, "--ignore-scripts", "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel", "http")
	cmd := exec.CommandContext(ctx, "npm", full...)
	cmd.Dir = dir
	userrc := filepath.Join(t.TempDir(), "npmrc")
	_ = os.WriteFile(userrc, nil, 0o600)
	cmd.Env = append(filteredEnv("npm_config_", "NPM_CONFIG_"), "npm_config_userconfig="+userrc, "npm_config_cafile=/etc/ssl/certs/ca-certificates.crt")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// filteredEnv is os.Environ without variables starting with any prefix.
func filteredEnv(prefixes ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}

// writeProject writes a package.json with deps into a new temp dir.
func writeProject(t *testing.T, deps map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(`{"name":"moat-e2e-app","version":"1.0.0","private":true,"dependencies":{`)
	i := 0
	for n, v := range deps {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"` + n + `":"` + v + `"`)
		i++
	}
	b.WriteString("}}")
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// syncBuffer is a goroutine-safe bytes.Buffer for captured logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}
