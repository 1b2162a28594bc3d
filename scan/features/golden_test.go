package features

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

// TestGolden extracts whole fixture files and compares the events (tokens,
// lines, snippets, order) and imports with testdata/golden/*.json.
// Regenerate with: go test ./scan/features -run TestGolden -update
func TestGolden(t *testing.T) {
	e := newTestExtractor(t)
	for _, fixture := range []string{"js/stealer.js", "py/setup.py"} {
		t.Run(fixture, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", fixture))
			if err != nil {
				t.Fatal(err)
			}
			fe := extract(t, e, fixture, string(src))
			checkWellFormed(t, fe, fixture)
			got, err := json.MarshalIndent(fe, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "golden", strings.ReplaceAll(fixture, "/", "_")+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("events differ from %s (run with -update after checking):\n%s", golden, got)
			}
		})
	}
}
