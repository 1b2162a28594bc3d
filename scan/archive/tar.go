package archive

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

const blockSize = 512 // tar block

// readTarContainer reads a tar stream, decompressing it first for tar.gz and
// tar.bz2.
func (r *reader) readTarContainer(format string, data []byte) error {
	var src io.Reader = bytes.NewReader(data)
	switch format {
	case formatTarGz:
		zr, err := gzip.NewReader(src)
		if err != nil {
			return &Error{Kind: KindFormat, Err: fmt.Errorf("gzip: %w", err)}
		}
		defer zr.Close()
		src, r.packed = zr, int64(len(data))
	case formatTarBz2:
		src, r.packed = bzip2.NewReader(src), int64(len(data))
	}
	return r.readTar(&tarStream{r: src, rd: r}, format)
}

// tarStream sits between the (decompressed) container and archive/tar. It
// counts every byte against the limits, hides any io.Seeker (so nothing is
// skipped uncounted) and, while the tar reader looks for the next header,
// notes whether the last whole block it consumed was all zeros: that is how
// a genuine end-of-archive marker is told from a stream cut short at a block
// boundary, which archive/tar also reports as io.EOF.
type tarStream struct {
	r   io.Reader
	rd  *reader
	off int64
	err error // sticky limit error

	inNext        bool
	blockTracked  bool // the current block started while inNext
	blockZero     bool // the current block is all zeros so far
	lastBlockZero bool // the last block completed during this Next was zeros
}

func (s *tarStream) beginNext() {
	s.inNext, s.lastBlockZero = true, false
	s.blockTracked = s.off%blockSize == 0
	s.blockZero = true
}

func (s *tarStream) endNext() { s.inNext = false }

func (s *tarStream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	if n > 0 {
		if cerr := s.rd.addStreamBytes(n); cerr != nil {
			s.err = cerr
			return 0, cerr
		}
		if s.inNext {
			s.track(p[:n])
		}
		s.off += int64(n)
	}
	return n, err
}

func (s *tarStream) track(p []byte) {
	off := s.off
	for len(p) > 0 {
		if off%blockSize == 0 {
			s.blockTracked, s.blockZero = true, true
		}
		k := min(int64(len(p)), blockSize-off%blockSize)
		if s.blockZero && !allZero(p[:k]) {
			s.blockZero = false
		}
		off += k
		p = p[k:]
		if off%blockSize == 0 {
			s.lastBlockZero = s.blockTracked && s.blockZero
		}
	}
}

func allZero(p []byte) bool {
	for _, c := range p {
		if c != 0 {
			return false
		}
	}
	return true
}

func (r *reader) readTar(s *tarStream, format string) error {
	tr := tar.NewReader(s)
	for {
		s.beginNext()
		hdr, err := tr.Next()
		s.endNext()
		if err == io.EOF {
			if s.err != nil {
				return s.err
			}
			if !s.lastBlockZero || s.off%blockSize != 0 {
				return &Error{Kind: KindFormat, Err: fmt.Errorf("%s: truncated tar: stream ends without an end-of-archive marker", format)}
			}
			break
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) { // names are checked below
			return r.streamErr(s, format, "", err)
		}
		if err := r.tarEntry(tr, hdr); err != nil {
			return r.streamErr(s, format, hdr.Name, err)
		}
	}
	// Whatever follows the end marker must be zero padding; reading it also
	// makes gzip and bzip2 verify their checksums and detect truncation.
	for {
		n, err := s.Read(r.scratch)
		if !allZero(r.scratch[:n]) {
			return &Error{Kind: KindFormat, Err: fmt.Errorf("%s: data after the tar end-of-archive marker", format)}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return r.streamErr(s, format, "", err)
		}
	}
}

// streamErr turns an error met while reading the stream into an *Error:
// limit errors pass through, everything else is a format error.
func (r *reader) streamErr(s *tarStream, format, name string, err error) error {
	if errors.Is(err, errRootMismatch) {
		return err
	}
	if ae := (*Error)(nil); errors.As(err, &ae) {
		return ae
	}
	if s.err != nil {
		return s.err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("truncated archive: %w", err)
	}
	return &Error{Kind: KindFormat, Path: name, Err: fmt.Errorf("%s: %w", format, err)}
}

func (r *reader) tarEntry(tr *tar.Reader, hdr *tar.Header) error {
	if err := r.countEntry(hdr.Name); err != nil {
		return err
	}
	name, err := cleanName(hdr.Name, true, r.lim.MaxDepth)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return nil
	case tar.TypeSymlink:
		r.skip(name, "symlink to "+quotePath(hdr.Linkname))
	case tar.TypeLink:
		r.skip(name, "hardlink to "+quotePath(hdr.Linkname))
	case tar.TypeChar:
		r.skip(name, "character device")
	case tar.TypeBlock:
		r.skip(name, "block device")
	case tar.TypeFifo:
		r.skip(name, "fifo")
	case tar.TypeXGlobalHeader:
		r.skip(name, "pax global header")
	default:
		// Regular files, and entries of any type not listed above: Python's
		// tarfile (and so pip) extracts unknown types as regular files, so
		// their data must be scanned, not skipped.
		if name == "." {
			return &Error{Kind: KindBadPath, Path: hdr.Name, Err: errors.New("file entry names the archive root")}
		}
		return r.addFile(tr, name, hdr.Size)
	}
	return nil
}
