package dataset

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
)

// Meta is what a corpus list (.tsv) says about one archive.
type Meta struct {
	Ecosystem string
	Name      string
	Version   string
	FirstSeen string // date_added: YYYY-MM-DD
	Source    string
	Container string // what the bytes really are ("gzip", "zip", "xz"), when the name lies
	Category  string // e.g. kam193_category ("probably_pentest")
	Campaign  string
	Note      string // free text; npm-snippets.tsv labels its rows here
	Kind      string // e.g. "kind=source snapshot" (pypi-src.tsv's extra1)
	SHA256    string
}

// label infers a label from a corpus note ("BENIGN ...", "MALICIOUS ...");
// -1 when the note says nothing.
func (m Meta) label() int {
	n := strings.ToUpper(strings.TrimSpace(m.Note))
	switch {
	case strings.HasPrefix(n, "BENIGN"):
		return 0
	case strings.HasPrefix(n, "MALICIOUS"), strings.HasPrefix(n, "MIXED"), strings.HasPrefix(n, "AMBIGUOUS"):
		return 1
	}
	return -1
}

// MetaIndex finds the Meta of an archive by its path inside a corpus
// (relative_path) or, failing that, by its file name.
type MetaIndex struct {
	byPath map[string]Meta
	byBase map[string]Meta
}

// Lookup returns the Meta for an archive path (slash-separated, as it appears
// in the list or inside a container tar).
func (x *MetaIndex) Lookup(p string) (Meta, bool) {
	if x == nil {
		return Meta{}, false
	}
	if m, ok := x.byPath[strings.TrimPrefix(p, "./")]; ok {
		return m, true
	}
	m, ok := x.byBase[path.Base(p)]
	return m, ok
}

// Len is the number of rows indexed.
func (x *MetaIndex) Len() int {
	if x == nil {
		return 0
	}
	return len(x.byPath)
}

// columns maps the header names used by the corpus lists in shared/data to
// Meta fields.
var columns = map[string]func(*Meta, string){
	"ecosystem":       func(m *Meta, v string) { m.Ecosystem = v },
	"package":         func(m *Meta, v string) { m.Name = v },
	"name":            func(m *Meta, v string) { m.Name = v },
	"version":         func(m *Meta, v string) { m.Version = v },
	"date_added":      func(m *Meta, v string) { m.FirstSeen = v },
	"first_seen":      func(m *Meta, v string) { m.FirstSeen = v },
	"source":          func(m *Meta, v string) { m.Source = v },
	"container":       func(m *Meta, v string) { m.Container = v },
	"kam193_category": func(m *Meta, v string) { m.Category = v },
	"kam193_campaign": func(m *Meta, v string) { m.Campaign = v },
	"note":            func(m *Meta, v string) { m.Note = v },
	"extra1":          func(m *Meta, v string) { m.Kind = v },
	"sha256":          func(m *Meta, v string) { m.SHA256 = v },
}

// ReadMeta parses a tab-separated corpus list with a header row. It needs a
// relative_path column; the columns it knows (package, version, date_added,
// ecosystem, source, container, note, ...) fill Meta, others are ignored.
// Rows may be added to an existing index (pass nil for a new one).
func ReadMeta(r io.Reader, into *MetaIndex) (*MetaIndex, error) {
	if into == nil {
		into = &MetaIndex{byPath: map[string]Meta{}, byBase: map[string]Meta{}}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read meta: %w", err)
		}
		return nil, fmt.Errorf("read meta: empty file")
	}
	header := strings.Split(strings.TrimRight(sc.Text(), "\r"), "\t")
	pathCol := -1
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		header[i] = h
		if h == "relative_path" {
			pathCol = i
		}
	}
	if pathCol < 0 {
		return nil, fmt.Errorf("read meta: no relative_path column in header %q", header)
	}
	line := 1
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		cells := strings.Split(text, "\t")
		if pathCol >= len(cells) || cells[pathCol] == "" {
			return nil, fmt.Errorf("read meta: line %d: no relative_path", line)
		}
		var m Meta
		for i, c := range cells {
			if i < len(header) {
				if set, ok := columns[header[i]]; ok {
					set(&m, strings.TrimSpace(c))
				}
			}
		}
		p := strings.TrimPrefix(cells[pathCol], "./")
		if _, dup := into.byPath[p]; !dup {
			into.byPath[p] = m
		}
		if _, dup := into.byBase[path.Base(p)]; !dup {
			into.byBase[path.Base(p)] = m
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read meta: line %d: %w", line+1, err)
	}
	return into, nil
}
