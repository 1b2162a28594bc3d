package archive

import (
	"strconv"
	"strings"
)

// Error kinds. They double as the scan.Report ErrorKind values, so a caller
// can copy Kind across unchanged.
const (
	KindFormat       = "archive.format"         // unknown, corrupt or truncated container
	KindTooLarge     = "archive.too_large"      // MaxTotalBytes exceeded
	KindTooManyFiles = "archive.too_many_files" // MaxFiles exceeded
	KindRatio        = "archive.ratio"          // MaxRatio exceeded (decompression bomb)
	KindBadPath      = "archive.bad_path"       // absolute, "..", NUL or drive-letter entry name
	KindDepth        = "archive.depth"          // MaxDepth exceeded
)

// Error is the error Read and ReadDir return when an archive is refused as a
// whole. Callers branch on Kind (errors.As); Path names the offending entry
// when there is one, and Err holds the cause.
type Error struct {
	Kind string
	Path string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind)
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(quotePath(e.Path))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// quotePath keeps hostile names (control bytes, NUL) readable in logs.
func quotePath(p string) string {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '"' {
			return strconv.Quote(p)
		}
	}
	return p
}
