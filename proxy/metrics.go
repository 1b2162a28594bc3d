package proxy

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

// Metrics are moat's Prometheus metrics, on a registry of their own (no
// globals). A nil *Metrics records nothing.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	cache     *prometheus.CounterVec
	upstream  *prometheus.CounterVec
	scans     *prometheus.CounterVec
	scanTime  *prometheus.HistogramVec
	decisions *prometheus.CounterVec

	// Resolved children of the vectors the per-request path counts on,
	// so a request does no label hashing or formatting.
	reqC   counterCache[requestKey]
	cacheC counterCache[cacheKey]
	decC   counterCache[decisionKey]
}

type requestKey struct {
	route string
	code  int
}

type cacheKey struct {
	eco scan.Ecosystem
	hit bool
}

type decisionKey struct {
	eco    scan.Ecosystem
	action policy.Action
	layer  string
}

// counterCache maps a label tuple to its resolved counter. The label sets
// are small and fixed (routes, status codes, ecosystems, actions, layers).
type counterCache[K comparable] struct {
	mu sync.RWMutex
	m  map[K]prometheus.Counter
}

func (c *counterCache[K]) get(k K) prometheus.Counter {
	c.mu.RLock()
	ctr := c.m[k]
	c.mu.RUnlock()
	return ctr
}

func (c *counterCache[K]) put(k K, ctr prometheus.Counter) prometheus.Counter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[K]prometheus.Counter{}
	}
	c.m[k] = ctr
	return ctr
}

// NewMetrics registers moat's metrics and the Go/process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_artifact_cache_total", Help: "Artifact cache lookups by ecosystem and result (hit, miss).",
		}, []string{"ecosystem", "result"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_upstream_errors_total", Help: "Failed upstream fetches by ecosystem.",
		}, []string{"ecosystem"}),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_scans_total", Help: "Scans by ecosystem and verdict.",
		}, []string{"ecosystem", "verdict"}),
		scanTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "moat_scan_duration_seconds", Help: "Scan latency.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20},
		}, []string{"ecosystem"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_decisions_total", Help: "Policy decisions by ecosystem, action and deciding layer.",
		}, []string{"ecosystem", "action", "layer"}),
	}
	m.reg.MustRegister(m.requests, m.cache, m.upstream, m.scans, m.scanTime, m.decisions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) request(route string, code int) {
	if m == nil {
		return
	}
	k := requestKey{route, code}
	c := m.reqC.get(k)
	if c == nil {
		c = m.reqC.put(k, m.requests.WithLabelValues(route, strconv.Itoa(code)))
	}
	c.Inc()
}

func (m *Metrics) cacheHit(eco scan.Ecosystem) { m.cacheResult(eco, true) }

func (m *Metrics) cacheMiss(eco scan.Ecosystem) { m.cacheResult(eco, false) }

func (m *Metrics) cacheResult(eco scan.Ecosystem, hit bool) {
	if m == nil {
		return
	}
	k := cacheKey{eco, hit}
	c := m.cacheC.get(k)
	if c == nil {
		result := "miss"
		if hit {
			result = "hit"
		}
		c = m.cacheC.put(k, m.cache.WithLabelValues(string(eco), result))
	}
	c.Inc()
}

func (m *Metrics) upstreamError(eco scan.Ecosystem) {
	if m != nil {
		m.upstream.WithLabelValues(string(eco)).Inc()
	}
}

func (m *Metrics) scanned(eco scan.Ecosystem, verdict string, d time.Duration) {
	if m != nil {
		m.scans.WithLabelValues(string(eco), verdict).Inc()
		m.scanTime.WithLabelValues(string(eco)).Observe(d.Seconds())
	}
}

func (m *Metrics) decided(eco scan.Ecosystem, d policy.Decision) {
	if m == nil {
		return
	}
	k := decisionKey{eco, d.Action, d.Layer}
	c := m.decC.get(k)
	if c == nil {
		c = m.decC.put(k, m.decisions.WithLabelValues(string(eco), d.Action.String(), d.Layer))
	}
	c.Inc()
}
