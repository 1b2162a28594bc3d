package admin

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moatproject/moat/internal/audit"
	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
	"github.com/moatproject/moat/scan/sequence"
)

// Status page sizes.
const (
	chartHours     = 24
	recentBlocks   = 20
	reportDecision = 20
)

var templateFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"pct":   func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"score": func(f float64) string { return fmt.Sprintf("%.3f", f) },
	"bytes": humanBytes,
	"join":  func(s []string) string { return strings.Join(s, "; ") },
	"ms":    humanMS,
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"pkg": func(name, version string) string {
		if version == "" {
			return name
		}
		return name + "@" + version
	},
	"ruleTarget": func(r policy.Rule) string {
		switch {
		case r.Version != "":
			return r.Package + "@" + r.Version
		case r.Range != "":
			return r.Package + " " + r.Range
		}
		return r.Package
	},
	"ruleAction": func(r policy.Rule) string {
		if r.Action == policy.ActionBlock {
			return "deny"
		}
		return r.Action.String()
	},
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func humanMS(ms int64) string {
	if ms < 1000 {
		return fmt.Sprintf("%d ms", ms)
	}
	return strconv.FormatFloat(math.Round(float64(ms)/100)/10, 'f', -1, 64) + " s"
}

// render executes a page template into a buffer first, so a template error
// becomes a clean 500 rather than half a page.
func (a *Admin) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	var buf bytes.Buffer
	if err := a.pages.ExecuteTemplate(&buf, name, data); err != nil {
		a.o.Logger.Error("admin: render page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "moat: could not render this page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

type statusData struct {
	Base       string // how this client reaches moat, for the setup hints
	Version    string
	PolicyMode string
	Now        time.Time
	Window     time.Duration
	Counts     map[string]int // allow, warn, block over the window
	Total      int
	Store      store.Stats
	StoreErr   string
	Blocks     []audit.Entry
	Decisions  barChart
	Latency    barChart
	LatencyP50 int64
	LatencyP95 int64
	Overrides  []policy.Rule
	Feeds      []store.FeedSource
}

func (a *Admin) statusPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := a.o.Now().UTC()
	d := statusData{Base: requestBase(r), Version: a.o.Version, PolicyMode: a.o.PolicyMode, Now: now, Window: chartHours * time.Hour}
	if d.PolicyMode == "" {
		d.PolicyMode = string(policy.ModeEnforce)
	}
	since := now.Truncate(time.Hour).Add(-(chartHours - 1) * time.Hour)
	tail, err := a.o.Audit.Recent(ctx, statsWindow, audit.Filter{Since: since})
	if err != nil {
		a.pageError(w, r, fmt.Errorf("read audit log: %w", err))
		return
	}
	d.Blocks, err = a.o.Audit.Recent(ctx, recentBlocks, audit.Filter{Action: policy.ActionBlock.String()})
	if err != nil {
		a.pageError(w, r, fmt.Errorf("read audit log: %w", err))
		return
	}
	d.Counts = map[string]int{}
	for _, e := range tail {
		d.Counts[e.Action]++
	}
	d.Total = len(tail)
	d.Decisions = decisionChart(tail, since, chartHours)
	d.Latency, d.LatencyP50, d.LatencyP95 = latencyChart(tail)
	// The store figures are a nicety: the page still shows decisions when
	// they fail.
	if d.Store, err = a.o.Store.Stats(ctx); err != nil {
		d.StoreErr = err.Error()
	}
	if d.Overrides, err = a.o.Store.ListOverrides(ctx); err != nil {
		a.pageError(w, r, err)
		return
	}
	if d.Feeds, err = a.o.Store.FeedSources(ctx); err != nil {
		a.pageError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "status.html", d)
}

// requestBase is the URL the request reached moat on.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type reportData struct {
	Version    string
	SHA256     string
	Report     *scan.Report
	Missing    bool
	Flagged    bool
	ScoreBar   scoreBar
	Phases     []phase
	Decisions  []audit.Entry
	OlderCount int
}

// phase is one run of the sequence between phase markers.
type phase struct {
	Marker string // "install", "import", "other" or "" before any marker
	Tokens []token
}

type token struct {
	Token string
	Where string // file:line
	Snip  string
	Risk  string // high, medium, low, none
}

// scoreBar draws the score against the threshold on a 0..1 scale.
type scoreBar struct {
	Width, Score, Threshold float64 // pixel positions
	Flagged                 bool
}

func (a *Admin) reportPage(w http.ResponseWriter, r *http.Request) {
	sha, err := parseSHA256(r.PathValue("sha256"))
	if err != nil {
		a.render(w, r, http.StatusBadRequest, "report.html", reportData{Version: a.o.Version, Missing: true, SHA256: r.PathValue("sha256")})
		return
	}
	d := reportData{Version: a.o.Version, SHA256: sha}
	reps, err := a.o.Store.ReportsBySHA(r.Context(), sha)
	if err != nil {
		a.pageError(w, r, err)
		return
	}
	if len(reps) == 0 || reps[0] == nil {
		d.Missing = true
		a.render(w, r, http.StatusNotFound, "report.html", d)
		return
	}
	rep := reps[0]
	d.Report, d.OlderCount, d.Flagged = rep, len(reps)-1, rep.Flagged()
	const barW = 320.0
	d.ScoreBar = scoreBar{Width: barW, Score: clamp01(rep.Score) * barW, Threshold: clamp01(rep.Threshold) * barW, Flagged: rep.Flagged()}
	d.Phases = phases(rep)
	if rep.Name != "" {
		ds, err := a.o.Audit.Recent(r.Context(), maxListLimit, audit.Filter{Ecosystem: string(rep.Ecosystem), Name: rep.Name})
		if err != nil {
			a.pageError(w, r, fmt.Errorf("read audit log: %w", err))
			return
		}
		for _, e := range ds {
			if e.SHA256 == sha {
				d.Decisions = append(d.Decisions, e)
				if len(d.Decisions) == reportDecision {
					break
				}
			}
		}
	}
	a.render(w, r, http.StatusOK, "report.html", d)
}

func (a *Admin) pageError(w http.ResponseWriter, r *http.Request, err error) {
	code := statusFor(err)
	if code >= 500 {
		a.o.Logger.Error("admin: page failed", "path", r.URL.Path, "err", err)
	}
	if errors.Is(err, errBadRequest) {
		err = errors.New(strings.TrimPrefix(err.Error(), errBadRequest.Error()+": "))
	}
	a.render(w, r, code, "error.html", struct {
		Version string
		Code    int
		Message string
	}{a.o.Version, code, err.Error()})
}

func clamp01(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return math.Max(0, math.Min(1, f))
}

// phases splits the report's sequence at its phase markers, with the
// location of each token when the report carries its events.
func phases(rep *scan.Report) []phase {
	var out []phase
	cur := phase{}
	flush := func() {
		if len(cur.Tokens) > 0 || cur.Marker != "" {
			out = append(out, cur)
		}
	}
	withEvents := len(rep.Events) == len(rep.Sequence)
	for i, tok := range rep.Sequence {
		switch tok {
		case sequence.MarkInstall, sequence.MarkImport, sequence.MarkOther:
			flush()
			cur = phase{Marker: strings.ToLower(strings.Trim(tok, "[]"))}
			continue
		}
		t := token{Token: tok, Risk: riskClass(sequence.Risk(tok))}
		if withEvents {
			ev := rep.Events[i]
			if ev.File != "" {
				t.Where = ev.File
				if ev.Line > 0 {
					t.Where = fmt.Sprintf("%s:%d", ev.File, ev.Line)
				}
			}
			t.Snip = ev.Snippet
		}
		cur.Tokens = append(cur.Tokens, t)
	}
	flush()
	return out
}

func riskClass(r int) string {
	switch {
	case r >= 10:
		return "high"
	case r >= 3:
		return "medium"
	case r >= 1:
		return "low"
	}
	return "none"
}

// barChart is a small inline SVG bar chart, laid out here so the template
// only prints numbers.
type barChart struct {
	Width, Height float64
	AxisY         float64 // the baseline of the bars
	Bars          []bar
	Labels        []label
	Max           int
	Empty         bool
}

type bar struct {
	Title    string
	Segments []segment
}

type segment struct {
	X, Y, W, H float64
	Class      string
}

type label struct {
	X, Y   float64
	Text   string
	Anchor string
}

const (
	chartW      = 720.0
	chartH      = 150.0
	chartTop    = 10.0
	chartBottom = 20.0 // room for x labels
	chartLeft   = 34.0 // room for the y max label
)

// decisionChart stacks allow/warn/block counts per hour from start.
func decisionChart(es []audit.Entry, start time.Time, hours int) barChart {
	type count struct{ allow, warn, block int }
	counts := make([]count, hours)
	for _, e := range es {
		i := int(e.Time.Sub(start) / time.Hour)
		if i < 0 || i >= hours {
			continue
		}
		switch e.Action {
		case "allow":
			counts[i].allow++
		case "warn":
			counts[i].warn++
		case "block":
			counts[i].block++
		}
	}
	c := barChart{Width: chartW, Height: chartH, AxisY: chartH - chartBottom, Max: 1, Empty: len(es) == 0}
	for _, n := range counts {
		c.Max = max(c.Max, n.allow+n.warn+n.block)
	}
	plotH := chartH - chartTop - chartBottom
	slot := (chartW - chartLeft) / float64(hours)
	for i, n := range counts {
		x := chartLeft + float64(i)*slot + 1
		y := chartTop + plotH
		b := bar{Title: fmt.Sprintf("%s: %d allowed, %d warned, %d blocked",
			start.Add(time.Duration(i)*time.Hour).Format("15:04Z"), n.allow, n.warn, n.block)}
		for _, s := range []struct {
			n     int
			class string
		}{{n.allow, "allow"}, {n.warn, "warn"}, {n.block, "block"}} {
			if s.n == 0 {
				continue
			}
			h := plotH * float64(s.n) / float64(c.Max)
			y -= h
			b.Segments = append(b.Segments, segment{X: x, Y: y, W: slot - 2, H: h, Class: s.class})
		}
		// An empty hour still gets a hairline so the axis reads as time.
		if len(b.Segments) == 0 {
			b.Segments = append(b.Segments, segment{X: x, Y: chartTop + plotH - 1, W: slot - 2, H: 1, Class: "none"})
		}
		c.Bars = append(c.Bars, b)
		if i%3 == 0 {
			c.Labels = append(c.Labels, label{X: x + (slot-2)/2, Y: chartH - 5, Anchor: "middle",
				Text: start.Add(time.Duration(i) * time.Hour).Format("15h")})
		}
	}
	c.Labels = append(c.Labels,
		label{X: chartLeft - 4, Y: chartTop + 8, Anchor: "end", Text: fmt.Sprint(c.Max)},
		label{X: chartLeft - 4, Y: chartTop + plotH, Anchor: "end", Text: "0"})
	return c
}

// latencyBounds are the upper bounds (ms, exclusive) of the latency
// histogram's buckets; the last bucket is open.
var latencyBounds = []int64{10, 50, 100, 250, 500, 1000, 2500, 5000}

// latencyChart is a histogram of decision latency (fetch, scan and
// decision, from the audit log), with its median and 95th percentile.
func latencyChart(es []audit.Entry) (barChart, int64, int64) {
	counts := make([]int, len(latencyBounds)+1)
	durs := make([]int64, 0, len(es))
	for _, e := range es {
		durs = append(durs, e.DurationMS)
		i, _ := slices.BinarySearch(latencyBounds, e.DurationMS+1)
		counts[i]++
	}
	c := barChart{Width: chartW, Height: chartH, AxisY: chartH - chartBottom, Max: 1, Empty: len(es) == 0}
	for _, n := range counts {
		c.Max = max(c.Max, n)
	}
	plotH := chartH - chartTop - chartBottom
	slot := (chartW - chartLeft) / float64(len(counts))
	for i, n := range counts {
		name := "≥" + humanMS(latencyBounds[len(latencyBounds)-1])
		if i < len(latencyBounds) {
			name = "<" + humanMS(latencyBounds[i])
		}
		x := chartLeft + float64(i)*slot + 2
		h := plotH * float64(n) / float64(c.Max)
		cls := "latency"
		if n == 0 {
			h, cls = 1, "none"
		}
		c.Bars = append(c.Bars, bar{Title: fmt.Sprintf("%s: %d decisions", name, n),
			Segments: []segment{{X: x, Y: chartTop + plotH - h, W: slot - 4, H: h, Class: cls}}})
		c.Labels = append(c.Labels, label{X: x + (slot-4)/2, Y: chartH - 5, Anchor: "middle", Text: name})
	}
	c.Labels = append(c.Labels,
		label{X: chartLeft - 4, Y: chartTop + 8, Anchor: "end", Text: fmt.Sprint(c.Max)},
		label{X: chartLeft - 4, Y: chartTop + plotH, Anchor: "end", Text: "0"})
	slices.Sort(durs)
	return c, percentile(durs, 0.50), percentile(durs, 0.95)
}

// percentile of sorted values (nearest rank); 0 when empty.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
