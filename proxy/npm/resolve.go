package npm

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/moatproject/moat/internal/semver"
)

// Dependencies returns the registry dependencies version v declares
// (dependencies, optionalDependencies and peerDependencies: npm 7 and later
// install peers too) as name -> range. Aliases ("npm:other@^1") are returned
// under the aliased package's name; specs that do not name a registry
// package (git, file, URLs, workspaces) are left out. It decodes the
// version's object on demand: the parser does not keep dependencies.
func (p *Packument) Dependencies(v string) (map[string]string, error) {
	i, ok := p.index[v]
	if !ok {
		return nil, fmt.Errorf("npm: %s has no version %q", p.Name, v)
	}
	m := p.versions[i].member
	var doc struct {
		Dependencies         map[string]string `json:"dependencies"`
		OptionalDependencies map[string]string `json:"optionalDependencies"`
		PeerDependencies     map[string]string `json:"peerDependencies"`
	}
	if err := json.Unmarshal(p.data[m.val:m.end], &doc); err != nil {
		return nil, fmt.Errorf("npm: %s@%s: %w", p.Name, v, err)
	}
	out := make(map[string]string, len(doc.Dependencies)+len(doc.OptionalDependencies)+len(doc.PeerDependencies))
	for _, deps := range []map[string]string{doc.PeerDependencies, doc.OptionalDependencies, doc.Dependencies} {
		for name, spec := range deps {
			if n, r, ok := registrySpec(name, spec); ok {
				out[n] = r
			}
		}
	}
	return out, nil
}

// registrySpec maps a dependency entry to the registry package and range it
// installs, or ok false when it names no registry package.
func registrySpec(name, spec string) (pkg, rng string, ok bool) {
	spec = strings.TrimSpace(spec)
	if rest, isAlias := strings.CutPrefix(spec, "npm:"); isAlias {
		// npm:@scope/name@range or npm:name@range (range optional).
		at := strings.LastIndexByte(rest, '@')
		if at <= 0 {
			return rest, "", ValidateName(rest) == nil
		}
		return rest[:at], rest[at+1:], ValidateName(rest[:at]) == nil
	}
	if strings.Contains(spec, ":") || strings.Contains(spec, "/") {
		return "", "", false // git+https:, file:, workspace:, github shorthand, URLs
	}
	return name, spec, ValidateName(name) == nil
}

// Resolve returns the version npm would choose for spec, the way its
// resolver does for a fresh install: a dist-tag names its version; for a
// range, the "latest" tag's version when it satisfies the range, else the
// highest satisfying version. An empty spec means "latest".
func (p *Packument) Resolve(spec string) (VersionInfo, bool) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = "latest"
	}
	if v, ok := p.DistTags[spec]; ok {
		return p.Version(v)
	}
	r, err := semver.ParseRange(spec)
	if err != nil {
		return VersionInfo{}, false
	}
	if lv, ok := p.DistTags["latest"]; ok {
		if i, ok := p.index[lv]; ok && p.versions[i].svOK && r.Contains(p.versions[i].sv) {
			return p.versions[i].info, true
		}
	}
	for k := len(p.sorted) - 1; k >= 0; k-- {
		v := &p.versions[p.sorted[k]]
		if v.svOK && r.Contains(v.sv) {
			return v.info, true
		}
	}
	return VersionInfo{}, false
}
