// Package npmfake is a local fake npm registry for tests: it serves
// packuments (full and abbreviated) and tarballs that the test builds from
// in-memory files, and can inject upstream faults (wrong integrity, truncated
// bodies, slow responses, 5xx, connection resets).
package npmfake

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is an upstream misbehaviour for one tarball.
type Fault int

const (
	FaultNone           Fault = iota
	FaultWrongIntegrity       // serve different bytes than the packument's integrity
	FaultTruncated            // declare the full Content-Length, send half, close
	FaultSlow                 // sleep Registry.SlowDelay before answering
	Fault500                  // answer 500
	FaultReset                // hijack and close the connection without a response
	FaultNoIntegrity          // packument carries neither integrity nor shasum
)

// Version is one published version.
type Version struct {
	Version   string
	Files     map[string]string // path inside package/ → content; package.json generated when absent
	Deps      map[string]string
	Scripts   map[string]string
	Published time.Time
	Fault     Fault
	Tarball   []byte // built by Add
	Integrity string
	Shasum    string
}

// Registry is the fake upstream.
type Registry struct {
	Server    *httptest.Server
	SlowDelay time.Duration

	mu       sync.Mutex
	packages map[string][]*Version // name → versions in publish order
	tags     map[string]map[string]string
	hits     map[string]*atomic.Int64
	down     atomic.Bool
}

// New starts a fake registry on loopback.
func New() *Registry {
	r := &Registry{packages: map[string][]*Version{}, tags: map[string]map[string]string{}, hits: map[string]*atomic.Int64{}, SlowDelay: 3 * time.Second}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// URL is the registry root with a trailing slash.
func (r *Registry) URL() string { return r.Server.URL + "/" }

// Close stops the server.
func (r *Registry) Close() { r.Server.Close() }

// SetDown makes every request fail with a reset (an unreachable upstream).
func (r *Registry) SetDown(down bool) { r.down.Store(down) }

// Hits returns how many times path was requested.
func (r *Registry) Hits(path string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h := r.hits[path]; h != nil {
		return h.Load()
	}
	return 0
}

// Add publishes v under name, building its tarball, and returns it.
func (r *Registry) Add(name string, v Version) *Version {
	if v.Published.IsZero() {
		v.Published = time.Now().Add(-30 * 24 * time.Hour)
	}
	files := map[string]string{}
	for k, c := range v.Files {
		files[k] = c
	}
	if _, ok := files["package.json"]; !ok {
		pj := map[string]any{"name": name, "version": v.Version}
		if len(v.Deps) > 0 {
			pj["dependencies"] = v.Deps
		}
		if len(v.Scripts) > 0 {
			pj["scripts"] = v.Scripts
		}
		b, _ := json.MarshalIndent(pj, "", "  ")
		files["package.json"] = string(b)
	}
	v.Tarball = BuildTarball(files)
	s512 := sha512.Sum512(v.Tarball)
	s1 := sha1.Sum(v.Tarball)
	v.Integrity = "sha512-" + base64.StdEncoding.EncodeToString(s512[:])
	v.Shasum = hex.EncodeToString(s1[:])
	r.mu.Lock()
	defer r.mu.Unlock()
	r.packages[name] = append(r.packages[name], &v)
	if r.tags[name] == nil {
		r.tags[name] = map[string]string{}
	}
	r.tags[name]["latest"] = v.Version
	return &v
}

// AddDir publishes the fixture folder dir (a package.json inside) under name.
func (r *Registry) AddDir(name, version, dir string) (*Version, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.Add(name, Version{Version: version, Files: files}), nil
}

// BuildTarball writes files as an npm-style .tgz under package/.
func BuildTarball(files map[string]string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := files[n]
		_ = tw.WriteHeader(&tar.Header{Name: "package/" + n, Mode: 0o644, Size: int64(len(c)), ModTime: time.Unix(499162500, 0), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(c))
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

func (r *Registry) hit(p string) {
	r.mu.Lock()
	h := r.hits[p]
	if h == nil {
		h = new(atomic.Int64)
		r.hits[p] = h
	}
	r.mu.Unlock()
	h.Add(1)
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	r.hit(req.URL.EscapedPath())
	if r.down.Load() {
		reset(w)
		return
	}
	p := req.URL.EscapedPath()
	if i := strings.Index(p, "/-/"); i > 0 {
		r.serveTarball(w, req, p[1:i], p[i+3:])
		return
	}
	name, err := url.PathUnescape(strings.TrimPrefix(p, "/"))
	if err != nil {
		http.NotFound(w, req)
		return
	}
	r.servePackument(w, req, name)
}

func (r *Registry) servePackument(w http.ResponseWriter, req *http.Request, name string) {
	r.mu.Lock()
	vs := r.packages[name]
	tags := r.tags[name]
	r.mu.Unlock()
	if vs == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"Not found"}`))
		return
	}
	abbrev := strings.Contains(req.Header.Get("Accept"), "application/vnd.npm.install-v1+json")
	base := "http://" + req.Host + "/"
	versions := map[string]any{}
	times := map[string]string{}
	var modified time.Time
	for _, v := range vs {
		dist := map[string]any{"tarball": base + tarballPath(name, v.Version)}
		if v.Fault != FaultNoIntegrity {
			dist["integrity"] = v.Integrity
			dist["shasum"] = v.Shasum
		}
		doc := map[string]any{"name": name, "version": v.Version, "dist": dist}
		if len(v.Deps) > 0 {
			doc["dependencies"] = v.Deps
		}
		if len(v.Scripts) > 0 {
			if abbrev {
				doc["hasInstallScript"] = true
			} else {
				doc["scripts"] = v.Scripts
			}
		}
		versions[v.Version] = doc
		times[v.Version] = v.Published.UTC().Format(time.RFC3339Nano)
		if v.Published.After(modified) {
			modified = v.Published
		}
	}
	out := map[string]any{"name": name, "dist-tags": tags, "versions": versions, "modified": modified.UTC().Format(time.RFC3339Nano)}
	if abbrev {
		w.Header().Set("Content-Type", "application/vnd.npm.install-v1+json")
	} else {
		times["created"] = vs[0].Published.UTC().Format(time.RFC3339Nano)
		times["modified"] = modified.UTC().Format(time.RFC3339Nano)
		out["time"] = times
		out["readme"] = "# " + name
		w.Header().Set("Content-Type", "application/json")
	}
	body, _ := json.Marshal(out)
	etag := fmt.Sprintf(`"%x"`, sha1.Sum(body))
	w.Header().Set("ETag", etag)
	if req.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(body)
}

func (r *Registry) serveTarball(w http.ResponseWriter, req *http.Request, escName, file string) {
	name, _ := url.PathUnescape(escName)
	r.mu.Lock()
	vs := r.packages[name]
	r.mu.Unlock()
	base := name[strings.LastIndex(name, "/")+1:]
	var v *Version
	for _, c := range vs {
		if file == base+"-"+c.Version+".tgz" {
			v = c
		}
	}
	if v == nil {
		http.NotFound(w, req)
		return
	}
	body := v.Tarball
	switch v.Fault {
	case FaultWrongIntegrity:
		body = append(append([]byte{}, body...), 0)
	case FaultTruncated:
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		reset(w)
		return
	case FaultSlow:
		select {
		case <-time.After(r.SlowDelay):
		case <-req.Context().Done():
			return
		}
	case Fault500:
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case FaultReset:
		reset(w)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	_, _ = w.Write(body)
}

func tarballPath(name, version string) string {
	base := name[strings.LastIndex(name, "/")+1:]
	return name + "/-/" + base + "-" + version + ".tgz"
}

// reset closes the client connection without a (complete) response.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("npmfake: cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
}
