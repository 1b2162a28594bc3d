package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/moatproject/moat/internal/audit"
	"github.com/moatproject/moat/internal/feed"
	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

// DecisionList is the body of GET /api/v1/decisions.
type DecisionList struct {
	Decisions []audit.Entry `json:"decisions"`
}

// PackageView is the body of GET /api/v1/packages/{ecosystem}/{name}.
type PackageView struct {
	Ecosystem scan.Ecosystem `json:"ecosystem"`
	Name      string         `json:"name"`
	Version   string         `json:"version,omitempty"`
	// Reports are the stored scan reports of the package's artifacts,
	// newest first.
	Reports []*scan.Report `json:"reports"`
	// Decisions are the package's recent audited decisions, newest first.
	Decisions []audit.Entry `json:"decisions"`
	// Overrides are the admin rules that name this package (exactly or by
	// glob).
	Overrides []policy.Rule `json:"overrides"`
}

// OverrideRequest is the body of POST /api/v1/overrides.
type OverrideRequest struct {
	Action    string         `json:"action"` // allow or deny
	Ecosystem scan.Ecosystem `json:"ecosystem"`
	Package   string         `json:"package"`
	Version   string         `json:"version,omitempty"`
	Range     string         `json:"range,omitempty"`
	Reason    string         `json:"reason,omitempty"`
}

// OverrideList is the body of GET /api/v1/overrides.
type OverrideList struct {
	Overrides []policy.Rule `json:"overrides"`
}

// Stats is the body of GET /api/v1/stats.
type Stats struct {
	Version    string             `json:"version"`
	PolicyMode string             `json:"policy_mode"`
	Store      store.Stats        `json:"store"`
	Decisions  DecisionStats      `json:"decisions"`
	Feeds      []store.FeedSource `json:"feeds"`
}

// DecisionStats counts the decisions in the audit tail.
type DecisionStats struct {
	// Window is how many entries were read (at most the newest 10000).
	Window      int            `json:"window"`
	Since       time.Time      `json:"since,omitzero"` // time of the oldest entry read
	ByAction    map[string]int `json:"by_action"`
	ByLayer     map[string]int `json:"by_layer"`
	ByEcosystem map[string]int `json:"by_ecosystem"`
}

// FeedList is the body of GET /api/v1/feeds.
type FeedList struct {
	Sources []store.FeedSource `json:"sources"`
}

// FeedResult is the body answering POST /api/v1/feeds/{source}.
type FeedResult struct {
	Source  string `json:"source"`
	Records int    `json:"records"`
}

func (a *Admin) listDecisions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := decisionFilter(q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ds, err := a.o.Audit.Recent(r.Context(), limit, f)
	if err != nil {
		a.fail(w, r, fmt.Errorf("read audit log: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, DecisionList{Decisions: nonNil(ds)})
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return defaultListLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, badRequest("limit %q: want a positive integer", s)
	}
	return min(n, maxListLimit), nil
}

func decisionFilter(q map[string][]string) (audit.Filter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	f := audit.Filter{Action: strings.ToLower(get("action")), Layer: get("layer")}
	switch f.Action {
	case "", "allow", "block", "warn":
	case "deny":
		f.Action = "block"
	default:
		return f, badRequest("action %q: want allow, block or warn", f.Action)
	}
	eco, name := get("ecosystem"), get("name")
	if eco != "" {
		e, err := parseEcosystem(eco)
		if err != nil {
			return f, err
		}
		f.Ecosystem = string(e)
		if name != "" {
			name = policy.NormalizeName(e, name)
		}
	}
	f.Name = name
	return f, nil
}

func parseEcosystem(s string) (scan.Ecosystem, error) {
	switch e := scan.Ecosystem(strings.ToLower(s)); e {
	case scan.NPM, scan.PyPI:
		return e, nil
	}
	return "", badRequest("ecosystem %q: want npm or pypi", s)
}

// parseSHA256 checks a hex digest from a path.
func parseSHA256(s string) (string, error) {
	s = strings.ToLower(s)
	if len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
		return "", badRequest("%q is not a sha256 hex digest", s)
	}
	return s, nil
}

func (a *Admin) getReport(w http.ResponseWriter, r *http.Request) {
	sha, err := parseSHA256(r.PathValue("sha256"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rep, err := a.newestReport(r, sha)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *Admin) newestReport(r *http.Request, sha string) (*scan.Report, error) {
	reps, err := a.o.Store.ReportsBySHA(r.Context(), sha)
	if err != nil {
		return nil, err
	}
	if len(reps) == 0 || reps[0] == nil {
		return nil, fmt.Errorf("no report for %s: %w", sha, store.ErrNotFound)
	}
	return reps[0], nil
}

func (a *Admin) getPackage(w http.ResponseWriter, r *http.Request) {
	eco, err := parseEcosystem(r.PathValue("ecosystem"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	raw := strings.Trim(r.PathValue("name"), "/")
	if raw == "" {
		a.fail(w, r, badRequest("package name is empty"))
		return
	}
	name := policy.NormalizeName(eco, raw)
	version := strings.TrimSpace(r.URL.Query().Get("version"))
	view := PackageView{Ecosystem: eco, Name: name, Version: version}

	ctx := r.Context()
	view.Reports, err = a.o.Store.FindReports(ctx, eco, name, version)
	if err == nil && len(view.Reports) == 0 && raw != name {
		view.Reports, err = a.o.Store.FindReports(ctx, eco, raw, version)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	n := limit
	if version != "" {
		n = maxListLimit // the audit filter has no version: filter here
	}
	ds, err := a.o.Audit.Recent(ctx, n, audit.Filter{Ecosystem: string(eco), Name: name})
	if err != nil {
		a.fail(w, r, fmt.Errorf("read audit log: %w", err))
		return
	}
	for _, d := range ds {
		if version == "" || d.Version == version {
			view.Decisions = append(view.Decisions, d)
			if len(view.Decisions) == limit {
				break
			}
		}
	}
	rules, err := a.o.Store.ListOverrides(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for _, rule := range rules {
		if rule.Ecosystem != eco {
			continue
		}
		pat := policy.NormalizeName(eco, rule.Package)
		if ok, _ := path.Match(pat, name); ok || pat == name {
			view.Overrides = append(view.Overrides, rule)
		}
	}
	view.Reports, view.Decisions, view.Overrides = nonNil(view.Reports), nonNil(view.Decisions), nonNil(view.Overrides)
	writeJSON(w, http.StatusOK, view)
}

func (a *Admin) listOverrides(w http.ResponseWriter, r *http.Request) {
	rules, err := a.o.Store.ListOverrides(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OverrideList{Overrides: nonNil(rules)})
}

func (a *Admin) getOverride(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rules, err := a.o.Store.ListOverrides(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for _, rule := range rules {
		if rule.ID == id {
			writeJSON(w, http.StatusOK, rule)
			return
		}
	}
	a.fail(w, r, fmt.Errorf("override %q: %w", id, store.ErrNotFound))
}

// DecodeOverride reads an OverrideRequest from untrusted JSON (unknown
// fields are errors) and turns it into the policy rule it asks for. The
// rule is checked as a whole when it is stored.
func DecodeOverride(body io.Reader) (policy.Rule, error) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req OverrideRequest
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return policy.Rule{}, err
		}
		return policy.Rule{}, badRequest("override body: %v", err)
	}
	if dec.More() {
		return policy.Rule{}, badRequest("override body: trailing data after the JSON object")
	}
	var act policy.Action
	switch strings.ToLower(strings.TrimSpace(req.Action)) {
	case "allow":
		act = policy.ActionAllow
	case "deny", "block":
		act = policy.ActionBlock
	default:
		return policy.Rule{}, badRequest("action %q: want allow or deny", req.Action)
	}
	eco, err := parseEcosystem(string(req.Ecosystem))
	if err != nil {
		return policy.Rule{}, err
	}
	rule := policy.Rule{
		Action: act, Ecosystem: eco,
		Package: strings.TrimSpace(req.Package),
		Version: strings.TrimSpace(req.Version),
		Range:   strings.TrimSpace(req.Range),
		Reason:  strings.TrimSpace(req.Reason),
	}
	if err := rule.Validate(); err != nil {
		return policy.Rule{}, badRequest("%v", err)
	}
	return rule, nil
}

func (a *Admin) putOverride(w http.ResponseWriter, r *http.Request) {
	rule, err := DecodeOverride(http.MaxBytesReader(w, r.Body, maxOverrideBytes))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	stored, err := a.o.Store.PutOverride(r.Context(), rule)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.o.Logger.Info("admin: override stored", "id", stored.ID, "rule", stored.String(),
		"reason", stored.Reason, "client", r.RemoteAddr)
	w.Header().Set("Location", "/api/v1/overrides/"+stored.ID)
	writeJSON(w, http.StatusCreated, stored)
}

// Deleted answers DELETE /api/v1/overrides/{id}.
type Deleted struct {
	Deleted string `json:"deleted"`
}

func (a *Admin) deleteOverride(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.o.Store.DeleteOverride(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	a.o.Logger.Info("admin: override removed", "id", id, "client", r.RemoteAddr)
	writeJSON(w, http.StatusOK, Deleted{Deleted: id})
}

func (a *Admin) getStats(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, err := a.o.Store.Stats(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ds, err := a.o.Audit.Recent(ctx, statsWindow, audit.Filter{})
	if err != nil {
		a.fail(w, r, fmt.Errorf("read audit log: %w", err))
		return
	}
	feeds, err := a.o.Store.FeedSources(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Stats{
		Version: a.o.Version, PolicyMode: a.o.PolicyMode, Store: st,
		Decisions: countDecisions(ds), Feeds: nonNil(feeds),
	})
}

func countDecisions(ds []audit.Entry) DecisionStats {
	s := DecisionStats{Window: len(ds), ByAction: map[string]int{}, ByLayer: map[string]int{}, ByEcosystem: map[string]int{}}
	for _, d := range ds {
		s.ByAction[d.Action]++
		if d.Layer != "" {
			s.ByLayer[d.Layer]++
		}
		if d.Ecosystem != "" {
			s.ByEcosystem[d.Ecosystem]++
		}
	}
	if len(ds) > 0 {
		s.Since = ds[len(ds)-1].Time
	}
	return s
}

func (a *Admin) listFeeds(w http.ResponseWriter, r *http.Request) {
	src, err := a.o.Store.FeedSources(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, FeedList{Sources: nonNil(src)})
}

var sourceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidSourceName reports whether s can name a feed source: 1 to 64
// letters, digits, '.', '_' or '-', starting with a letter or digit.
func ValidSourceName(s string) bool { return sourceName.MatchString(s) }

// DecodeFeed reads a JSON array of feed records from untrusted input and
// checks each (an id, ecosystem npm or pypi, a name), normalising names to
// the canonical form the feed contract asks for.
func DecodeFeed(body io.Reader) ([]feed.Record, error) {
	dec := json.NewDecoder(body)
	var recs []feed.Record
	if err := dec.Decode(&recs); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, badRequest("feed body: want a JSON array of records: %v", err)
	}
	if dec.More() {
		return nil, badRequest("feed body: trailing data after the JSON array")
	}
	for i := range recs {
		rec := &recs[i]
		if strings.TrimSpace(rec.ID) == "" {
			return nil, badRequest("record %d: id is empty", i)
		}
		eco, err := parseEcosystem(string(rec.Ecosystem))
		if err != nil {
			return nil, badRequest("record %d (%s): %v", i, rec.ID, strings.TrimPrefix(err.Error(), errBadRequest.Error()+": "))
		}
		rec.Ecosystem = eco
		rec.Name = policy.NormalizeName(eco, rec.Name)
		if rec.Name == "" {
			return nil, badRequest("record %d (%s): name is empty", i, rec.ID)
		}
	}
	return nonNil(recs), nil
}

func (a *Admin) putFeed(w http.ResponseWriter, r *http.Request) {
	source := r.PathValue("source")
	if !ValidSourceName(source) {
		a.fail(w, r, badRequest("feed source %q: want 1-64 letters, digits, '.', '_' or '-'", source))
		return
	}
	recs, err := DecodeFeed(http.MaxBytesReader(w, r.Body, a.o.MaxFeedBytes))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.o.Store.PutFeedRecords(r.Context(), source, recs); err != nil {
		a.fail(w, r, err)
		return
	}
	a.o.Logger.Info("admin: feed source replaced", "source", source, "records", len(recs), "client", r.RemoteAddr)
	writeJSON(w, http.StatusOK, FeedResult{Source: source, Records: len(recs)})
}

// nonNil turns a nil slice into an empty one, so JSON shows [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
