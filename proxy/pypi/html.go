package pypi

import (
	"bytes"
	"html"
	"net/url"
	"strings"
)

// tokenizer is a small, careful HTML scanner for index pages: it finds
// start tags with their attributes, the text of <a> and <title>, and skips
// comments, declarations, end tags and the raw text of <script>/<style>.
// It is not a general HTML parser; it refuses (rather than guesses at)
// unterminated tags, comments, quotes and anchors.
type tokenizer struct {
	s     string
	lower string // s with ASCII letters lower-cased (same length)
	i     int
}

type attr struct{ name, value string }

// tag is one start tag.
type tag struct {
	name  string // lower-case
	attrs []attr // first occurrence of each name wins
	end   int    // offset after '>'
}

func (t tag) attr(name string) (string, bool) {
	for _, a := range t.attrs {
		if a.name == name {
			return a.value, true
		}
	}
	return "", false
}

func newTokenizer(body []byte) *tokenizer {
	low := bytes.Clone(body)
	for i, c := range low {
		if c >= 'A' && c <= 'Z' {
			low[i] = c + 'a' - 'A'
		}
	}
	return &tokenizer{s: string(body), lower: string(low)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// next returns the next start tag, or ok=false at the end of input.
func (t *tokenizer) next() (tg tag, ok bool, err error) {
	for {
		j := strings.IndexByte(t.s[t.i:], '<')
		if j < 0 {
			t.i = len(t.s)
			return tag{}, false, nil
		}
		t.i += j
		rest := t.s[t.i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			k := strings.Index(rest[4:], "-->")
			if k < 0 {
				return tag{}, false, malformed("unterminated comment at offset %d", t.i)
			}
			t.i += 4 + k + 3
		case strings.HasPrefix(rest, "<!") || strings.HasPrefix(rest, "<?"):
			k := strings.IndexByte(rest, '>')
			if k < 0 {
				return tag{}, false, malformed("unterminated declaration at offset %d", t.i)
			}
			t.i += k + 1
		case strings.HasPrefix(rest, "</"):
			if len(rest) > 2 && !isLetter(rest[2]) {
				t.i += 2 // "</" not followed by a name is text
				continue
			}
			k := strings.IndexByte(rest, '>')
			if k < 0 {
				return tag{}, false, malformed("unterminated end tag at offset %d", t.i)
			}
			t.i += k + 1
		case len(rest) > 1 && isLetter(rest[1]):
			return t.startTag()
		default:
			t.i++ // a lone '<' is text
		}
	}
}

// startTag parses "<name attr=value ...>" at t.i.
func (t *tokenizer) startTag() (tag, bool, error) {
	start := t.i
	i := t.i + 1
	s := t.s
	for i < len(s) && !isSpace(s[i]) && s[i] != '>' && s[i] != '/' {
		i++
	}
	tg := tag{name: t.lower[start+1 : i]}
	for {
		for i < len(s) && (isSpace(s[i]) || s[i] == '/') {
			i++
		}
		if i >= len(s) {
			return tag{}, false, malformed("unterminated <%s> tag at offset %d", tg.name, start)
		}
		if s[i] == '>' {
			tg.end = i + 1
			t.i = tg.end
			return tg, true, nil
		}
		ns := i
		for i < len(s) && !isSpace(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/' {
			i++
		}
		name := t.lower[ns:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		value := ""
		if i < len(s) && s[i] == '=' {
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i >= len(s) {
				return tag{}, false, malformed("unterminated <%s> tag at offset %d", tg.name, start)
			}
			switch q := s[i]; q {
			case '"', '\'':
				k := strings.IndexByte(s[i+1:], q)
				if k < 0 {
					return tag{}, false, malformed("unterminated quoted attribute in <%s> at offset %d", tg.name, start)
				}
				value = s[i+1 : i+1+k]
				i += k + 2
			default:
				vs := i
				for i < len(s) && !isSpace(s[i]) && s[i] != '>' {
					i++
				}
				value = s[vs:i]
			}
		}
		if name == "" {
			continue
		}
		if _, dup := tg.attr(name); !dup {
			if strings.IndexByte(value, '&') >= 0 {
				value = html.UnescapeString(value)
			}
			tg.attrs = append(tg.attrs, attr{name: name, value: value})
		}
	}
}

// textUntilEnd returns the text up to the end tag </name> (case-insensitive)
// and moves past it; inner tags are dropped and entities unescaped.
func (t *tokenizer) textUntilEnd(name string) (string, error) {
	closing := "</" + name
	from := t.i
	for {
		k := strings.Index(t.lower[from:], closing)
		if k < 0 {
			return "", malformed("unterminated <%s> at offset %d", name, t.i)
		}
		at := from + k
		after := at + len(closing)
		if after < len(t.s) && !isSpace(t.s[after]) && t.s[after] != '>' {
			from = after // e.g. "</abbr>" when looking for "</a"
			continue
		}
		end := strings.IndexByte(t.s[after:], '>')
		if end < 0 {
			return "", malformed("unterminated </%s> at offset %d", name, at)
		}
		raw := t.s[t.i:at]
		t.i = after + end + 1
		return cleanText(raw), nil
	}
}

// cleanText drops tags from raw text, unescapes entities and trims space.
func cleanText(raw string) string {
	if strings.IndexByte(raw, '<') >= 0 {
		var b strings.Builder
		for {
			j := strings.IndexByte(raw, '<')
			if j < 0 {
				b.WriteString(raw)
				break
			}
			b.WriteString(raw[:j])
			k := strings.IndexByte(raw[j:], '>')
			if k < 0 {
				b.WriteString(raw[j:])
				break
			}
			raw = raw[j+k+1:]
		}
		raw = b.String()
	}
	return strings.TrimSpace(html.UnescapeString(raw))
}

// ParseHTML parses a PEP 503 project page. Relative hrefs are resolved
// against base (and a <base href>, as pip does); the URL fragment
// "#<algo>=<hex>" becomes a hash; data-requires-python, data-yanked,
// data-core-metadata (or the older data-dist-info-metadata) and
// data-gpg-sig are read; <meta name="pypi:repository-version"> is checked
// (major version 1). The file name is the last segment of the URL's path,
// as pip uses it (not the anchor text); anchors whose URL names no file are
// skipped. Sizes are unknown (-1) in HTML.
func ParseHTML(body []byte, base *url.URL) (*Project, error) {
	t := newTokenizer(body)
	p := &Project{Meta: Meta{APIVersion: "1.0"}}
	sawTag, sawMeta := false, false
	for {
		tg, ok, err := t.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		sawTag = true
		switch tg.name {
		case "a":
			if _, err := t.textUntilEnd("a"); err != nil {
				return nil, err
			}
			href, ok := tg.attr("href")
			if !ok {
				continue // an anchor without href is not a file
			}
			f, ok, err := anchorFile(tg, href, base)
			if err != nil {
				return nil, err
			}
			if ok {
				p.Files = append(p.Files, f)
			}
		case "base":
			if href, ok := tg.attr("href"); ok {
				u, _, err := resolve(base, href)
				if err != nil {
					return nil, err
				}
				base = u
			}
		case "meta":
			if name, _ := tg.attr("name"); strings.EqualFold(name, "pypi:repository-version") {
				if sawMeta {
					return nil, malformed("more than one repository version")
				}
				sawMeta = true
				v, _ := tg.attr("content")
				if err := checkAPIVersion(strings.TrimSpace(v)); err != nil {
					return nil, err
				}
				p.Meta.APIVersion = strings.TrimSpace(v)
			}
		case "title":
			text, err := t.textUntilEnd("title")
			if err != nil {
				return nil, err
			}
			if name, ok := strings.CutPrefix(text, "Links for "); ok && p.Name == "" {
				p.Name = NormalizeName(strings.TrimSpace(name))
			}
		case "script", "style", "textarea":
			if _, err := t.textUntilEnd(tg.name); err != nil {
				return nil, err
			}
		}
	}
	if !sawTag && len(bytes.TrimSpace(body)) > 0 {
		return nil, malformed("not an HTML page")
	}
	return p, nil
}

// anchorFile reads one file anchor; ok is false for an anchor whose URL
// path names no file (a navigation link such as "../").
func anchorFile(tg tag, href string, base *url.URL) (f File, ok bool, err error) {
	u, frag, err := resolve(base, href)
	if err != nil {
		return File{}, false, err
	}
	f = File{URL: u.String(), Size: -1, Filename: urlFilename(u)}
	if f.Filename == "" {
		return File{}, false, nil
	}
	// "#sha256=<hex>", possibly among other "&"-separated parts (pip reads
	// [#&]<algo>=<value>); parts that name no hashlib algorithm, such as
	// the old "egg=", carry no hash.
	for part := range strings.SplitSeq(frag, "&") {
		algo, _, _ := strings.Cut(part, "=")
		if !hashlibAlgo(strings.ToLower(algo)) {
			continue
		}
		a, d, err := parseHashPair(part)
		if err != nil {
			return File{}, false, err
		}
		if f.Hashes == nil {
			f.Hashes = make(map[string]string, 1)
		}
		f.Hashes[a] = d
	}
	if v, ok := tg.attr("data-requires-python"); ok {
		f.RequiresPython = v
	}
	if v, ok := tg.attr("data-yanked"); ok {
		f.Yanked = Yanked{Yanked: true, Reason: v}
	}
	if v, ok := tg.attr("data-gpg-sig"); ok {
		f.Gpg = strings.EqualFold(strings.TrimSpace(v), "true")
	}
	v, ok := tg.attr("data-core-metadata")
	if !ok {
		v, ok = tg.attr("data-dist-info-metadata")
	}
	if ok {
		md, err := parseMetadataAttr(v)
		if err != nil {
			return File{}, false, err
		}
		f.CoreMetadata = md
	}
	return f, true, nil
}

func parseMetadataAttr(v string) (Metadata, error) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "true", "":
		return Metadata{Present: true}, nil
	case "false":
		return Metadata{}, nil
	}
	a, d, err := parseHashPair(v)
	if err != nil {
		return Metadata{}, err
	}
	return Metadata{Present: true, Hashes: map[string]string{a: d}}, nil
}

// RenderHTML renders p as a PEP 503 page declaring repository version 1.1.
// Each file's href carries its preferred hash (sha256 when present) as the
// fragment; data-requires-python, data-yanked, data-gpg-sig and both
// data-core-metadata and data-dist-info-metadata are written when set.
func RenderHTML(p *Project) []byte {
	var b bytes.Buffer
	b.Grow(256 + len(p.Files)*320)
	name := html.EscapeString(p.Name)
	b.WriteString("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"" + APIVersion + "\">\n")
	b.WriteString("    <title>Links for " + name + "</title>\n  </head>\n  <body>\n    <h1>Links for " + name + "</h1>\n")
	for i := range p.Files {
		f := &p.Files[i]
		href := f.URL
		if a, d, ok := preferredHash(f.Hashes); ok {
			href += "#" + a + "=" + d
		}
		b.WriteString(`    <a href="`)
		b.WriteString(html.EscapeString(href))
		b.WriteByte('"')
		if f.RequiresPython != "" {
			b.WriteString(` data-requires-python="`)
			b.WriteString(html.EscapeString(f.RequiresPython))
			b.WriteByte('"')
		}
		if f.CoreMetadata.Present {
			v := "true"
			if a, d, ok := preferredHash(f.CoreMetadata.Hashes); ok {
				v = a + "=" + d
			}
			b.WriteString(` data-dist-info-metadata="` + html.EscapeString(v) + `" data-core-metadata="` + html.EscapeString(v) + `"`)
		}
		if f.Gpg {
			b.WriteString(` data-gpg-sig="true"`)
		}
		if f.Yanked.Yanked {
			b.WriteString(` data-yanked="`)
			b.WriteString(html.EscapeString(f.Yanked.Reason))
			b.WriteByte('"')
		}
		b.WriteByte('>')
		b.WriteString(html.EscapeString(f.Filename))
		b.WriteString("</a><br />\n")
	}
	b.WriteString("  </body>\n</html>\n")
	return b.Bytes()
}
