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

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// jsonPage is the PEP 691 page as decoded in one pass. (encoding/json
// matches keys case-insensitively where Python would not; moat re-renders
// every page, so the client only ever sees moat's reading.)
type jsonPage struct {
	Meta *struct {
		APIVersion *string `json:"api-version"`
	} `json:"meta"`
	Name     *string       `json:"name"`
	Files    *[]jsonFileIn `json:"files"`
	Versions []string      `json:"versions"`
}

type jsonFileIn struct {
	Filename         *string           `json:"filename"`
	URL              *string           `json:"url"`
	Hashes           map[string]string `json:"hashes"`
	RequiresPython   *string           `json:"requires-python"`
	CoreMetadata     json.RawMessage   `json:"core-metadata"`
	DistInfoMetadata json.RawMessage   `json:"dist-info-metadata"`
	GpgSig           *bool             `json:"gpg-sig"`
	Yanked           json.RawMessage   `json:"yanked"`
	Size             *int64            `json:"size"`
	UploadTime       *string           `json:"upload-time"`
}

// ParseJSON parses a PEP 691 project page (with the PEP 700 additions:
// size, upload-time, versions). URLs are resolved against base. A missing
// meta.api-version, name, files, filename or url, a wrongly typed field or
// a bad hash is an error wrapping ErrMalformed; api-version 2+ wraps
// ErrUnsupported.
func ParseJSON(body []byte, base *url.URL) (*Project, error) {
	var doc jsonPage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, malformed("%v", err)
	}
	if doc.Meta == nil || doc.Meta.APIVersion == nil {
		return nil, malformed("no meta.api-version")
	}
	if err := checkAPIVersion(*doc.Meta.APIVersion); err != nil {
		return nil, err
	}
	if doc.Name == nil {
		return nil, malformed("no name")
	}
	if doc.Files == nil {
		return nil, malformed("no files")
	}
	files := *doc.Files
	p := &Project{Name: *doc.Name, Meta: Meta{APIVersion: *doc.Meta.APIVersion}}
	if len(files) > 0 {
		p.Files = make([]File, 0, len(files))
	}
	for i := range files {
		f, err := jsonFile(&files[i], base)
		if err != nil {
			return nil, fmt.Errorf("files[%d]: %w", i, err)
		}
		p.Files = append(p.Files, f)
	}
	if len(doc.Versions) > 0 {
		p.Versions = doc.Versions
	}
	return p, nil
}

func jsonFile(in *jsonFileIn, base *url.URL) (File, error) {
	f := File{Size: -1}
	if in.Filename == nil || *in.Filename == "" {
		return File{}, malformed("no filename")
	}
	f.Filename = *in.Filename
	if in.URL == nil {
		return File{}, malformed("no url")
	}
	u, _, err := resolve(base, *in.URL)
	if err != nil {
		return File{}, err
	}
	f.URL = u.String()
	if f.Hashes, err = checkHashes(in.Hashes); err != nil {
		return File{}, err
	}
	if in.RequiresPython != nil {
		f.RequiresPython = *in.RequiresPython
	}
	md := in.CoreMetadata
	if isNull(md) {
		md = in.DistInfoMetadata
	}
	if f.CoreMetadata, err = jsonMetadata(md); err != nil {
		return File{}, err
	}
	if in.GpgSig != nil {
		f.Gpg = *in.GpgSig
	}
	switch y := bytes.TrimSpace(in.Yanked); {
	case isNull(y):
	case bytes.Equal(y, []byte("true")):
		f.Yanked.Yanked = true
	case bytes.Equal(y, []byte("false")):
	case y[0] == '"':
		f.Yanked.Yanked = true
		if err := json.Unmarshal(y, &f.Yanked.Reason); err != nil {
			return File{}, malformed("bad yanked")
		}
	default:
		return File{}, malformed("yanked is neither a boolean nor a string")
	}
	if in.Size != nil {
		if *in.Size < 0 {
			return File{}, malformed("negative size")
		}
		f.Size = *in.Size
	}
	if in.UploadTime != nil {
		t, err := time.Parse(time.RFC3339Nano, *in.UploadTime)
		if err != nil {
			return File{}, malformed("bad upload-time %q", *in.UploadTime)
		}
		f.UploadTime = t.UTC()
	}
	return f, nil
}

func checkHashes(h map[string]string) (map[string]string, error) {
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
	switch raw = bytes.TrimSpace(raw); {
	case isNull(raw), bytes.Equal(raw, []byte("false")):
		return Metadata{}, nil
	case bytes.Equal(raw, []byte("true")):
		return Metadata{Present: true}, nil
	}
	var hm map[string]string
	if raw[0] != '{' || json.Unmarshal(raw, &hm) != nil {
		return Metadata{}, malformed("core-metadata is neither a boolean nor an object of hashes")
	}
	h, err := checkHashes(hm)
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
