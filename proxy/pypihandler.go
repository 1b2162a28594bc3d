package proxy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/proxy/pypi"
	"github.com/moatproject/moat/scan"
)

// pypiIndexAccept is what moat asks the upstream index for: JSON (it carries
// PEP 700 upload times), HTML as the fallback. Never conditional headers
// from the client: a 304 would leave nothing to rewrite.
const pypiIndexAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"

// pypiHandler serves the PEP 503/691 index (mounted under /pypi/).
type pypiHandler struct {
	upstream *url.URL // simple index root, trailing slash
	meta     *metaFetcher
	gate     *Gate
	policy   Decider
	base     baseURLFunc
	log      *slog.Logger

	mu     sync.Mutex
	parsed map[string]*parsedProject
}

type parsedProject struct {
	entry    *store.MetaEntry
	proj     *pypi.Project
	files    map[string]*pypi.File // by filename
	versions []string              // version of each of proj.Files; "" = not an installable file name

	mu       sync.Mutex
	rendered map[string][]byte // by format, base URL and hidden-version set
}

// render filters and renders the project page: versions policy refuses are
// left out, file URLs point at base (moat's /pypi/files/...) unless base is
// empty. Renderings are memoised per hidden-version set.
func (h *pypiHandler) render(ctx context.Context, norm string, pp *parsedProject, format pypi.Format, base string) []byte {
	reports := h.gate.VersionReports(ctx, scan.PyPI, norm)
	hidden := map[string]bool{}
	times := map[string]time.Time{}
	for i, v := range pp.versions {
		if v == "" {
			continue
		}
		// A version's age is its first upload; zero when no file says.
		t, seen := times[v]
		if up := pp.proj.Files[i].UploadTime; !seen || (!up.IsZero() && (t.IsZero() || up.Before(t))) {
			times[v] = up
		}
	}
	var hiddenList []string
	for v, t := range times {
		if !h.policy.VisibleInMetadata(policy.Input{Ecosystem: scan.PyPI, Name: norm, Version: v, PublishedAt: t, Report: reports[v]}) {
			hidden[v] = true
			hiddenList = append(hiddenList, v)
		}
	}
	sort.Strings(hiddenList)
	sig := fmt.Sprint(int(format)) + "\x00" + base + "\x00" + strings.Join(hiddenList, "\x00")
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if b, ok := pp.rendered[sig]; ok {
		return b
	}
	out := &pypi.Project{Name: pp.proj.Name, Meta: pp.proj.Meta}
	visible := map[string]bool{}
	for i, f := range pp.proj.Files {
		v := pp.versions[i]
		if v == "" || hidden[v] {
			continue
		}
		if base != "" {
			f.URL = base + url.PathEscape(f.Filename)
		}
		out.Files = append(out.Files, f)
		visible[v] = true
	}
	all := pp.proj.Versions
	if len(all) == 0 { // an HTML page lists no versions: derive them from the files
		all = pp.proj.FileVersions()
	}
	for _, v := range all {
		if visible[v] {
			out.Versions = append(out.Versions, v)
		}
	}
	var body []byte
	if format == pypi.FormatJSON {
		body = pypi.RenderJSON(out)
	} else {
		body = pypi.RenderHTML(out)
	}
	if len(pp.rendered) >= 2 {
		clear(pp.rendered)
	}
	pp.rendered[sig] = body
	return body
}

func newPyPIHandler(up *url.URL, meta *metaFetcher, gate *Gate, pol Decider, base baseURLFunc, log *slog.Logger) *pypiHandler {
	return &pypiHandler{upstream: up, meta: meta, gate: gate, policy: pol, base: base, log: log, parsed: map[string]*parsedProject{}}
}

func (h *pypiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "moat: the PyPI index is read-only; upload to your upstream index directly", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/pypi/simple" || p == "/pypi/simple/":
		h.serveRoot(w, r)
	case strings.HasPrefix(p, "/pypi/simple/"):
		h.serveProject(w, r, strings.TrimPrefix(p, "/pypi/simple/"), "/pypi/simple/", true)
	case strings.HasPrefix(p, "/pypi/files/"):
		h.serveFile(w, r, strings.TrimPrefix(p, "/pypi/files/"))
	default:
		http.Error(w, "moat: not found; the index is at /pypi/simple/", http.StatusNotFound)
	}
}

// serveRoot answers the root index with a short page: pip and uv never read
// the upstream's full project list, and mirroring it (hundreds of thousands
// of links) through moat gains nothing.
func (h *pypiHandler) serveRoot(w http.ResponseWriter, r *http.Request) {
	format, err := pypi.Negotiate(r.Header.Get("Accept"))
	if err != nil {
		http.Error(w, "moat: "+err.Error(), http.StatusNotAcceptable)
		return
	}
	w.Header().Set("Vary", "Accept")
	if format == pypi.FormatJSON {
		w.Header().Set("Content-Type", pypi.ContentTypeJSON)
		fmt.Fprint(w, `{"meta":{"api-version":"1.1"},"projects":[]}`)
		return
	}
	w.Header().Set("Content-Type", pypi.ContentTypeHTML)
	fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\"><title>moat simple index</title></head><body>\n<p>moat proxies project pages at /pypi/simple/&lt;project&gt;/</p>\n</body></html>\n")
}

// serveProject answers a project page. mount is the index path prefix (for
// redirects); with rewrite, file URLs point at moat's /pypi/files/, else
// they keep the upstream's URLs (transparent mode intercepts those hosts).
func (h *pypiHandler) serveProject(w http.ResponseWriter, r *http.Request, rest, mount string, rewrite bool) {
	name := strings.TrimSuffix(rest, "/")
	if name == "" || strings.Contains(name, "/") || !pypi.ValidName(name) {
		http.Error(w, "moat: invalid project name", http.StatusNotFound)
		return
	}
	norm := pypi.NormalizeName(name)
	if norm != name || !strings.HasSuffix(rest, "/") {
		http.Redirect(w, r, mount+norm+"/", http.StatusMovedPermanently)
		return
	}
	format, err := pypi.Negotiate(r.Header.Get("Accept"))
	if err != nil {
		http.Error(w, "moat: "+err.Error(), http.StatusNotAcceptable)
		return
	}
	pp, stale, err := h.project(r, norm, false)
	if err != nil {
		h.failure(w, err)
		return
	}
	base := ""
	if rewrite {
		base = h.base(r) + "/pypi/files/" + norm + "/"
	}
	body := h.render(r.Context(), norm, pp, format, base)
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Cache-Control", "max-age=0, must-revalidate")
	if stale {
		w.Header().Set("Warning", `110 moat "upstream unreachable: serving cached index"`)
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// project returns the parsed upstream page for a normalised project name.
func (h *pypiHandler) project(r *http.Request, norm string, force bool) (*parsedProject, bool, error) {
	key := "pypi:" + norm
	upURL := h.upstream.String() + norm + "/"
	hdr := http.Header{"Accept": {pypiIndexAccept}}
	check := func(b []byte, ct string) error { _, err := parseIndex(b, ct, upURL); return err }
	res, err := h.meta.load(r.Context(), key, upURL, hdr, force, check)
	if err != nil {
		return nil, false, err
	}
	h.mu.Lock()
	pp := h.parsed[key]
	h.mu.Unlock()
	if pp != nil && pp.entry == res.Entry {
		return pp, res.Stale, nil
	}
	proj, err := parseIndex(res.Entry.Body, res.Entry.ContentType, res.Entry.Upstream)
	if err != nil {
		return nil, false, &UpstreamError{Status: http.StatusBadGateway, URL: RedactURL(upURL), Msg: "malformed index page", Err: err}
	}
	pp = &parsedProject{entry: res.Entry, proj: proj, files: map[string]*pypi.File{}, versions: make([]string, len(proj.Files)), rendered: map[string][]byte{}}
	for i := range proj.Files {
		pp.files[proj.Files[i].Filename] = &proj.Files[i]
		if fi, err := pypi.ParseFilename(proj.Files[i].Filename); err == nil {
			pp.versions[i] = fi.Version
		}
	}
	h.mu.Lock()
	evictOver(h.parsed, parsedBudget-len(pp.entry.Body), func(p *parsedProject) int { return p.size() })
	h.parsed[key] = pp
	h.mu.Unlock()
	return pp, res.Stale, nil
}

func (h *pypiHandler) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	project, filename, ok := strings.Cut(rest, "/")
	if !ok || project == "" || filename == "" || strings.Contains(filename, "/") {
		http.Error(w, "moat: not found", http.StatusNotFound)
		return
	}
	h.serveFileNamed(w, r, pypi.NormalizeName(project), filename)
}

// serveFileNamed gates one file of project norm; filename may carry the
// PEP 658 ".metadata" suffix.
func (h *pypiHandler) serveFileNamed(w http.ResponseWriter, r *http.Request, norm, filename string) {
	artifactName, isMeta := pypi.StripMetadataSuffix(filename)
	fi, err := pypi.ParseFilename(artifactName)
	if err != nil {
		http.Error(w, "moat: "+err.Error(), http.StatusNotFound)
		return
	}
	if norm == "" {
		norm = fi.Project
	}
	pp, _, err := h.project(r, norm, false)
	if err != nil {
		h.failure(w, err)
		return
	}
	f := pp.files[artifactName]
	if f == nil {
		if pp, _, err = h.project(r, norm, true); err == nil {
			f = pp.files[artifactName]
		}
	}
	if f == nil {
		http.Error(w, fmt.Sprintf("moat: %s is not listed in the upstream index for %s", artifactName, norm), http.StatusNotFound)
		return
	}
	a := Artifact{
		Ecosystem: scan.PyPI, Name: norm, Version: fi.Version, Filename: artifactName,
		URL: f.URL, SHA256: strings.ToLower(f.Hashes["sha256"]), PublishedAt: f.UploadTime,
	}
	out, err := h.gate.Check(r.Context(), a, clientAddr(r))
	if err != nil {
		h.log.Warn("artifact not served", "ecosystem", "pypi", "file", artifactName, "err", err)
		msg := fmt.Sprintf("moat could not serve %s: %v", artifactName, err)
		writeWithReason(w, statusFor(err), msg)
		return
	}
	if out.Decision.Action == policy.ActionBlock {
		writeWithReason(w, http.StatusForbidden, blockMessage(norm+" "+fi.Version+" ("+artifactName+")", out, h.base(r)))
		return
	}
	if !isMeta {
		h.gate.Serve(w, r, out, "application/octet-stream")
		return
	}
	h.serveCoreMetadata(w, r, norm, f)
}

// serveCoreMetadata serves a PEP 658 .metadata file, after its artifact was
// allowed, verified against the index's core-metadata hash when given.
func (h *pypiHandler) serveCoreMetadata(w http.ResponseWriter, r *http.Request, norm string, f *pypi.File) {
	if !f.CoreMetadata.Present {
		http.Error(w, "moat: the index offers no core metadata for "+f.Filename, http.StatusNotFound)
		return
	}
	key := "pypi:metadata:" + norm + ":" + f.Filename
	res, err := h.meta.get(r.Context(), key, f.URL+".metadata", nil, nil)
	if err != nil {
		h.failure(w, err)
		return
	}
	if want := f.CoreMetadata.Hashes["sha256"]; want != "" {
		v := &sha256Verifier{h: sha256.New(), want: strings.ToLower(want)}
		_, _ = v.Write(res.Entry.Body)
		if err := v.Verify(); err != nil {
			writeWithReason(w, http.StatusBadGateway, "moat: core metadata of "+f.Filename+": "+err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(len(res.Entry.Body)))
	_, _ = w.Write(res.Entry.Body)
}

func (h *pypiHandler) failure(w http.ResponseWriter, err error) {
	var ue *UpstreamError
	if errors.As(err, &ue) && ue.Status == http.StatusNotFound {
		http.Error(w, "moat: not found upstream", http.StatusNotFound)
		return
	}
	writeWithReason(w, statusFor(err), "moat: "+err.Error())
}

// writeWithReason answers code with msg as the body and, on HTTP/1.x, also as
// the status line's reason phrase: pip prints only "<code> Client Error:
// <reason> for url: ...", so this is how moat's reason reaches the user.
func writeWithReason(w http.ResponseWriter, code int, msg string) {
	reason := sanitizeReason(msg)
	rc := http.NewResponseController(w)
	conn, brw, err := rc.Hijack()
	if err != nil {
		http.Error(w, msg, code)
		return
	}
	defer conn.Close()
	body := msg + "\n"
	fmt.Fprintf(brw, "HTTP/1.1 %03d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n\r\n%s", code, reason, len(body), body)
	_ = brw.Flush()
}

// sanitizeReason makes msg safe for a status line: printable ASCII only,
// bounded length.
func sanitizeReason(msg string) string {
	var b strings.Builder
	for _, c := range msg {
		if c >= 0x20 && c < 0x7f {
			b.WriteRune(c)
		} else {
			b.WriteByte(' ')
		}
		if b.Len() >= 400 {
			break
		}
	}
	return b.String()
}

// parseIndex parses a project page in the form its Content-Type names,
// resolving relative URLs against the page's own URL.
func parseIndex(body []byte, contentType, pageURL string) (*pypi.Project, error) {
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil, err
	}
	if strings.Contains(contentType, "json") {
		return pypi.ParseJSON(body, base)
	}
	return pypi.ParseHTML(body, base)
}

// size approximates the memory a parsed project page holds.
func (p *parsedProject) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 2 * len(p.entry.Body) // the body and the parsed files
	for _, b := range p.rendered {
		n += len(b)
	}
	return n
}
