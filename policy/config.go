package policy

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/moatproject/moat/scan"
)

// Mode selects what a refusal does.
type Mode string

// Modes.
const (
	ModeEnforce Mode = "enforce" // refuse (403)
	ModeWarn    Mode = "warn"    // serve with a warning
	ModeAudit   Mode = "audit"   // serve, log what would have been refused
)

// Values of Config.UnknownAge and Config.OnScanError.
const (
	ValueAllow = "allow"
	ValueBlock = "block"
)

// Config is the policy section of moat's config file (under "policy:").
// The zero value is usable: see the field comments for defaults.
type Config struct {
	// Mode is enforce (default), warn or audit.
	Mode Mode `yaml:"mode" json:"mode"`
	// MinReleaseAge refuses versions published less than this long ago
	// ("48h", "7d"); 0 disables the check.
	MinReleaseAge Duration `yaml:"min_release_age" json:"min_release_age"`
	// ReleaseAgeExclude lists names or globs ("@acme/*", "internal-*")
	// exempt from MinReleaseAge.
	ReleaseAgeExclude []string `yaml:"release_age_exclude" json:"release_age_exclude,omitempty"`
	// UnknownAge is what to do when MinReleaseAge is set and the publish
	// time is unknown: allow (default) or block.
	UnknownAge string `yaml:"unknown_age" json:"unknown_age"`
	// OnScanError is what to do when the scan failed: block (default) or allow.
	OnScanError string `yaml:"on_scan_error" json:"on_scan_error"`
	// Allow and Deny are explicit rules; see Rule.
	Allow []Rule `yaml:"allow" json:"allow,omitempty"`
	Deny  []Rule `yaml:"deny" json:"deny,omitempty"`
	// ThresholdOverride, when set, replaces the score threshold carried by
	// each scan report (0 < t <= 1).
	ThresholdOverride *float64 `yaml:"threshold_override" json:"threshold_override,omitempty"`
	// HideBlockedVersions removes refused versions from metadata documents
	// so clients resolve to an allowed one. Default true.
	HideBlockedVersions *bool `yaml:"hide_blocked_versions" json:"hide_blocked_versions,omitempty"`
}

// Default returns the config with every default filled in.
func Default() Config {
	var c Config
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	if c.Mode == "" {
		c.Mode = ModeEnforce
	}
	if c.UnknownAge == "" {
		c.UnknownAge = ValueAllow
	}
	if c.OnScanError == "" {
		c.OnScanError = ValueBlock
	}
	if c.HideBlockedVersions == nil {
		t := true
		c.HideBlockedVersions = &t
	}
}

// Validate reports the first problem in c, naming the offending key.
// Empty values are valid (they take their defaults).
func (c Config) Validate() error {
	var errs []error
	switch c.Mode {
	case "", ModeEnforce, ModeWarn, ModeAudit:
	default:
		errs = append(errs, fmt.Errorf("policy.mode: %q is not one of enforce, warn, audit", c.Mode))
	}
	if c.MinReleaseAge < 0 {
		errs = append(errs, fmt.Errorf("policy.min_release_age: %s is negative", c.MinReleaseAge))
	}
	for i, g := range c.ReleaseAgeExclude {
		if err := validGlob(g); err != nil {
			errs = append(errs, fmt.Errorf("policy.release_age_exclude[%d]: %w", i, err))
		}
	}
	for key, v := range map[string]string{"unknown_age": c.UnknownAge, "on_scan_error": c.OnScanError} {
		if v != "" && v != ValueAllow && v != ValueBlock {
			errs = append(errs, fmt.Errorf("policy.%s: %q is not one of allow, block", key, v))
		}
	}
	if t := c.ThresholdOverride; t != nil && (*t <= 0 || *t > 1) {
		errs = append(errs, fmt.Errorf("policy.threshold_override: %v is outside (0, 1]", *t))
	}
	for i, r := range c.Allow {
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("policy.allow[%d]: %w", i, err))
		}
	}
	for i, r := range c.Deny {
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("policy.deny[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func validGlob(g string) error {
	if strings.TrimSpace(g) == "" {
		return errors.New("empty name pattern")
	}
	if _, err := path.Match(g, ""); err != nil {
		return fmt.Errorf("bad name pattern %q: %w", g, err)
	}
	return nil
}

// Rule is one explicit allow or deny rule. Package is an exact name or a
// glob ("@acme/*", "acme-*", path.Match syntax); at most one of Version (an
// exact version) and Range (an npm range such as "^1.2", or a PEP 440
// specifier such as "~=1.4") narrows it to some versions.
//
// In the config file a rule's action comes from the list it is in (allow:
// or deny:); persisted overrides carry Action, ID and CreatedAt themselves.
type Rule struct {
	ID        string         `yaml:"-" json:"id,omitempty"`
	Action    Action         `yaml:"-" json:"action,omitempty"`
	Ecosystem scan.Ecosystem `yaml:"ecosystem" json:"ecosystem"`
	Package   string         `yaml:"package" json:"package"`
	Version   string         `yaml:"version,omitempty" json:"version,omitempty"`
	Range     string         `yaml:"range,omitempty" json:"range,omitempty"`
	Reason    string         `yaml:"reason,omitempty" json:"reason,omitempty"`
	CreatedAt time.Time      `yaml:"-" json:"created_at,omitzero"`
}

// Validate checks a persisted override: the fields of a config rule plus an
// Action of allow or block.
func (r Rule) Validate() error {
	if r.Action != ActionAllow && r.Action != ActionBlock {
		return fmt.Errorf("rule %s: action must be allow or deny", r)
	}
	return r.validate()
}

func (r Rule) validate() error {
	_, err := compileRule(r, "")
	return err
}

// Key is the canonical identity of what r matches (ecosystem, package and
// version or range, not the action): two rules with the same Key target the
// same artifacts. Stores use it to upsert overrides.
func (r Rule) Key() string {
	k := string(r.Ecosystem) + " " + NormalizeName(r.Ecosystem, r.Package)
	switch {
	case r.Version != "":
		k += "@" + strings.TrimSpace(r.Version)
	case r.Range != "":
		k += " " + strings.TrimSpace(r.Range)
	}
	return k
}

// String renders r for logs and Decision.Rule, e.g.
// "deny npm left-pad@1.3.0" or "allow pypi requests ~=2.31".
func (r Rule) String() string {
	a := "rule"
	switch r.Action {
	case ActionAllow:
		a = "allow"
	case ActionBlock:
		a = "deny"
	}
	s := a + " " + r.Key()
	if r.ID != "" {
		s = "override " + r.ID + ": " + s
	}
	return s
}

// Duration is a time.Duration that also reads whole days and weeks ("7d",
// "2w", "1d12h") from config text.
type Duration time.Duration

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses a time.ParseDuration string extended with the units
// "d" (24h) and "w" (7d), which may lead: "7d", "1w2d", "1d12h". "" and "0"
// are zero.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := s
	for {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || (rest[i] != 'd' && rest[i] != 'w') {
			break
		}
		n, err := strconv.ParseInt(rest[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		unit := 24 * time.Hour
		if rest[i] == 'w' {
			unit *= 7
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("duration %q: want e.g. 48h, 7d or 1d12h", s)
		}
		total += d
	}
	return total, nil
}
