package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/moatproject/moat/internal/feed"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

func open(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	opts.NoSync = true
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func shaOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func tmpFiles(t *testing.T, s *Store) []os.DirEntry {
	t.Helper()
	ents, err := os.ReadDir(s.tmpDir())
	if err != nil {
		t.Fatal(err)
	}
	return ents
}

func TestOpenLayoutAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := open(t, dir, Options{})
	for p, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "moat.db"): 0o600, s.blobRoot(): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %v, want %v", p, got, want)
		}
	}
	sha, _, err := s.PutBlob(context.Background(), strings.NewReader("x"), "")
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(s.BlobPath(sha)); fi.Mode().Perm() != 0o600 {
		t.Errorf("blob mode %v", fi.Mode().Perm())
	}
	if want := filepath.Join(dir, "blobs", "sha256", sha[:2], sha[2:4], sha); s.BlobPath(sha) != want {
		t.Errorf("BlobPath = %s, want %s", s.BlobPath(sha), want)
	}
}

func TestLockTimeout(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, Options{})
	start := time.Now()
	_, err := Open(dir, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "database is locked by another moat process") {
		t.Errorf("message %q", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("waited %v", d)
	}
}

func TestSchemaTooNew(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(filepath.Join(dir, "moat.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(fmt.Sprint(SchemaVersion+1)))
	})
	db.Close()
	_, err = Open(dir, Options{})
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "has schema 2") {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
}

func TestMetaRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{InlineMetaMax: 1024})
	if _, err := s.GetMeta(ctx, "npm:full:nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	fetched := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	small := &MetaEntry{Body: []byte(`{"name":"x"}`), ETag: `"e1"`, LastModified: "Mon", ContentType: "application/json",
		FetchedAt: fetched, Upstream: "http://registry.invalid/x"}
	if err := s.PutMeta(ctx, "npm:full:x", small); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetMeta(ctx, "npm:full:x")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Body, small.Body) || got.ETag != small.ETag || !got.FetchedAt.Equal(fetched) ||
		got.Upstream != small.Upstream || got.ContentType != small.ContentType || got.LastModified != "Mon" {
		t.Fatalf("got %+v", got)
	}

	// A big body goes to a blob; bbolt keeps only the reference.
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	if err := s.PutMeta(ctx, "npm:full:@scope/big", &MetaEntry{Body: big, ETag: "b1"}); err != nil {
		t.Fatal(err)
	}
	if !s.HasBlob(ctx, shaOf(big)) {
		t.Fatal("big body not stored as a blob")
	}
	s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMetadata).Get([]byte("npm:full:@scope/big")); len(v) > 512 {
			t.Errorf("record holds %d bytes", len(v))
		}
		return nil
	})
	got, err = s.GetMeta(ctx, "npm:full:@scope/big")
	if err != nil || !bytes.Equal(got.Body, big) || got.ETag != "b1" {
		t.Fatalf("big: %v", err)
	}
	// Replacing it deletes the old body blob.
	big2 := append(bytes.Clone(big), '!')
	if err := s.PutMeta(ctx, "npm:full:@scope/big", &MetaEntry{Body: big2}); err != nil {
		t.Fatal(err)
	}
	if s.HasBlob(ctx, shaOf(big)) || !s.HasBlob(ctx, shaOf(big2)) {
		t.Fatal("old body blob kept or new one missing")
	}
	// Replacing with a small body drops the blob too.
	if err := s.PutMeta(ctx, "npm:full:@scope/big", small); err != nil {
		t.Fatal(err)
	}
	if s.HasBlob(ctx, shaOf(big2)) {
		t.Fatal("blob kept after inline replace")
	}
	// A lost blob reads as a miss (the gate refetches).
	s.PutMeta(ctx, "pypi:json:lost", &MetaEntry{Body: big})
	s.DeleteBlob(ctx, shaOf(big))
	if _, err := s.GetMeta(ctx, "pypi:json:lost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lost blob: %v", err)
	}
}

func report(sha, scanner, name, version string, score float64) *scan.Report {
	return &scan.Report{SHA256: sha, ScannerVersion: scanner, Ecosystem: scan.NPM, Name: name, Version: version,
		Verdict: scan.VerdictClean, Score: score, Threshold: 0.5,
		Findings: []scan.Finding{{Feature: "fs.read", File: "index.js", Line: 1, Snippet: "fs.readFileSync('/etc/hostname')"}}}
}

func TestReports(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{})
	a, b := shaOf([]byte("a")), shaOf([]byte("b"))
	if _, err := s.GetReport(ctx, a, "v1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	for _, r := range []*scan.Report{
		report(a, "v1", "left-pad", "1.0.0", 0.1),
		report(a, "v2", "left-pad", "1.0.0", 0.2),
		report(b, "v2", "left-pad", "2.0.0", 0.3),
	} {
		if err := s.PutReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct StoredAt
	}
	got, err := s.GetReport(ctx, strings.ToUpper(a), "v2")
	if err != nil || got.Score != 0.2 || got.Findings[0].Snippet == "" {
		t.Fatalf("GetReport: %+v, %v", got, err)
	}
	all, err := s.ReportsBySHA(ctx, a)
	if err != nil || len(all) != 2 || all[0].ScannerVersion != "v2" || all[1].ScannerVersion != "v1" {
		t.Fatalf("ReportsBySHA: %v, %v", all, err)
	}
	found, err := s.FindReports(ctx, scan.NPM, "left-pad", "1.0.0")
	if err != nil || len(found) != 2 {
		t.Fatalf("FindReports version: %d, %v", len(found), err)
	}
	found, err = s.FindReports(ctx, scan.NPM, "left-pad", "")
	if err != nil || len(found) != 3 || found[0].SHA256 != b {
		t.Fatalf("FindReports all versions: %d, %v", len(found), err)
	}
	if found, _ := s.FindReports(ctx, scan.NPM, "left", ""); len(found) != 0 {
		t.Fatal("prefix of a name matched")
	}
	for _, bad := range []*scan.Report{nil, {SHA256: a}, {SHA256: "zz", ScannerVersion: "v1"}, {SHA256: a, ScannerVersion: "v\x00"}} {
		if err := s.PutReport(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("PutReport(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestArtifacts(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{})
	sha := shaOf([]byte("tarball"))
	a := Artifact{SHA256: sha, Ecosystem: scan.PyPI, Name: "requests", Version: "2.0", Filename: "requests-2.0-py3-none-any.whl",
		Size: 7, Upstream: "http://files.invalid/requests-2.0-py3-none-any.whl", FetchedAt: time.Unix(1700000000, 0).UTC()}
	if err := s.PutArtifact(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetArtifact(ctx, sha)
	if err != nil || *got != a {
		t.Fatalf("GetArtifact: %+v, %v", got, err)
	}
	got, err = s.FindArtifact(ctx, scan.PyPI, "requests", a.Filename)
	if err != nil || *got != a {
		t.Fatalf("FindArtifact: %+v, %v", got, err)
	}
	if _, err := s.FindArtifact(ctx, scan.PyPI, "requests", "other.whl"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := s.GetArtifact(ctx, shaOf(nil)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := s.PutArtifact(ctx, Artifact{SHA256: sha}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no name: %v", err)
	}
}

func TestOverrides(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	deny := policy.Rule{Action: policy.ActionBlock, Ecosystem: scan.NPM, Package: "Evil-Thing", Version: "1.0.0", Reason: "incident 42"}
	stored, err := s.PutOverride(ctx, deny)
	if err != nil {
		t.Fatal(err)
	}
	if stored.ID == "" || stored.CreatedAt.IsZero() {
		t.Fatalf("stored %+v", stored)
	}
	if _, err := s.PutOverride(ctx, policy.Rule{Action: policy.ActionAllow, Ecosystem: scan.NPM, Package: "ok", Range: "^1"}); err != nil {
		t.Fatal(err)
	}
	// Same target, other action: replaces.
	flip := deny
	flip.Action = policy.ActionAllow
	flipped, err := s.PutOverride(ctx, flip)
	if err != nil || flipped.ID != stored.ID {
		t.Fatalf("flip: %+v, %v", flipped, err)
	}
	list, err := s.ListOverrides(ctx)
	if err != nil || len(list) != 2 || len(s.Rules()) != 2 {
		t.Fatalf("list %v, rules %v, %v", list, s.Rules(), err)
	}
	for _, r := range s.Rules() {
		if r.ID == stored.ID && r.Action != policy.ActionAllow {
			t.Fatalf("not replaced: %+v", r)
		}
	}
	if _, err := s.PutOverride(ctx, policy.Rule{Ecosystem: scan.NPM, Package: "x"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no action: %v", err)
	}
	if err := s.DeleteOverride(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if err := s.DeleteOverride(ctx, stored.ID); err != nil {
		t.Fatal(err)
	}
	if len(s.Rules()) != 1 {
		t.Fatalf("rules after delete: %v", s.Rules())
	}
	s.Close()
	s = open(t, dir, Options{})
	if r := s.Rules(); len(r) != 1 || r[0].Package != "ok" {
		t.Fatalf("after reopen: %v", r)
	}
}

// A name looked up before any feed named it is remembered as absent; an
// import that adds it must be seen by the very next lookup, also when
// lookups race the import.
func TestFeedAbsenceForgottenOnImport(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{})
	for range 2 { // the second lookup is answered from the absent set
		if got, err := s.FeedLookup(ctx, scan.NPM, "later-bad"); err != nil || len(got) != 0 {
			t.Fatalf("before import: %+v, %v", got, err)
		}
	}
	if _, ok := s.feedAbsent.has("npm\x00later-bad\x00"); !ok {
		t.Fatal("an empty lookup was not remembered: the absent set is not used")
	}
	done := make(chan struct{})
	go func() { // lookups racing the import below
		defer close(done)
		for range 200 {
			_, _ = s.FeedLookup(ctx, scan.NPM, "later-bad")
		}
	}()
	if err := s.PutFeedRecords(ctx, "ossf", []feed.Record{{ID: "MAL-9", Ecosystem: scan.NPM, Name: "later-bad", AllVersions: true}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FeedLookup(ctx, scan.NPM, "later-bad"); err != nil || len(got) != 1 || got[0].ID != "MAL-9" {
		t.Fatalf("right after import: %+v, %v", got, err)
	}
	<-done
	if got, _ := s.FeedLookup(ctx, scan.NPM, "later-bad"); len(got) != 1 {
		t.Fatalf("after the racing lookups: %+v", got)
	}
	if err := s.PutFeedRecords(ctx, "ossf", nil); err != nil { // withdrawn from the source entirely
		t.Fatal(err)
	}
	if got, _ := s.FeedLookup(ctx, scan.NPM, "later-bad"); len(got) != 0 {
		t.Fatalf("after the source dropped it: %+v", got)
	}
}

func TestFeedRecords(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{})
	recs := []feed.Record{
		{ID: "MAL-1", Ecosystem: scan.PyPI, Name: "fake-loader", AllVersions: true, Summary: "bad"},
		{ID: "MAL-2", Ecosystem: scan.NPM, Name: "fake-lib", Versions: []string{"1.0.1"}},
		{ID: "MAL-3", Ecosystem: scan.NPM, Name: "fake-lib-extra", AllVersions: true},
		{ID: "MAL-4", Ecosystem: scan.NPM, Name: "gone", AllVersions: true, Withdrawn: time.Unix(1, 0).UTC()},
	}
	if err := s.PutFeedRecords(ctx, "ossf", recs); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFeedRecords(ctx, "local", []feed.Record{{ID: "LOCAL-1", Ecosystem: scan.NPM, Name: "fake-lib", Versions: []string{"2.0.0"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.FeedLookup(ctx, scan.PyPI, "Fake_Loader")
	if err != nil || len(got) != 1 || got[0].ID != "MAL-1" || !got[0].AllVersions {
		t.Fatalf("pypi lookup: %+v, %v", got, err)
	}
	got, _ = s.FeedLookup(ctx, scan.NPM, "fake-lib")
	if len(got) != 2 {
		t.Fatalf("npm lookup across sources: %+v", got)
	}
	// Replace one source atomically.
	if err := s.PutFeedRecords(ctx, "ossf", recs[:1]); err != nil {
		t.Fatal(err)
	}
	got, _ = s.FeedLookup(ctx, scan.NPM, "fake-lib")
	if len(got) != 1 || got[0].ID != "LOCAL-1" {
		t.Fatalf("after replace: %+v", got)
	}
	srcs, err := s.FeedSources(ctx)
	if err != nil || len(srcs) != 2 {
		t.Fatalf("sources %+v, %v", srcs, err)
	}

	// The policy adapter, end to end with overrides.
	s.PutFeedRecords(ctx, "ossf", recs)
	e, err := policy.New(policy.Config{}, policy.Deps{Feed: s.PolicyFeed(), Overrides: s})
	if err != nil {
		t.Fatal(err)
	}
	decide := func(eco scan.Ecosystem, name, version string) policy.Decision {
		return e.Decide(policy.Input{Ecosystem: eco, Name: name, Version: version})
	}
	if d := decide(scan.NPM, "fake-lib", "1.0.1"); d.Action != policy.ActionBlock || d.Rule != "feed MAL-2" {
		t.Fatalf("feed block: %+v", d)
	}
	if d := decide(scan.NPM, "fake-lib", "1.0.2"); d.Action != policy.ActionAllow {
		t.Fatalf("unaffected version: %+v", d)
	}
	if d := decide(scan.NPM, "gone", "1.0.0"); d.Action != policy.ActionAllow {
		t.Fatalf("withdrawn: %+v", d)
	}
	if _, err := s.PutOverride(ctx, policy.Rule{Action: policy.ActionAllow, Ecosystem: scan.NPM, Package: "fake-lib", Version: "1.0.1"}); err != nil {
		t.Fatal(err)
	}
	if d := decide(scan.NPM, "fake-lib", "1.0.1"); d.Action != policy.ActionAllow || d.Layer != policy.LayerRule {
		t.Fatalf("override did not apply at once: %+v", d)
	}
}

func TestBlobs(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{})
	data := []byte("package bytes")
	sha, n, err := s.PutBlob(ctx, bytes.NewReader(data), "")
	if err != nil || sha != shaOf(data) || n != int64(len(data)) {
		t.Fatalf("PutBlob: %s %d %v", sha, n, err)
	}
	f, size, err := s.OpenBlob(ctx, sha)
	if err != nil || size != int64(len(data)) {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(b, data) {
		t.Fatal("content differs")
	}
	// Known blob with wantSHA: r is not read.
	if got, _, err := s.PutBlob(ctx, iotestErrReader{}, strings.ToUpper(sha)); err != nil || got != sha {
		t.Fatalf("existing: %s %v", got, err)
	}
	// Mismatch.
	_, _, err = s.PutBlob(ctx, strings.NewReader("other"), shaOf([]byte("expected")))
	var me *MismatchError
	if !errors.Is(err, ErrHashMismatch) || !errors.As(err, &me) || me.Got != shaOf([]byte("other")) {
		t.Fatalf("mismatch: %v", err)
	}
	if s.HasBlob(ctx, shaOf([]byte("expected"))) || s.HasBlob(ctx, shaOf([]byte("other"))) || len(tmpFiles(t, s)) != 0 {
		t.Fatal("mismatch left something behind")
	}
	// Invalid names never reach the file system.
	for _, bad := range []string{"../../etc/passwd", "abc", strings.Repeat("g", 64)} {
		if _, _, err := s.OpenBlob(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("OpenBlob(%q) = %v", bad, err)
		}
		if s.BlobPath(bad) != "" || s.HasBlob(ctx, bad) {
			t.Errorf("BlobPath(%q) accepted", bad)
		}
	}
	if err := s.DeleteBlob(ctx, sha); err != nil || s.HasBlob(ctx, sha) {
		t.Fatalf("delete: %v", err)
	}
	if _, _, err := s.OpenBlob(ctx, sha); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open deleted: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.PutBlob(cctx, strings.NewReader("x"), ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("must not be read") }

// enospcWriter accepts limit bytes, then fails like a full disk.
type enospcWriter struct {
	w     io.Writer
	limit int
}

func (e *enospcWriter) Write(p []byte) (int, error) {
	if len(p) > e.limit {
		n, _ := e.w.Write(p[:e.limit])
		e.limit = 0
		return n, &os.PathError{Op: "write", Path: "blob", Err: syscall.ENOSPC}
	}
	e.limit -= len(p)
	return e.w.Write(p)
}

func TestENOSPC(t *testing.T) {
	ctx := context.Background()
	full := false
	var mu sync.Mutex
	s := open(t, t.TempDir(), Options{InlineMetaMax: 16, WrapBlobWriter: func(w io.Writer) io.Writer {
		mu.Lock()
		defer mu.Unlock()
		if full {
			return &enospcWriter{w: w, limit: 1000}
		}
		return w
	}})
	if err := s.PutMeta(ctx, "npm:full:x", &MetaEntry{Body: bytes.Repeat([]byte("a"), 100)}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	full = true
	mu.Unlock()
	data := bytes.Repeat([]byte("z"), 64<<10)
	_, _, err := s.PutBlob(ctx, bytes.NewReader(data), "")
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("PutBlob: %v, want ENOSPC", err)
	}
	if s.HasBlob(ctx, shaOf(data)) || len(tmpFiles(t, s)) != 0 {
		t.Fatal("partial blob left behind")
	}
	// A metadata write that needs a blob fails cleanly and keeps the old entry.
	if err := s.PutMeta(ctx, "npm:full:x", &MetaEntry{Body: data}); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("PutMeta: %v", err)
	}
	got, err := s.GetMeta(ctx, "npm:full:x")
	if err != nil || len(got.Body) != 100 {
		t.Fatalf("old entry: %v", err)
	}
	// The db keeps working.
	if err := s.PutReport(ctx, report(shaOf(data), "v1", "x", "1.0.0", 0)); err != nil {
		t.Fatal(err)
	}
}

func TestCrashLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	data := []byte("complete content")
	sha := shaOf(data)
	// A killed writer leaves a temp file with part of the content.
	tmp, err := s.createTemp()
	if err != nil {
		t.Fatal(err)
	}
	tmp.Write(data[:5])
	tmp.Close()
	if s.HasBlob(ctx, sha) {
		t.Fatal("partial content visible")
	}
	s.Close()
	s2 := open(t, dir, Options{})
	if n := len(tmpFiles(t, s2)); n != 0 {
		t.Fatalf("%d temp files survived Open", n)
	}
	if s2.HasBlob(ctx, sha) {
		t.Fatal("partial content served")
	}
	// And the blob can be stored normally afterwards.
	if got, _, err := s2.PutBlob(ctx, bytes.NewReader(data), sha); err != nil || got != sha {
		t.Fatal(err)
	}
}

func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{InlineMetaMax: 64})
	same := bytes.Repeat([]byte("same blob "), 1000)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, _, err := s.PutBlob(ctx, bytes.NewReader(same), ""); err != nil {
					errs <- err
				}
				own := []byte(fmt.Sprintf("blob %d %d", g, i))
				sha, _, err := s.PutBlob(ctx, bytes.NewReader(own), shaOf(own))
				if err != nil {
					errs <- err
					continue
				}
				if err := s.PutReport(ctx, report(sha, "v1", fmt.Sprint("pkg", g), fmt.Sprint("1.0.", i), 0.1)); err != nil {
					errs <- err
				}
				if _, err := s.GetReport(ctx, sha, "v1"); err != nil {
					errs <- err
				}
				body := bytes.Repeat([]byte{byte('a' + i)}, 100+g)
				key := fmt.Sprint("npm:full:shared", i%3)
				if err := s.PutMeta(ctx, key, &MetaEntry{Body: body}); err != nil {
					errs <- err
				}
				if _, err := s.GetMeta(ctx, key); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records["reports"] != 160 || st.Records["report_index"] != 160 || st.Records["metadata"] != 3 {
		t.Fatalf("stats %+v", st)
	}
	// 160 own blobs + the shared one + up to 3 live metadata bodies.
	if st.Blobs < 161 || st.Blobs > 164 || len(tmpFiles(t, s)) != 0 {
		t.Fatalf("blobs %d, temp %d", st.Blobs, len(tmpFiles(t, s)))
	}
	f, n, err := s.OpenBlob(ctx, shaOf(same))
	if err != nil || n != int64(len(same)) {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, same) {
		t.Fatal("shared blob corrupted")
	}
}

func TestCancelledContext(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.GetMeta(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("GetMeta: %v", err)
	}
	if err := s.PutArtifact(ctx, Artifact{SHA256: shaOf(nil), Name: "x", Filename: "x.tgz"}); !errors.Is(err, context.Canceled) {
		t.Errorf("PutArtifact: %v", err)
	}
}
