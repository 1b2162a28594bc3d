package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/moatproject/moat/policy"
)

// OverrideID is the id PutOverride gives r: derived from r.Key(), so
// putting a rule for the same target again replaces it (allow ↔ deny).
func OverrideID(r policy.Rule) string {
	h := sha256.Sum256([]byte(r.Key()))
	return hex.EncodeToString(h[:6])
}

// PutOverride validates and stores an allow/deny rule created through the
// admin API, replacing any rule for the same target, and returns it as
// stored (ID and CreatedAt filled in). The in-memory view returned by
// Rules is updated before PutOverride returns.
func (s *Store) PutOverride(ctx context.Context, r policy.Rule) (policy.Rule, error) {
	if err := r.Validate(); err != nil {
		return policy.Rule{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	r.ID = OverrideID(r)
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	v, err := json.Marshal(r)
	if err != nil {
		return policy.Rule{}, fmt.Errorf("store: encode override: %w", err)
	}
	err = s.writeOverrides(ctx, func(b *bolt.Bucket) error { return b.Put([]byte(r.ID), v) })
	if err != nil {
		return policy.Rule{}, fmt.Errorf("store: put override: %w", err)
	}
	return r, nil
}

// DeleteOverride removes the override with id, or returns ErrNotFound.
func (s *Store) DeleteOverride(ctx context.Context, id string) error {
	err := s.writeOverrides(ctx, func(b *bolt.Bucket) error {
		if b.Get([]byte(id)) == nil {
			return fmt.Errorf("override %q: %w", id, ErrNotFound)
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("store: delete override: %w", err)
	}
	return nil
}

// ListOverrides returns every override, oldest first.
func (s *Store) ListOverrides(ctx context.Context) ([]policy.Rule, error) {
	var rules []policy.Rule
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		rules, err = readOverrides(tx.Bucket(bucketOverrides))
		return err
	})
	return rules, err
}

// Rules returns the overrides from memory (no I/O), satisfying
// policy.Overrides; callers must not modify the slice.
func (s *Store) Rules() []policy.Rule {
	if p := s.overrides.Load(); p != nil {
		return *p
	}
	return nil
}

// writeOverrides runs fn and refreshes the in-memory snapshot from the same
// transaction; the mutex keeps snapshots in commit order.
func (s *Store) writeOverrides(ctx context.Context, fn func(b *bolt.Bucket) error) error {
	s.overridesMu.Lock()
	defer s.overridesMu.Unlock()
	var rules []policy.Rule
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOverrides)
		if err := fn(b); err != nil {
			return err
		}
		var err error
		rules, err = readOverrides(b)
		return err
	})
	if err != nil {
		return err
	}
	s.overrides.Store(&rules)
	return nil
}

func (s *Store) loadOverrides() error {
	rules, err := s.ListOverrides(context.Background())
	if err != nil {
		return err
	}
	s.overrides.Store(&rules)
	return nil
}

func readOverrides(b *bolt.Bucket) ([]policy.Rule, error) {
	var rules []policy.Rule
	err := b.ForEach(func(k, v []byte) error {
		var r policy.Rule
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("store: decode override %q: %w", k, err)
		}
		rules = append(rules, r)
		return nil
	})
	sort.SliceStable(rules, func(i, j int) bool {
		if !rules[i].CreatedAt.Equal(rules[j].CreatedAt) {
			return rules[i].CreatedAt.Before(rules[j].CreatedAt)
		}
		return rules[i].ID < rules[j].ID
	})
	return rules, err
}
