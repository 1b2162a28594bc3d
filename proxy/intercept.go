package proxy

import (
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/moatproject/moat/proxy/pypi"
)

// DefaultPyPIFilesHost is where the public index keeps its files; requests
// to it are intercepted in transparent mode alongside the index host.
const DefaultPyPIFilesHost = "files.pythonhosted.org"

// InterceptHosts lists the registry hosts transparent mode must decrypt and
// route into ServeIntercepted: the npm upstream, the PyPI index, and the
// PyPI files host. An upstream URL with an explicit port yields "host:port"
// (only that port is intercepted), else the bare host name.
func (s *Server) InterceptHosts() []string {
	hostOf := func(u *url.URL) string {
		if u.Port() != "" {
			return u.Host
		}
		return u.Hostname()
	}
	hosts := []string{hostOf(s.npm.upstream), hostOf(s.pypi.upstream)}
	if s.pypi.upstream.Hostname() == "pypi.org" {
		hosts = append(hosts, DefaultPyPIFilesHost)
	}
	return hosts
}

// ServeIntercepted serves a request that transparent mode decrypted (or
// received as plain-HTTP proxy traffic) for a registry host. r.Host is the
// registry's host and the path its native path. The same handlers and gate
// as registry mode answer it; metadata is filtered but keeps the registry's
// own URLs, so clients keep talking to the real hosts through the proxy.
func (s *Server) ServeIntercepted(w http.ResponseWriter, r *http.Request) {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	host := withPort(r.Host, scheme)
	npmUp, pypiUp := s.npm.upstream, s.pypi.upstream
	switch {
	case strings.EqualFold(host, withPort(npmUp.Host, npmUp.Scheme)) && strings.HasPrefix(r.URL.EscapedPath(), npmUp.EscapedPath()):
		p := "/" + strings.TrimPrefix(r.URL.EscapedPath(), npmUp.EscapedPath())
		base := scheme + "://" + r.Host + strings.TrimSuffix(npmUp.EscapedPath(), "/")
		s.instrumented("npm", func(w http.ResponseWriter, r *http.Request) { s.npm.serve(w, r, p, base) }).ServeHTTP(w, r)
	case strings.EqualFold(host, withPort(pypiUp.Host, pypiUp.Scheme)) && strings.HasPrefix(r.URL.Path, pypiUp.Path):
		rest := strings.TrimPrefix(r.URL.Path, pypiUp.Path)
		s.instrumented("pypi", func(w http.ResponseWriter, r *http.Request) {
			if rest == "" {
				s.pypi.serveRoot(w, r)
				return
			}
			s.pypi.serveProject(w, r, rest, pypiUp.Path, false)
		}).ServeHTTP(w, r)
	case strings.EqualFold(host, withPort(DefaultPyPIFilesHost, scheme)) || strings.EqualFold(host, withPort(pypiUp.Host, pypiUp.Scheme)):
		// A file URL from an index page: route by its file name.
		name := path.Base(r.URL.Path)
		if _, err := pypi.ParseFilename(strings.TrimSuffix(name, ".metadata")); err != nil {
			http.Error(w, "moat: "+host+" is intercepted and "+r.URL.Path+" is not a distribution file", http.StatusNotFound)
			return
		}
		s.instrumented("pypi", func(w http.ResponseWriter, r *http.Request) { s.pypi.serveFileNamed(w, r, "", name) }).ServeHTTP(w, r)
	default:
		http.Error(w, "moat: "+host+" is intercepted but is not a registry moat serves", http.StatusBadGateway)
	}
}

// withPort returns host:port, adding the scheme's default port.
func withPort(hostport, scheme string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	if scheme == "https" {
		return net.JoinHostPort(hostport, "443")
	}
	return net.JoinHostPort(hostport, "80")
}

func (s *Server) instrumented(route string, f http.HandlerFunc) http.Handler {
	return instrument(route, s.o.Metrics, f)
}
