package pypi

import (
	"errors"
	"strconv"
	"strings"
)

// Format is a representation of a Simple API page.
type Format int

const (
	// FormatHTML is legacy PEP 503 HTML, answered as text/html.
	FormatHTML Format = iota + 1
	// FormatHTMLv1 is PEP 691's application/vnd.pypi.simple.v1+html.
	FormatHTMLv1
	// FormatJSON is PEP 691's application/vnd.pypi.simple.v1+json.
	FormatJSON
)

// Content types of the Simple API.
const (
	ContentTypeHTML   = "text/html"
	ContentTypeHTMLv1 = "application/vnd.pypi.simple.v1+html"
	ContentTypeJSON   = "application/vnd.pypi.simple.v1+json"
)

// ContentType is the Content-Type to answer with (answer with
// "Vary: Accept" too).
func (f Format) ContentType() string {
	switch f {
	case FormatHTMLv1:
		return ContentTypeHTMLv1
	case FormatJSON:
		return ContentTypeJSON
	}
	return ContentTypeHTML
}

// IsJSON reports whether f is the JSON form.
func (f Format) IsJSON() bool { return f == FormatJSON }

func (f Format) String() string { return f.ContentType() }

// ErrNotAcceptable means the Accept header names no form moat serves: the
// handler answers 406.
var ErrNotAcceptable = errors.New("pypi: no acceptable Simple API content type")

// Negotiate picks the page format for an Accept header per PEP 691: the
// highest q-value wins (ties go to the earlier entry); "latest" aliases
// map to v1; "*/*" and "text/*" mean HTML; an empty header means HTML.
func Negotiate(accept string) (Format, error) {
	if strings.TrimSpace(accept) == "" {
		return FormatHTML, nil
	}
	best, bestQ := Format(0), 0.0
	for entry := range strings.SplitSeq(accept, ",") {
		params := strings.Split(entry, ";")
		f := formatOf(strings.ToLower(strings.TrimSpace(params[0])))
		if f == 0 {
			continue
		}
		q, ok := 1.0, true
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				var err error
				q, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
				ok = err == nil && q >= 0 && q <= 1
			}
		}
		if ok && q > bestQ {
			best, bestQ = f, q
		}
	}
	if best == 0 {
		return 0, ErrNotAcceptable
	}
	return best, nil
}

func formatOf(mediaType string) Format {
	switch mediaType {
	case "application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json":
		return FormatJSON
	case "application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html":
		return FormatHTMLv1
	case "text/html", "text/*", "*/*":
		return FormatHTML
	}
	return 0
}
