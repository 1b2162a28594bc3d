//go:build cgo

package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/moatproject/moat/scan"
	"github.com/moatproject/moat/scan/features"
	"github.com/moatproject/moat/scan/rules"
	"github.com/moatproject/moat/scan/sequence"
)

var update = flag.Bool("update", false, "rewrite the golden sequences in testdata/golden")

// newRealScanner wires the tree-sitter extractor and the rule classifier,
// as cmd/moat does.
func newRealScanner(t testing.TB) *scan.Scanner {
	return newRealScannerWith(t, scan.Options{})
}

func newRealScannerWith(t testing.TB, opts scan.Options) *scan.Scanner {
	ex := features.New(features.Options{})
	t.Cleanup(func() { ex.Close() })
	return scan.New(ex, rules.New(), opts)
}

// TestGoldenSequences scans every fixture with the real extractor and
// compares its full sequence (tokens, file:line, snippets) with
// testdata/golden/<fixture>.json; -update rewrites them.
func TestGoldenSequences(t *testing.T) {
	s := newRealScanner(t)
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			fn, data := fixtureArchive(t, name)
			r := s.Scan(context.Background(), scan.Input{Filename: fn, Data: data})
			checkFixtureReport(t, name, r)
			got, err := json.MarshalIndent(sequence.Sequence{Tokens: r.Sequence, Events: r.Events}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("sequence differs from %s (run with -update and review the diff):\n%s", golden, got)
			}
		})
	}
}
