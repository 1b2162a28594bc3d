package archive

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// readZip reads a zip (wheel, egg, zipped sdist) from its central directory.
// Sizes in the directory are only hints: every entry is decompressed and
// counted, and archive/zip fails an entry whose data is longer or shorter
// than declared or whose CRC (in the header or a data descriptor) is wrong.
func (r *reader) readZip(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are checked below
		return &Error{Kind: KindFormat, Err: fmt.Errorf("zip: %w", err)}
	}
	r.packed = int64(len(data))
	if len(zr.File) > r.lim.MaxFiles {
		return &Error{Kind: KindTooManyFiles, Err: fmt.Errorf("%d entries, more than %d", len(zr.File), r.lim.MaxFiles)}
	}

	// Validate every name first: the directory is complete up front, so the
	// top folder is known before any Want call.
	//
	// Entries are told apart by name alone, as Python's zipfile (and so pip)
	// does: a trailing slash is a folder, anything else is extracted as a
	// regular file whatever Unix mode bits it claims. Honouring a symlink or
	// folder mode here would let an entry hide content from the scanner
	// that an installer writes to disk.
	type entry struct {
		f    *zip.File
		name string
	}
	files := make([]entry, 0, len(zr.File))
	var filePaths []string
	for _, f := range zr.File {
		if err := r.countEntry(f.Name); err != nil {
			return err
		}
		name, err := cleanName(f.Name, true, r.lim.MaxDepth)
		if err != nil {
			return err
		}
		if strings.HasSuffix(f.Name, "/") || strings.HasSuffix(f.Name, `\`) {
			continue // a folder
		}
		if name == "." {
			return &Error{Kind: KindBadPath, Path: f.Name, Err: errors.New("file entry names the archive root")}
		}
		files = append(files, entry{f, name})
		filePaths = append(filePaths, name)
	}
	r.fixRoot(commonRoot(filePaths))
	for _, e := range files {
		if err := r.zipFile(e.f, e.name); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) zipFile(f *zip.File, name string) error {
	if f.Flags&0x1 != 0 {
		return &Error{Kind: KindFormat, Path: f.Name, Err: errors.New("zip: encrypted entry")}
	}
	rc, err := f.Open()
	if err != nil {
		if errors.Is(err, zip.ErrAlgorithm) {
			err = fmt.Errorf("zip: unsupported compression method %d", f.Method)
		} else {
			err = fmt.Errorf("zip: %w", err)
		}
		return &Error{Kind: KindFormat, Path: f.Name, Err: err}
	}
	defer rc.Close()
	declared := int64(min(f.UncompressedSize64, 1<<62))
	if err := r.addFile(rc, name, declared); err != nil {
		if ae := (*Error)(nil); errors.As(err, &ae) {
			return ae
		}
		switch {
		case errors.Is(err, zip.ErrFormat), errors.Is(err, io.ErrUnexpectedEOF):
			err = fmt.Errorf("zip: data does not match the declared size of %d bytes: %w", f.UncompressedSize64, err)
		default:
			err = fmt.Errorf("zip: %w", err)
		}
		return &Error{Kind: KindFormat, Path: f.Name, Err: err}
	}
	return nil
}
