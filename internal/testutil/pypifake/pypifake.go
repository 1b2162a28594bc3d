// Package pypifake is a local fake PyPI for tests: a PEP 503/691 simple
// index (HTML or JSON, per the request's Accept or forced) with files on
// the same server, real-format wheels and sdists built in memory, and
// injectable faults (wrong or missing hashes, malformed pages, 5xx, slow).
package pypifake

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is a misbehaviour of the index page or of one file.
type Fault int

const (
	FaultNone      Fault = iota
	FaultWrongHash       // file: the index's sha256 does not match the bytes
	FaultNoHash          // file: the index entry has no hash
	FaultMalformed       // project: the index page is garbage
	Fault503             // project or file: answer 503
	FaultSlow            // project or file: sleep SlowDelay first
)

// File is one distribution file.
type File struct {
	Filename       string
	Data           []byte
	RequiresPython string
	Uploaded       time.Time
	Fault          Fault
	Metadata       []byte // PEP 658 core metadata, served at <url>.metadata when set
}

// Index is the fake upstream.
type Index struct {
	Server    *httptest.Server
	SlowDelay time.Duration
	// Force answers every page as "json" or "html" regardless of Accept.
	Force string

	mu       sync.Mutex
	projects map[string][]*File
	faults   map[string]Fault
	hits     map[string]*atomic.Int64
}

// New starts the fake on loopback.
func New() *Index {
	ix := &Index{projects: map[string][]*File{}, faults: map[string]Fault{}, hits: map[string]*atomic.Int64{}, SlowDelay: 3 * time.Second}
	ix.Server = httptest.NewServer(http.HandlerFunc(ix.serve))
	return ix
}

// URL is the simple index root, e.g. http://127.0.0.1:PORT/simple/.
func (ix *Index) URL() string { return ix.Server.URL + "/simple/" }

// Close stops the server.
func (ix *Index) Close() { ix.Server.Close() }

// Normalize is PEP 503 name normalisation.
func Normalize(name string) string {
	return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(name, "-"))
}

// Add publishes f under project.
func (ix *Index) Add(project string, f *File) {
	if f.Uploaded.IsZero() {
		f.Uploaded = time.Now().Add(-30 * 24 * time.Hour)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	n := Normalize(project)
	ix.projects[n] = append(ix.projects[n], f)
}

// SetProjectFault makes the project's index page misbehave.
func (ix *Index) SetProjectFault(project string, f Fault) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.faults[Normalize(project)] = f
}

// Hits counts requests for path.
func (ix *Index) Hits(path string) int64 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if h := ix.hits[path]; h != nil {
		return h.Load()
	}
	return 0
}

func (ix *Index) serve(w http.ResponseWriter, r *http.Request) {
	ix.mu.Lock()
	h := ix.hits[r.URL.Path]
	if h == nil {
		h = new(atomic.Int64)
		ix.hits[r.URL.Path] = h
	}
	ix.mu.Unlock()
	h.Add(1)
	switch {
	case strings.HasPrefix(r.URL.Path, "/simple/"):
		ix.servePage(w, r, strings.Trim(strings.TrimPrefix(r.URL.Path, "/simple/"), "/"))
	case strings.HasPrefix(r.URL.Path, "/files/"):
		ix.serveFile(w, r, strings.TrimPrefix(r.URL.Path, "/files/"))
	default:
		http.NotFound(w, r)
	}
}

func (ix *Index) wait(r *http.Request) bool {
	select {
	case <-time.After(ix.SlowDelay):
		return true
	case <-r.Context().Done():
		return false
	}
}

func (ix *Index) servePage(w http.ResponseWriter, r *http.Request, name string) {
	ix.mu.Lock()
	files := append([]*File(nil), ix.projects[name]...)
	fault := ix.faults[name]
	ix.mu.Unlock()
	if files == nil {
		http.NotFound(w, r)
		return
	}
	switch fault {
	case Fault503:
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	case FaultSlow:
		if !ix.wait(r) {
			return
		}
	}
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/vnd.pypi.simple.v1+json")
	if ix.Force != "" {
		asJSON = ix.Force == "json"
	}
	if fault == FaultMalformed {
		if asJSON {
			w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
			fmt.Fprint(w, `{"meta": {"api-version": "1.1"}, "name": "`+name+`", "files": [{"filename": 42}`)
		} else {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body><a href=\"\x00\">\xff\xfe broken")
		}
		return
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Filename < files[j].Filename })
	if asJSON {
		type jf struct {
			Filename       string            `json:"filename"`
			URL            string            `json:"url"`
			Hashes         map[string]string `json:"hashes"`
			RequiresPython string            `json:"requires-python,omitempty"`
			CoreMetadata   any               `json:"core-metadata,omitempty"`
			Size           int               `json:"size"`
			UploadTime     string            `json:"upload-time"`
		}
		doc := map[string]any{"meta": map[string]string{"api-version": "1.1"}, "name": name}
		var out []jf
		for _, f := range files {
			j := jf{Filename: f.Filename, URL: "../../files/" + f.Filename, Hashes: map[string]string{}, RequiresPython: f.RequiresPython, Size: len(f.Data), UploadTime: f.Uploaded.UTC().Format("2006-01-02T15:04:05.000000Z")}
			if h := fileHash(f); h != "" {
				j.Hashes["sha256"] = h
			}
			if f.Metadata != nil {
				s := sha256.Sum256(f.Metadata)
				j.CoreMetadata = map[string]string{"sha256": hex.EncodeToString(s[:])}
			}
			out = append(out, j)
		}
		doc["files"] = out
		doc["versions"] = []string{}
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		_ = json.NewEncoder(w).Encode(doc)
		return
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Links for " + name + "</title></head><body><h1>Links for " + name + "</h1>\n")
	for _, f := range files {
		href := "/files/" + f.Filename
		if h := fileHash(f); h != "" {
			href += "#sha256=" + h
		}
		b.WriteString(`<a href="` + html.EscapeString(href) + `"`)
		if f.RequiresPython != "" {
			b.WriteString(` data-requires-python="` + html.EscapeString(f.RequiresPython) + `"`)
		}
		if f.Metadata != nil {
			s := sha256.Sum256(f.Metadata)
			b.WriteString(` data-core-metadata="sha256=` + hex.EncodeToString(s[:]) + `"`)
		}
		b.WriteString(">" + html.EscapeString(f.Filename) + "</a><br/>\n")
	}
	b.WriteString("</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, b.String())
}

func fileHash(f *File) string {
	switch f.Fault {
	case FaultNoHash:
		return ""
	case FaultWrongHash:
		s := sha256.Sum256(append(append([]byte{}, f.Data...), 'x'))
		return hex.EncodeToString(s[:])
	}
	s := sha256.Sum256(f.Data)
	return hex.EncodeToString(s[:])
}

func (ix *Index) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	meta := strings.HasSuffix(name, ".metadata")
	name = strings.TrimSuffix(name, ".metadata")
	ix.mu.Lock()
	var f *File
	for _, fs := range ix.projects {
		for _, c := range fs {
			if c.Filename == name {
				f = c
			}
		}
	}
	ix.mu.Unlock()
	if f == nil || (meta && f.Metadata == nil) {
		http.NotFound(w, r)
		return
	}
	switch f.Fault {
	case Fault503:
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	case FaultSlow:
		if !ix.wait(r) {
			return
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if meta {
		_, _ = w.Write(f.Metadata)
		return
	}
	_, _ = w.Write(f.Data)
}

// Wheel builds a wheel: files (paths inside the wheel) plus a generated
// dist-info (METADATA, WHEEL, RECORD) for name/version with deps.
func Wheel(name, version string, files map[string]string, deps ...string) (filename string, data, metadata []byte) {
	dist := strings.ReplaceAll(name, "-", "_")
	di := dist + "-" + version + ".dist-info/"
	var md strings.Builder
	md.WriteString("Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n")
	for _, d := range deps {
		md.WriteString("Requires-Dist: " + d + "\n")
	}
	all := map[string]string{}
	for k, v := range files {
		all[k] = v
	}
	all[di+"METADATA"] = md.String()
	all[di+"WHEEL"] = "Wheel-Version: 1.0\nGenerator: moat-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var record strings.Builder
	for _, n := range names {
		s := sha256.Sum256([]byte(all[n]))
		record.WriteString(fmt.Sprintf("%s,sha256=%s,%d\n", n, base64.RawURLEncoding.EncodeToString(s[:]), len(all[n])))
	}
	record.WriteString(di + "RECORD,,\n")
	all[di+"RECORD"] = record.String()
	names = append(names, di+"RECORD")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		fw, _ := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Unix(1700000000, 0)})
		_, _ = fw.Write([]byte(all[n]))
	}
	_ = zw.Close()
	return dist + "-" + version + "-py3-none-any.whl", buf.Bytes(), []byte(md.String())
}

// Sdist builds NAME-VERSION.tar.gz with files under its top folder and a
// generated PKG-INFO.
func Sdist(name, version string, files map[string]string) (filename string, data []byte) {
	top := name + "-" + version + "/"
	all := map[string]string{top + "PKG-INFO": "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n"}
	for k, v := range files {
		all[top+k] = v
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, n := range names {
		_ = tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(all[n])), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(all[n]))
	}
	_ = tw.Close()
	_ = gz.Close()
	return name + "-" + version + ".tar.gz", buf.Bytes()
}
