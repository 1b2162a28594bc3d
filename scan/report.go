// Package scan owns moat's static scanner: it turns one package artifact
// (or folder) into a Report by running the stages archive → features →
// sequence → classifier. The cgo stages (tree-sitter features, ONNX model)
// are reached only through the small Extractor and Classifier interfaces,
// which cmd/moat fills in, so this package and everything that consumes
// Reports build with CGO_ENABLED=0.
package scan

import (
	"context"

	"github.com/moatproject/moat/scan/behaviour"
	"github.com/moatproject/moat/scan/sequence"
)

// Ecosystem names a package ecosystem.
type Ecosystem string

const (
	NPM  Ecosystem = "npm"
	PyPI Ecosystem = "pypi"
)

// Verdict values of a Report.
const (
	VerdictClean     = "clean"
	VerdictMalicious = "malicious"
	VerdictError     = "error"
)

// Input is one artifact to scan. Data holds the archive bytes exactly as the
// registry served them (moat never alters them); Filename is its file name
// (used to pick the archive format, e.g. "x-1.0.0.tgz", "y-2.0-py3-none-any.whl").
type Input struct {
	Ecosystem Ecosystem // "" = infer from contents
	Name      string    // package name, if known from the registry
	Version   string
	Filename  string
	Data      []byte
	SHA256    string // hex; computed if empty
}

// Finding is one event that explains a verdict, in the JSON shape of
// `moat scan --json` (DESIGN.md).
type Finding struct {
	Feature string `json:"feature"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Snippet string `json:"snippet"`
	// Weight is how much this feature moved the score (occlusion), when known.
	Weight float64 `json:"weight,omitempty"`
}

// Report is the (pure, cacheable) result of scanning one artifact. Its JSON
// form is the contract of `moat scan --json`; fields may be added, never
// renamed or removed.
type Report struct {
	Path           string           `json:"path"`
	Ecosystem      Ecosystem        `json:"ecosystem"`
	Name           string           `json:"name"`
	Version        string           `json:"version"`
	SHA256         string           `json:"sha256"`
	Verdict        string           `json:"verdict"`
	Score          float64          `json:"score"`
	Threshold      float64          `json:"threshold"`
	Findings       []Finding        `json:"findings"`
	Sequence       []string         `json:"sequence"`
	Events         []sequence.Event `json:"events,omitempty"` // the sequence with locations (for --explain and report pages)
	ScannerVersion string           `json:"scanner_version"`
	ModelVersion   string           `json:"model_version"`
	DurationMS     int64            `json:"duration_ms"`
	Error          string           `json:"error"`
	// ErrorKind classifies Error for stats and policy (e.g. "archive.too_large",
	// "archive.bad_path", "archive.format", "timeout", "internal").
	ErrorKind string `json:"error_kind,omitempty"`
	// PackageScore is the classifier's score of the whole-package sequence
	// (Sequence). Score is the strongest of it, the units' scores and the
	// behaviour rules.
	PackageScore float64 `json:"package_score"`
	// Units are the execution units scored on their own, strongest first.
	Units []UnitScore `json:"units,omitempty"`
	// Rules are the behaviour rules that fired; any one makes the verdict
	// malicious (Score 1).
	Rules []behaviour.Hit `json:"rules,omitempty"`
	// DecidedBy names what set Score: "package", "unit:<kind>:<name>" or
	// "rule:<name>".
	DecidedBy string `json:"decided_by,omitempty"`
}

// UnitScore is one execution unit's classifier score (sequence.Units).
type UnitScore struct {
	Kind  string   `json:"kind"`
	Name  string   `json:"name"`
	Score float64  `json:"score"`
	Files []string `json:"files,omitempty"`
}

// Flagged reports whether the scanner judged the artifact malicious.
func (r *Report) Flagged() bool { return r.Verdict == VerdictMalicious }

// Classifier scores a behaviour sequence: the probability that the package is
// malicious, compared against Threshold. scan/model implements it with ONNX
// Runtime; an interim rule-based classifier lives in this module too.
type Classifier interface {
	Score(ctx context.Context, tokens []string) (float64, error)
	Threshold() float64
	Version() string
}

// TokenFilter is implemented by classifiers with a closed vocabulary: the
// scanner drops tokens the classifier does not know before scoring, so a
// model keeps reading the tokens it was trained on when the extractor has
// learnt newer ones (those still reach the behaviour rules and the report).
type TokenFilter interface {
	Knows(token string) bool
}

// Extractor turns one source file into behaviour events in execution order
// (source order, descending into locally defined functions at their call
// sites). scan/features implements it with tree-sitter. Files of a language
// it does not handle yield an empty FileEvents and no error. Implementations
// must be safe for concurrent use.
type Extractor interface {
	Extract(ctx context.Context, path string, src []byte) (*sequence.FileEvents, error)
	Version() string
}
