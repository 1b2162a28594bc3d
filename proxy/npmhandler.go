package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/proxy/npm"
	"github.com/moatproject/moat/scan"
	"golang.org/x/sync/semaphore"
)

const (
	npmAbbrevAccept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
	npmFullAccept   = "application/json"
	npmAbbrevType   = "application/vnd.npm.install-v1+json"
)

// npmHandler serves the npm registry root (mounted under /npm/).
type npmHandler struct {
	upstream  *url.URL // with trailing slash
	token     string
	meta      *metaFetcher
	gate      *Gate
	policy    Decider
	base      baseURLFunc
	log       *slog.Logger
	needTimes bool // policy needs publish times: always use full packuments
	passProxy *httputil.ReverseProxy
	prefetch  *prefetcher // nil: off

	// decoding bounds the packument bytes being parsed at once.
	decoding *semaphore.Weighted

	mu     sync.Mutex
	parsed map[string]*parsedPackument
	dists  npmDists
}

// decodeInFlight bounds the packument bytes parsed at once by one handler
// (a larger document waits until it is alone). Parsing holds the document
// and its decoded versions, a few times its size. Unbounded, a restarted
// moat answering 256 clients' tarball requests, each needing its package's
// packument from disk, decoded hundreds at once: live heap 90-120 MB for
// the bench app. Two cores decode no faster with more in flight.
const decodeInFlight = 16 << 20

// parsePackument parses b within the handler's decoding bound.
func (h *npmHandler) parsePackument(ctx context.Context, b []byte) (*npm.Packument, error) {
	w := min(int64(len(b)), decodeInFlight)
	if err := h.decoding.Acquire(ctx, w); err != nil {
		return nil, err
	}
	defer h.decoding.Release(w)
	return npm.ParsePackument(b)
}

// parsedPackument is a parsed upstream document and its recent renderings.
type parsedPackument struct {
	entry *store.MetaEntry
	doc   *npm.Packument
	sum   [sha256.Size]byte // of entry.Body: with the rendering's inputs, the ETag

	mu       sync.Mutex
	rendered map[string]rendered // key: base URL + hidden-set signature; small documents only
}

// memoMax is the largest upstream document whose renderings are memoised.
// A larger one is rewritten for every request: the rewrite is a few
// copies of the body, while holding renderings of multi-megabyte
// packuments was most of moat's memory during a cold install.
const memoMax = 256 << 10

type rendered struct {
	body []byte
	etag string
}

func newNPMHandler(up *url.URL, token string, meta *metaFetcher, gate *Gate, pol Decider, base baseURLFunc, needTimes bool, client *http.Client, log *slog.Logger) *npmHandler {
	h := &npmHandler{upstream: up, token: token, meta: meta, gate: gate, policy: pol, base: base, log: log, needTimes: needTimes, parsed: map[string]*parsedPackument{}, dists: newNPMDists(), decoding: semaphore.NewWeighted(decodeInFlight)}
	h.passProxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			rest := strings.TrimPrefix(pr.In.URL.EscapedPath(), "/npm/")
			target := *up
			target.RawPath = up.EscapedPath() + rest
			target.Path, _ = url.PathUnescape(target.RawPath)
			target.RawQuery = pr.In.URL.RawQuery
			pr.Out.URL = &target
			pr.Out.Host = ""
			pr.Out.Header.Del("Cookie")
			if token != "" {
				pr.Out.Header.Set("Authorization", "Bearer "+token)
			}
		},
		Transport: client.Transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			ue := classify(up.String(), err)
			writeNPMError(w, ue.Status, "moat: "+ue.Error())
		},
	}
	return h
}

func (h *npmHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, strings.TrimPrefix(r.URL.EscapedPath(), "/npm"), h.base(r)+"/npm")
}

// serve handles registry path p (escaped, relative to the registry root);
// tarballBase is the root written into rewritten dist.tarball URLs: moat's
// /npm in registry mode, the upstream's own root in transparent mode.
func (h *npmHandler) serve(w http.ResponseWriter, r *http.Request, p, tarballBase string) {
	route, err := npm.ParsePath(p)
	if err != nil {
		writeNPMError(w, http.StatusNotFound, "moat: "+err.Error())
		return
	}
	switch route.Kind {
	case npm.RouteSearch, npm.RouteAdvisories, npm.RouteOtherDash:
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !(r.Method == http.MethodPost && route.Kind == npm.RouteAdvisories) {
			h.readOnly(w)
			return
		}
		h.passProxy.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.readOnly(w)
		return
	}
	switch route.Kind {
	case npm.RoutePackument:
		h.servePackument(w, r, route.Name, tarballBase)
	case npm.RoutePackumentVersion:
		h.serveVersionDoc(w, r, route.Name, route.Version, tarballBase)
	case npm.RouteTarball:
		h.serveTarball(w, r, route.Name, route.Version, route.Filename)
	default:
		writeNPMError(w, http.StatusNotFound, "moat: not found")
	}
}

func (h *npmHandler) readOnly(w http.ResponseWriter) {
	w.Header().Set("Allow", "GET, HEAD")
	writeNPMError(w, http.StatusMethodNotAllowed, "moat: this registry is a read-only proxy; publish, unpublish, dist-tag and login go to your upstream registry directly")
}

// form picks the packument form to fetch for a client's Accept header.
func (h *npmHandler) form(accept string) string {
	if !h.needTimes && strings.Contains(accept, npmAbbrevType) {
		return "abbrev"
	}
	return "full"
}

// packument returns the parsed upstream document for name in form, and
// whether it is stale. force revalidates regardless of age.
func (h *npmHandler) packument(r *http.Request, name, form string, force bool) (*parsedPackument, bool, error) {
	key := packumentKey(form, name)
	hdr := http.Header{}
	if form == "abbrev" {
		hdr.Set("Accept", npmAbbrevAccept)
	} else {
		hdr.Set("Accept", npmFullAccept)
	}
	if h.token != "" {
		hdr.Set("Authorization", "Bearer "+h.token)
	}
	upURL := h.upstream.String() + escapeNPMName(name)
	// check runs only when this request's fetch is the one that goes
	// upstream; its parse is then reused instead of parsing twice (the
	// channel that delivers the result orders the write before the read).
	var checked *npm.Packument
	check := func(b []byte, _ string) error {
		// The fetch is shared with other requests: it does not end with
		// this one's context.
		doc, err := h.parsePackument(context.WithoutCancel(r.Context()), b)
		checked = doc
		return err
	}
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
	doc := checked
	if doc == nil || res.Stale {
		if doc, err = h.parsePackument(r.Context(), res.Entry.Body); err != nil {
			if cerr := r.Context().Err(); cerr != nil {
				return nil, false, cerr
			}
			return nil, false, &UpstreamError{Status: http.StatusBadGateway, URL: RedactURL(upURL), Msg: "malformed packument", Err: err}
		}
	}
	pp = &parsedPackument{entry: res.Entry, doc: doc, sum: sha256.Sum256(res.Entry.Body), rendered: map[string]rendered{}}
	h.mu.Lock()
	evictOver(h.parsed, parsedBudget-len(pp.entry.Body), func(p *parsedPackument) int { return p.size() })
	h.parsed[key] = pp
	h.mu.Unlock()
	return pp, res.Stale, nil
}

// packumentKey is the metadata cache key of name's packument in form.
func packumentKey(form, name string) string { return "npm:" + form + ":" + name }

func (h *npmHandler) servePackument(w http.ResponseWriter, r *http.Request, name, tarballBase string) {
	form := h.form(r.Header.Get("Accept"))
	pp, stale, err := h.packument(r, name, form, false)
	if err != nil {
		h.upstreamFailure(w, err)
		return
	}
	body, etag, err := h.render(r.Context(), name, pp, tarballBase)
	if err != nil {
		writeNPMError(w, http.StatusBadGateway, "moat: rewriting packument: "+err.Error())
		return
	}
	if h.prefetch != nil {
		go h.prefetch.packument(name, pp.doc, func(vi npm.VersionInfo) Artifact {
			return h.artifact(name, vi, tarballFilename(name, vi.Version))
		})
	}
	hd := w.Header()
	if form == "abbrev" {
		hd.Set("Content-Type", npmAbbrevType)
	} else {
		hd.Set("Content-Type", "application/json")
	}
	hd.Set("Vary", "Accept")
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", "no-cache")
	if stale {
		hd.Set("Warning", `110 moat "upstream unreachable: serving cached metadata"`)
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// render rewrites the packument for this client: tarball URLs point at moat,
// versions policy refuses are hidden. Renderings are memoised per hidden set.
func (h *npmHandler) render(ctx context.Context, name string, pp *parsedPackument, base string) ([]byte, string, error) {
	var hidden []string
	reports := h.gate.VersionReports(ctx, scan.NPM, name)
	for _, vi := range pp.doc.Versions() {
		if !h.policy.VisibleInMetadata(policy.Input{Ecosystem: scan.NPM, Name: name, Version: vi.Version, PublishedAt: vi.Time, Report: reports[vi.Version]}) {
			hidden = append(hidden, vi.Version)
		}
	}
	sort.Strings(hidden)
	sig := base + "\x00" + strings.Join(hidden, "\x00")
	memo := len(pp.entry.Body) <= memoMax
	if memo {
		pp.mu.Lock()
		defer pp.mu.Unlock()
		if rd, ok := pp.rendered[sig]; ok {
			return rd.body, rd.etag, nil
		}
	}
	hide := map[string]bool{}
	for _, v := range hidden {
		hide[v] = true
	}
	body, err := pp.doc.Rewrite(npm.RewriteOptions{TarballBase: base, Hide: func(v npm.VersionInfo) bool { return hide[v.Version] }})
	if err != nil {
		return nil, "", err
	}
	// The rendering is a function of the upstream body, the base URL and the
	// hidden set, so its ETag is too: no need to hash the output.
	hsh := sha256.New()
	hsh.Write(pp.sum[:])
	hsh.Write([]byte(sig))
	rd := rendered{body: body, etag: `W/"` + hex.EncodeToString(hsh.Sum(nil)[:12]) + `"`}
	if memo {
		if len(pp.rendered) >= 2 {
			clear(pp.rendered)
		}
		pp.rendered[sig] = rd
	}
	return rd.body, rd.etag, nil
}

func (h *npmHandler) serveVersionDoc(w http.ResponseWriter, r *http.Request, name, ver, tarballBase string) {
	pp, _, err := h.packument(r, name, "full", false)
	if err != nil {
		h.upstreamFailure(w, err)
		return
	}
	body, _, err := h.render(r.Context(), name, pp, tarballBase)
	if err != nil {
		writeNPMError(w, http.StatusBadGateway, "moat: rewriting packument: "+err.Error())
		return
	}
	var doc struct {
		DistTags map[string]string          `json:"dist-tags"`
		Versions map[string]json.RawMessage `json:"versions"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		writeNPMError(w, http.StatusBadGateway, "moat: "+err.Error())
		return
	}
	if t, ok := doc.DistTags[ver]; ok {
		ver = t
	}
	v, ok := doc.Versions[ver]
	if !ok {
		writeNPMError(w, http.StatusNotFound, fmt.Sprintf("moat: %s@%s not found or not allowed", name, ver))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(v)
}

func (h *npmHandler) serveTarball(w http.ResponseWriter, r *http.Request, name, ver, filename string) {
	form, key, gen := h.tarballForm(r.Context(), name)
	vi, ok := h.dists.get(key, ver, gen)
	if !ok {
		pp, _, err := h.packument(r, name, form, false)
		if err != nil {
			h.upstreamFailure(w, err)
			return
		}
		vi, ok = pp.doc.Version(ver)
		if !ok {
			// Published after our cached copy? Revalidate once.
			if pp, _, err = h.packument(r, name, form, true); err == nil {
				vi, ok = pp.doc.Version(ver)
			}
		}
		if ok {
			h.dists.put(key, ver, gen, vi)
		}
	}
	if !ok {
		writeNPMError(w, http.StatusNotFound, fmt.Sprintf("moat: %s@%s is not in the upstream registry's metadata", name, ver))
		return
	}
	a := h.artifact(name, vi, filename)
	out, err := h.gate.Check(r.Context(), a, clientAddr(r))
	if err != nil {
		h.artifactFailure(w, name, ver, err)
		return
	}
	if out.Decision.Action == policy.ActionBlock {
		writeNPMError(w, http.StatusForbidden, blockMessage(name+"@"+ver, out, h.base(r)))
		return
	}
	h.gate.Serve(w, r, out, "application/octet-stream")
}

// tarballForm picks the packument form a tarball request looks its version
// up in, with that form's cache key and fresh generation (0: not fresh).
// npm 11 resolves with full packuments and fetches tarballs later: the
// form that is fresh is used, so a tarball request does not cost a second
// upstream fetch of the other form. With neither fresh in memory (a
// restart, or both expired), the form the store holds is used, revalidated
// if it is old, rather than the other fetched in full.
func (h *npmHandler) tarballForm(ctx context.Context, name string) (form, key string, gen uint64) {
	abbrev, full := packumentKey("abbrev", name), packumentKey("full", name)
	if h.needTimes {
		return "full", full, h.meta.freshGen(full)
	}
	if g := h.meta.freshGen(abbrev); g != 0 {
		return "abbrev", abbrev, g
	}
	if g := h.meta.freshGen(full); g != 0 {
		return "full", full, g
	}
	if !h.meta.has(ctx, abbrev) && h.meta.has(ctx, full) {
		return "full", full, h.meta.freshGen(full)
	}
	return "abbrev", abbrev, 0
}

// artifact describes version vi's tarball for the gate.
func (h *npmHandler) artifact(name string, vi npm.VersionInfo, filename string) Artifact {
	a := Artifact{
		Ecosystem: scan.NPM, Name: name, Version: vi.Version, Filename: filename,
		URL: vi.Dist.Tarball, Integrity: vi.Dist.Integrity, Shasum: vi.Dist.Shasum, PublishedAt: vi.Time,
	}
	if a.URL == "" {
		a.URL = h.upstream.String() + strings.TrimPrefix(npm.TarballPath(name, vi.Version), "/")
	}
	if h.token != "" && sameHost(a.URL, h.upstream) {
		a.Header = http.Header{"Authorization": {"Bearer " + h.token}}
	}
	return a
}

// tarballFilename is the file name a client's request for name@version's
// tarball carries (the last segment of the URL moat writes into packuments).
func tarballFilename(name, version string) string {
	if rt, err := npm.ParsePath(npm.TarballPath(name, version)); err == nil && rt.Kind == npm.RouteTarball {
		return rt.Filename
	}
	return ""
}

func (h *npmHandler) upstreamFailure(w http.ResponseWriter, err error) {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		if ue.Status == http.StatusNotFound {
			writeNPMError(w, http.StatusNotFound, "Not found")
			return
		}
		writeNPMError(w, ue.Status, "moat: "+ue.Error())
		return
	}
	writeNPMError(w, statusFor(err), "moat: "+err.Error())
}

func (h *npmHandler) artifactFailure(w http.ResponseWriter, name, ver string, err error) {
	h.log.Warn("artifact not served", "ecosystem", "npm", "package", name, "version", ver, "err", err)
	writeNPMError(w, statusFor(err), fmt.Sprintf("moat could not serve %s@%s: %v", name, ver, err))
}

// writeNPMError answers in the form npm prints: {"error": msg}.
func writeNPMError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Del("Content-Length")
	w.Header().Del("ETag")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(b)
}

func sameHost(raw string, u *url.URL) bool {
	p, err := url.Parse(raw)
	return err == nil && strings.EqualFold(p.Host, u.Host)
}

// escapeNPMName is a package name as a registry path segment: a scoped
// name's slash is encoded ("@scope%2fname"), the form registries expect.
func escapeNPMName(name string) string {
	return strings.Replace(name, "/", "%2f", 1)
}

// size approximates the memory a parsed packument holds: the upstream body
// and its renderings.
func (p *parsedPackument) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.entry.Body)
	for _, r := range p.rendered {
		n += len(r.body)
	}
	return n
}

// parsedBudget bounds the bytes of parsed metadata kept in memory per
// ecosystem; the rest is re-parsed from the store on demand.
const parsedBudget = 8 << 20

// evictOver deletes arbitrary entries of m until their total size is at
// most budget.
func evictOver[T any](m map[string]T, budget int, size func(T) int) {
	total := 0
	for _, v := range m {
		total += size(v)
	}
	for k, v := range m {
		if total <= budget {
			return
		}
		total -= size(v)
		delete(m, k)
	}
}
