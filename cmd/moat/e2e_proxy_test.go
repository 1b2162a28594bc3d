package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/audit"
	"github.com/moatproject/moat/internal/ca"
	"github.com/moatproject/moat/internal/config"
	"github.com/moatproject/moat/proxy"
	"github.com/moatproject/moat/proxy/forward"
)

// transparentMoat is `moat serve` with both listeners: registry mode and
// the transparent proxy that serve starts with startForward.
type transparentMoat struct {
	URL    string // registry mode, http://127.0.0.1:PORT
	Proxy  string // transparent proxy, http://127.0.0.1:PORT
	Data   string
	Bundle string // combined bundle (system roots + moat's CA)
	CA     *ca.CA
	logs   *syncBuffer
}

// startTransparent runs serve with the proxy on a free loopback port,
// intercepting extra (host or host:port) besides the upstreams' hosts, and
// waits until both listeners accept. It stops at cleanup.
func startTransparent(t *testing.T, cfg config.Config, extra []string) *transparentMoat {
	t.Helper()
	cfg.Server.DataDir = t.TempDir()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.ProxyListen = freeLoopbackAddr(t)
	cfg.Proxy.Intercept = append(append([]string(nil), cfg.Proxy.Intercept...), extra...)
	m := &transparentMoat{Data: cfg.Server.DataDir, Proxy: "http://" + cfg.Server.ProxyListen, logs: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		done <- serve(ctx, cfg, serveEnv{stderr: m.logs, ready: func(a string) { ready <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("moat serve returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("moat serve did not shut down")
		}
		if t.Failed() {
			t.Logf("moat logs:\n%s", m.logs.String())
		}
	})
	select {
	case addr := <-ready:
		m.URL = "http://" + addr
	case err := <-done:
		t.Fatalf("moat serve failed to start: %v\n%s", err, m.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("moat serve did not start\n%s", m.logs.String())
	}
	// serve starts the proxy after announcing the registry listener.
	for deadline := time.Now().Add(20 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", cfg.Server.ProxyListen, time.Second); err == nil {
			c.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("moat serve stopped: %v\n%s", err, m.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the transparent proxy did not start on %s\n%s", cfg.Server.ProxyListen, m.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var err error
	if m.CA, err = ca.Load(cfg.Server.DataDir); err != nil {
		t.Fatal(err)
	}
	m.Bundle = m.CA.BundlePath()
	if _, err := os.Stat(m.Bundle); err != nil {
		t.Fatalf("startForward did not write the combined bundle: %v", err)
	}
	return m
}

// freeLoopbackAddr returns a loopback address with a port free right now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// audited returns moat's audit entries for name, oldest first.
func (m *transparentMoat) audited(t *testing.T, name string) []audit.Entry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(m.Data, audit.FileName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, line := range bytes.Split(b, []byte("\n")) {
		var e audit.Entry
		if json.Unmarshal(line, &e) == nil && e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// last is the newest entry, or the zero Entry.
func last(es []audit.Entry) audit.Entry {
	if len(es) == 0 {
		return audit.Entry{}
	}
	return es[len(es)-1]
}

// tlsUpstream serves h over HTTPS on loopback, named "localhost" (Node
// checks a proxied IP-literal registry against "localhost", so a registry
// reached through a proxy needs a name). It returns the server, its URL
// and a PEM file with the CA that signed its certificate (for
// upstream.ca_file).
func tlsUpstream(t *testing.T, h http.Handler) (*httptest.Server, string, string) {
	t.Helper()
	issuer, err := ca.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := issuer.Leaf("localhost")
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{*leaf}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s, fmt.Sprintf("https://localhost:%d", s.Listener.Addr().(*net.TCPAddr).Port), issuer.CertPath()
}

// httpsTarballs makes npmfake's packuments (which build tarball URLs as
// http://<Host>/) name https URLs, as a registry served over TLS does.
func httpsTarballs(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.EscapedPath(), "/-/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := bytes.ReplaceAll(rec.Body.Bytes(), []byte(`"http://`+r.Host+`/`), []byte(`"https://`+r.Host+`/`))
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

func hostPort(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	return u.Host
}

// npmViaProxy is npm with moat as its HTTPS proxy and the combined bundle
// as cafile (npm's cafile replaces Node's roots), registry unchanged.
func npmViaProxy(t *testing.T, m *transparentMoat, dir, registry string, args ...string) (string, error) {
	t.Helper()
	full := append(append([]string{}, args...), "--registry", registry, "--https-proxy", m.Proxy, "--proxy", m.Proxy, "--cafile", m.Bundle, "--strict-ssl", "--fetch-retries", "0")
	return npmRun(t, dir, t.TempDir(), full...)
}

// (a) npm through HTTPS_PROXY against a local TLS registry.
func TestProxyNPMInstallFakeTLS(t *testing.T) {
	reg, pub := fixtureRegistry(t)
	_, upURL, caFile := tlsUpstream(t, httpsTarballs(reg.Server.Config.Handler))
	cfg := testConfig(upURL + "/")
	cfg.Upstream.CAFile = caFile
	cfg.PyPI.Upstream = "https://pypi.example.invalid/simple/"
	m := startTransparent(t, cfg, []string{hostPort(upURL)})
	registry := upURL + "/"

	t.Run("tree installs through the proxy", func(t *testing.T) {
		dir := writeProject(t, map[string]string{"moat-fixture-app": "^1.0.0"})
		out, err := npmViaProxy(t, m, dir, registry, "install")
		if err != nil {
			t.Fatalf("npm install through moat's proxy: %v\n%s", err, out)
		}
		for _, p := range []string{"moat-fixture-app", "moat-fixture-plain", "@moat-fixture/scoped"} {
			if _, err := os.Stat(filepath.Join(dir, "node_modules", p, "package.json")); err != nil {
				t.Errorf("%s not installed: %v", p, err)
			}
		}
		for _, name := range []string{"moat-fixture-app", "moat-fixture-plain", "@moat-fixture/scoped"} {
			es := m.audited(t, name)
			if last(es).Action != "allow" {
				t.Errorf("%s: no allow decision in moat's audit log: %+v", name, es)
			}
		}
		// The client kept its registry: the lockfile names the upstream.
		lock, _ := os.ReadFile(filepath.Join(dir, "package-lock.json"))
		if strings.Contains(string(lock), m.URL) {
			t.Errorf("lockfile points at moat's registry root, not the client's registry")
		}
	})

	t.Run("malicious postinstall is refused with moat's reason", func(t *testing.T) {
		dir := writeProject(t, map[string]string{"moat-fixture-evil": "1.0.0"})
		cache := t.TempDir()
		full := []string{"install", "--registry", registry, "--https-proxy", m.Proxy, "--proxy", m.Proxy, "--cafile", m.Bundle, "--fetch-retries", "0"}
		out, err := npmRun(t, dir, cache, full...)
		if err == nil {
			t.Fatalf("npm install of the malicious fixture succeeded:\n%s", out)
		}
		if !strings.Contains(out, "moat blocked moat-fixture-evil@1.0.0") {
			t.Errorf("npm output does not show moat's reason:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "moat-fixture-evil")); err == nil {
			t.Errorf("malicious package landed in node_modules")
		}
		assertNotInNPMCache(t, cache, pub["evil"])
		if es := m.audited(t, "moat-fixture-evil"); last(es).Action != "block" {
			t.Errorf("no block decision audited: %+v", es)
		}
	})
}

// (b) the real npm registry over HTTPS through the proxy.
func TestProxyNPMRealRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the network")
	}
	real, err := npmConfiguredRegistry(t.Context())
	if err != nil {
		t.Skipf("npm registry unknown: %v", err)
	}
	if !strings.HasPrefix(real, "https://") {
		t.Skipf("npm's registry %s is not HTTPS", real)
	}
	cfg := testConfig(real)
	cfg.PyPI.Upstream = "https://pypi.example.invalid/simple/"
	m := startTransparent(t, cfg, nil)

	dir := writeProject(t, map[string]string{"is-number": "7.0.0"})
	out, err := npmViaProxy(t, m, dir, real, "install")
	if err != nil {
		if strings.Contains(out, "ENOTFOUND") || strings.Contains(out, "EAI_AGAIN") || strings.Contains(out, "ECONNREFUSED") {
			t.Skipf("registry unreachable:\n%s", out)
		}
		t.Fatalf("npm install is-number@7.0.0 through moat's proxy: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "is-number", "package.json")); err != nil {
		t.Fatalf("is-number not installed: %v", err)
	}
	e := last(m.audited(t, "is-number"))
	if e.Version != "7.0.0" || e.Action != "allow" || len(e.SHA256) != 64 {
		t.Fatalf("moat did not audit is-number@7.0.0: %+v", e)
	}
	resp, err := http.Get(m.URL + "/api/v1/reports/" + e.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep struct {
		Name, Version, Verdict string
	}
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil || resp.StatusCode != 200 {
		t.Fatalf("report: %d %v", resp.StatusCode, err)
	}
	if rep.Verdict != "clean" {
		t.Errorf("report for is-number@7.0.0: %+v", rep)
	}
	t.Logf("is-number@7.0.0 via the proxy: verdict %s, sha256 %s, gate %d ms", rep.Verdict, e.SHA256, e.DurationMS)
}

// (c) pip through HTTPS_PROXY against a local TLS PyPI.
func TestProxyPipFakeTLS(t *testing.T) {
	ix := fixtureIndex(t)
	_, upURL, caFile := tlsUpstream(t, ix.Server.Config.Handler)
	cfg := testConfig("https://npm.example.invalid/")
	cfg.PyPI.Upstream = upURL + "/simple/"
	cfg.Upstream.CAFile = caFile
	m := startTransparent(t, cfg, []string{hostPort(upURL)})
	index := upURL + "/simple/"
	target := t.TempDir()
	out, err := pipViaProxy(t, index, m.Proxy, m.Bundle, "install", "--target", target, "mathutil")
	if err != nil {
		t.Fatalf("pip install mathutil through moat's proxy: %v\n%s", err, out)
	}
	for _, p := range []string{"mathutil/ops.py", "envlib/__init__.py"} {
		if _, err := os.Stat(filepath.Join(target, p)); err != nil {
			t.Errorf("%s not installed: %v\n%s", p, err, out)
		}
	}
	for _, name := range []string{"mathutil", "envlib"} {
		if es := m.audited(t, name); last(es).Action != "allow" {
			t.Errorf("%s: no allow decision audited: %+v", name, es)
		}
	}

	out, err = pipViaProxy(t, index, m.Proxy, m.Bundle, "download", "--no-deps", "--dest", t.TempDir(), "requestz")
	if err == nil {
		t.Fatalf("pip download of the malicious sdist through the proxy succeeded:\n%s", out)
	}
	if !strings.Contains(out, "403") || !strings.Contains(out, "moat blocked requestz 2.31.1") {
		t.Errorf("pip output does not show moat's 403 reason:\n%s", out)
	}

	t.Run("without moat's CA pip refuses the interception", func(t *testing.T) {
		out, err := pipViaProxy(t, index, m.Proxy, caFile, "download", "--no-deps", "--dest", t.TempDir(), "mathutil")
		if err == nil {
			t.Fatalf("pip trusted moat's leaf without moat's CA:\n%s", out)
		}
	})
}

// pipViaProxy runs the real pip through moat's proxy with cert as its CA
// bundle. Like pip(), it is isolated from this machine's pip settings; it
// also drops REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE, which requests lets
// override pip's --cert (setup's pip proxy plan sets them to the bundle).
func pipViaProxy(t *testing.T, index, proxyURL, cert string, args ...string) (string, error) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	full := append([]string{"-m", "pip"}, args...)
	full = append(full, "--isolated", "--no-cache-dir", "--disable-pip-version-check", "--retries", "0", "--timeout", "60",
		"--index-url", index, "--proxy", proxyURL, "--cert", cert)
	cmd := exec.CommandContext(ctx, py, full...)
	cmd.Env = filteredEnv("PIP_", "REQUESTS_CA_BUNDLE=", "CURL_CA_BUNDLE=", "HTTPS_PROXY=", "HTTP_PROXY=", "https_proxy=", "http_proxy=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

// (d) yarn classic and pnpm, in registry mode and in proxy mode.
func TestProxyYarnPnpm(t *testing.T) {
	if testing.Short() {
		t.Skip("installs clients from the network")
	}
	bin := installClients(t)
	reg, _ := fixtureRegistry(t)
	plain := startMoat(t, testConfig(reg.URL()))
	_, upURL, caFile := tlsUpstream(t, httpsTarballs(reg.Server.Config.Handler))
	cfg := testConfig(upURL + "/")
	cfg.Upstream.CAFile = caFile
	cfg.PyPI.Upstream = "https://pypi.example.invalid/simple/"
	m := startTransparent(t, cfg, []string{hostPort(upURL)})

	type setting struct{ registry, proxy, cafile string }
	modes := map[string]setting{
		"registry": {registry: plain.URL + "/npm/"},
		"proxy":    {registry: upURL + "/", proxy: m.Proxy, cafile: m.Bundle},
	}
	for _, tool := range []string{"yarn", "pnpm"} {
		for _, mode := range []string{"registry", "proxy"} {
			s := modes[mode]
			t.Run(tool+" "+mode, func(t *testing.T) {
				dir := writeProject(t, map[string]string{"moat-fixture-app": "^1.0.0"})
				var rc strings.Builder
				if tool == "yarn" {
					fmt.Fprintf(&rc, "registry %q\n", s.registry)
					if s.proxy != "" {
						fmt.Fprintf(&rc, "https-proxy %q\nproxy %q\ncafile %q\nstrict-ssl true\n", s.proxy, s.proxy, s.cafile)
					}
					writeFile(t, filepath.Join(dir, ".yarnrc"), rc.String())
				} else {
					fmt.Fprintf(&rc, "registry=%s\n", s.registry)
					if s.proxy != "" {
						fmt.Fprintf(&rc, "https-proxy=%s\nproxy=%s\ncafile=%s\nstrict-ssl=true\n", s.proxy, s.proxy, s.cafile)
					}
					writeFile(t, filepath.Join(dir, ".npmrc"), rc.String())
				}
				var args []string
				if tool == "yarn" {
					args = []string{"install", "--non-interactive", "--ignore-scripts", "--cache-folder", t.TempDir(), "--registry", s.registry}
				} else {
					args = []string{"install", "--ignore-scripts", "--store-dir", t.TempDir(), "--registry", s.registry}
				}
				before := len(m.audited(t, "moat-fixture-plain"))
				out, err := runClient(t, filepath.Join(bin, tool), dir, args...)
				if err != nil {
					t.Fatalf("%s install (%s mode): %v\n%s", tool, mode, err, out)
				}
				for _, p := range []string{"moat-fixture-app", "moat-fixture-plain", "@moat-fixture/scoped"} {
					where := filepath.Join(dir, "node_modules", p, "package.json")
					if tool == "pnpm" && p != "moat-fixture-app" {
						// pnpm does not hoist: dependencies live in its virtual store.
						matches, _ := filepath.Glob(filepath.Join(dir, "node_modules", ".pnpm", strings.ReplaceAll(p, "/", "+")+"@*", "node_modules", p, "package.json"))
						if len(matches) == 1 {
							where = matches[0]
						}
					}
					if _, err := os.Stat(where); err != nil {
						t.Errorf("%s not installed: %v\n%s", p, err, out)
					}
				}
				if mode == "proxy" {
					if after := len(m.audited(t, "moat-fixture-plain")); after <= before {
						t.Errorf("moat's proxy did not gate the install (audit entries %d → %d)", before, after)
					}
				}
			})
		}
	}
	t.Run("pnpm proxy malicious refused", func(t *testing.T) {
		dir := writeProject(t, map[string]string{"moat-fixture-evil": "1.0.0"})
		writeFile(t, filepath.Join(dir, ".npmrc"), fmt.Sprintf("registry=%s/\nhttps-proxy=%s\nproxy=%s\ncafile=%s\n", upURL, m.Proxy, m.Proxy, m.Bundle))
		out, err := runClient(t, filepath.Join(bin, "pnpm"), dir, "install", "--ignore-scripts", "--store-dir", t.TempDir())
		if err == nil {
			t.Fatalf("pnpm installed the malicious fixture:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "moat-fixture-evil")); err == nil {
			t.Error("malicious package landed in node_modules")
		}
		if !strings.Contains(out, "403") {
			t.Errorf("pnpm output does not show the 403:\n%s", out)
		}
	})
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// installClients runs scripts/install-clients.sh; it skips the test only
// when that fails for lack of network.
func installClients(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot(t), "scripts", "install-clients.sh"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := stderr.String()
		for _, netErr := range []string{"ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "network"} {
			if strings.Contains(msg, netErr) {
				t.Skipf("scripts/install-clients.sh could not reach the npm registry (%s); yarn/pnpm tests need it once:\n%s", netErr, msg)
			}
		}
		t.Fatalf("scripts/install-clients.sh: %v\n%s", err, msg)
	}
	return strings.TrimSpace(stdout.String())
}

// runClient runs a package manager in dir with a private HOME, so no user
// or machine npm/yarn setting (registry, cafile, proxy) leaks in.
func runClient(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(filteredEnv("npm_config_", "NPM_CONFIG_", "YARN_", "HOME=", "XDG_", "HTTPS_PROXY=", "HTTP_PROXY=", "https_proxy=", "http_proxy="),
		"HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"), "npm_config_userconfig="+filepath.Join(home, ".npmrc"),
		"npm_config_update_notifier=false", "CI=true")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// (e) a host that is not intercepted is tunnelled byte for byte; with
// egress deny it is refused.
func TestProxyTunnelAndEgress(t *testing.T) {
	payload := []byte("\x00\x01not a registry\r\n\xff")
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(payload)
	}))
	defer other.Close()
	roots := x509.NewCertPool()
	roots.AddCert(other.Certificate()) // the client trusts the server, not moat
	clientVia := func(proxyURL string) *http.Client {
		pu, _ := url.Parse(proxyURL)
		return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: roots}}}
	}

	cfg := testConfig("https://npm.example.invalid/")
	cfg.PyPI.Upstream = "https://pypi.example.invalid/simple/"
	m := startTransparent(t, cfg, nil)
	resp, err := clientVia(m.Proxy).Get(other.URL + "/blob")
	if err != nil {
		t.Fatalf("tunnel: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, payload) {
		t.Errorf("tunnelled bytes changed: %q", body)
	}
	if !resp.TLS.PeerCertificates[0].Equal(other.Certificate()) {
		t.Error("the client did not see the server's own certificate")
	}

	cfg.Proxy.Egress = "deny"
	denied := startTransparent(t, cfg, nil)
	_, err = clientVia(denied.Proxy).Get(other.URL + "/blob")
	if err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("egress deny: got %v, want the CONNECT refused with 403", err)
	}

	cfg.Proxy.EgressAllow = []string{hostPort(other.URL)}
	allowed := startTransparent(t, cfg, nil)
	if resp, err := clientVia(allowed.Proxy).Get(other.URL + "/blob"); err != nil {
		t.Errorf("egress_allow: %v", err)
	} else {
		resp.Body.Close()
	}
}

// (f) moat refuses to run an open proxy.
func TestProxyOpenRefusal(t *testing.T) {
	srvHandler := http.NotFoundHandler()
	log := newLogger(config.Log{Level: "error", Format: "text"}, io.Discard)
	cfg := testConfig("https://npm.example.invalid/")
	cfg.Server.DataDir = t.TempDir()
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		cfg.Server.ProxyListen = listen
		_, stop, err := startForward(t.Context(), cfg, srvHandler, nil, log)
		if !errors.Is(err, forward.ErrOpenProxy) {
			t.Errorf("%s without allow_clients: %v, want ErrOpenProxy", listen, err)
			_ = stop(t.Context())
		} else if !strings.Contains(err.Error(), "refusing to run an open proxy") {
			t.Errorf("message: %v", err)
		}
	}
	cfg.Server.ProxyListen = "0.0.0.0:0"
	cfg.Proxy.AllowClients = []string{"127.0.0.0/8"}
	addr, stop, err := startForward(t.Context(), cfg, srvHandler, nil, log)
	if err != nil {
		t.Fatalf("with allow_clients: %v", err)
	}
	if err := stop(t.Context()); err != nil {
		t.Error(err)
	}
	if !strings.HasPrefix(addr, "0.0.0.0:") && !strings.HasPrefix(addr, "[::]:") {
		t.Errorf("addr %s", addr)
	}
	cfg.Server.ProxyListen = "off"
	if addr, _, err := startForward(t.Context(), cfg, srvHandler, nil, log); err != nil || addr != "" {
		t.Errorf("off: %q %v", addr, err)
	}
}

func TestProxiesToSelf(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"HTTPS_PROXY": "http://127.0.0.1:7879"}, true},
		{map[string]string{"https_proxy": "localhost:7879"}, true},
		{map[string]string{"HTTP_PROXY": "http://corp-proxy.example.invalid:7879"}, false},
		{map[string]string{"HTTPS_PROXY": "http://127.0.0.1:3128"}, false},
		{map[string]string{}, false},
	}
	for _, c := range cases {
		got := proxiesToSelf("127.0.0.1:7879", func(k string) string { return c.env[k] }) != ""
		if got != c.want {
			t.Errorf("%v: %v, want %v", c.env, got, c.want)
		}
	}
}

func TestCACommand(t *testing.T) {
	dir := t.TempDir()
	runOut := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runCA(t.Context(), append(args, "--data", dir), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, stderr := runOut("path"); code != exitError || !strings.Contains(stderr, "moat ca init") {
		t.Errorf("path before init: %d %q", code, stderr)
	}
	code, out, stderr := runOut("init")
	if code != exitOK || !strings.Contains(out, ca.CertPath(dir)) || !strings.Contains(out, "SHA-256 fingerprint") {
		t.Fatalf("init: %d %q %q", code, out, stderr)
	}
	if _, out, _ := runOut("path"); strings.TrimSpace(out) != ca.CertPath(dir) {
		t.Errorf("path: %q", out)
	}
	file, _ := os.ReadFile(ca.CertPath(dir))
	if _, out, _ := runOut("export"); out != string(file) {
		t.Errorf("export printed something else than ca.crt")
	}
	if strings.Contains(out, "PRIVATE") {
		t.Error("the key leaked into output")
	}
	code, out, _ = runOut("export", "--bundle")
	b, err := os.ReadFile(strings.TrimSpace(out))
	if code != exitOK || err != nil || !bytes.Contains(b, bytes.TrimSpace(file)) {
		t.Errorf("export --bundle: %d %q %v", code, out, err)
	}
	if code, _, _ := runOut("frobnicate"); code != exitError {
		t.Errorf("unknown subcommand: %d", code)
	}
}

func TestSetupCommand(t *testing.T) {
	home, data := t.TempDir(), t.TempDir()
	env := setupEnv{home: home, getenv: func(string) string { return "" }, now: func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := setupWith(append(args, "--data", data), &out, &errb, env)
		return code, out.String(), errb.String()
	}
	code, out, _ := run("pip")
	if code != exitOK || !strings.Contains(out, "pip config set global.index-url http://127.0.0.1:7878/pypi/simple/") {
		t.Errorf("pip registry: %d\n%s", code, out)
	}
	code, out, _ = run("npm", "--mode", "registry", "--url", "http://moat.example.invalid:8080")
	if code != exitOK || !strings.Contains(out, "npm config set registry http://moat.example.invalid:8080/npm/") {
		t.Errorf("npm --url: %d\n%s", code, out)
	}
	code, out, stderr := run("npm", "--mode", "proxy", "--apply")
	if code != exitOK {
		t.Fatalf("npm proxy --apply: %d %s %s", code, out, stderr)
	}
	npmrc, _ := os.ReadFile(filepath.Join(home, ".npmrc"))
	if !strings.Contains(string(npmrc), "cafile="+ca.BundlePath(data)) || !strings.Contains(string(npmrc), "https-proxy=http://127.0.0.1:7879") {
		t.Errorf(".npmrc:\n%s", npmrc)
	}
	if _, err := os.Stat(ca.BundlePath(data)); err != nil {
		t.Errorf("--apply did not create the bundle it points npm at: %v", err)
	}
	if !strings.Contains(out, "To undo:") {
		t.Errorf("no undo instructions:\n%s", out)
	}
	code, out, _ = run("npm", "--mode", "proxy", "--apply")
	if code != exitOK || !strings.Contains(out, "unchanged") {
		t.Errorf("second apply: %d\n%s", code, out)
	}
	if code, _, stderr := run("bun"); code != exitError || !strings.Contains(stderr, "unknown client") {
		t.Errorf("unknown client: %d %s", code, stderr)
	}
}

// Compile-time check: the lead's handler fits startForward.
var _ = func(s *proxy.Server) http.Handler { return http.HandlerFunc(s.ServeIntercepted) }
