package proxy

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/proxy/npm"
	"github.com/moatproject/moat/scan"
)

// prefetcher warms the gate with the tarballs a client is about to ask for.
//
// npm resolves a fresh install in two phases: it fetches packuments (mostly
// waiting on the network) and only then downloads every tarball. moat must
// fetch, verify and scan each tarball before answering, so without help all
// of that CPU work lands in the second phase. When moat serves a packument
// it predicts the version npm will choose (the ranges earlier predicted
// versions declared for this name, else "latest"), queues that version's
// tarball through the gate (fetch, verify, store, scan: never served, no
// audit entry, no decision), and remembers that version's own dependency
// ranges for the packuments that follow. A wrong guess costs one download
// and one scan; the client's own request then joins an in-flight fetch or
// scan, or finds the report cached. A prefetch scan runs at idle CPU
// priority until a client joins it (scanQueue.class, internal/cpuclass), so
// guessing never slows the client's own resolution or the scans it waits
// for.
type prefetcher struct {
	gate    *Gate
	policy  Decider
	log     *slog.Logger
	timeout time.Duration
	jobs    chan prefetchJob

	mu     sync.Mutex
	wanted map[string]map[string]struct{} // package -> ranges asked for by predicted dependents
	seen   map[string]struct{}            // name@version queued or done
}

type prefetchJob struct {
	a Artifact
}

// Bounds on the prefetcher's memory: the maps are reset when they grow past
// these (a long-running server forgets old predictions), and a full queue
// drops new work rather than block a metadata response.
const (
	prefetchMaxWanted = 20000
	prefetchMaxSeen   = 50000
	prefetchQueue     = 1024
	prefetchMaxRanges = 4
)

func newPrefetcher(g *Gate, pol Decider, workers int, timeout time.Duration, log *slog.Logger) *prefetcher {
	p := &prefetcher{
		gate: g, policy: pol, log: log, timeout: timeout,
		jobs:   make(chan prefetchJob, prefetchQueue),
		wanted: map[string]map[string]struct{}{},
		seen:   map[string]struct{}{},
	}
	for range workers {
		go p.work()
	}
	return p
}

func (p *prefetcher) work() {
	for j := range p.jobs {
		ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
		err := p.gate.Warm(ctx, j.a)
		cancel()
		if err != nil {
			p.log.Debug("prefetch failed", "package", j.a.Name, "version", j.a.Version, "err", err)
		}
	}
}

// packument is called after a packument for name was served: it queues the
// tarballs of the versions the client will most likely resolve.
func (p *prefetcher) packument(name string, doc *npm.Packument, artifact func(npm.VersionInfo) Artifact) {
	p.mu.Lock()
	ranges := make([]string, 0, len(p.wanted[name]))
	for r := range p.wanted[name] {
		ranges = append(ranges, r)
	}
	p.mu.Unlock()
	if len(ranges) == 0 {
		ranges = append(ranges, "latest")
	}
	for _, r := range ranges {
		vi, ok := doc.Resolve(r)
		if !ok {
			continue
		}
		key := name + "@" + vi.Version
		p.mu.Lock()
		_, dup := p.seen[key]
		if !dup {
			if len(p.seen) >= prefetchMaxSeen {
				clear(p.seen)
			}
			p.seen[key] = struct{}{}
		}
		p.mu.Unlock()
		if dup {
			continue
		}
		in := policy.Input{Ecosystem: scan.NPM, Name: name, Version: vi.Version, PublishedAt: vi.Time}
		if !p.policy.VisibleInMetadata(in) {
			continue // hidden from the client: it will never ask
		}
		if deps, err := doc.Dependencies(vi.Version); err == nil {
			p.want(deps)
		}
		a := artifact(vi)
		if a.Filename == "" {
			continue
		}
		select {
		case p.jobs <- prefetchJob{a: a}:
		default:
			p.log.Debug("prefetch queue full", "package", name, "version", vi.Version)
		}
	}
}

func (p *prefetcher) want(deps map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.wanted) >= prefetchMaxWanted {
		clear(p.wanted)
	}
	for name, r := range deps {
		set := p.wanted[name]
		if set == nil {
			set = map[string]struct{}{}
			p.wanted[name] = set
		}
		if len(set) < prefetchMaxRanges {
			set[r] = struct{}{}
		}
	}
}
