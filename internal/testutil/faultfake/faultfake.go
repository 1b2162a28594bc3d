// Package faultfake is a hostile upstream for fault-injection tests: one
// loopback server that speaks just enough of the npm registry (packuments
// and tarballs under /npm/) and of the PyPI simple API (PEP 691 JSON pages
// under /simple/, files under /files/) to feed moat, and misbehaves on
// demand, per path: delays, error statuses, connection resets, truncated
// and oversized bodies, wrong bytes, garbage documents and bodies trickled
// slowly. It counts requests and body bytes sent per path.
//
// Only unscoped npm names are supported; PyPI project names are taken as
// already normalised.
package faultfake

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is one way of misbehaving.
type Kind int

const (
	None            Kind = iota
	Delay                // wait Fault.Delay before the response headers, then answer normally
	Status               // answer Fault.Status (e.g. 500, 503) with a short text body
	Reset                // close the connection (TCP RST) without answering
	Truncate             // declare the full Content-Length, send half the body, close the connection
	WrongBytes           // answer 200 with the body's last byte flipped
	Oversize             // answer 200 with Fault.Size filler bytes and a Content-Length
	OversizeChunked      // the same without a Content-Length (chunked)
	Trickle              // send the real body Fault.Chunk bytes at a time, Fault.Delay apart
	Malformed            // answer 200 with a body that is no valid document
)

var kindNames = [...]string{"none", "delay", "status", "reset", "truncate", "wrong-bytes", "oversize", "oversize-chunked", "trickle", "malformed"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Fault says how one path misbehaves.
type Fault struct {
	Kind   Kind
	Delay  time.Duration // Delay: before the headers; Trickle: between chunks
	Status int           // Status: the status code
	Size   int64         // Oversize, OversizeChunked: filler bytes sent
	Chunk  int           // Trickle: bytes per write (default 1)
}

// Server is the fake upstream.
type Server struct {
	srv *httptest.Server

	mu     sync.Mutex
	npm    map[string][]*Tarball // name → versions in publish order
	pypi   map[string][]*File    // project → files
	blobs  map[string][]byte     // artifact path → bytes
	faults map[string]Fault
	hits   map[string]*atomic.Int64
	sent   map[string]*atomic.Int64
}

// Tarball is one published npm version.
type Tarball struct {
	Name, Version string
	Data          []byte
	Integrity     string // sha512 SRI
	Shasum        string // sha1 hex
}

// Path is the tarball's path on the server.
func (t *Tarball) Path() string { return TarballPath(t.Name, t.Version) }

// File is one PyPI distribution file.
type File struct {
	Project, Filename string
	Data              []byte
	SHA256            string
}

// Path is the file's path on the server.
func (f *File) Path() string { return FilePath(f.Filename) }

// New starts a server on loopback.
func New() *Server {
	s := &Server{
		npm: map[string][]*Tarball{}, pypi: map[string][]*File{}, blobs: map[string][]byte{},
		faults: map[string]Fault{}, hits: map[string]*atomic.Int64{}, sent: map[string]*atomic.Int64{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// CloseClientConnections drops every open connection (a dying upstream).
func (s *Server) CloseClientConnections() { s.srv.CloseClientConnections() }

// URL is the server root, without a trailing slash.
func (s *Server) URL() string { return s.srv.URL }

// NPMRoot is the npm registry root, with a trailing slash.
func (s *Server) NPMRoot() string { return s.srv.URL + "/npm/" }

// PyPIRoot is the simple index root, with a trailing slash.
func (s *Server) PyPIRoot() string { return s.srv.URL + "/simple/" }

// PackumentPath is the path of name's packument.
func PackumentPath(name string) string { return "/npm/" + name }

// TarballPath is the path of name@version's tarball.
func TarballPath(name, version string) string {
	return "/npm/" + name + "/-/" + name + "-" + version + ".tgz"
}

// PagePath is the path of a project's index page.
func PagePath(project string) string { return "/simple/" + project + "/" }

// FilePath is the path of a distribution file.
func FilePath(filename string) string { return "/files/" + filename }

// AddTarball publishes tgz as name@version.
func (s *Server) AddTarball(name, version string, tgz []byte) *Tarball {
	s512 := sha512.Sum512(tgz)
	s1 := sha1.Sum(tgz)
	t := &Tarball{Name: name, Version: version, Data: tgz,
		Integrity: "sha512-" + base64.StdEncoding.EncodeToString(s512[:]), Shasum: hex.EncodeToString(s1[:])}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.npm[name] = append(s.npm[name], t)
	s.blobs[t.Path()] = tgz
	return t
}

// AddFile publishes data as filename of project.
func (s *Server) AddFile(project, filename string, data []byte) *File {
	sum := sha256.Sum256(data)
	f := &File{Project: project, Filename: filename, Data: data, SHA256: hex.EncodeToString(sum[:])}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pypi[project] = append(s.pypi[project], f)
	s.blobs[f.Path()] = data
	return f
}

// Set makes path misbehave per f; a zero Fault clears it.
func (s *Server) Set(path string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Kind == None {
		delete(s.faults, path)
		return
	}
	s.faults[path] = f
}

// Hits is how many requests path received.
func (s *Server) Hits(path string) int64 { return s.counter(s.hits, path).Load() }

// Sent is how many body bytes were written for path, all requests together.
func (s *Server) Sent(path string) int64 { return s.counter(s.sent, path).Load() }

func (s *Server) counter(m map[string]*atomic.Int64, path string) *atomic.Int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := m[path]
	if c == nil {
		c = new(atomic.Int64)
		m[path] = c
	}
	return c
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	s.counter(s.hits, p).Add(1)
	s.mu.Lock()
	f := s.faults[p]
	blob, isBlob := s.blobs[p]
	s.mu.Unlock()

	var body []byte
	ctype := "application/octet-stream"
	switch {
	case isBlob:
		body = blob
	case strings.HasPrefix(p, "/npm/") && !strings.Contains(p, "/-/"):
		body = s.packument(strings.TrimPrefix(p, "/npm/"), "http://"+r.Host)
		ctype = "application/json"
	case strings.HasPrefix(p, "/simple/") && strings.HasSuffix(p, "/"):
		body = s.page(strings.Trim(strings.TrimPrefix(p, "/simple/"), "/"), "http://"+r.Host)
		ctype = "application/vnd.pypi.simple.v1+json"
	}
	if body == nil {
		http.NotFound(w, r)
		return
	}
	sent := s.counter(s.sent, p)
	switch f.Kind {
	case Delay:
		if !sleep(r, f.Delay) {
			return
		}
	case Status:
		http.Error(w, "fault injected", f.Status)
		return
	case Reset:
		hangUp(w, true)
		return
	case Truncate:
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		n, _ := w.Write(body[:len(body)/2])
		sent.Add(int64(n))
		w.(http.Flusher).Flush()
		hangUp(w, false)
		return
	case WrongBytes:
		body = append([]byte(nil), body...)
		body[len(body)-1] ^= 0xff
	case Oversize, OversizeChunked:
		w.Header().Set("Content-Type", ctype)
		if f.Kind == Oversize {
			w.Header().Set("Content-Length", fmt.Sprint(f.Size))
		}
		w.WriteHeader(http.StatusOK)
		filler := bytes.Repeat([]byte("x"), 32<<10)
		for left := f.Size; left > 0; {
			chunk := filler[:min(left, int64(len(filler)))]
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
			left -= int64(n)
		}
		return
	case Trickle:
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		chunk := max(f.Chunk, 1)
		for off := 0; off < len(body); off += chunk {
			n, err := w.Write(body[off:min(off+chunk, len(body))])
			sent.Add(int64(n))
			if err != nil {
				return
			}
			w.(http.Flusher).Flush()
			if off+chunk < len(body) && !sleep(r, f.Delay) {
				return
			}
		}
		return
	case Malformed:
		body = []byte(`{"name": "broken", "versions": {"1.0.0": [` + "\x00\xff")
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	n, _ := w.Write(body)
	sent.Add(int64(n))
}

// packument renders name's full packument (with publish times), or nil.
func (s *Server) packument(name, base string) []byte {
	s.mu.Lock()
	vs := append([]*Tarball(nil), s.npm[name]...)
	s.mu.Unlock()
	if len(vs) == 0 {
		return nil
	}
	published := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	versions := map[string]any{}
	times := map[string]string{"created": published.Format(time.RFC3339), "modified": published.Format(time.RFC3339)}
	for _, v := range vs {
		versions[v.Version] = map[string]any{
			"name": name, "version": v.Version,
			"dist": map[string]string{"tarball": base + v.Path(), "integrity": v.Integrity, "shasum": v.Shasum},
		}
		times[v.Version] = published.Format(time.RFC3339)
	}
	doc := map[string]any{"name": name, "dist-tags": map[string]string{"latest": vs[len(vs)-1].Version}, "versions": versions, "time": times}
	b, _ := json.Marshal(doc)
	return b
}

// page renders project's PEP 691 JSON page, or nil.
func (s *Server) page(project, base string) []byte {
	s.mu.Lock()
	fs := append([]*File(nil), s.pypi[project]...)
	s.mu.Unlock()
	if len(fs) == 0 {
		return nil
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Filename < fs[j].Filename })
	type file struct {
		Filename   string            `json:"filename"`
		URL        string            `json:"url"`
		Hashes     map[string]string `json:"hashes"`
		Size       int               `json:"size"`
		UploadTime string            `json:"upload-time"`
	}
	var files []file
	for _, f := range fs {
		files = append(files, file{Filename: f.Filename, URL: base + f.Path(), Hashes: map[string]string{"sha256": f.SHA256},
			Size: len(f.Data), UploadTime: "2024-01-02T03:04:05.000000Z"})
	}
	b, _ := json.Marshal(map[string]any{"meta": map[string]string{"api-version": "1.1"}, "name": project, "files": files, "versions": []string{}})
	return b
}

// Tgz builds an npm-style .tgz with files under package/ (a package.json
// for name@version is added when absent). It compresses fast: tests use it
// for multi-megabyte tarballs.
func Tgz(name, version string, files map[string][]byte) []byte {
	all := map[string][]byte{}
	for k, v := range files {
		all[k] = v
	}
	if _, ok := all["package.json"]; !ok {
		all["package.json"] = fmt.Appendf(nil, `{"name":%q,"version":%q}`, name, version)
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for _, n := range names {
		_ = tw.WriteHeader(&tar.Header{Name: "package/" + n, Mode: 0o644, Size: int64(len(all[n])), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg})
		_, _ = tw.Write(all[n])
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// hangUp closes the client connection wherever the response is: with an
// RST when rst is set, else with a plain FIN.
func hangUp(w http.ResponseWriter, rst bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic("faultfake: cannot hijack: " + err.Error())
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok && rst {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
