package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/moatproject/moat/internal/ca"
	"github.com/moatproject/moat/internal/config"
	"github.com/moatproject/moat/proxy/forward"
)

// startForward starts transparent mode on cfg.Server.ProxyListen: moat's CA
// is loaded (created on first use) from the data dir, the combined client
// bundle refreshed next to it, and the forward proxy decrypts the hosts in
// interceptHosts and cfg.Proxy.Intercept, handing their requests to
// intercepted. An entry is "host" (any port) or "host:port" (that port
// only; use it when a registry shares its host with other services, as
// loopback test servers do). It does nothing when the listen address is
// "" or "off". stop shuts the proxy down, tunnels included.
func startForward(ctx context.Context, cfg config.Config, intercepted http.Handler, interceptHosts []string, log *slog.Logger) (addr string, stop func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	listen := cfg.Server.ProxyListen
	if listen == "" || listen == "off" {
		return "", noop, nil
	}
	allow, err := forward.ParsePrefixes(cfg.Proxy.AllowClients)
	if err != nil {
		return "", noop, fmt.Errorf("proxy.allow_clients: %w", err)
	}
	if err := forward.CheckListen(listen, allow); err != nil {
		return "", noop, fmt.Errorf("server.proxy_listen: %w; listen on 127.0.0.1 or set proxy.allow_clients", err)
	}
	if cfg.Proxy.Parent == "" {
		if v := proxiesToSelf(listen, os.Getenv); v != "" {
			return "", noop, fmt.Errorf("moat's own environment sets %s, its own proxy: its upstream requests would loop; unset it where moat runs, or set proxy.parent", v)
		}
	}
	authority, err := ca.Init(cfg.Server.DataDir)
	if err != nil {
		return "", noop, err
	}
	if err := authority.CombinedBundle(authority.BundlePath()); err != nil {
		// Clients can still use ca.crt with NODE_EXTRA_CA_CERTS; say so.
		log.Warn("could not write the combined CA bundle; `moat ca export --bundle` retries", "err", err)
	}
	hosts := append(append([]string(nil), interceptHosts...), cfg.Proxy.Intercept...)
	plog := log.With("component", "proxy")
	p, err := forward.New(forward.Options{
		CA:           authority,
		Intercept:    forward.HostMatcher(hosts),
		Handler:      intercepted,
		Egress:       cfg.Proxy.Egress,
		EgressAllow:  cfg.Proxy.EgressAllow,
		AllowClients: allow,
		Logger:       plog,
	})
	if err != nil {
		return "", noop, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return "", noop, fmt.Errorf("listen %s: %w", listen, err)
	}
	addr = ln.Addr().String()
	go func() {
		if err := p.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			plog.Error("transparent proxy stopped", "err", err)
		}
	}()
	egress := cfg.Proxy.Egress
	if egress == "" {
		egress = forward.EgressTunnel
	}
	log.Info("moat transparent proxy listening", "proxy", "http://"+addr, "intercept", hosts, "egress", egress,
		"ca", authority.CertPath(), "bundle", authority.BundlePath())
	return addr, p.Shutdown, nil
}

// proxiesToSelf returns the proxy variable (NAME=value) of moat's own
// environment that points at listen, or "". A shell that exported the
// client settings of `moat setup env --mode proxy` would otherwise make moat
// send its upstream requests to itself.
func proxiesToSelf(listen string, getenv func(string) string) string {
	lhost, lport, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		v := getenv(k)
		if v == "" {
			continue
		}
		raw := v
		if !strings.Contains(raw, "://") {
			raw = "http://" + raw
		}
		u, err := url.Parse(raw)
		if err != nil || u.Port() != lport {
			continue
		}
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) || strings.EqualFold(h, lhost) {
			return k + "=" + v
		}
	}
	return ""
}
