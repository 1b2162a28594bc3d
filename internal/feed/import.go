package feed

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Default limits of an Importer.
const (
	DefaultMaxArchiveBytes = 512 << 20 // a .zip as read from disk
	DefaultMaxFileBytes    = 4 << 20   // one OSV document, decompressed
	DefaultMaxTotalBytes   = 2 << 30   // all documents, decompressed
	DefaultMaxFiles        = 1_000_000
)

// ErrLimit is wrapped by errors that abort an import because the input
// exceeds a limit of the Importer (the archive, the total, the file count).
var ErrLimit = errors.New("feed: input exceeds limit")

// SkippedError reports documents that Import skipped. Import returns it
// alongside the records it could read; callers that accept a partial
// import (the normal case) log it and go on.
type SkippedError struct {
	Count int     // documents skipped
	Errs  []error // the first few reasons, each naming its document
}

const maxSkippedErrs = 20

func (e *SkippedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "feed: skipped %d malformed document(s)", e.Count)
	for _, err := range e.Errs {
		b.WriteString("; ")
		b.WriteString(err.Error())
	}
	if e.Count > len(e.Errs) {
		fmt.Fprintf(&b, "; ... %d more", e.Count-len(e.Errs))
	}
	return b.String()
}

// Unwrap returns the recorded reasons.
func (e *SkippedError) Unwrap() []error { return e.Errs }

// Importer reads OSV records with limits; the zero value uses the defaults.
type Importer struct {
	MaxArchiveBytes int64
	MaxFileBytes    int64
	MaxTotalBytes   int64
	MaxFiles        int
}

// Import reads every *.json OSV document under path (a folder, or a .zip
// read in memory) with the default limits. See Importer.Import.
func Import(ctx context.Context, path string) ([]Record, error) {
	return Importer{}.Import(ctx, path)
}

// Import reads every *.json OSV document under path, a folder or a .zip
// (the ossf/malicious-packages layout osv/malicious/<ecosystem>/<name>/MAL-*.json,
// or any other layout). Records come back sorted by ecosystem, name and ID.
// Documents that do not parse are skipped: the returned error is then a
// *SkippedError and the records are still valid. Any other error (path
// unreadable, a limit exceeded, ctx done) aborts the import.
func (im Importer) Import(ctx context.Context, path string) ([]Record, error) {
	im.setDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	var st state
	st.im = im
	if fi.IsDir() {
		err = st.walkDir(ctx, path)
	} else {
		err = st.readZip(ctx, path, fi.Size())
	}
	if err != nil {
		return nil, err
	}
	sort.SliceStable(st.recs, func(i, j int) bool {
		a, b := st.recs[i], st.recs[j]
		if a.Ecosystem != b.Ecosystem {
			return a.Ecosystem < b.Ecosystem
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	if st.skipped.Count > 0 {
		return st.recs, &st.skipped
	}
	return st.recs, nil
}

func (im *Importer) setDefaults() {
	if im.MaxArchiveBytes <= 0 {
		im.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	if im.MaxFileBytes <= 0 {
		im.MaxFileBytes = DefaultMaxFileBytes
	}
	if im.MaxTotalBytes <= 0 {
		im.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if im.MaxFiles <= 0 {
		im.MaxFiles = DefaultMaxFiles
	}
}

type state struct {
	im      Importer
	recs    []Record
	skipped SkippedError
	files   int
	total   int64
}

func (st *state) skip(name string, err error) {
	st.skipped.Count++
	if len(st.skipped.Errs) < maxSkippedErrs {
		st.skipped.Errs = append(st.skipped.Errs, fmt.Errorf("%s: %w", name, err))
	}
}

// add parses one document read under the limits.
func (st *state) add(name string, r io.Reader) error {
	st.files++
	if st.files > st.im.MaxFiles {
		return fmt.Errorf("%w: more than %d files", ErrLimit, st.im.MaxFiles)
	}
	data, err := io.ReadAll(io.LimitReader(r, st.im.MaxFileBytes+1))
	if err != nil {
		st.skip(name, err)
		return nil
	}
	st.total += int64(len(data))
	if st.total > st.im.MaxTotalBytes {
		return fmt.Errorf("%w: more than %d bytes of documents", ErrLimit, st.im.MaxTotalBytes)
	}
	if int64(len(data)) > st.im.MaxFileBytes {
		st.skip(name, fmt.Errorf("larger than %d bytes", st.im.MaxFileBytes))
		return nil
	}
	recs, err := ParseOSV(data)
	if err != nil {
		st.skip(name, err)
		return nil
	}
	st.recs = append(st.recs, recs...)
	return nil
}

func isDoc(name string) bool { return strings.HasSuffix(strings.ToLower(name), ".json") }

func (st *state) walkDir(ctx context.Context, root string) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// WalkDir does not follow symlinked folders; skip symlinked files too
		// so an import reads only what lies under root.
		if !d.Type().IsRegular() || !isDoc(p) {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			st.skip(p, err)
			return nil
		}
		defer f.Close()
		return st.add(p, f)
	})
	if err != nil {
		return fmt.Errorf("feed: read %s: %w", root, err)
	}
	return nil
}

func (st *state) readZip(ctx context.Context, path string, size int64) error {
	if size > st.im.MaxArchiveBytes {
		return fmt.Errorf("%w: %s is %d bytes, limit %d", ErrLimit, path, size, st.im.MaxArchiveBytes)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, st.im.MaxArchiveBytes+1))
	if err != nil {
		return fmt.Errorf("feed: read %s: %w", path, err)
	}
	if int64(len(data)) > st.im.MaxArchiveBytes {
		return fmt.Errorf("%w: %s grew past %d bytes", ErrLimit, path, st.im.MaxArchiveBytes)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("feed: %s is neither a folder nor a zip: %w", path, err)
	}
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if zf.FileInfo().IsDir() || !zf.Mode().IsRegular() || !isDoc(zf.Name) {
			continue
		}
		if zf.UncompressedSize64 > uint64(st.im.MaxFileBytes) {
			st.files++
			st.skip(zf.Name, fmt.Errorf("declares %d bytes, limit %d", zf.UncompressedSize64, st.im.MaxFileBytes))
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			st.files++
			st.skip(zf.Name, err)
			continue
		}
		err = st.add(zf.Name, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
