package proxy

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/internal/testutil/npmfake"
	"golang.org/x/sync/semaphore"
)

// installLikeNPM11 asks for package solo the way npm 11 does: the full
// packument, then the tarball.
func installLikeNPM11(t *testing.T, h *harness) {
	t.Helper()
	h.npm.Add("solo", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "module.exports = 1\n"}})
	if code, b := h.get(t, "/npm/solo", "Accept", "application/json"); code != http.StatusOK {
		t.Fatalf("full packument: %d %s", code, b)
	}
	if code, b := h.get(t, "/npm/solo/-/solo-1.0.0.tgz"); code != http.StatusOK {
		t.Fatalf("tarball: %d %s", code, b)
	}
}

// npm 11 resolves with full packuments (Accept: application/json) and asks
// for the tarballs afterwards: the tarball request must find the version in
// the full document moat already holds, not fetch the abbreviated one.
func TestTarballAfterFullPackumentFetchesMetadataOnce(t *testing.T) {
	h := newHarness(t)
	installLikeNPM11(t, h)
	if got := h.npm.Hits("/solo"); got != 1 {
		t.Errorf("upstream packument fetches = %d, want 1 (the tarball request refetched metadata)", got)
	}
	// An abbreviated client still gets the abbreviated form, fetched once.
	if code, _ := h.get(t, "/npm/solo", "Accept", npmAbbrevType); code != http.StatusOK {
		t.Fatalf("abbreviated packument: %d", code)
	}
	if got := h.npm.Hits("/solo"); got != 2 {
		t.Errorf("upstream packument fetches = %d, want 2", got)
	}
}

// After a restart nothing is in memory: a tarball request must use the
// form of its packument that the store holds (npm 11 resolved with the full
// one) rather than fetch the abbreviated one upstream, which made a
// restarted moat under load refetch hundreds of packuments at once.
func TestTarballAfterRestartUsesStoredForm(t *testing.T) {
	h := newHarness(t)
	installLikeNPM11(t, h)
	h.http.Close()
	h.srv.Close() // writes the queued metadata
	h.start(t)
	if code, b := h.get(t, "/npm/solo/-/solo-1.0.0.tgz"); code != http.StatusOK {
		t.Fatalf("tarball after restart: %d %s", code, b)
	}
	if got := h.npm.Hits("/solo"); got != 1 {
		t.Errorf("upstream packument fetches = %d, want 1 (the restarted moat fetched a form it did not need)", got)
	}
	if got := h.npm.Hits("/solo/-/solo-1.0.0.tgz"); got != 1 {
		t.Errorf("upstream tarball fetches = %d, want 1", got)
	}
}

// Packument decoding waits while the decoding bound is taken, and a
// document larger than the bound still decodes, alone.
func TestPackumentDecodingBounded(t *testing.T) {
	h := &npmHandler{decoding: semaphore.NewWeighted(decodeInFlight)}
	doc := []byte(`{"name":"solo","versions":{"1.0.0":{"name":"solo","version":"1.0.0","dist":{"tarball":"http://127.0.0.1/solo.tgz"}}}}`)
	if !h.decoding.TryAcquire(decodeInFlight) {
		t.Fatal("bound not free at start")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.parsePackument(ctx, doc); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("decoding with the bound taken: err = %v, want it to wait until the deadline", err)
	}
	h.decoding.Release(decodeInFlight)
	if p, err := h.parsePackument(t.Context(), doc); err != nil || p == nil {
		t.Fatalf("decoding with the bound free: %v", err)
	}
	huge := append(append([]byte(`{"name":"solo","description":"`), bytes.Repeat([]byte("x"), decodeInFlight+1)...), `","versions":{}}`...)
	if _, err := h.parsePackument(t.Context(), huge); err != nil {
		t.Fatalf("a document over the bound: %v", err)
	}
	if !h.decoding.TryAcquire(decodeInFlight) {
		t.Fatal("bound not released after decoding")
	}
}

// gatedStore is a MetaStore whose writes wait until release is closed.
type gatedStore struct {
	release chan struct{}
	mu      sync.Mutex
	puts    map[string]*store.MetaEntry
}

func (s *gatedStore) GetMeta(_ context.Context, key string) (*store.MetaEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.puts[key]; e != nil {
		return e, nil
	}
	return nil, store.ErrNotFound
}

func (s *gatedStore) PutMeta(_ context.Context, key string, e *store.MetaEntry) error {
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts[key] = e
	return nil
}

// A fetched document is answered without waiting for the store, is served
// from memory meanwhile, and close writes what is still queued.
func TestMetaFetcherWritesBehind(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		_, _ = w.Write([]byte(`{"name":"` + r.URL.Path[1:] + `"}`))
	}))
	defer up.Close()
	st := &gatedStore{release: make(chan struct{}), puts: map[string]*store.MetaEntry{}}
	m := newMetaFetcher(st, up.Client(), time.Minute, 5*time.Second, 1<<20, slog.New(slog.DiscardHandler), nil)

	keys := []string{"a", "b", "c"}
	for _, k := range keys {
		done := make(chan error, 1)
		go func() {
			_, err := m.get(t.Context(), "npm:full:"+k, up.URL+"/"+k, nil, nil)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the fetch waited for the store write")
		}
	}
	res, err := m.get(t.Context(), "npm:full:a", up.URL+"/a", nil, nil)
	if err != nil || string(res.Entry.Body) != `{"name":"a"}` {
		t.Fatalf("fresh document while its write is pending: %v %v", res, err)
	}
	st.mu.Lock()
	n := len(st.puts)
	st.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d writes landed before the store was released", n)
	}
	close(st.release)
	m.close()
	for _, k := range keys {
		e, err := st.GetMeta(t.Context(), "npm:full:"+k)
		if err != nil || e.ETag != `"v1"` {
			t.Errorf("after close, %s: %v %v", k, e, err)
		}
	}
	if _, err := st.GetMeta(t.Context(), "npm:full:zzz"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
	// A fetch that finishes after close writes its own document.
	if _, err := m.get(t.Context(), "npm:full:late", up.URL+"/late", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetMeta(t.Context(), "npm:full:late"); err != nil {
		t.Errorf("document fetched after close: %v", err)
	}
	m.close() // twice is fine
}
