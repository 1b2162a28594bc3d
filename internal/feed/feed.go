// Package feed owns moat's import of known-malicious-package records: OSV
// JSON documents (the MAL-* records of the ossf/malicious-packages
// repository, laid out as osv/malicious/<ecosystem>/<name>/MAL-*.json) read
// from a folder or a .zip, turned into Records for the npm and PyPI
// ecosystems. A Record answers Affects(version) by OSV semantics. The input
// is untrusted: archives are read in memory under size limits, malformed
// documents are skipped and counted, never fatal to the whole import.
package feed

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moatproject/moat/internal/pep440"
	"github.com/moatproject/moat/internal/semver"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

// Record is one known-malicious package entry: one (ecosystem, name) of
// one OSV document.
type Record struct {
	ID        string         `json:"id"`
	Ecosystem scan.Ecosystem `json:"ecosystem"`
	// Name is canonical: PEP 503-normalised for PyPI, lower case for npm
	// (the same form as policy.NormalizeName).
	Name string `json:"name"`
	// Versions lists explicitly affected versions.
	Versions []string `json:"versions,omitempty"`
	// Ranges are affected intervals from OSV SEMVER/ECOSYSTEM ranges.
	Ranges []Range `json:"ranges,omitempty"`
	// AllVersions: the record covers every version (no versions and no
	// ranges, or a range introduced at "0" with no upper bound).
	AllVersions bool `json:"all_versions,omitempty"`
	// Withdrawn is when the record was withdrawn; zero if it stands.
	Withdrawn time.Time `json:"withdrawn,omitzero"`
	Summary   string    `json:"summary,omitempty"`
	Aliases   []string  `json:"aliases,omitempty"`
	Modified  time.Time `json:"modified,omitzero"`
}

// Range is one affected interval: Introduced <= v < Fixed, or
// Introduced <= v <= LastAffected. An empty or "0" Introduced has no lower
// bound; empty Fixed and LastAffected, no upper bound.
type Range struct {
	Type         string `json:"type"` // SEMVER or ECOSYSTEM
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
}

// IsWithdrawn reports whether the record has been withdrawn.
func (r Record) IsWithdrawn() bool { return !r.Withdrawn.IsZero() }

// Affects reports whether version is covered by r. npm versions compare by
// semver, PyPI versions by PEP 440; a version that does not parse matches
// only an identical string in Versions (or AllVersions).
func (r Record) Affects(version string) bool {
	if r.AllVersions {
		return true
	}
	version = strings.TrimSpace(version)
	if version == "" {
		return false
	}
	cmp, err := comparer(r.Ecosystem, version)
	for _, v := range r.Versions {
		if v == version || (err == nil && cmp(v) == 0) {
			return true
		}
	}
	if err != nil {
		return false
	}
	for _, rg := range r.Ranges {
		if rg.contains(cmp) {
			return true
		}
	}
	return false
}

// contains reports whether the version behind cmp lies in rg. cmp(x)
// compares that version with x (-1, 0, 1), or 2 when x does not parse: a
// bound that does not parse makes the range match nothing.
func (rg Range) contains(cmp func(string) int) bool {
	if in := rg.Introduced; in != "" && in != "0" {
		if c := cmp(in); c == 2 || c < 0 {
			return false
		}
	}
	if f := rg.Fixed; f != "" {
		if c := cmp(f); c == 2 || c >= 0 {
			return false
		}
	}
	if la := rg.LastAffected; la != "" {
		if c := cmp(la); c == 2 || c > 0 {
			return false
		}
	}
	return true
}

// comparer parses version and returns a function comparing it to another
// version string of the same ecosystem.
func comparer(eco scan.Ecosystem, version string) (func(string) int, error) {
	switch eco {
	case scan.PyPI:
		v, err := pep440.Parse(version)
		if err != nil {
			return nil, err
		}
		return func(s string) int {
			o, err := pep440.Parse(s)
			if err != nil {
				return 2
			}
			return pep440.Compare(v, o)
		}, nil
	case scan.NPM:
		v, err := semver.Parse(version)
		if err != nil {
			return nil, err
		}
		return func(s string) int {
			o, err := semver.Parse(s)
			if err != nil {
				return 2
			}
			return semver.Compare(v, o)
		}, nil
	}
	return nil, fmt.Errorf("feed: unknown ecosystem %q", eco)
}

// osvDoc is the subset of the OSV schema moat reads.
type osvDoc struct {
	ID        string     `json:"id"`
	Modified  time.Time  `json:"modified"`
	Withdrawn *time.Time `json:"withdrawn"`
	Summary   string     `json:"summary"`
	Details   string     `json:"details"`
	Aliases   []string   `json:"aliases"`
	Affected  []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		Versions []string `json:"versions"`
		Ranges   []struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

// ErrMalformed is wrapped by every error ParseOSV returns for a document
// that is not a usable OSV record.
var ErrMalformed = errors.New("malformed OSV record")

const maxSummary = 512

// ParseOSV parses one OSV JSON document into Records for the ecosystems
// moat serves (npm, PyPI); entries of other ecosystems are ignored, so a
// valid document may yield no records.
func ParseOSV(data []byte) ([]Record, error) {
	var doc osvDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if strings.TrimSpace(doc.ID) == "" {
		return nil, fmt.Errorf("%w: no id", ErrMalformed)
	}
	if len(doc.Affected) == 0 {
		return nil, fmt.Errorf("%w: %s: no affected packages", ErrMalformed, doc.ID)
	}
	summary := doc.Summary
	if summary == "" {
		summary, _, _ = strings.Cut(strings.TrimSpace(doc.Details), "\n")
	}
	if len(summary) > maxSummary {
		summary = summary[:maxSummary]
	}
	var out []Record
	for _, a := range doc.Affected {
		eco, ok := mapEcosystem(a.Package.Ecosystem)
		if !ok {
			continue
		}
		name := policy.NormalizeName(eco, a.Package.Name)
		if name == "" {
			return nil, fmt.Errorf("%w: %s: affected package without a name", ErrMalformed, doc.ID)
		}
		rec := Record{ID: doc.ID, Ecosystem: eco, Name: name, Summary: summary, Aliases: doc.Aliases, Modified: doc.Modified}
		if doc.Withdrawn != nil {
			rec.Withdrawn = *doc.Withdrawn
		}
		for _, v := range a.Versions {
			if v = strings.TrimSpace(v); v != "" {
				rec.Versions = append(rec.Versions, v)
			}
		}
		for _, r := range a.Ranges {
			if r.Type != "SEMVER" && r.Type != "ECOSYSTEM" {
				continue // GIT ranges name commits, not versions
			}
			rs, all := intervals(r.Type, r.Events)
			rec.Ranges = append(rec.Ranges, rs...)
			rec.AllVersions = rec.AllVersions || all
		}
		if len(rec.Versions) == 0 && len(rec.Ranges) == 0 {
			rec.AllVersions = true
		}
		out = append(out, rec)
	}
	return out, nil
}

// intervals turns OSV events (sorted by version, as the schema requires)
// into intervals; all reports an interval open on both ends.
func intervals(typ string, events []map[string]string) (out []Range, all bool) {
	var cur *Range
	for _, ev := range events {
		switch {
		case ev["introduced"] != "":
			if cur != nil {
				out = append(out, *cur)
			}
			cur = &Range{Type: typ, Introduced: ev["introduced"]}
		case ev["fixed"] != "" && cur != nil:
			cur.Fixed = ev["fixed"]
			out, cur = append(out, *cur), nil
		case ev["last_affected"] != "" && cur != nil:
			cur.LastAffected = ev["last_affected"]
			out, cur = append(out, *cur), nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	for _, r := range out {
		if (r.Introduced == "0" || r.Introduced == "") && r.Fixed == "" && r.LastAffected == "" {
			all = true
		}
	}
	return out, all
}

func mapEcosystem(s string) (scan.Ecosystem, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "npm":
		return scan.NPM, true
	case "pypi":
		return scan.PyPI, true
	}
	return "", false
}
