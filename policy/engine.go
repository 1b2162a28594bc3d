package policy

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/moatproject/moat/scan"
)

// Action is the outcome of a decision, and the kind of a Rule.
type Action int

// Actions. The zero value is not a valid action.
const (
	ActionAllow Action = iota + 1
	ActionBlock
	ActionWarn
)

// String returns "allow", "block" or "warn".
func (a Action) String() string {
	switch a {
	case ActionAllow:
		return "allow"
	case ActionBlock:
		return "block"
	case ActionWarn:
		return "warn"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) {
	if a < ActionAllow || a > ActionWarn {
		return nil, fmt.Errorf("policy: invalid action %d", int(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; "deny" is read as block.
func (a *Action) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "allow":
		*a = ActionAllow
	case "block", "deny":
		*a = ActionBlock
	case "warn":
		*a = ActionWarn
	default:
		return fmt.Errorf("policy: unknown action %q (want allow, block/deny or warn)", b)
	}
	return nil
}

// Layer names, in decision order.
const (
	LayerRule      = "rule"
	LayerFeed      = "feed"
	LayerAge       = "age"
	LayerScan      = "scan"
	LayerScanError = "scan_error"
	LayerDefault   = "default"
)

// Input is what the gate knows about one requested artifact or version.
type Input struct {
	Ecosystem scan.Ecosystem
	Name      string // any spelling; compared in NormalizeName form
	Version   string
	// PublishedAt is the upstream publish time; zero when unknown.
	PublishedAt time.Time
	// Report is the cached scan report; nil when not scanned (yet).
	Report *scan.Report
	// ScanErr is a failure to produce a report at all (timeout, internal).
	ScanErr error
}

// Decision is the outcome of Decide.
type Decision struct {
	Action Action `json:"action"`
	// Layer is the layer that decided (LayerRule ... LayerDefault).
	Layer string `json:"layer"`
	// Reasons explain the decision in words a client can show.
	Reasons []string `json:"reasons,omitempty"`
	// Rule names the matching rule or feed record, if any.
	Rule string `json:"rule,omitempty"`
	// WouldBlock is set in warn and audit mode when enforce mode would
	// have refused.
	WouldBlock bool `json:"would_block,omitempty"`
	// Mode is the mode that produced the decision.
	Mode Mode `json:"mode"`
}

// Refused reports whether the artifact must not be served.
func (d Decision) Refused() bool { return d.Action == ActionBlock }

// Reason joins Reasons into one line for a 403 body or a warning header.
func (d Decision) Reason() string { return strings.Join(d.Reasons, "; ") }

// Overrides yields the persisted allow/deny rules (each with its Action).
// It is called on every decision and must be cheap and safe for concurrent
// use (internal/store keeps them in memory).
type Overrides interface {
	Rules() []Rule
}

// FeedRecord is one known-malicious-package record as policy consumes it.
type FeedRecord struct {
	ID      string // e.g. "MAL-2024-1234"
	Summary string
	// Withdrawn records are ignored.
	Withdrawn bool
	// AllVersions: the record covers every version of the name.
	AllVersions bool
	// Affects reports whether the record covers version; nil means only
	// AllVersions counts.
	Affects func(version string) bool
}

// Feed looks up known-malicious records by ecosystem and normalised name
// (NormalizeName). It must be safe for concurrent use.
type Feed interface {
	Lookup(eco scan.Ecosystem, name string) []FeedRecord
}

// Clock tells the time, for release-age checks.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Deps are the engine's collaborators; all are optional.
type Deps struct {
	Overrides Overrides
	Feed      Feed
	Clock     Clock        // default: the system clock
	Logger    *slog.Logger // default: discard
}

// Engine decides. It is immutable and safe for concurrent use; to apply a
// new Config build a new Engine (New is cheap) and swap it in.
type Engine struct {
	cfg       Config
	rules     []compiledRule
	ageExempt map[scan.Ecosystem]globList
	deps      Deps
}

// New validates cfg, fills its defaults and compiles its rules.
func New(cfg Config, deps Deps) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if deps.Clock == nil {
		deps.Clock = systemClock{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, deps: deps, ageExempt: map[scan.Ecosystem]globList{}}
	for _, set := range []struct {
		rules  []Rule
		action Action
	}{{cfg.Allow, ActionAllow}, {cfg.Deny, ActionBlock}} {
		for _, r := range set.rules {
			r.Action = set.action
			c, err := compileRule(r, "config")
			if err != nil {
				return nil, err // unreachable: Validate compiled it
			}
			e.rules = append(e.rules, c)
		}
	}
	for _, eco := range []scan.Ecosystem{scan.NPM, scan.PyPI} {
		e.ageExempt[eco] = compileGlobs(eco, cfg.ReleaseAgeExclude)
	}
	return e, nil
}

// Config returns the effective config (defaults filled in).
func (e *Engine) Config() Config { return e.cfg }

// Decide returns the decision for one artifact; see the package doc for
// the order of the layers.
func (e *Engine) Decide(in Input) Decision {
	d := e.decide(in, false)
	return e.applyMode(d)
}

// VisibleInMetadata reports whether a version should be listed in metadata
// documents: false when hide_blocked_versions is on and a deny rule, the
// feed, the release age or an already cached blocking report refuses it.
// Scan errors never hide a version; a version served under warn or audit
// mode stays visible.
func (e *Engine) VisibleInMetadata(in Input) bool {
	if !*e.cfg.HideBlockedVersions || e.cfg.Mode != ModeEnforce {
		return true
	}
	return e.decide(in, true).Action != ActionBlock
}

func (e *Engine) applyMode(d Decision) Decision {
	d.Mode = e.cfg.Mode
	if d.Action != ActionBlock {
		return d
	}
	switch e.cfg.Mode {
	case ModeWarn:
		d.Action, d.WouldBlock = ActionWarn, true
	case ModeAudit:
		d.Action, d.WouldBlock = ActionAllow, true
	}
	return d
}

func (e *Engine) decide(in Input, metadata bool) Decision {
	name := NormalizeName(in.Ecosystem, in.Name)
	label := in.Name
	if in.Version != "" {
		label += "@" + in.Version
	}

	// 1. explicit rules
	if r, ok := e.matchRule(in.Ecosystem, name, in.Version); ok {
		d := Decision{Action: r.rule.Action, Layer: LayerRule, Rule: r.describe()}
		verb := "allowed"
		if r.rule.Action == ActionBlock {
			verb = "denied"
		}
		reason := fmt.Sprintf("%s %s by %s rule", label, verb, r.source)
		if r.rule.Reason != "" {
			reason += ": " + r.rule.Reason
		}
		d.Reasons = []string{reason}
		return d
	}

	// 2. known-malicious feed
	if e.deps.Feed != nil {
		if d, ok := e.matchFeed(in.Ecosystem, name, in.Version, label); ok {
			return d
		}
	}

	// 3. release age
	if d, ok := e.checkAge(in, name, label); ok {
		return d
	}

	// 4. scan verdict, 5. scan error
	if rep := in.Report; rep != nil && rep.Verdict != scan.VerdictError && rep.Error == "" {
		threshold := rep.Threshold
		if t := e.cfg.ThresholdOverride; t != nil {
			threshold = *t
		}
		flagged := rep.Flagged()
		if threshold > 0 {
			flagged = rep.Score >= threshold
		}
		if flagged {
			return Decision{Action: ActionBlock, Layer: LayerScan, Reasons: scanReasons(label, rep, threshold)}
		}
		return Decision{Action: ActionAllow, Layer: LayerScan,
			Reasons: []string{fmt.Sprintf("%s scanned clean (score %.2f < %.2f)", label, rep.Score, threshold)}}
	}
	if metadata {
		return Decision{Action: ActionAllow, Layer: LayerDefault}
	}
	if msg, failed := scanFailure(in); failed {
		d := Decision{Layer: LayerScanError}
		if e.cfg.OnScanError == ValueAllow {
			d.Action = ActionAllow
			d.Reasons = []string{fmt.Sprintf("%s could not be scanned (%s); allowed by on_scan_error: allow", label, msg)}
		} else {
			d.Action = ActionBlock
			d.Reasons = []string{fmt.Sprintf("%s could not be scanned (%s)", label, msg)}
		}
		return d
	}
	return Decision{Action: ActionAllow, Layer: LayerDefault}
}

func scanFailure(in Input) (string, bool) {
	if in.ScanErr != nil {
		return in.ScanErr.Error(), true
	}
	if rep := in.Report; rep != nil {
		msg := rep.Error
		if rep.ErrorKind != "" {
			msg = rep.ErrorKind + ": " + msg
		}
		if msg == "" {
			msg = "scanner returned verdict error"
		}
		return msg, true
	}
	return "", false
}

func scanReasons(label string, rep *scan.Report, threshold float64) []string {
	out := []string{fmt.Sprintf("%s flagged as malicious by the scanner (score %.2f >= %.2f)", label, rep.Score, threshold)}
	switch {
	case len(rep.Rules) > 0:
		h := rep.Rules[0]
		out[0] = fmt.Sprintf("%s flagged as malicious by the scanner's behaviour rule %s in %s: %s", label, h.Rule, h.File, h.Why)
	case strings.HasPrefix(rep.DecidedBy, "unit:"):
		out[0] += " in " + strings.TrimPrefix(rep.DecidedBy, "unit:")
	}
	const maxFindings = 3
	for i, f := range rep.Findings {
		if i == maxFindings {
			break
		}
		loc := f.File
		if f.Line > 0 {
			loc = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		out = append(out, fmt.Sprintf("%s at %s", f.Feature, loc))
	}
	return out
}

func (c *compiledRule) describe() string {
	if c.source == "config" {
		return "config " + c.rule.String()
	}
	return c.rule.String()
}

// matchRule returns the most specific rule matching name@version, deny
// winning ties.
func (e *Engine) matchRule(eco scan.Ecosystem, name, version string) (compiledRule, bool) {
	var best compiledRule
	found := false
	consider := func(c compiledRule) {
		if c.rule.Ecosystem != eco || !c.matches(name, version) {
			return
		}
		if !found || c.spec > best.spec || (c.spec == best.spec && c.rule.Action == ActionBlock && best.rule.Action != ActionBlock) {
			best, found = c, true
		}
	}
	for _, c := range e.rules {
		consider(c)
	}
	if e.deps.Overrides != nil {
		for _, r := range e.deps.Overrides.Rules() {
			if r.Ecosystem != eco {
				continue
			}
			c, err := compileRule(r, "override")
			if err != nil || (r.Action != ActionAllow && r.Action != ActionBlock) {
				e.deps.Logger.Warn("policy: ignoring invalid override", "rule", r.String(), "err", err)
				continue
			}
			consider(c)
		}
	}
	return best, found
}

func (e *Engine) matchFeed(eco scan.Ecosystem, name, version, label string) (Decision, bool) {
	var ids, reasons []string
	for _, rec := range e.deps.Feed.Lookup(eco, name) {
		if rec.Withdrawn {
			continue
		}
		if !rec.AllVersions && (version == "" || rec.Affects == nil || !rec.Affects(version)) {
			continue
		}
		ids = append(ids, rec.ID)
		r := fmt.Sprintf("%s is a known malicious package (%s)", label, rec.ID)
		if rec.Summary != "" {
			r += ": " + rec.Summary
		}
		reasons = append(reasons, r)
	}
	if len(ids) == 0 {
		return Decision{}, false
	}
	sort.Strings(ids)
	sort.Strings(reasons)
	return Decision{Action: ActionBlock, Layer: LayerFeed, Rule: "feed " + strings.Join(ids, ","), Reasons: reasons}, true
}

func (e *Engine) checkAge(in Input, name, label string) (Decision, bool) {
	minAge := time.Duration(e.cfg.MinReleaseAge)
	if minAge <= 0 || e.ageExempt[in.Ecosystem].matches(name) {
		return Decision{}, false
	}
	if in.PublishedAt.IsZero() {
		if e.cfg.UnknownAge == ValueBlock {
			return Decision{Action: ActionBlock, Layer: LayerAge,
				Reasons: []string{fmt.Sprintf("%s has no known publish time and unknown_age is block", label)}}, true
		}
		return Decision{}, false
	}
	age := e.deps.Clock.Now().Sub(in.PublishedAt)
	if age >= minAge {
		return Decision{}, false
	}
	return Decision{Action: ActionBlock, Layer: LayerAge, Reasons: []string{fmt.Sprintf(
		"%s was published %s ago, less than min_release_age %s (allowed from %s)",
		label, age.Round(time.Minute), minAge, in.PublishedAt.Add(minAge).UTC().Format(time.RFC3339))}}, true
}
