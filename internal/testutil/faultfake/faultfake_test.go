package faultfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	s := New()
	defer s.Close()
	tgz := Tgz("pkg", "1.0.0", map[string][]byte{"index.js": []byte("module.exports = 1;\n")})
	tb := s.AddTarball("pkg", "1.0.0", tgz)
	client := &http.Client{Timeout: 5 * time.Second}
	cases := []struct {
		name  string
		fault Fault
		check func(t *testing.T, resp *http.Response, body []byte, err error)
	}{
		{"none", Fault{}, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(body, tgz) {
				t.Errorf("got %v %v, %d bytes", resp, err, len(body))
			}
		}},
		{"status", Fault{Kind: Status, Status: 503}, func(t *testing.T, resp *http.Response, _ []byte, err error) {
			if err != nil || resp.StatusCode != 503 {
				t.Errorf("got %v %v", resp, err)
			}
		}},
		{"reset", Fault{Kind: Reset}, func(t *testing.T, _ *http.Response, _ []byte, err error) {
			if err == nil {
				t.Error("no error")
			}
		}},
		{"truncate", Fault{Kind: Truncate}, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) || len(body) != len(tgz)/2 {
				t.Errorf("err %v, %d bytes", err, len(body))
			}
		}},
		{"wrong bytes", Fault{Kind: WrongBytes}, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || len(body) != len(tgz) || bytes.Equal(body, tgz) {
				t.Errorf("err %v, %d bytes, same as the real ones: %v", err, len(body), bytes.Equal(body, tgz))
			}
		}},
		{"oversize", Fault{Kind: Oversize, Size: 100 << 10}, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.ContentLength != 100<<10 || len(body) != 100<<10 {
				t.Errorf("err %v, declared %d, %d bytes", err, resp.ContentLength, len(body))
			}
		}},
		{"oversize chunked", Fault{Kind: OversizeChunked, Size: 100 << 10}, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.ContentLength != -1 || len(body) != 100<<10 {
				t.Errorf("err %v, declared %d, %d bytes", err, resp.ContentLength, len(body))
			}
		}},
		{"trickle", Fault{Kind: Trickle, Chunk: len(tgz)/3 + 1, Delay: 50 * time.Millisecond}, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || !bytes.Equal(body, tgz) {
				t.Errorf("err %v, %d bytes", err, len(body))
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.Set(tb.Path(), c.fault)
			before := s.Hits(tb.Path())
			start := time.Now()
			resp, err := client.Get(s.URL() + tb.Path())
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			c.check(t, resp, body, err)
			if c.fault.Kind == Trickle && time.Since(start) < 2*c.fault.Delay {
				t.Errorf("trickle took %v, want at least %v", time.Since(start), 2*c.fault.Delay)
			}
			if got := s.Hits(tb.Path()) - before; got < 1 {
				t.Errorf("hits went up by %d", got)
			}
		})
	}
}

func TestDocuments(t *testing.T) {
	s := New()
	defer s.Close()
	tb := s.AddTarball("pkg", "1.0.0", Tgz("pkg", "1.0.0", nil))
	f := s.AddFile("proj", "proj-1.0.0-py3-none-any.whl", []byte("not really a wheel"))
	get := func(path string) []byte {
		resp, err := http.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return b
	}
	var pk struct {
		Versions map[string]struct {
			Dist struct{ Tarball, Integrity, Shasum string }
		}
	}
	if err := json.Unmarshal(get(PackumentPath("pkg")), &pk); err != nil {
		t.Fatal(err)
	}
	d := pk.Versions["1.0.0"].Dist
	if d.Tarball != s.URL()+tb.Path() || d.Integrity != tb.Integrity || d.Shasum != tb.Shasum {
		t.Errorf("dist %+v, want %s %s %s", d, s.URL()+tb.Path(), tb.Integrity, tb.Shasum)
	}
	var page struct {
		Files []struct {
			URL    string
			Hashes map[string]string
		}
	}
	if err := json.Unmarshal(get(PagePath("proj")), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Files) != 1 || page.Files[0].URL != s.URL()+f.Path() || page.Files[0].Hashes["sha256"] != f.SHA256 {
		t.Errorf("page files %+v", page.Files)
	}
	s.Set(PagePath("proj"), Fault{Kind: Malformed})
	if b := get(PagePath("proj")); json.Valid(b) || !strings.Contains(string(b), "broken") {
		t.Errorf("malformed page is valid JSON: %s", b)
	}
}
