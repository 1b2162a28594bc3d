package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bound what one archive may cost. A zero field means "use the
// default" (see DefaultLimits).
type Limits struct {
	// MaxTotalBytes bounds the sum of the uncompressed sizes of all entries
	// read, kept or not (KindTooLarge).
	MaxTotalBytes int64
	// MaxFileBytes bounds how much of one entry is kept in memory. A larger
	// wanted entry keeps only its head and is marked Truncated; that is not an
	// error.
	MaxFileBytes int64
	// MaxFiles bounds the number of entries of any type (KindTooManyFiles).
	MaxFiles int
	// MaxRatio bounds uncompressed/compressed size (KindRatio). It is enforced
	// only once more than 8 MiB have been decompressed, so small archives of
	// very compressible text are never refused for it.
	MaxRatio int
	// MaxDepth bounds the number of components of an entry path (KindDepth).
	MaxDepth int
}

// ratioFloor is the amount of decompressed data below which MaxRatio is not
// enforced.
const ratioFloor = 8 << 20

// DefaultLimits returns the limits moat scans with.
func DefaultLimits() Limits {
	return Limits{
		MaxTotalBytes: 512 << 20,
		MaxFileBytes:  16 << 20,
		MaxFiles:      50_000,
		MaxRatio:      200,
		MaxDepth:      48,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = d.MaxFiles
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	return l
}

// File is one regular file of an archive.
type File struct {
	// Path is slash-separated, cleaned and relative to the archive's top
	// folder (Archive.Root); it is never absolute, never contains a ".."
	// element or a NUL byte.
	Path string
	// Size is the number of uncompressed bytes actually read, whatever the
	// headers claimed.
	Size int64
	// Data is the content, or its first MaxFileBytes bytes (fewer if
	// Options.Observe asked to keep fewer) when Truncated.
	// It is nil when Options.Want rejected the file (its bytes still count
	// against the limits) and non-nil, possibly empty, otherwise.
	Data      []byte
	Truncated bool
	// Observer is the writer Options.Observe returned for this file (nil
	// when there is none); it has seen all of the file's data.
	Observer io.Writer
}

// Skip is an entry refused on its own: a link, device, fifo, special header
// or an earlier duplicate. Reason says which.
type Skip struct{ Path, Reason string }

// Archive is the readable content of one archive.
type Archive struct {
	Format  string // "tar.gz", "tar.bz2", "tar", "zip" or "dir"
	Root    string // the stripped top folder, "" if none
	Files   []File // regular files in archive order; of duplicates only the last
	Skipped []Skip // entries refused individually, in archive order
}

// Options configure Read and ReadDir.
type Options struct {
	Limits Limits
	// Want reports whether the data of the file at path (relative to Root)
	// with the given declared size should be kept. Nil keeps every file.
	// Rejected files are still read (and counted), never kept.
	Want func(path string, size int64) bool
	// Observe, when set, is called for each file Want keeps, with the same
	// arguments, before its data is read. Every byte of the file's data up
	// to MaxFileBytes is written to the returned writer as it is read (its
	// errors are ignored), also past what is kept; File.Observer holds it.
	// keep, when positive, caps the bytes kept in Data below MaxFileBytes: a
	// longer file keeps its head and is marked Truncated. This lets a caller
	// summarise whole files while holding only the part it will use.
	Observe func(path string, size int64) (w io.Writer, keep int64)
}

// Formats.
const (
	formatTarGz  = "tar.gz"
	formatTarBz2 = "tar.bz2"
	formatTar    = "tar"
	formatZip    = "zip"
	formatDir    = "dir"
)

// Read parses the archive held in data. The format is chosen by magic bytes
// (gzip, bzip2, zip, ustar), then by the extension of filename, so a wheel
// served under a ".tar.gz" name is still read as the zip it is. A hostile
// name or an exceeded limit refuses the whole archive with an *Error;
// links, devices and other non-files are listed in Skipped instead.
//
// Entries are classified the way installers extract them: in a tar, entries
// of unknown type are files (Python's tarfile writes them as such); in a zip,
// only the name decides (a trailing slash is a folder, anything else a file,
// whatever mode bits it claims).
func Read(filename string, data []byte, opt Options) (*Archive, error) {
	format, err := detect(filename, data)
	if err != nil {
		return nil, err
	}
	lim := opt.Limits.withDefaults()
	a, err := readOnce(format, data, lim, opt, false)
	if errors.Is(err, errRootMismatch) {
		// The first file suggested a top folder that a later one did not
		// share; read again without stripping so Want sees true paths.
		a, err = readOnce(format, data, lim, opt, true)
	}
	return a, err
}

func readOnce(format string, data []byte, lim Limits, opt Options, noRoot bool) (*Archive, error) {
	r := newReader(format, lim, opt)
	if noRoot {
		r.fixRoot("")
	}
	var err error
	if format == formatZip {
		err = r.readZip(data)
	} else {
		err = r.readTarContainer(format, data)
	}
	if err != nil {
		return nil, err
	}
	return r.finish(), nil
}

var (
	magicGzip   = []byte{0x1f, 0x8b}
	magicBzip2  = []byte("BZh")
	magicZip    = []byte("PK\x03\x04")
	magicZipEnd = []byte("PK\x05\x06") // an empty zip is only its end record
	magicUstar  = []byte("ustar")
)

func detect(filename string, data []byte) (string, error) {
	if len(data) == 0 {
		return "", &Error{Kind: KindFormat, Err: errors.New("empty input")}
	}
	switch {
	case bytes.HasPrefix(data, magicGzip):
		return formatTarGz, nil
	case bytes.HasPrefix(data, magicBzip2):
		return formatTarBz2, nil
	case bytes.HasPrefix(data, magicZip), bytes.HasPrefix(data, magicZipEnd):
		return formatZip, nil
	case len(data) >= 262 && bytes.Equal(data[257:262], magicUstar):
		return formatTar, nil
	}
	name := strings.ToLower(filename)
	for _, e := range []struct{ ext, format string }{
		{".tar.gz", formatTarGz}, {".tgz", formatTarGz},
		{".tar.bz2", formatTarBz2}, {".tbz2", formatTarBz2}, {".tbz", formatTarBz2},
		{".zip", formatZip}, {".whl", formatZip}, {".egg", formatZip},
		{".tar", formatTar},
	} {
		if strings.HasSuffix(name, e.ext) {
			return e.format, nil
		}
	}
	return "", &Error{Kind: KindFormat, Err: fmt.Errorf("unknown archive format (file name %q)", filename)}
}
