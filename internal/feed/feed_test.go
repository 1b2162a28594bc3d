package feed

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/moatproject/moat/scan"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestImportFolderGolden(t *testing.T) {
	recs, err := Import(context.Background(), "testdata/osv")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := "testdata/import.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("import differs from %s (run go test -update):\n%s", golden, got)
	}
}

func TestImportSkipsMalformed(t *testing.T) {
	recs, err := Import(context.Background(), "testdata")
	var skipped *SkippedError
	if !errors.As(err, &skipped) {
		t.Fatalf("err = %v, want *SkippedError", err)
	}
	if skipped.Count != 3 || len(recs) != 6 {
		t.Fatalf("skipped %d, records %d; want 3, 6 (%v)", skipped.Count, len(recs), err)
	}
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("skip reasons do not wrap ErrMalformed: %v", err)
	}
}

// zipOf packs the files under dir into a zip, plus extra entries.
func zipOf(t *testing.T, dir string, extra map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create("malicious-packages-main/" + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range extra {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "feed.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportZip(t *testing.T) {
	ctx := context.Background()
	fromDir, err := Import(ctx, "testdata/osv")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte(" "), 64<<10) // compresses to almost nothing
	p := zipOf(t, "testdata/osv", map[string][]byte{"x/bomb.json": big})
	im := Importer{MaxFileBytes: 32 << 10}
	recs, err := im.Import(ctx, p)
	var skipped *SkippedError
	if !errors.As(err, &skipped) || skipped.Count != 1 {
		t.Fatalf("err = %v, want one skipped (the oversized entry)", err)
	}
	a, _ := json.Marshal(fromDir)
	b, _ := json.Marshal(recs)
	if !bytes.Equal(a, b) {
		t.Fatalf("zip import differs from folder import:\n%s\n%s", a, b)
	}

	if _, err := (Importer{MaxArchiveBytes: 100}).Import(ctx, p); !errors.Is(err, ErrLimit) {
		t.Fatalf("archive limit: err = %v", err)
	}
	if _, err := (Importer{MaxFiles: 2}).Import(ctx, p); !errors.Is(err, ErrLimit) {
		t.Fatalf("file limit: err = %v", err)
	}
	notZip := filepath.Join(t.TempDir(), "x.zip")
	os.WriteFile(notZip, []byte("not a zip"), 0o600)
	if _, err := Import(ctx, notZip); err == nil {
		t.Fatal("accepted a non-zip file")
	}
	if _, err := Import(ctx, filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing path: err = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Import(cctx, "testdata/osv"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
}

func TestAffects(t *testing.T) {
	recs, err := Import(context.Background(), "testdata/osv")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	cases := []struct {
		id, version string
		want        bool
	}{
		{"MAL-0000-0001", "1.0.0", true}, // introduced 0, no fix
		{"MAL-0000-0001", "", true},
		{"MAL-0000-0002", "1.0.1", true},
		{"MAL-0000-0002", "v1.0.2", true},
		{"MAL-0000-0002", "1.0.3", false},
		{"MAL-0000-0002", "", false},
		{"MAL-0000-0003", "0.0.1", true}, // no versions, no ranges
		{"MAL-0000-0004", "1.5", true},   // explicit
		{"MAL-0000-0004", "1.5.0", true}, // PEP 440 equal
		{"MAL-0000-0004", "1.9", false},
		{"MAL-0000-0004", "2.0", true},
		{"MAL-0000-0004", "2.0.5", true},
		{"MAL-0000-0004", "2.1", false}, // fixed
		{"MAL-0000-0004", "2.9", false},
		{"MAL-0000-0004", "3.0", true},
		{"MAL-0000-0004", "3.2", true}, // last_affected is inclusive
		{"MAL-0000-0004", "3.2.1", false},
		{"MAL-0000-0004", "not-a-version", false},
		{"GHSA-fake-0000-0006", "1.1.9", false},
		{"GHSA-fake-0000-0006", "1.2.0", true},
		{"GHSA-fake-0000-0006", "1.3.7", true},
		{"GHSA-fake-0000-0006", "1.4.0", false},
	}
	for _, c := range cases {
		r, ok := byID[c.id]
		if !ok {
			t.Fatalf("no record %s", c.id)
		}
		if got := r.Affects(c.version); got != c.want {
			t.Errorf("%s.Affects(%q) = %v, want %v", c.id, c.version, got, c.want)
		}
	}
	if !byID["MAL-0000-0005"].IsWithdrawn() || byID["MAL-0000-0001"].IsWithdrawn() {
		t.Error("withdrawn flag wrong")
	}
	if r := byID["MAL-0000-0003"]; r.Ecosystem != scan.PyPI || r.Name != "fake-py-loader" || r.Summary != "Fake loader fixture." {
		t.Errorf("pypi record %+v", r)
	}
	if r := byID["MAL-0000-0004"]; r.AllVersions || len(r.Ranges) != 2 {
		t.Errorf("ranged record %+v", r)
	}
}

func TestParseOSVErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":      `{`,
		"no id":         `{"affected":[{"package":{"ecosystem":"npm","name":"x"}}]}`,
		"no affected":   `{"id":"MAL-1"}`,
		"empty name":    `{"id":"MAL-1","affected":[{"package":{"ecosystem":"npm","name":" "}}]}`,
		"wrong types":   `{"id":"MAL-1","affected":[{"package":{"ecosystem":"npm","name":"x"},"versions":"1.0"}]}`,
		"bad withdrawn": `{"id":"MAL-1","withdrawn":"yesterday","affected":[{"package":{"ecosystem":"npm","name":"x"}}]}`,
	} {
		if _, err := ParseOSV([]byte(doc)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	recs, err := ParseOSV([]byte(`{"id":"X-1","affected":[{"package":{"ecosystem":"Go","name":"x"}}]}`))
	if err != nil || len(recs) != 0 {
		t.Errorf("other ecosystem: %v, %v", recs, err)
	}
}

func FuzzParseOSV(f *testing.F) {
	filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isDoc(p) {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	f.Add([]byte(`{"id":"M","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1"},{"introduced":"x"},{"last_affected":"0"}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ParseOSV(data)
		if err != nil {
			if len(recs) != 0 {
				t.Fatal("records with an error")
			}
			return
		}
		for _, r := range recs {
			if r.ID == "" || r.Name == "" || (r.Ecosystem != scan.NPM && r.Ecosystem != scan.PyPI) {
				t.Fatalf("bad record %+v", r)
			}
			if !r.AllVersions && len(r.Versions) == 0 && len(r.Ranges) == 0 {
				t.Fatalf("record matches nothing and is not all-versions: %+v", r)
			}
			for _, v := range []string{"", "0", "1.0.0", "1.0", "2.0.0-rc.1", "1!2.0.post1", r.Name} {
				r.Affects(v)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatal(err)
			}
		}
	})
}
