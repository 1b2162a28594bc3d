package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"time"

	"github.com/moatproject/moat/internal/audit"
	"github.com/moatproject/moat/internal/config"
	"github.com/moatproject/moat/internal/gctune"
	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/proxy"
	"github.com/moatproject/moat/proxy/admin"
	"github.com/moatproject/moat/scan"
)

// commonFlags are the flags every store-touching command takes.
type commonFlags struct {
	config string
	data   string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "YAML config `file` (see config.example.yaml)")
	fs.StringVar(&c.data, "data", "", "data `dir` (default "+config.DefaultDataDir()+")")
}

// load reads config file and environment, then applies the common flags.
func (c *commonFlags) load() (config.Config, error) {
	cfg, err := config.Load(c.config, os.Environ())
	if err != nil {
		return cfg, err
	}
	if c.data != "" {
		cfg.Server.DataDir = c.data
	}
	return cfg, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("moat serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	listen := fs.String("listen", "", "registry-mode listen `address` (default 127.0.0.1:7878)")
	proxyListen := fs.String("proxy-listen", "", "transparent-proxy listen `address` (default 127.0.0.1:7879; \"off\" disables)")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintln(stderr, "moat:", err)
		return exitError
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if *proxyListen != "" {
		cfg.Server.ProxyListen = *proxyListen
	}
	// A process-wide setting: made here rather than in serve, which tests
	// run in their own process.
	gc := gcTuner(cfg.Server, os.Getenv("GOGC"), os.Getenv("GOMEMLIMIT"))
	if err := serve(ctx, cfg, serveEnv{stderr: stderr, gc: gc}); err != nil {
		fmt.Fprintln(stderr, "moat:", err)
		return exitError
	}
	return exitOK
}

// serveEnv carries what the serve loop needs from its caller.
type serveEnv struct {
	stderr io.Writer
	// ready, if set, is called with the bound registry address (tests listen
	// on port 0).
	ready func(addr string)
	// gc follows scans and parses with the collector's settings (nil: the
	// settings are left alone).
	gc *gctune.Tuner
}

func newLogger(cfg config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs registry mode until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, cfg config.Config, env serveEnv) error {
	log := newLogger(cfg.Log, env.stderr)
	if cfg.NPM.Upstream == "" {
		up, err := npmConfiguredRegistry(ctx)
		if err != nil {
			return fmt.Errorf("npm.upstream is not set and npm's own registry could not be read (%w); set npm.upstream in the config or MOAT_NPM_UPSTREAM", err)
		}
		cfg.NPM.Upstream = up
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}

	st, err := store.Open(cfg.Server.DataDir, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	auditLog, err := audit.Open(cfg.Server.DataDir, audit.Options{})
	if err != nil {
		return err
	}
	defer auditLog.Close()

	sopts := scannerOptionsFrom(cfg, log)
	if env.gc != nil {
		sopts.OnParse = env.gc.Parse
	}
	scanner, closeScanner, err := buildScanner(sopts)
	if err != nil {
		return err
	}
	defer closeScanner()

	engine, err := policy.New(cfg.Policy, policy.Deps{Overrides: st, Feed: st.PolicyFeed(), Logger: log})
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	client, err := proxy.NewUpstreamClient(cfg.Upstream.CAFile, cfg.Proxy.Parent)
	if err != nil {
		return err
	}
	token, err := admin.LoadOrCreateToken(cfg.Server.DataDir)
	if err != nil {
		return err
	}
	adm, err := admin.New(admin.Options{Store: st, Audit: auditLog, Token: token, Version: version, PolicyMode: string(cfg.Policy.Mode), Logger: log})
	if err != nil {
		return err
	}
	metrics := proxy.NewMetrics()
	srv, err := proxy.New(proxy.Options{
		Store: st, Scanner: withGCTuner(scanner, env.gc), Policy: engine, Audit: auditLog, Client: client, Logger: log, Metrics: metrics, Admin: adm,
		NPMUpstream: cfg.NPM.Upstream, NPMToken: cfg.NPM.Token, NPMPrefetch: cfg.NPM.Prefetch, PyPIUpstream: cfg.PyPI.Upstream,
		PublicURL: cfg.Server.PublicURL, MetadataMaxAge: cfg.NPM.MetadataMaxAge, MetaTimeout: cfg.Upstream.Timeout,
		MaxMetaBytes: cfg.Upstream.MaxMetadataBytes, MaxArtifact: cfg.Upstream.MaxArtifactBytes,
		FetchTimeout: cfg.Upstream.ArtifactTimeout, ScanWorkers: cfg.Scan.Workers,
		NeedPublishTimes:     cfg.Policy.MinReleaseAge > 0,
		AllowMissingPyPIHash: cfg.PyPI.MissingHash == "allow",
		Version:              version,
		OpenBlobs:            proxy.DefaultOpenBlobs,
	})
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Server.Listen, err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 15 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnContext:       proxy.ConnContext,
	}
	addr := ln.Addr().String()
	log.Info("moat registry mode listening", "npm", "http://"+addr+"/npm/", "pypi", "http://"+addr+"/pypi/simple/",
		"npm_upstream", proxy.RedactURL(cfg.NPM.Upstream), "pypi_upstream", cfg.PyPI.Upstream, "data", cfg.Server.DataDir,
		"policy_mode", cfg.Policy.Mode, "scanner", scanner.Version())
	if env.ready != nil {
		env.ready(addr)
	}
	_, stopForward, err := startForward(ctx, cfg, http.HandlerFunc(srv.ServeIntercepted), srv.InterceptHosts(), log)
	if err != nil {
		ln.Close()
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		_ = stopForward(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ferr := stopForward(sctx)
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return ferr
}

// gcTuner applies the collector settings of cfg: server.gc_percent (while a
// scan is in flight), server.idle_gc_percent (otherwise; 0: the same) and
// server.memory_limit_bytes (Go's soft limit, lowered by each large parse's C
// heap while it runs). GOGC (gogc, the environment's value) wins over both
// percents and GOMEMLIMIT over the limit: the runtime has then applied them
// and they are left alone. A percent that is not positive means the
// runtime's default, 100. It returns the Tuner that follows scans and
// parses (nil: nothing to follow).
func gcTuner(cfg config.Server, gogc, gomemlimit string) *gctune.Tuner {
	var c gctune.Config
	if gogc == "" {
		busy, idle := cfg.GCPercent, cfg.IdleGCPercent
		if busy <= 0 {
			busy = 100
		}
		if idle <= 0 {
			idle = busy
		}
		if busy == idle {
			debug.SetGCPercent(busy)
		} else {
			c.BusyPercent, c.IdlePercent = busy, idle
		}
	}
	if gomemlimit == "" {
		c.MemoryLimit = cfg.MemoryLimitBytes
	}
	return gctune.New(c)
}

// tunedScanner holds the busy GC percent while it scans.
type tunedScanner struct {
	proxy.Scanner
	gc *gctune.Tuner
}

func (s tunedScanner) Scan(ctx context.Context, in scan.Input) *scan.Report {
	defer s.gc.Scan()()
	return s.Scanner.Scan(ctx, in)
}

// withGCTuner wraps s so that env.gc sees its scans (s itself without one).
func withGCTuner(s proxy.Scanner, gc *gctune.Tuner) proxy.Scanner {
	if gc == nil {
		return s
	}
	return tunedScanner{Scanner: s, gc: gc}
}

// npmConfiguredRegistry asks npm which registry it uses, so moat chains to
// whatever the user already has (public, Artifactory, Verdaccio...).
func npmConfiguredRegistry(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "npm", "config", "get", "registry").Output()
	if err != nil {
		return "", fmt.Errorf("npm config get registry: %w", err)
	}
	reg := strings.TrimSpace(string(out))
	if !strings.HasPrefix(reg, "http://") && !strings.HasPrefix(reg, "https://") {
		return "", fmt.Errorf("npm config get registry printed %q", reg)
	}
	return reg, nil
}
