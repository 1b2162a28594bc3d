package store

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/moatproject/moat/internal/feed"
	"github.com/moatproject/moat/scan"
)

func BenchmarkGetReport(b *testing.B) {
	ctx := context.Background()
	s, _ := Open(b.TempDir(), Options{NoSync: true})
	defer s.Close()
	sha := shaOf([]byte("x"))
	s.PutReport(ctx, report(sha, "v1", "x", "1.0.0", 0.1))
	b.ResetTimer()
	for range b.N {
		if _, err := s.GetReport(ctx, sha, "v1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetMetaBlob(b *testing.B) {
	ctx := context.Background()
	s, _ := Open(b.TempDir(), Options{NoSync: true})
	defer s.Close()
	body := bytes.Repeat([]byte("x"), 10<<20)
	s.PutMeta(ctx, "npm:full:big", &MetaEntry{Body: body})
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		if _, err := s.GetMeta(ctx, "npm:full:big"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFeed(b *testing.B) {
	ctx := context.Background()
	s, _ := Open(b.TempDir(), Options{NoSync: true})
	defer s.Close()
	recs := make([]feed.Record, 100_000)
	for i := range recs {
		recs[i] = feed.Record{ID: fmt.Sprintf("MAL-%06d", i), Ecosystem: scan.NPM, Name: fmt.Sprintf("fake-%06d", i), AllVersions: true}
	}
	if err := s.PutFeedRecords(ctx, "ossf", recs); err != nil {
		b.Fatal(err)
	}
	b.Run("PutFeedRecords100k", func(b *testing.B) {
		for range b.N {
			if err := s.PutFeedRecords(ctx, "ossf", recs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Lookup", func(b *testing.B) {
		f := s.PolicyFeed()
		for i := range b.N {
			if len(f.Lookup(scan.NPM, fmt.Sprintf("fake-%06d", i%100_000))) != 1 {
				b.Fatal("miss")
			}
		}
	})
}
