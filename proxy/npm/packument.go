package npm

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moatproject/moat/internal/semver"
)

// Dist is a version's "dist" object, as the upstream registry wrote it.
type Dist struct {
	Tarball   string // the upstream URL (Rewrite never changes a parsed Packument)
	Integrity string // SRI, e.g. "sha512-..."
	Shasum    string // hex SHA-1
	Unpacked  int64  // unpackedSize; 0 when absent
}

// VersionInfo is what moat needs to know about one version of a packument.
type VersionInfo struct {
	Version          string    // the key in "versions"
	Dist             Dist      //
	Time             time.Time // publication time from "time"; zero if absent
	HasInstallScript bool      // hasInstallScript, or a preinstall/install/postinstall script
	Deprecated       bool
}

// Packument is a parsed packument (full or abbreviated). It keeps the
// original bytes and the offsets of the parts moat may change, so Rewrite
// preserves every other byte (readme, maintainers, signatures, unknown
// fields) exactly.
type Packument struct {
	Name     string
	DistTags map[string]string // string-valued tags only
	// Time maps "created", "modified" and versions to times; nil when the
	// document has no "time" object (the abbreviated form).
	Time map[string]time.Time
	// Modified is the abbreviated form's top-level "modified", else Time["modified"].
	Modified time.Time

	data     []byte
	members  []member  // top-level members in document order
	versions []version // in document order
	index    map[string]int
	sorted   []int // indexes into versions, ascending by semver
	times    []member
	tags     []tag
}

type member struct {
	key        string
	start, val int // offsets of the key and of the value
	end        int // end of the value
}

type tag struct {
	member
	value  string
	string bool // the value is a string
}

// splice modes for a version's tarball URL.
const (
	replaceTarball = iota // replace the value at [at, atEnd)
	insertTarball         // insert "tarball" into dist at at
	insertDist            // insert a "dist" object into the version at at
)

type version struct {
	member
	info      VersionInfo
	sv        semver.Version
	svOK      bool
	mode      int
	at, atEnd int
	nonEmpty  bool // the object inserted into has other members
}

// ParsePackument parses a packument. It validates the whole document as
// JSON and refuses shapes npm could not use (non-object versions or dist,
// duplicate keys where moat reads or rewrites) with an error wrapping
// ErrMalformed.
func ParsePackument(body []byte) (*Packument, error) {
	p := &Packument{data: body}
	s := &scanner{d: body}
	seen := make(map[string]bool, 8)
	_, err := s.object(func(k rawKey) error {
		vs := s.i
		var err error
		key := k.match("name", "versions", "dist-tags", "time", "modified")
		switch key {
		case "name", "versions", "dist-tags", "time", "modified":
			if seen[key] {
				return s.errf("duplicate %q", key)
			}
			seen[key] = true
		}
		switch key {
		case "name":
			if s.peek() == '"' {
				p.Name, err = s.stringValue()
			} else {
				err = s.skip()
			}
		case "versions":
			err = p.parseVersions(s)
		case "dist-tags":
			err = p.parseTags(s)
		case "time":
			err = p.parseTime(s)
		case "modified":
			if s.peek() == '"' {
				var v string
				if v, err = s.stringValue(); err == nil {
					p.Modified, _ = time.Parse(time.RFC3339, v)
				}
			} else {
				err = s.skip()
			}
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
		p.members = append(p.members, member{key: key, start: k.start, val: vs, end: s.i})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.peek() != 0 || s.i < len(body) {
		return nil, s.errf("data after the document")
	}
	if p.Modified.IsZero() && p.Time != nil {
		p.Modified = p.Time["modified"]
	}
	for i := range p.versions {
		v := &p.versions[i]
		if t, ok := p.Time[v.info.Version]; ok {
			v.info.Time = t
		}
	}
	p.sorted = make([]int, len(p.versions))
	for i := range p.sorted {
		p.sorted[i] = i
	}
	slices.SortStableFunc(p.sorted, func(a, b int) int {
		va, vb := &p.versions[a], &p.versions[b]
		switch {
		case va.svOK && vb.svOK:
			return semver.Compare(va.sv, vb.sv)
		case va.svOK:
			return 1
		case vb.svOK:
			return -1
		}
		return strings.Compare(va.info.Version, vb.info.Version)
	})
	return p, nil
}

func (p *Packument) parseVersions(s *scanner) error {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	if s.peek() != '{' {
		return s.errf(`"versions" is not an object`)
	}
	p.index = make(map[string]int)
	_, err := s.object(func(k rawKey) error {
		key := k.String()
		if _, dup := p.index[key]; dup {
			return s.errf("duplicate version %q", key)
		}
		v := version{member: member{key: key, start: k.start, val: s.i}}
		v.info.Version = key
		if err := parseVersion(s, &v); err != nil {
			return err
		}
		v.end = s.i
		sv, err := semver.Parse(key)
		v.sv, v.svOK = sv, err == nil
		p.index[key] = len(p.versions)
		p.versions = append(p.versions, v)
		return nil
	})
	return err
}

func parseVersion(s *scanner, v *version) error {
	if s.peek() != '{' {
		return s.errf("version %q is not an object", v.info.Version)
	}
	open := s.i
	var seen [4]bool
	once := func(i int, key string) error {
		if seen[i] {
			return s.errf("duplicate %q in version %q", key, v.info.Version)
		}
		seen[i] = true
		return nil
	}
	n, err := s.object(func(k rawKey) error {
		key := k.match("dist", "hasInstallScript", "deprecated", "scripts")
		switch key {
		case "dist":
			if err := once(0, key); err != nil {
				return err
			}
			return parseDist(s, v)
		case "hasInstallScript":
			if err := once(1, key); err != nil {
				return err
			}
			if s.peek() == 't' {
				v.info.HasInstallScript = true
				return s.literal("true")
			}
		case "deprecated":
			if err := once(2, key); err != nil {
				return err
			}
			if s.peek() == '"' {
				msg, err := s.stringValue()
				v.info.Deprecated = v.info.Deprecated || msg != ""
				return err
			}
			if s.peek() == 't' {
				v.info.Deprecated = true
				return s.literal("true")
			}
		case "scripts":
			if err := once(3, key); err != nil {
				return err
			}
			if s.peek() == '{' {
				_, err := s.object(func(k rawKey) error {
					if k.match("preinstall", "install", "postinstall") != "" && s.peek() == '"' {
						body, err := s.stringValue()
						v.info.HasInstallScript = v.info.HasInstallScript || body != ""
						return err
					}
					return s.skip()
				})
				return err
			}
		}
		return s.skip()
	})
	if err != nil {
		return err
	}
	if !seen[0] {
		v.mode, v.at, v.atEnd, v.nonEmpty = insertDist, open+1, open+1, n > 0
	}
	return nil
}

func parseDist(s *scanner, v *version) error {
	if s.peek() != '{' {
		return s.errf("dist of version %q is not an object", v.info.Version)
	}
	open := s.i
	var seen [4]bool
	n, err := s.object(func(k rawKey) error {
		idx := -1
		key := k.match("tarball", "integrity", "shasum", "unpackedSize")
		switch key {
		case "tarball":
			idx = 0
		case "integrity":
			idx = 1
		case "shasum":
			idx = 2
		case "unpackedSize":
			idx = 3
		}
		if idx < 0 {
			return s.skip()
		}
		if seen[idx] {
			return s.errf("duplicate %q in dist of version %q", key, v.info.Version)
		}
		seen[idx] = true
		start := s.i
		isStr := s.peek() == '"'
		var str string
		var err error
		if isStr {
			str, err = s.stringValue()
		} else {
			err = s.skip()
		}
		if err != nil {
			return err
		}
		switch idx {
		case 0:
			v.info.Dist.Tarball = str
			v.mode, v.at, v.atEnd = replaceTarball, start, s.i
		case 1:
			v.info.Dist.Integrity = str
		case 2:
			v.info.Dist.Shasum = str
		case 3:
			if !isStr {
				if n, err := strconv.ParseInt(string(s.d[start:s.i]), 10, 64); err == nil {
					v.info.Dist.Unpacked = n
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !seen[0] {
		v.mode, v.at, v.atEnd, v.nonEmpty = insertTarball, open+1, open+1, n > 0
	}
	return nil
}

func (p *Packument) parseTags(s *scanner) error {
	if s.peek() != '{' {
		return s.skip()
	}
	p.DistTags = make(map[string]string)
	seen := make(map[string]bool)
	_, err := s.object(func(k rawKey) error {
		key := k.String()
		if seen[key] {
			return s.errf("duplicate dist-tag %q", key)
		}
		seen[key] = true
		t := tag{member: member{key: key, start: k.start, val: s.i}}
		var err error
		if s.peek() == '"' {
			t.value, err = s.stringValue()
			t.string = true
			p.DistTags[key] = t.value
		} else {
			err = s.skip()
		}
		t.end = s.i
		p.tags = append(p.tags, t)
		return err
	})
	return err
}

func (p *Packument) parseTime(s *scanner) error {
	if s.peek() != '{' {
		return s.skip()
	}
	p.Time = make(map[string]time.Time)
	_, err := s.object(func(k rawKey) error {
		m := member{key: k.String(), start: k.start, val: s.i}
		var err error
		if s.peek() == '"' {
			var v string
			if v, err = s.stringValue(); err == nil {
				if t, perr := time.Parse(time.RFC3339, v); perr == nil {
					p.Time[m.key] = t
				}
			}
		} else {
			err = s.skip()
		}
		m.end = s.i
		p.times = append(p.times, m)
		return err
	})
	return err
}

// Versions returns every version, ascending by semver precedence (keys
// that are not valid semver first, in string order).
func (p *Packument) Versions() []VersionInfo {
	out := make([]VersionInfo, len(p.sorted))
	for i, idx := range p.sorted {
		out[i] = p.versions[idx].info
	}
	return out
}

// Version returns one version's information by its key.
func (p *Packument) Version(v string) (VersionInfo, bool) {
	i, ok := p.index[v]
	if !ok {
		return VersionInfo{}, false
	}
	return p.versions[i].info, true
}

// Bytes returns the document as parsed.
func (p *Packument) Bytes() []byte { return p.data }

// RewriteOptions say how Rewrite changes a packument.
type RewriteOptions struct {
	// TarballBase is moat's npm root, e.g. "http://127.0.0.1:7878/npm";
	// every dist.tarball becomes TarballBase + TarballPath(name, version).
	TarballBase string
	// Name overrides the document's "name" in tarball paths (the name the
	// client asked for); empty means the document's.
	Name string
	// Hide reports versions to remove (policy refuses them). Nil hides none.
	Hide func(v VersionInfo) bool
}

// Rewrite returns the packument with every remaining version's
// dist.tarball pointed at moat, hidden versions removed from "versions" and
// "time" ("created" and "modified" stay), and "dist-tags" recomputed when
// a tag pointed at a hidden version: such tags are dropped, except "latest",
// which moves to the newest remaining stable version not above the old one
// (else the newest stable, else the newest prerelease) or is dropped when
// none remains. Every other byte of the document is kept.
func (p *Packument) Rewrite(opts RewriteOptions) ([]byte, error) {
	name := opts.Name
	if name == "" {
		name = p.Name
	}
	if err := ValidateName(name); err != nil {
		return nil, fmt.Errorf("npm: rewrite packument: %w", err)
	}
	base := strings.TrimRight(opts.TarballBase, "/")

	var hidden []bool
	nHidden := 0
	if opts.Hide != nil {
		hidden = make([]bool, len(p.versions))
		for i := range p.versions {
			if opts.Hide(p.versions[i].info) {
				hidden[i] = true
				nHidden++
			}
		}
	}
	isHidden := func(v string) bool {
		if nHidden == 0 {
			return false
		}
		i, ok := p.index[v]
		return ok && hidden[i]
	}

	d := p.data
	out := make([]byte, 0, len(d)+len(p.versions)*(len(base)+2*len(name)+32)+64)
	all := func(int) bool { return true }
	return appendObject(out, d, 0, len(d), p.members, all, func(out []byte, mi int) []byte {
		m := &p.members[mi]
		switch {
		case m.key == "versions" && p.index != nil:
			out = append(out, d[m.start:m.val]...)
			return p.appendVersions(out, m, base, name, hidden)
		case m.key == "time" && p.Time != nil && nHidden > 0:
			out = append(out, d[m.start:m.val]...)
			keep := func(i int) bool {
				k := p.times[i].key
				return k == "created" || k == "modified" || !isHidden(k)
			}
			return appendObject(out, d, m.val, m.end, p.times, keep, func(out []byte, i int) []byte {
				return append(out, d[p.times[i].start:p.times[i].end]...)
			})
		case m.key == "dist-tags" && p.DistTags != nil && nHidden > 0:
			out = append(out, d[m.start:m.val]...)
			return p.appendTags(out, m, hidden, isHidden)
		}
		return append(out, d[m.start:m.end]...)
	}), nil
}

// appendObject emits the object at d[valStart:valEnd] keeping the members
// for which keep is true, each emitted by emit. The original bytes between
// members (white space and commas) are reused where both neighbours are
// kept, so an unchanged object comes out byte for byte.
func appendObject[M interface{ span() (int, int) }](out, d []byte, valStart, valEnd int, members []M, keep func(int) bool, emit func([]byte, int) []byte) []byte {
	if len(members) == 0 {
		return append(out, d[valStart:valEnd]...)
	}
	first, _ := members[0].span()
	_, last := members[len(members)-1].span()
	emitted := false
	for i := range members {
		if !keep(i) {
			continue
		}
		st, _ := members[i].span()
		if !emitted {
			out = append(out, d[valStart:first]...) // "{" and white space
		} else {
			_, pe := members[i-1].span()
			out = append(out, d[pe:st]...) // the separator before member i
		}
		out = emit(out, i)
		emitted = true
	}
	if !emitted {
		out = append(out, d[valStart:first]...)
	}
	return append(out, d[last:valEnd]...) // white space and "}"
}

func (m member) span() (int, int) { return m.start, m.end }

func (p *Packument) appendVersions(out []byte, m *member, base, name string, hidden []bool) []byte {
	keep := func(i int) bool { return hidden == nil || !hidden[i] }
	return appendObject(out, p.data, m.val, m.end, p.versions, keep, func(out []byte, i int) []byte {
		v := &p.versions[i]
		out = append(out, p.data[v.start:v.at]...)
		switch v.mode {
		case insertDist:
			out = append(out, `"dist":{"tarball":`...)
		case insertTarball:
			out = append(out, `"tarball":`...)
		}
		out = append(out, '"')
		out = appendJSONStringBody(out, base)
		out = appendJSONStringBody(out, TarballPath(name, v.info.Version))
		out = append(out, '"')
		if v.mode == insertDist {
			out = append(out, '}')
		}
		if v.mode != replaceTarball && v.nonEmpty {
			out = append(out, ',')
		}
		return append(out, p.data[v.atEnd:v.end]...)
	})
}

// appendTags re-emits dist-tags without tags of hidden versions, moving
// "latest" if it was hidden.
func (p *Packument) appendTags(out []byte, m *member, hidden []bool, isHidden func(string) bool) []byte {
	newLatest, haveLatest := "", false
	keep := func(i int) bool {
		t := &p.tags[i]
		if !t.string || !isHidden(t.value) {
			return true
		}
		if t.key != "latest" {
			return false
		}
		newLatest, haveLatest = p.newLatest(t.value, hidden)
		return haveLatest
	}
	return appendObject(out, p.data, m.val, m.end, p.tags, keep, func(out []byte, i int) []byte {
		t := &p.tags[i]
		if t.string && isHidden(t.value) {
			out = append(out, p.data[t.start:t.val]...)
			return appendJSONString(out, newLatest)
		}
		return append(out, p.data[t.start:t.end]...)
	})
}

// newLatest picks the replacement for a hidden "latest": the newest allowed
// stable version not above old, else the newest allowed stable, else the
// newest allowed prerelease (again preferring versions not above old).
func (p *Packument) newLatest(old string, hidden []bool) (string, bool) {
	oldV, oldErr := semver.Parse(old)
	for _, stable := range []bool{true, false} {
		for _, capped := range []bool{true, false} {
			if capped && oldErr != nil {
				continue
			}
			for k := len(p.sorted) - 1; k >= 0; k-- {
				i := p.sorted[k]
				v := &p.versions[i]
				if hidden[i] || !v.svOK || v.sv.Prerelease() == stable {
					continue
				}
				if capped && semver.Compare(v.sv, oldV) > 0 {
					continue
				}
				return v.info.Version, true
			}
		}
	}
	return "", false
}
