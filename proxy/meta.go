package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/moatproject/moat/internal/store"
)

// MetaStore caches upstream metadata documents (packuments, index pages).
type MetaStore interface {
	GetMeta(ctx context.Context, key string) (*store.MetaEntry, error)
	PutMeta(ctx context.Context, key string, e *store.MetaEntry) error
}

// metaFetcher gets metadata documents: fresh from moat's cache, revalidated
// upstream with ETag/Last-Modified once older than maxAge, and served stale
// when the upstream fails, so installs keep working offline.
type metaFetcher struct {
	store    MetaStore
	client   *http.Client
	maxAge   time.Duration
	maxBytes int64
	timeout  time.Duration
	log      *slog.Logger
	metrics  *Metrics
	flights  singleflight.Group

	// mem keeps the latest entries in memory so the hot path skips bbolt.
	mu  sync.Mutex
	mem map[string]*store.MetaEntry
	// gens outlives mem's bodies: per key, a generation that changes
	// whenever a document comes from upstream, and when it was fetched.
	// What is derived from a document (npmDists) is tagged with it.
	gens    map[string]metaGen
	lastGen uint64

	// writes feeds the write-behind goroutine that persists fetched
	// documents (see persist); done is closed when it has drained.
	wmu    sync.RWMutex // closed and the send on writes
	closed bool
	writes chan metaWrite
	done   chan struct{}
}

// metaWrite is one document waiting to be written to the store.
type metaWrite struct {
	key string
	e   *store.MetaEntry
}

// metaWriteQueue bounds the documents waiting for the store: past it a
// fetch writes its own document (the store sets the pace).
const metaWriteQueue = 256

type metaGen struct {
	gen       uint64
	fetchedAt time.Time
}

func newMetaFetcher(s MetaStore, c *http.Client, maxAge, timeout time.Duration, maxBytes int64, log *slog.Logger, m *Metrics) *metaFetcher {
	f := &metaFetcher{store: s, client: c, maxAge: maxAge, timeout: timeout, maxBytes: maxBytes, log: log, metrics: m,
		mem: map[string]*store.MetaEntry{}, gens: map[string]metaGen{},
		writes: make(chan metaWrite, metaWriteQueue), done: make(chan struct{})}
	go f.writer()
	return f
}

// persist stores a fetched document without making the client wait for it.
//
// A metadata document is a cache entry: the request that fetched it is
// answered from memory (remember), and the store copy only matters to a
// later process or once memory has let it go. Writing it on the request's
// path cost a blob fsync, a bbolt commit and bbolt's batch delay - about
// 15 ms on every cold packument, most of the gap to a direct install's
// resolve phase. Writes stay in fetch order (one writer), and a process
// that dies before one lands just fetches that document again: the store
// is never inconsistent, since each PutMeta is atomic on its own.
func (m *metaFetcher) persist(key string, e *store.MetaEntry) {
	m.wmu.RLock()
	defer m.wmu.RUnlock()
	if m.closed { // a detached fetch that outlived Close
		m.put(key, e)
		return
	}
	select {
	case m.writes <- metaWrite{key: key, e: e}:
	default: // the store is behind: write this one on the caller's time
		m.put(key, e)
	}
}

func (m *metaFetcher) writer() {
	defer close(m.done)
	for w := range m.writes {
		m.put(w.key, w.e)
	}
}

func (m *metaFetcher) put(key string, e *store.MetaEntry) {
	if err := m.store.PutMeta(context.Background(), key, e); err != nil {
		m.log.Warn("caching metadata", "key", key, "err", err)
	}
}

// close writes the documents still queued and stops the writer; call it
// before the store closes. A fetch still running (fetches are detached
// from their clients) then writes its document itself.
func (m *metaFetcher) close() {
	m.wmu.Lock()
	if !m.closed {
		m.closed = true
		close(m.writes)
	}
	m.wmu.Unlock()
	<-m.done
}

// metaResult is a metadata document and whether it is stale (the upstream
// could not be reached to revalidate it).
type metaResult struct {
	Entry *store.MetaEntry
	Stale bool
}

// checkFunc validates a freshly fetched document (body, Content-Type)
// before it is cached: a malformed answer must not replace a good copy.
type checkFunc func(body []byte, contentType string) error

// get returns the document for key, fetched from rawURL with hdr when needed.
func (m *metaFetcher) get(ctx context.Context, key, rawURL string, hdr http.Header, check checkFunc) (*metaResult, error) {
	return m.load(ctx, key, rawURL, hdr, false, check)
}

// load is get with force: true skips the freshness shortcut and revalidates
// upstream (a version newer than the cached document was asked for).
func (m *metaFetcher) load(ctx context.Context, key, rawURL string, hdr http.Header, force bool, check checkFunc) (*metaResult, error) {
	cached := m.cached(ctx, key)
	if !force && cached != nil && time.Since(cached.FetchedAt) < m.maxAge {
		return &metaResult{Entry: cached}, nil
	}
	ch := m.flights.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.timeout)
		defer cancel()
		return m.fetch(fctx, key, rawURL, hdr, cached, check)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			var ue *UpstreamError
			if cached != nil && (!errors.As(res.Err, &ue) || ue.Status != http.StatusNotFound) {
				m.log.Warn("upstream unavailable, serving cached metadata", "key", key, "age", time.Since(cached.FetchedAt).Round(time.Second), "err", res.Err)
				return &metaResult{Entry: cached, Stale: true}, nil
			}
			return nil, res.Err
		}
		return &metaResult{Entry: res.Val.(*store.MetaEntry)}, nil
	}
}

func (m *metaFetcher) cached(ctx context.Context, key string) *store.MetaEntry {
	m.mu.Lock()
	e := m.mem[key]
	m.mu.Unlock()
	if e != nil {
		return e
	}
	e, err := m.store.GetMeta(ctx, key)
	if err != nil {
		return nil
	}
	m.remember(key, e, false)
	return e
}

// has reports whether key's document is held, in memory or in the store
// (which loads it into memory, where the caller is about to look).
func (m *metaFetcher) has(ctx context.Context, key string) bool { return m.cached(ctx, key) != nil }

// freshGen returns key's generation when its latest document is younger
// than maxAge; 0 when it is older or unknown (no generation is 0).
func (m *metaFetcher) freshGen(key string) uint64 {
	m.mu.Lock()
	g := m.gens[key]
	m.mu.Unlock()
	if g.gen == 0 || time.Since(g.fetchedAt) >= m.maxAge {
		return 0
	}
	return g.gen
}

// remember keeps e in memory, bounded by the total size of bodies held.
// fetched: e came from upstream (a new generation), not from the store.
func (m *metaFetcher) remember(key string, e *store.MetaEntry, fetched bool) {
	const budget = 4 << 20 // bodies also live in the handlers' parsed caches
	m.mu.Lock()
	defer m.mu.Unlock()
	if g, ok := m.gens[key]; fetched || !ok {
		if !ok && len(m.gens) >= 1<<16 {
			clear(m.gens) // generations only ever grow: nothing derived is trusted again
		}
		m.lastGen++
		m.gens[key] = metaGen{gen: m.lastGen, fetchedAt: e.FetchedAt}
	} else {
		g.fetchedAt = e.FetchedAt
		m.gens[key] = g
	}
	total := len(e.Body)
	for _, o := range m.mem {
		total += len(o.Body)
	}
	for k, o := range m.mem {
		if total <= budget {
			break
		}
		total -= len(o.Body)
		delete(m.mem, k)
	}
	m.mem[key] = e
}

func (m *metaFetcher) fetch(ctx context.Context, key, rawURL string, hdr http.Header, cached *store.MetaEntry, check checkFunc) (*store.MetaEntry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &UpstreamError{Status: http.StatusBadGateway, URL: RedactURL(rawURL), Msg: "bad upstream URL", Err: err}
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if cached != nil && cached.Upstream == rawURL {
		if cached.ETag != "" {
			req.Header.Set("If-None-Match", cached.ETag)
		}
		if cached.LastModified != "" {
			req.Header.Set("If-Modified-Since", cached.LastModified)
		}
	}
	resp, err := m.client.Do(req)
	if err != nil {
		m.metrics.upstreamError("meta")
		return nil, classify(rawURL, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		e := *cached
		e.FetchedAt = time.Now().UTC()
		m.remember(key, &e, true)
		m.persist(key, &e)
		return &e, nil
	case resp.StatusCode != http.StatusOK:
		m.metrics.upstreamError("meta")
		return nil, statusError(rawURL, resp.StatusCode)
	}
	body, err := readCapped(rawURL, resp, m.maxBytes)
	if err != nil {
		m.metrics.upstreamError("meta")
		return nil, err
	}
	if check != nil {
		if err := check(body, resp.Header.Get("Content-Type")); err != nil {
			m.metrics.upstreamError("meta")
			return nil, &UpstreamError{Status: http.StatusBadGateway, URL: RedactURL(rawURL), Msg: "malformed document", Err: err}
		}
	}
	e := &store.MetaEntry{
		Body:         body,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		ContentType:  resp.Header.Get("Content-Type"),
		FetchedAt:    time.Now().UTC(),
		Upstream:     rawURL,
	}
	m.remember(key, e, true)
	m.persist(key, e)
	return e, nil
}
