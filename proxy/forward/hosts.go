package forward

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path"
	"strconv"
	"strings"
)

// Authority normalises a request authority (CONNECT target, Host header or
// absolute-URL host) to "host:port": lower-case host without a trailing
// dot, IPv6 in brackets, defPort when the port is absent. It rejects
// empty hosts, bad ports and characters that have no place in a host name.
func Authority(hostport, defPort string) (string, error) {
	host, port := hostport, defPort
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return "", errors.New("empty host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", fmt.Errorf("bad port %q", port)
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", fmt.Errorf("bad host %q", host)
		}
		return net.JoinHostPort(a.String(), port), nil
	}
	if !validHostName(host) {
		return "", fmt.Errorf("bad host %q", host)
	}
	return net.JoinHostPort(host, port), nil
}

// validHostName accepts lower-case DNS names (underscores allowed, as
// some internal names have them) and dotted IPv4 addresses.
func validHostName(host string) bool {
	if len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// HostMatcher returns a predicate over normalised authorities ("host:port",
// see Authority) for patterns that are host names or globs, with or
// without a port: "registry.example.com" matches it on any port,
// "127.0.0.1:8443" only that port, "*.example.com" any name ending in
// ".example.com" (path.Match syntax). Patterns that do not parse never
// match.
func HostMatcher(patterns []string) func(hostport string) bool {
	type pat struct{ host, port string }
	var pats []pat
	for _, raw := range patterns {
		raw = strings.TrimSpace(raw)
		if checkPattern(raw) != nil {
			continue
		}
		h, p := splitPattern(raw)
		pats = append(pats, pat{h, p})
	}
	return func(hostport string) bool {
		host, port, err := net.SplitHostPort(hostport)
		if err != nil {
			return false
		}
		for _, pt := range pats {
			if pt.port != "" && pt.port != port {
				continue
			}
			if pt.host == host {
				return true
			}
			if ok, _ := path.Match(pt.host, host); ok {
				return true
			}
		}
		return false
	}
}

// splitPattern separates an optional port from a host pattern and
// normalises the host part like Authority does.
func splitPattern(raw string) (host, port string) {
	host = raw
	if h, p, err := net.SplitHostPort(raw); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(raw, "[") && strings.HasSuffix(raw, "]") {
		host = raw[1 : len(raw)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.String()
	}
	return host, port
}

func checkPattern(raw string) error {
	h, p := splitPattern(raw)
	if h == "" {
		return fmt.Errorf("empty host pattern %q", raw)
	}
	if _, err := path.Match(h, ""); err != nil {
		return fmt.Errorf("host pattern %q: %w", raw, err)
	}
	if p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("host pattern %q: bad port", raw)
		}
	}
	return nil
}

// CheckListen returns ErrOpenProxy when addr (host:port) is not a loopback
// address and allow is empty: a forward proxy reachable from other hosts
// must name the clients it serves.
func CheckListen(addr string, allow []netip.Prefix) error {
	if len(allow) > 0 {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("forward: listen address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Unmap().IsLoopback() {
		return nil
	}
	return fmt.Errorf("forward: %s: %w", addr, ErrOpenProxy)
}

// ParsePrefixes parses CIDR strings (a bare address means one host).
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR prefix nor an address", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
