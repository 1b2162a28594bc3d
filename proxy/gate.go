package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/moatproject/moat/internal/audit"
	"github.com/moatproject/moat/internal/cpuclass"
	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

// GateStore is what the artifact gate needs from moat's store.
type GateStore interface {
	PutBlob(ctx context.Context, r io.Reader, wantSHA256 string) (string, int64, error)
	OpenBlob(ctx context.Context, sha string) (*os.File, int64, error)
	HasBlob(ctx context.Context, sha string) bool
	GetReport(ctx context.Context, sha, scannerVersion string) (*scan.Report, error)
	PutReport(ctx context.Context, r *scan.Report) error
	FindReports(ctx context.Context, eco scan.Ecosystem, name, version string) ([]*scan.Report, error)
	FindArtifact(ctx context.Context, eco scan.Ecosystem, name, filename string) (*store.Artifact, error)
	PutArtifact(ctx context.Context, a store.Artifact) error
}

// Scanner scans one artifact; *scan.Scanner implements it.
type Scanner interface {
	Scan(ctx context.Context, in scan.Input) *scan.Report
	Version() string
}

// Decider is the policy; *policy.Engine implements it.
type Decider interface {
	Decide(in policy.Input) policy.Decision
	VisibleInMetadata(in policy.Input) bool
}

// Auditor records decisions; *audit.Log implements it.
type Auditor interface {
	Write(ctx context.Context, e audit.Entry) error
}

// Artifact names one artifact and how to fetch and verify it.
type Artifact struct {
	Ecosystem   scan.Ecosystem
	Name        string
	Version     string
	Filename    string
	URL         string      // upstream URL
	Header      http.Header // extra upstream request headers (authorization)
	Integrity   string      // npm SRI ("sha512-..."), may be empty
	Shasum      string      // npm SHA-1 hex, may be empty
	SHA256      string      // expected sha256 hex (PyPI index hash), may be empty
	PublishedAt time.Time
}

// Outcome is the gate's result for one artifact.
type Outcome struct {
	SHA256   string
	Size     int64
	Report   *scan.Report
	Decision policy.Decision
	Cached   bool // blob came from moat's cache

	art Artifact // what Check was asked for: Serve fetches it again if the blob vanished
}

// Verifier checks downloaded bytes against the hashes metadata promised.
// The protocol packages provide it (npm SRI/shasum, PyPI sha256).
type Verifier interface {
	io.Writer
	Verify() error
}

// NewVerifierFunc builds the Verifier for an artifact; it returns
// ErrNoHash-wrapping errors when the metadata carries no usable hash.
type NewVerifierFunc func(a Artifact) (Verifier, error)

// ErrNoHash: the metadata carried no hash to verify the artifact against.
var ErrNoHash = errors.New("metadata carries no usable hash for this artifact")

// IntegrityError: downloaded bytes do not match the metadata's hash.
type IntegrityError struct{ Err error }

func (e *IntegrityError) Error() string { return "integrity check failed: " + e.Err.Error() }
func (e *IntegrityError) Unwrap() error { return e.Err }

// GateOptions configures a Gate.
type GateOptions struct {
	Store           GateStore
	Scanner         Scanner
	Policy          Decider
	Audit           Auditor // optional
	Client          *http.Client
	Verifiers       map[scan.Ecosystem]NewVerifierFunc
	MaxBytes        int64         // artifact size cap
	FetchTimeout    time.Duration // whole download, on a context detached from the client
	ScanWorkers     int           // concurrent scans
	AllowMissingSum map[scan.Ecosystem]bool
	Logger          *slog.Logger
	Metrics         *Metrics // optional
	// OpenBlobs is how many served blob files to keep open for reuse
	// (0: none); Close releases them.
	OpenBlobs int
}

// Gate is the one artifact path every mode shares: fetch once, verify,
// store, scan once per (sha256, scanner version), decide on every request.
// No byte reaches a client before the decision.
type Gate struct {
	o       GateOptions
	fetches singleflight.Group
	scans   singleflight.Group
	scanQ   *scanQueue
	reports *reportCache
	byName  *nameReports
	arts    *boundedMap[artifactKey, artifactEntry] // the warm path's index, see blob
	files   *blobFiles
}

// NewGate builds a gate.
func NewGate(o GateOptions) *Gate {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 20
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = 5 * time.Minute
	}
	if o.ScanWorkers <= 0 {
		o.ScanWorkers = 2
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Gate{o: o, scanQ: newScanQueue(o.ScanWorkers), reports: newReportCache(4096), byName: &nameReports{m: map[string]nameEntry{}},
		arts: newBoundedMap[artifactKey, artifactEntry](artifactIndexMax), files: newBlobFiles(o.OpenBlobs)}
}

// Close releases the blob files kept open (GateOptions.OpenBlobs). The
// gate keeps serving; it just keeps no file open any more.
func (g *Gate) Close() error { return g.files.close() }

// Check runs the gate for a: it returns the decision with the artifact
// verified, stored and scanned, or an error (upstream, integrity, missing
// hash) when there is nothing to decide on. The client's ctx only bounds the
// wait: the fetch and scan continue detached so other clients benefit.
func (g *Gate) Check(ctx context.Context, a Artifact, client string) (*Outcome, error) {
	start := time.Now()
	sha, size, cached, data, err := g.blob(ctx, a)
	if err != nil {
		return nil, err
	}
	rep, err := g.report(ctx, a, sha, data, true)
	if err != nil {
		return nil, err
	}
	d := g.o.Policy.Decide(policy.Input{
		Ecosystem:   a.Ecosystem,
		Name:        a.Name,
		Version:     a.Version,
		PublishedAt: a.PublishedAt,
		Report:      rep,
	})
	out := &Outcome{SHA256: sha, Size: size, Report: rep, Decision: d, Cached: cached, art: a}
	g.record(ctx, a, out, client, time.Since(start))
	return out, nil
}

// Warm runs the gate's fetch, verification, storage and scan for a without
// deciding, recording or serving anything: a later Check finds the blob and
// the report cached (or joins the work in flight).
func (g *Gate) Warm(ctx context.Context, a Artifact) error {
	sha, _, _, data, err := g.blob(ctx, a)
	if err != nil {
		return err
	}
	_, err = g.report(ctx, a, sha, data, false)
	return err
}

// blob returns the verified artifact's sha256 and size, from the cache or
// upstream. data is non-nil only when it was just downloaded (the scan can
// use it without reading the blob back).
//
// The warm path is the in-memory artifact index: no database read, no
// decoding, no stat. The index only holds artifacts whose blob was stored
// (fetch) or seen on disk (FindArtifact + HasBlob); a blob removed behind
// moat's back afterwards is noticed by Serve, which drops the entry and
// fetches the artifact again.
func (g *Gate) blob(ctx context.Context, a Artifact) (sha string, size int64, cached bool, data []byte, err error) {
	k := a.key()
	if e, ok := g.indexed(k, a); ok {
		g.o.Metrics.cacheHit(a.Ecosystem)
		return e.sha, e.size, true, nil, nil
	}
	if rec, ferr := g.o.Store.FindArtifact(ctx, a.Ecosystem, a.Name, a.Filename); ferr == nil && consistent(rec.SHA256, rec.Integrity, rec.Shasum, a) && g.o.Store.HasBlob(ctx, rec.SHA256) {
		g.arts.put(k, artifactEntry{sha: rec.SHA256, size: rec.Size, integrity: rec.Integrity, shasum: rec.Shasum})
		g.o.Metrics.cacheHit(a.Ecosystem)
		return rec.SHA256, rec.Size, true, nil, nil
	}
	g.o.Metrics.cacheMiss(a.Ecosystem)
	key := string(a.Ecosystem) + "\x00" + a.URL + "\x00" + a.Integrity + a.Shasum + a.SHA256
	ch := g.fetches.DoChan(key, func() (any, error) {
		// A flight for a that ended between the index lookup above and
		// DoChan has stored it already: look again rather than fetch twice.
		if e, ok := g.indexed(k, a); ok {
			return &fetched{sha: e.sha, size: e.size, cached: true}, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.o.FetchTimeout)
		defer cancel()
		return g.fetch(fctx, a)
	})
	select {
	case <-ctx.Done():
		return "", 0, false, nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return "", 0, false, nil, res.Err
		}
		f := res.Val.(*fetched)
		return f.sha, f.size, f.cached, f.data, nil
	}
}

// indexed returns a's entry in the in-memory artifact index (key k) when
// it matches what the current metadata promises.
func (g *Gate) indexed(k artifactKey, a Artifact) (artifactEntry, bool) {
	e, ok := g.arts.get(k)
	return e, ok && consistent(e.sha, e.integrity, e.shasum, a)
}

// consistent reports whether a stored artifact (its sha256 and the npm
// integrity and shasum it was verified against) matches what the current
// metadata promises (a republished file under the same name is fetched
// again).
func consistent(sha, integrity, shasum string, a Artifact) bool {
	if a.SHA256 != "" && !strings.EqualFold(sha, a.SHA256) {
		return false
	}
	if a.Integrity != "" && integrity != "" && integrity != a.Integrity {
		return false
	}
	if a.Integrity == "" && a.Shasum != "" && shasum != "" && !strings.EqualFold(shasum, a.Shasum) {
		return false
	}
	return true
}

type fetched struct {
	sha    string
	size   int64
	data   []byte // nil when cached
	cached bool
}

// fetch downloads a, verifies it against the metadata's hash, and stores it.
// Nothing is stored unless verification passed.
func (g *Gate) fetch(ctx context.Context, a Artifact) (*fetched, error) {
	var v Verifier
	if nv := g.o.Verifiers[a.Ecosystem]; nv != nil {
		var err error
		v, err = nv(a)
		if err != nil {
			if !errors.Is(err, ErrNoHash) || !g.o.AllowMissingSum[a.Ecosystem] {
				return nil, err
			}
			v = nil
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		return nil, &UpstreamError{Status: http.StatusBadGateway, URL: RedactURL(a.URL), Msg: "bad artifact URL", Err: err}
	}
	for k, vs := range a.Header {
		req.Header[k] = vs
	}
	t0 := time.Now()
	resp, err := g.o.Client.Do(req)
	if err != nil {
		g.o.Metrics.upstreamError(a.Ecosystem)
		return nil, classify(a.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		g.o.Metrics.upstreamError(a.Ecosystem)
		return nil, statusError(a.URL, resp.StatusCode)
	}
	data, err := readCapped(a.URL, resp, g.o.MaxBytes)
	if err != nil {
		g.o.Metrics.upstreamError(a.Ecosystem)
		return nil, err
	}
	h := sha256.New()
	var w io.Writer = h
	if v != nil {
		w = io.MultiWriter(h, v)
	}
	_, _ = w.Write(data)
	if v != nil {
		if err := v.Verify(); err != nil {
			g.o.Metrics.upstreamError(a.Ecosystem)
			return nil, &IntegrityError{Err: err}
		}
	}
	sha := hexSum(h)
	if _, _, err := g.o.Store.PutBlob(ctx, bytes.NewReader(data), sha); err != nil {
		return nil, fmt.Errorf("storing %s: %w", a.Filename, err)
	}
	if err := g.o.Store.PutArtifact(ctx, store.Artifact{
		SHA256: sha, Ecosystem: a.Ecosystem, Name: a.Name, Version: a.Version, Filename: a.Filename,
		Size: int64(len(data)), Upstream: RedactURL(a.URL), FetchedAt: time.Now().UTC(),
		Integrity: a.Integrity, Shasum: a.Shasum,
	}); err != nil {
		return nil, fmt.Errorf("recording %s: %w", a.Filename, err)
	}
	g.arts.put(a.key(), artifactEntry{sha: sha, size: int64(len(data)), integrity: a.Integrity, shasum: a.Shasum})
	g.o.Logger.Debug("fetched artifact", "ecosystem", a.Ecosystem, "file", a.Filename, "bytes", len(data), "ms", time.Since(t0).Milliseconds())
	return &fetched{sha: sha, size: int64(len(data)), data: data}, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// report returns the scan report for sha under the current scanner version,
// scanning (once, bounded by ScanWorkers) when there is none. urgent: a
// client waits for it (Check), rather than a prefetch (Warm).
//
// A scan that ran out of time while a client waits is run once more: it
// timed out because of the machine's load at that moment (prefetch scans
// at idle priority, abandoned scans still finishing), and the second run
// starts at normal priority with its own full timeout. A second timeout is
// the client's error.
func (g *Gate) report(ctx context.Context, a Artifact, sha string, data []byte, urgent bool) (*scan.Report, error) {
	r, err := g.scanOnce(ctx, a, sha, data, urgent)
	if err != nil || !urgent || (r.ErrorKind != scan.KindTimeout && r.ErrorKind != scan.KindCanceled) || ctx.Err() != nil {
		return r, err
	}
	g.o.Logger.Info("scan did not finish; scanning again for the waiting client", "ecosystem", a.Ecosystem,
		"package", a.Name, "version", a.Version, "kind", r.ErrorKind)
	return g.scanOnce(ctx, a, sha, data, urgent)
}

// scanOnce is one try of report.
func (g *Gate) scanOnce(ctx context.Context, a Artifact, sha string, data []byte, urgent bool) (*scan.Report, error) {
	ver := g.o.Scanner.Version()
	if r := g.reports.get(sha, ver); r != nil {
		return r, nil
	}
	if r, err := g.o.Store.GetReport(ctx, sha, ver); err == nil {
		g.reports.put(sha, ver, r)
		return r, nil
	}
	key := sha + "\x00" + ver
	if urgent { // a prefetch of the same artifact may be waiting for a slot
		g.scanQ.join(key)
		defer g.scanQ.leave(key)
	}
	ch := g.scans.DoChan(key, func() (any, error) {
		if r := g.reports.get(sha, ver); r != nil { // a flight that just ended
			return r, nil
		}
		sctx := context.WithoutCancel(ctx)
		if data == nil {
			f, _, err := g.o.Store.OpenBlob(sctx, sha)
			if err != nil {
				return nil, fmt.Errorf("reading cached blob %s: %w", sha, err)
			}
			data, err = io.ReadAll(io.LimitReader(f, g.o.MaxBytes+1))
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("reading cached blob %s: %w", sha, err)
			}
		}
		// The class is taken once the slot is: only running prefetch
		// flights are registered, for promoteRunning to find.
		g.scanQ.acquire(key, urgent)
		cls, forget := g.scanQ.class(key, urgent)
		defer forget()
		sctx = cpuclass.With(sctx, cls)
		t0 := time.Now()
		r := g.o.Scanner.Scan(sctx, scan.Input{Ecosystem: a.Ecosystem, Name: a.Name, Version: a.Version, Filename: a.Filename, Data: data, SHA256: sha})
		g.scanQ.release()
		g.o.Metrics.scanned(a.Ecosystem, r.Verdict, time.Since(t0))
		// The registry's name and version are authoritative (a manifest may
		// claim anything); reports are indexed by them for metadata filtering.
		if a.Name != "" {
			r.Name, r.Version = a.Name, a.Version
		}
		r.Path = a.Filename
		r.ScannerVersion = ver
		if r.ErrorKind == scan.KindTimeout || r.ErrorKind == scan.KindCanceled {
			// A scan that ran out of time says nothing about the artifact,
			// only about the machine at that moment (a prefetch scan at idle
			// priority on a busy host, say): the request that waited for it
			// gets the error, and the next one scans again instead of being
			// refused from a stored report.
			g.o.Logger.Warn("scan did not finish; not stored", "ecosystem", a.Ecosystem, "package", a.Name, "version", a.Version,
				"kind", r.ErrorKind, "ms", r.DurationMS, "prefetch", !urgent)
			return r, nil
		}
		if err := g.o.Store.PutReport(sctx, r); err != nil {
			g.o.Logger.Warn("storing scan report", "sha256", sha, "err", err)
		}
		g.reports.put(sha, ver, r)
		g.byName.forget(a.Ecosystem, a.Name)
		g.o.Logger.Info("scanned", "ecosystem", a.Ecosystem, "package", a.Name, "version", a.Version, "verdict", r.Verdict, "score", r.Score, "ms", r.DurationMS)
		return r, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*scan.Report), nil
	}
}

func (g *Gate) record(ctx context.Context, a Artifact, out *Outcome, client string, dur time.Duration) {
	d := out.Decision
	g.o.Metrics.decided(a.Ecosystem, d)
	if d.Action != policy.ActionAllow || d.WouldBlock {
		g.o.Logger.Warn("refused artifact", "ecosystem", a.Ecosystem, "package", a.Name, "version", a.Version,
			"action", d.Action.String(), "layer", d.Layer, "reasons", d.Reasons, "sha256", out.SHA256)
	}
	if g.o.Audit == nil {
		return
	}
	e := audit.Entry{
		Time: time.Now().UTC(), Client: client, Ecosystem: string(a.Ecosystem), Name: a.Name, Version: a.Version,
		Filename: a.Filename, SHA256: out.SHA256, Action: d.Action.String(), Layer: d.Layer, Reasons: d.Reasons,
		DurationMS: dur.Milliseconds(),
	}
	if out.Report != nil {
		e.Score = out.Report.Score
	}
	if err := g.o.Audit.Write(ctx, e); err != nil {
		g.o.Logger.Error("audit log write failed", "err", err)
	}
}

// Serve writes the artifact's bytes; call it only after an Allow or Warn.
// A plain GET goes straight to the connection (sendfile(2) through the
// ResponseWriter's ReadFrom) with Content-Length set; range and
// conditional requests take http.ServeContent.
func (g *Gate) Serve(w http.ResponseWriter, r *http.Request, out *Outcome, contentType string) {
	f, size, err := g.openBlob(r.Context(), out)
	if err != nil {
		http.Error(w, "moat: cached artifact vanished: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer g.files.put(out.SHA256, f)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("ETag", `"`+out.SHA256+`"`)
	h.Set("X-Moat-Decision", decisionValue(out.Decision.Action))
	if out.Decision.Action == policy.ActionWarn {
		h.Set("X-Moat-Warning", strings.Join(out.Decision.Reasons, "; "))
	}
	if r.Method != http.MethodGet || conditional(r.Header) {
		http.ServeContent(w, r, "", time.Time{}, f)
		return
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	// Corked, the header goes out with the body's first bytes: one packet
	// for a small tarball instead of two. Flushing the header first lets
	// the whole body go by sendfile(2) (net/http would otherwise copy 512
	// bytes through a buffer for Content-Type sniffing, moot here), and the
	// exact length saves the final sendfile that returns 0.
	defer corkConn(r.Context())()
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()
	_, _ = io.Copy(w, &io.LimitedReader{R: f, N: size})
}

// openBlob opens out's blob for serving. When it is gone (removed behind
// moat's back after the index or the store vouched for it), the index
// entry is dropped and the artifact fetched and verified again; it is
// served only if it is the very content the decision was made on.
func (g *Gate) openBlob(ctx context.Context, out *Outcome) (*os.File, int64, error) {
	f, size, err := g.files.open(ctx, g.o.Store, out.SHA256)
	if err == nil || !errors.Is(err, store.ErrNotFound) || out.art.Name == "" {
		return f, size, err
	}
	a := out.art
	g.arts.deleteIf(a.key(), func(e artifactEntry) bool { return e.sha == out.SHA256 })
	g.o.Logger.Warn("cached blob vanished, fetching it again", "ecosystem", a.Ecosystem, "file", a.Filename, "sha256", out.SHA256)
	sha, _, _, _, berr := g.blob(ctx, a)
	switch {
	case berr != nil:
		return nil, 0, fmt.Errorf("%w; fetching it again: %w", err, berr)
	case sha != out.SHA256:
		return nil, 0, fmt.Errorf("%w; upstream now serves different content (%s)", err, sha)
	}
	return g.o.Store.OpenBlob(ctx, out.SHA256)
}

// conditional reports whether a request carries headers http.ServeContent
// must evaluate (ranges, preconditions).
func conditional(h http.Header) bool {
	for _, k := range [...]string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if _, ok := h[k]; ok {
			return true
		}
	}
	return false
}

// decisionValue is the X-Moat-Decision value for action.
func decisionValue(action policy.Action) string {
	switch action {
	case policy.ActionAllow:
		return "allow"
	case policy.ActionWarn:
		return "warn"
	case policy.ActionBlock:
		return "block"
	}
	return strings.ToLower(action.String())
}

// artifactIndexMax bounds the artifact index (about 200 bytes an entry).
const artifactIndexMax = 1 << 16

// artifactKey names an artifact in the warm path's index.
type artifactKey struct {
	eco            scan.Ecosystem
	name, filename string
}

func (a Artifact) key() artifactKey {
	return artifactKey{eco: a.Ecosystem, name: a.Name, filename: a.Filename}
}

// artifactEntry is what the warm path needs of a stored artifact record.
type artifactEntry struct {
	sha, integrity, shasum string
	size                   int64
}

// reportCache keeps recent reports in memory: the warm path then needs no
// database read or JSON decoding.
type reportCache struct {
	mu  sync.RWMutex
	max int
	m   map[reportKey]*scan.Report
}

type reportKey struct{ sha, ver string }

func newReportCache(max int) *reportCache {
	return &reportCache{max: max, m: make(map[reportKey]*scan.Report)}
}

func (c *reportCache) get(sha, ver string) *scan.Report {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[reportKey{sha, ver}]
}

func (c *reportCache) put(sha, ver string, r *scan.Report) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m { // evict an arbitrary entry; cheap and bounded
			delete(c.m, k)
			break
		}
	}
	c.m[reportKey{sha, ver}] = r
}

// VersionReports returns the current scanner's reports for name's versions
// (version → report), so metadata can hide versions already scanned and
// blocked. Results are cached briefly and dropped when a new report for the
// name lands.
func (g *Gate) VersionReports(ctx context.Context, eco scan.Ecosystem, name string) map[string]*scan.Report {
	if m, ok := g.byName.get(eco, name); ok {
		return m
	}
	reps, err := g.o.Store.FindReports(ctx, eco, name, "")
	if err != nil {
		g.o.Logger.Warn("looking up reports", "package", name, "err", err)
		return nil
	}
	ver := g.o.Scanner.Version()
	m := map[string]*scan.Report{}
	for _, r := range reps {
		if r.ScannerVersion == ver && m[r.Version] == nil {
			m[r.Version] = r
		}
	}
	g.byName.put(eco, name, m)
	return m
}

type nameEntry struct {
	at time.Time
	m  map[string]*scan.Report
}

type nameReports struct {
	mu sync.Mutex
	m  map[string]nameEntry
}

const nameReportsTTL = 30 * time.Second

func (n *nameReports) get(eco scan.Ecosystem, name string) (map[string]*scan.Report, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.m[string(eco)+"\x00"+name]
	if !ok || time.Since(e.at) > nameReportsTTL {
		return nil, false
	}
	return e.m, true
}

func (n *nameReports) put(eco scan.Ecosystem, name string, m map[string]*scan.Report) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.m) > 4096 {
		clear(n.m)
	}
	n.m[string(eco)+"\x00"+name] = nameEntry{at: time.Now(), m: m}
}

func (n *nameReports) forget(eco scan.Ecosystem, name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.m, string(eco)+"\x00"+name)
}
