package archive

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// errRootMismatch aborts a streaming read whose guessed top folder turned out
// not to be shared by every file; Read then reads again without stripping.
var errRootMismatch = errors.New("archive: top folder guess failed")

const (
	initialDataCap = 1 << 20  // most we allocate for an entry before seeing its bytes
	scratchSize    = 32 << 10 // discard buffer
)

// reader accumulates one archive while enforcing the limits. Every front end
// (tar, zip, dir) feeds it entries; only it counts bytes and allocates.
type reader struct {
	lim     Limits
	want    func(string, int64) bool
	observe func(string, int64) (io.Writer, int64)
	format  string

	packed      int64 // compressed input size; 0 when ratio does not apply
	entryBytes  int64 // uncompressed entry bytes read
	streamBytes int64 // decompressed container bytes (headers, padding included)
	streamCap   int64
	entries     int

	root      string // top folder being stripped (guessed while streaming)
	rootKnown bool

	files   []File // Path is the full (unstripped) path until finish
	dead    []bool // files[i] superseded by a later duplicate
	index   map[string]int
	skipped []Skip
	scratch []byte
}

func newReader(format string, lim Limits, opt Options) *reader {
	return &reader{
		lim:     lim,
		want:    opt.Want,
		observe: opt.Observe,
		format:  format,
		// The container stream also carries tar headers, PAX records and
		// padding: allow 2 KiB per entry plus 16 MiB on top of the entry
		// budget before calling it too large.
		streamCap: satAdd(lim.MaxTotalBytes, satAdd(int64(lim.MaxFiles)*2048, 16<<20)),
		index:     make(map[string]int),
		scratch:   make([]byte, scratchSize),
	}
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func (r *reader) fixRoot(root string) { r.root, r.rootKnown = root, true }

// countEntry counts one entry of any type against MaxFiles.
func (r *reader) countEntry(name string) error {
	r.entries++
	if r.entries > r.lim.MaxFiles {
		return &Error{Kind: KindTooManyFiles, Path: name, Err: fmt.Errorf("more than %d entries", r.lim.MaxFiles)}
	}
	return nil
}

// addEntryBytes counts n uncompressed bytes of entry data.
func (r *reader) addEntryBytes(name string, n int) error {
	r.entryBytes += int64(n)
	if r.entryBytes > r.lim.MaxTotalBytes {
		return &Error{Kind: KindTooLarge, Path: name, Err: fmt.Errorf("more than %d uncompressed bytes", r.lim.MaxTotalBytes)}
	}
	return r.checkRatio(name)
}

// addStreamBytes counts n bytes coming out of a decompressor.
func (r *reader) addStreamBytes(n int) error {
	r.streamBytes += int64(n)
	if r.streamBytes > r.streamCap {
		return &Error{Kind: KindTooLarge, Err: fmt.Errorf("decompressed stream exceeds %d bytes", r.streamCap)}
	}
	return r.checkRatio("")
}

func (r *reader) checkRatio(name string) error {
	if r.packed <= 0 {
		return nil
	}
	u := max(r.entryBytes, r.streamBytes)
	if u > ratioFloor && u/r.packed > int64(r.lim.MaxRatio) {
		return &Error{Kind: KindRatio, Path: name, Err: fmt.Errorf(
			"%d bytes decompressed from %d (ratio above %d)", u, r.packed, r.lim.MaxRatio)}
	}
	return nil
}

// skip records an entry refused on its own.
func (r *reader) skip(full, reason string) {
	r.skipped = append(r.skipped, Skip{Path: full, Reason: reason})
}

// addFile reads one regular file's data from src. full is its validated,
// unstripped path and declared the size its header claims (never trusted for
// more than a bounded first allocation).
func (r *reader) addFile(src io.Reader, full string, declared int64) error {
	if !r.rootKnown {
		r.fixRoot(rootCandidate(full))
	} else if r.root != "" && stripRoot(full, r.root) == full {
		return errRootMismatch
	}
	if declared > r.lim.MaxTotalBytes-r.entryBytes {
		return &Error{Kind: KindTooLarge, Path: full, Err: fmt.Errorf(
			"entry of %d bytes exceeds the remaining budget of %d", declared, r.lim.MaxTotalBytes-r.entryBytes)}
	}
	rel := stripRoot(full, r.root)
	keep := r.want == nil || r.want(rel, declared)
	limit := r.lim.MaxFileBytes
	var obs io.Writer
	if keep && r.observe != nil {
		var k int64
		if obs, k = r.observe(rel, declared); k > 0 {
			limit = min(limit, k)
		}
	}
	data, n, truncated, err := r.readData(src, full, declared, keep, limit, obs)
	if err != nil {
		return err
	}
	if i, ok := r.index[full]; ok {
		r.dead[i] = true
		r.skip(full, "duplicate entry, superseded by a later one")
	}
	r.index[full] = len(r.files)
	r.files = append(r.files, File{Path: full, Size: n, Data: data, Truncated: truncated, Observer: obs})
	r.dead = append(r.dead, false)
	return nil
}

// readData reads src to its end, counting every byte, keeping at most
// keepMax of them when keep is set and writing the first MaxFileBytes of them
// to obs (if not nil). Memory grows with the bytes actually read, never with
// what a header claims.
func (r *reader) readData(src io.Reader, name string, declared int64, keep bool, keepMax int64, obs io.Writer) (data []byte, n int64, truncated bool, err error) {
	limit := int(min(keepMax, math.MaxInt32))
	if keep {
		data = make([]byte, 0, int(max(0, min(declared, int64(limit), initialDataCap))))
	}
	for {
		var buf []byte
		if keep && len(data) < limit {
			if len(data) == cap(data) {
				data = slices.Grow(data, min(max(cap(data), 4096), limit-len(data)))
			}
			buf = data[len(data):min(cap(data), limit)]
		} else {
			buf = r.scratch
		}
		k, rerr := src.Read(buf)
		if k > 0 {
			if obs != nil && n < r.lim.MaxFileBytes {
				_, _ = obs.Write(buf[:min(int64(k), r.lim.MaxFileBytes-n)])
			}
			n += int64(k)
			if cerr := r.addEntryBytes(name, k); cerr != nil {
				return nil, n, false, cerr
			}
			if keep && len(data) < limit {
				data = data[:len(data)+k]
			} else if keep {
				truncated = true
			}
		}
		if rerr == io.EOF {
			return data, n, truncated, nil
		}
		if rerr != nil {
			return nil, n, false, rerr
		}
	}
}

// finish strips the top folder and drops superseded duplicates.
func (r *reader) finish() *Archive {
	a := &Archive{Format: r.format, Files: make([]File, 0, len(r.files)), Skipped: r.skipped}
	if !r.rootKnown {
		r.root = "" // no files at all
	}
	a.Root = r.root
	for i, f := range r.files {
		if r.dead[i] {
			continue
		}
		f.Path = stripRoot(f.Path, r.root)
		a.Files = append(a.Files, f)
	}
	for i := range a.Skipped {
		a.Skipped[i].Path = stripRoot(a.Skipped[i].Path, r.root)
	}
	return a
}
