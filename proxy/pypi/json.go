package pypi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// uploadTimeLayout is PEP 700's upload-time form (UTC, microseconds).
const uploadTimeLayout = "2006-01-02T15:04:05.000000Z"

// object decodes a JSON object into its members with exact-case keys
// (encoding/json matches struct fields case-insensitively; Python does not).
func object(raw json.RawMessage, what string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, malformed("%s is not an object", what)
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func decodeString(raw json.RawMessage, what string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", malformed("%s is not a string", what)
	}
	return s, nil
}

// ParseJSON parses a PEP 691 project page (with the PEP 700 additions:
// size, upload-time, versions). URLs are resolved against base. A missing
// meta.api-version, name or files, a wrongly typed field or a bad hash is
// an error wrapping ErrMalformed; api-version 2+ wraps ErrUnsupported.
func ParseJSON(body []byte, base *url.URL) (*Project, error) {
	top, err := object(body, "page")
	if err != nil {
		return nil, err
	}
	p := &Project{}
	metaRaw, ok := top["meta"]
	if !ok {
		return nil, malformed("no meta")
	}
	meta, err := object(metaRaw, "meta")
	if err != nil {
		return nil, err
	}
	if p.Meta.APIVersion, err = decodeString(meta["api-version"], "meta.api-version"); err != nil {
		return nil, err
	}
	if err := checkAPIVersion(p.Meta.APIVersion); err != nil {
		return nil, err
	}
	if p.Name, err = decodeString(top["name"], "name"); err != nil {
		return nil, err
	}
	var files []json.RawMessage
	if err := json.Unmarshal(top["files"], &files); err != nil || files == nil {
		return nil, malformed("files is not an array")
	}
	if len(files) > 0 {
		p.Files = make([]File, 0, len(files))
	}
	for i, raw := range files {
		f, err := jsonFile(raw, base)
		if err != nil {
			return nil, fmt.Errorf("files[%d]: %w", i, err)
		}
		p.Files = append(p.Files, f)
	}
	if raw, ok := top["versions"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &p.Versions); err != nil {
			return nil, malformed("versions is not an array of strings")
		}
		if len(p.Versions) == 0 {
			p.Versions = nil
		}
	}
	return p, nil
}

func jsonFile(raw json.RawMessage, base *url.URL) (File, error) {
	m, err := object(raw, "file")
	if err != nil {
		return File{}, err
	}
	f := File{Size: -1}
	if f.Filename, err = decodeString(m["filename"], "filename"); err != nil {
		return File{}, err
	}
	if f.Filename == "" {
		return File{}, malformed("empty filename")
	}
	href, err := decodeString(m["url"], "url")
	if err != nil {
		return File{}, err
	}
	u, _, err := resolve(base, href)
	if err != nil {
		return File{}, err
	}
	f.URL = u.String()
	if f.Hashes, err = jsonHashes(m["hashes"], "hashes"); err != nil {
		return File{}, err
	}
	if raw, ok := m["requires-python"]; ok && !isNull(raw) {
		if f.RequiresPython, err = decodeString(raw, "requires-python"); err != nil {
			return File{}, err
		}
	}
	md, ok := m["core-metadata"]
	if !ok || isNull(md) {
		md = m["dist-info-metadata"]
	}
	if f.CoreMetadata, err = jsonMetadata(md); err != nil {
		return File{}, err
	}
	if raw, ok := m["gpg-sig"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &f.Gpg); err != nil {
			return File{}, malformed("gpg-sig is not a boolean")
		}
	}
	if raw, ok := m["yanked"]; ok && !isNull(raw) {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return File{}, malformed("bad yanked")
		}
		switch y := v.(type) {
		case bool:
			f.Yanked.Yanked = y
		case string:
			f.Yanked = Yanked{Yanked: true, Reason: y}
		default:
			return File{}, malformed("yanked is neither a boolean nor a string")
		}
	}
	if raw, ok := m["size"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &f.Size); err != nil || f.Size < 0 {
			return File{}, malformed("size is not a non-negative integer")
		}
	}
	if raw, ok := m["upload-time"]; ok && !isNull(raw) {
		s, err := decodeString(raw, "upload-time")
		if err != nil {
			return File{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return File{}, malformed("bad upload-time %q", s)
		}
		f.UploadTime = t.UTC()
	}
	return f, nil
}

func jsonHashes(raw json.RawMessage, what string) (map[string]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var h map[string]string
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, malformed("%s is not an object of strings", what)
	}
	if len(h) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(h))
	for a, d := range h {
		a = strings.ToLower(a)
		if !validAlgo(a) {
			return nil, malformed("bad hash name %q", a)
		}
		if err := checkDigest(a, d); err != nil {
			return nil, err
		}
		out[a] = d
	}
	return out, nil
}

func jsonMetadata(raw json.RawMessage) (Metadata, error) {
	if isNull(raw) {
		return Metadata{}, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return Metadata{Present: b}, nil
	}
	h, err := jsonHashes(raw, "core-metadata")
	if err != nil {
		return Metadata{}, err
	}
	return Metadata{Present: true, Hashes: h}, nil
}

type jsonOutFile struct {
	Filename         string            `json:"filename"`
	URL              string            `json:"url"`
	Hashes           map[string]string `json:"hashes"`
	RequiresPython   string            `json:"requires-python,omitempty"`
	CoreMetadata     any               `json:"core-metadata,omitempty"`
	DistInfoMetadata any               `json:"dist-info-metadata,omitempty"`
	GpgSig           bool              `json:"gpg-sig,omitempty"`
	Yanked           any               `json:"yanked,omitempty"`
	Size             *int64            `json:"size,omitempty"`
	UploadTime       string            `json:"upload-time,omitempty"`
}

type jsonOut struct {
	Meta struct {
		APIVersion string `json:"api-version"`
	} `json:"meta"`
	Name     string        `json:"name"`
	Files    []jsonOutFile `json:"files"`
	Versions []string      `json:"versions"`
}

// RenderJSON renders p as a PEP 691 page with api-version 1.1: files carry
// filename, url, hashes, requires-python, core-metadata and
// dist-info-metadata (true or a hash object) and yanked (true or the
// reason) when set, size when known and upload-time when known; versions is
// p.Versions (see Project.FileVersions for pages that had none).
func RenderJSON(p *Project) []byte {
	var out jsonOut
	out.Meta.APIVersion = APIVersion
	out.Name = p.Name
	out.Files = make([]jsonOutFile, len(p.Files))
	out.Versions = p.Versions
	if out.Versions == nil {
		out.Versions = []string{}
	}
	for i := range p.Files {
		f := &p.Files[i]
		o := &out.Files[i]
		o.Filename, o.URL, o.Hashes, o.RequiresPython, o.GpgSig = f.Filename, f.URL, f.Hashes, f.RequiresPython, f.Gpg
		if o.Hashes == nil {
			o.Hashes = map[string]string{}
		}
		if f.CoreMetadata.Present {
			var md any = true
			if len(f.CoreMetadata.Hashes) > 0 {
				md = f.CoreMetadata.Hashes
			}
			o.CoreMetadata, o.DistInfoMetadata = md, md
		}
		if f.Yanked.Yanked {
			var y any = true
			if f.Yanked.Reason != "" {
				y = f.Yanked.Reason
			}
			o.Yanked = y
		}
		if f.Size >= 0 {
			o.Size = &f.Size
		}
		if !f.UploadTime.IsZero() {
			o.UploadTime = f.UploadTime.UTC().Format(uploadTimeLayout)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(out) // cannot fail: only strings, maps of strings, bools and ints
	return b.Bytes()
}
