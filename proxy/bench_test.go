package proxy

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/moatproject/moat/internal/testutil/npmfake"
	"github.com/moatproject/moat/internal/testutil/pypifake"
)

// benchGet fetches path through the real HTTP stack and drains the body.
func benchGet(b *testing.B, client *http.Client, url string, hdr ...string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
	b.SetBytes(n)
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// BenchmarkNPMTarballWarm: a cached, scanned, allowed tarball (200 KB).
func BenchmarkNPMTarballWarm(b *testing.B) {
	h := newHarness(b)
	big := make([]byte, 200<<10)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	h.npm.Add("warm", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": string(big)}})
	c := benchClient()
	url := h.http.URL + "/npm/warm/-/warm-1.0.0.tgz"
	benchGet(b, c, url)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, url)
		}
	})
}

// BenchmarkNPMPackumentWarm: a cached packument with 300 versions, rewritten.
func BenchmarkNPMPackumentWarm(b *testing.B) {
	h := newHarness(b)
	for i := 0; i < 300; i++ {
		h.npm.Add("many", npmfake.Version{Version: fmt.Sprintf("1.0.%d", i), Files: map[string]string{"index.js": "x"}})
	}
	c := benchClient()
	url := h.http.URL + "/npm/many"
	benchGet(b, c, url, "Accept", npmAbbrevAccept)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, url, "Accept", npmAbbrevAccept)
		}
	})
}

// BenchmarkPyPIFileWarm: a cached, scanned, allowed wheel.
func BenchmarkPyPIFileWarm(b *testing.B) {
	h := newHarness(b)
	fn, data, _ := pypifake.Wheel("warmpkg", "1.0.0", map[string]string{"warmpkg/__init__.py": "X = 1\n"})
	h.pypi.Add("warmpkg", &pypifake.File{Filename: fn, Data: data})
	c := benchClient()
	url := h.http.URL + "/pypi/files/warmpkg/" + fn
	benchGet(b, c, url)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, url)
		}
	})
}

// BenchmarkPyPIIndexWarm: a cached project page with 2,000 files,
// filtered and rendered per request in the form pip asks for.
func BenchmarkPyPIIndexWarm(b *testing.B) {
	h := newHarness(b)
	fn, data, _ := pypifake.Wheel("bigproj", "1.0.0", map[string]string{"bigproj/__init__.py": "X = 1\n"})
	for i := 0; i < 2000; i++ {
		name := fmt.Sprintf("bigproj-1.%d.%d-py3-none-any.whl", i/100, i%100)
		if i == 0 {
			name = fn
		}
		h.pypi.Add("bigproj", &pypifake.File{Filename: name, Data: data})
	}
	c := benchClient()
	url := h.http.URL + "/pypi/simple/bigproj/"
	accept := "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
	benchGet(b, c, url, "Accept", accept)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchGet(b, c, url, "Accept", accept)
	}
}
