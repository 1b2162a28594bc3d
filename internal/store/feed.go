package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/moatproject/moat/internal/feed"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

// FeedSource describes one imported feed source.
type FeedSource struct {
	Name       string    `json:"name"`
	Records    int       `json:"records"`
	ImportedAt time.Time `json:"imported_at"`
}

// PutFeedRecords replaces every record of source with recs in one
// transaction: readers see the old set or the new one, never a mix.
func (s *Store) PutFeedRecords(ctx context.Context, source string, recs []feed.Record) error {
	if source == "" {
		return fmt.Errorf("%w: empty feed source", ErrInvalid)
	}
	type kv struct{ k, v []byte }
	kvs := make([]kv, 0, len(recs))
	for _, r := range recs {
		k, err := key(string(r.Ecosystem), policy.NormalizeName(r.Ecosystem, r.Name), r.ID)
		if err != nil {
			return err
		}
		v, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("store: encode feed record %s: %w", r.ID, err)
		}
		kvs = append(kvs, kv{k, v})
	}
	sort.Slice(kvs, func(i, j int) bool { return bytes.Compare(kvs[i].k, kvs[j].k) < 0 })
	src, err := json.Marshal(FeedSource{Name: source, Records: len(recs), ImportedAt: time.Now().UTC()})
	if err != nil {
		return err
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketFeed)
		if root.Bucket([]byte(source)) != nil {
			if err := root.DeleteBucket([]byte(source)); err != nil {
				return err
			}
		}
		b, err := root.CreateBucket([]byte(source))
		if err != nil {
			return err
		}
		b.FillPercent = 0.9 // keys arrive sorted
		for i, e := range kvs {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := b.Put(e.k, e.v); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketFeedSources).Put([]byte(source), src)
	})
	s.feedAbsent.reset() // after the commit: see absentSet
	if err != nil {
		return fmt.Errorf("store: put feed %q: %w", source, err)
	}
	return nil
}

// FeedLookup returns the records of every source for (ecosystem, name);
// name is normalised (policy.NormalizeName) first.
func (s *Store) FeedLookup(ctx context.Context, ecosystem scan.Ecosystem, name string) ([]feed.Record, error) {
	p, err := prefix(string(ecosystem), policy.NormalizeName(ecosystem, name))
	if err != nil {
		return nil, err
	}
	gen, absent := s.feedAbsent.has(string(p))
	if absent {
		return nil, nil
	}
	var out []feed.Record
	err = s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFeed).ForEachBucket(func(src []byte) error {
			c := tx.Bucket(bucketFeed).Bucket(src).Cursor()
			for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
				var r feed.Record
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("store: decode feed record %q: %w", k, err)
				}
				out = append(out, r)
			}
			return nil
		})
	})
	if err == nil && len(out) == 0 {
		s.feedAbsent.add(string(p), gen)
	}
	return out, err
}

// absentSet remembers names that have no feed record, so that the lookup
// every policy decision makes (nearly always for a name in no feed) costs a
// map read instead of a read transaction and a cursor per source. Only
// PutFeedRecords changes the feed (bbolt's file lock keeps other processes
// out) and it resets the set after its commit. A lookup adds its name only
// if no reset happened since it read the generation before its
// transaction, so an absence seen in data older than a committed import is
// never kept. Bounded: a full set starts over.
type absentSet struct {
	mu    sync.RWMutex
	gen   uint64
	names map[string]struct{}
}

// absentSetMax bounds the names remembered (about 100 bytes each).
const absentSetMax = 1 << 14

// has reports whether key is known absent, and the current generation.
func (a *absentSet) has(key string) (gen uint64, ok bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ok = a.names[key]
	return a.gen, ok
}

// add records key as absent if the set is still at generation gen.
func (a *absentSet) add(key string, gen uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen != gen {
		return
	}
	if a.names == nil || len(a.names) >= absentSetMax {
		a.names = make(map[string]struct{})
	}
	a.names[key] = struct{}{}
}

// reset forgets every name and starts a new generation.
func (a *absentSet) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	a.names = nil
}

// FeedSources lists the imported sources.
func (s *Store) FeedSources(ctx context.Context) ([]FeedSource, error) {
	var out []FeedSource
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFeedSources).ForEach(func(k, v []byte) error {
			var fs FeedSource
			if err := json.Unmarshal(v, &fs); err != nil {
				return fmt.Errorf("store: decode feed source %q: %w", k, err)
			}
			out = append(out, fs)
			return nil
		})
	})
	return out, err
}

// PolicyFeed adapts the stored feed to policy.Feed. A read error (which
// bbolt makes practically impossible) is logged and yields no records.
func (s *Store) PolicyFeed() policy.Feed { return policyFeed{s} }

type policyFeed struct{ s *Store }

func (f policyFeed) Lookup(eco scan.Ecosystem, name string) []policy.FeedRecord {
	recs, err := f.s.FeedLookup(context.Background(), eco, name)
	if err != nil {
		f.s.log.Error("store: feed lookup failed", "ecosystem", eco, "name", name, "err", err)
		return nil
	}
	out := make([]policy.FeedRecord, 0, len(recs))
	for _, r := range recs {
		out = append(out, policy.FeedRecord{ID: r.ID, Summary: r.Summary, Withdrawn: r.IsWithdrawn(),
			AllVersions: r.AllVersions, Affects: r.Affects})
	}
	return out
}
