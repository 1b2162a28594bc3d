package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/moatproject/moat/internal/ca"
	"github.com/moatproject/moat/internal/clientsetup"
	"github.com/moatproject/moat/internal/config"
)

const setupUsage = `usage: moat setup npm|yarn|pnpm|pip|uv|poetry|env [--mode registry|proxy] [--apply] [--url URL]

Prints what to set so the client goes through moat. --apply writes the
user-level config files instead (each backed up first) and prints how to
undo. --url is moat's address as clients reach it: the registry base in
registry mode (default http://<server.listen>), the proxy in proxy mode
(default http://<server.proxy_listen>).
`

// runSetup implements `moat setup`.
func runSetup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return setupWith(args, stdout, stderr, setupEnv{home: os.Getenv("HOME"), getenv: os.Getenv, now: time.Now})
}

// setupEnv is what setup reads from the process, replaceable in tests.
type setupEnv struct {
	home   string
	getenv func(string) string
	now    func() time.Time
}

func setupWith(args []string, stdout, stderr io.Writer, env setupEnv) int {
	fs := flag.NewFlagSet("moat setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, setupUsage); fs.PrintDefaults() }
	var cf commonFlags
	cf.register(fs)
	mode := fs.String("mode", "registry", "`registry` (point clients at moat) or proxy (HTTPS_PROXY + moat's CA)")
	apply := fs.Bool("apply", false, "write the user-level config files (backed up first)")
	rawURL := fs.String("url", "", "moat's `URL` as clients reach it")
	client, err := parseSubcommand(fs, args)
	if err != nil {
		return exitError
	}
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintln(stderr, "moat:", err)
		return exitError
	}
	p, err := setupParams(cfg, clientsetup.Mode(*mode), *rawURL, env)
	if err != nil {
		fmt.Fprintln(stderr, "moat:", err)
		return exitError
	}
	plan, err := clientsetup.For(client, clientsetup.Mode(*mode), p)
	if err != nil {
		fmt.Fprintln(stderr, "moat setup:", err)
		if errors.Is(err, clientsetup.ErrUnknownClient) {
			fmt.Fprint(stderr, "\n", setupUsage)
		}
		return exitError
	}
	if !*apply {
		if clientsetup.Mode(*mode) == clientsetup.ModeProxy {
			if _, err := ca.Load(cfg.Server.DataDir); err != nil {
				fmt.Fprintf(stdout, "# moat's CA does not exist yet: run `moat ca init` first (or --apply, which creates it).\n")
			}
		}
		if err := plan.Render(stdout, p.Files); err != nil {
			return exitError
		}
		return exitOK
	}
	if clientsetup.Mode(*mode) == clientsetup.ModeProxy {
		// The files about to be written name the CA and the bundle: make them.
		c, err := ca.Init(cfg.Server.DataDir)
		if err != nil {
			fmt.Fprintln(stderr, "moat:", err)
			return exitError
		}
		if err := c.CombinedBundle(c.BundlePath()); err != nil {
			fmt.Fprintln(stderr, "moat:", err)
			return exitError
		}
	}
	if len(plan.Files) == 0 {
		fmt.Fprintf(stdout, "moat setup %s: nothing user-level to write; run:\n", client)
		for _, c := range plan.Commands {
			fmt.Fprintln(stdout, "  "+c)
		}
		return exitOK
	}
	res, err := clientsetup.Apply(plan, env.now())
	if res != nil {
		_ = res.Render(stdout, p.Files)
	}
	if err != nil {
		fmt.Fprintln(stderr, "moat setup:", err)
		return exitError
	}
	return exitOK
}

// setupParams derives moat's URLs and CA paths from the config.
func setupParams(cfg config.Config, mode clientsetup.Mode, rawURL string, env setupEnv) (clientsetup.Params, error) {
	p := clientsetup.Params{
		RegistryURL: baseURLFor(cfg.Server.Listen),
		ProxyURL:    baseURLFor(cfg.Server.ProxyListen),
		CACert:      ca.CertPath(cfg.Server.DataDir),
		Bundle:      ca.BundlePath(cfg.Server.DataDir),
		Files:       clientsetup.DefaultLocations(env.home, env.getenv),
	}
	if cfg.Server.PublicURL != "" {
		p.RegistryURL = strings.TrimSuffix(cfg.Server.PublicURL, "/")
	}
	if rawURL != "" {
		if err := checkHTTPURL(rawURL); err != nil {
			return p, fmt.Errorf("--url: %w", err)
		}
		if mode == clientsetup.ModeProxy {
			p.ProxyURL = strings.TrimSuffix(rawURL, "/")
		} else {
			p.RegistryURL = strings.TrimSuffix(rawURL, "/")
		}
	}
	if mode == clientsetup.ModeProxy && p.ProxyURL == "" {
		return p, errors.New("server.proxy_listen is off; set it or pass --url")
	}
	if env.home == "" {
		return p, errors.New("HOME is not set")
	}
	return p, nil
}

// baseURLFor turns a listen address into the URL a local client uses:
// wildcard hosts become 127.0.0.1.
func baseURLFor(listen string) string {
	if listen == "" || listen == "off" {
		return ""
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}
