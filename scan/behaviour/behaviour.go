// Package behaviour owns moat's behaviour rules: a few combinations of
// behaviours, each judged within one file (one module: a source and a sink
// in the same file form a flow) and by where the file runs (install time,
// import time, other), that benign packages do not show. A rule that fires
// decides the verdict whatever the model scores: the model weighs a whole
// package's behaviour, and a 30-line stealer inside a large library, a worm
// that looks like a release script or a wallet drainer with no install hook
// are rare shapes it has seen too few of to learn.
//
// Every rule here is kept only while it is measured to add recall at no
// false-positive cost on the benign corpora (bench/detection.sh; the model
// card lists the figures). The package sees only events, never source: it
// is pure Go and builds without cgo.
package behaviour

import (
	"slices"

	"github.com/moatproject/moat/scan/sequence"
)

// Version identifies the rule set; it is part of the scanner version, so
// changing a rule invalidates cached reports.
const Version = "behaviour/5"

// Where a file runs, strongest first.
const (
	Install = "install"
	Import  = "import"
	Other   = "other"
)

// File is one file's events and where it runs.
type File struct {
	Path   string
	Kind   string // Install, Import or Other
	Events []sequence.Event
}

// Hit is a rule that fired, with the events that made it fire (at most a
// few, in file order).
type Hit struct {
	Rule     string           `json:"rule"`
	Why      string           `json:"why"`
	File     string           `json:"file"`
	Kind     string           `json:"kind"`
	Evidence []sequence.Event `json:"evidence"`
}

// Rule is one behaviour rule.
type Rule struct {
	Name string
	Why  string
	// Kinds lists where the rule applies; empty: everywhere.
	Kinds []string
	// All lists token groups that must all be present in one file; each
	// group is satisfied by any one of its tokens.
	All [][]string
	// Span, when set, requires all groups within that many consecutive
	// events of the file (events are in execution order, so this is a few
	// statements of one code path even in a minified bundle), and within
	// spanLines source lines of the window's first event: in a large
	// bundle, 24 consecutive events can be spread over thousands of lines
	// of unrelated modules.
	Span int
}

// spanLines bounds how far apart, in source lines, the events of a Span
// rule may be: about one function of a payload. A minified file keeps its
// code on few lines, where Span alone decides.
const spanLines = 60

// Token groups the rules are written in.
var (
	// strongSecret: reads that have no business in an install script unless
	// it steals: credential files, browser, wallet and messenger stores.
	// (A copy of the whole environment is not one: installers pass it to
	// the processes they spawn.)
	strongSecret = []string{"sensitive.path", "sensitive.browser", "sensitive.wallet", "sensitive.messenger"}
	// secret: any credential read, including a single token-like variable
	// or the whole environment.
	secret = append([]string{"env.read.secret", "env.read.all"}, strongSecret...)
	// send: data leaves the machine.
	send = []string{"net.call", "net.dns"}
	// collector: hosts that collect stolen data or hide their owner.
	// (raw IPs only at install time: dev servers and their bundles name
	// loopback and private addresses).
	collector        = []string{"url.webhook", "url.paste", "url.tunnel", "url.telegram"}
	installCollector = append([]string{"url.ip"}, collector...)
	evals            = []string{"eval.call", "eval.decoded"}
)

// span is the window of the rules that judge code anywhere: about what a
// 30-line payload produces. A large bundle holds every capability
// somewhere; a payload holds them within a few statements.
const span = 24

// Rules is the rule set, in the order hits are reported.
var Rules = []Rule{
	{
		Name:  "install.exfiltration",
		Why:   "install-time code reads credential files or browser, wallet or messenger stores and sends data over the network",
		Kinds: []string{Install},
		All:   [][]string{strongSecret, send},
	},
	{
		Name:  "install.secret_to_collector",
		Why:   "install-time code reads a credential and sends it to a webhook, paste, tunnel, Telegram or raw-IP host",
		Kinds: []string{Install},
		All:   [][]string{secret, send, installCollector},
	},
	{
		Name:  "install.self_publish",
		Why:   "install-time code reads credentials and publishes packages (a worm spreading itself)",
		Kinds: []string{Install},
		// Publishing alone is a release helper (setup.py's classic
		// "publish" command runs twine upload); a worm takes the tokens too.
		All: [][]string{secret, {"publish.self"}},
	},
	{
		Name:  "install.runs_binary",
		Why:   "an install script runs a file of the package that is not JavaScript, Python or shell source, so it cannot be analysed",
		Kinds: []string{Install},
		All:   [][]string{{"install.binary"}},
	},
	{
		Name: "secret_to_collector",
		Why:  "code reads credentials and sends them to a webhook, paste, tunnel or Telegram host",
		All:  [][]string{secret, send, collector},
		Span: span,
	},
	{
		Name: "wallet_drainer",
		Why:  "code overrides the page's network or wallet APIs and carries crypto-wallet addresses",
		All:  [][]string{{"browser.hook"}, {"wallet.address"}},
		Span: span,
	},
	{
		Name: "credential_harvest",
		Why:  "code that runs at import time reads credential files and credential variables, collects host identity and sends data over the network",
		// Each part alone is an ordinary library (a config loader reads
		// .npmrc and NPM_TOKEN, a telemetry client sends the host name);
		// all four within a few statements are a stealer's inventory.
		Kinds: []string{Import},
		All:   [][]string{strongSecret, {"env.read.secret", "env.read.all"}, {"os.call"}, send},
		Span:  span,
	},
	{
		Name: "decoded_exec",
		Why:  "code that runs at install or import time decodes a hidden string (base64, hex, character codes, a string array) and runs it as code",
		// eval.payload: the argument of eval/Function/vm/exec folds, through
		// decoding, to a constant that reads as code. (eval.decoded, which
		// the model sees, also marks any decoding call inside the argument:
		// protractor's new Function(helpers + String.fromCharCode(59) + …),
		// IPython's completer; too loose to decide alone.)
		Kinds: []string{Install, Import},
		All:   [][]string{{"eval.payload"}},
	},
	{
		Name:  "download_exec",
		Why:   "code that runs at install or import time starts a command line that downloads a script or program and runs it",
		Kinds: []string{Install, Import},
		// process.download_exec is the command line of a process call (or an
		// executed lifecycle script line), not a help text that tells the
		// user to run "curl ... | sh".
		All: [][]string{{"process.download_exec"}},
	},
	{
		Name: "hidden_payload",
		Why:  "code reads a non-code file (image, font, data) and evaluates code",
		All:  [][]string{{"fs.read.nonsource"}, evals},
		Span: span,
	},
}

// Evaluate runs the rules over each file and returns the hits, at most one
// per rule and file, rules in order, files in the order given.
func Evaluate(files []File) []Hit {
	var hits []Hit
	for _, r := range Rules {
		for _, f := range files {
			if len(r.Kinds) > 0 && !slices.Contains(r.Kinds, f.Kind) {
				continue
			}
			if ev, ok := r.match(f.Events); ok {
				hits = append(hits, Hit{Rule: r.Name, Why: r.Why, File: f.Path, Kind: f.Kind, Evidence: ev})
			}
		}
	}
	return hits
}

// match reports whether every group has a token among evs (within Span
// consecutive events when Span is set), with the first matching event of
// each group as evidence (in file order).
func (r Rule) match(evs []sequence.Event) ([]sequence.Event, bool) {
	if r.Span <= 0 {
		return r.matchAll(evs)
	}
	// A shortest window holding every group starts at a matching event.
	var near []sequence.Event
	for i := range evs {
		if !r.anyGroup(evs[i].Token) {
			continue
		}
		near = near[:0]
		for _, e := range evs[i:min(i+r.Span, len(evs))] {
			if e.File == evs[i].File && abs(e.Line-evs[i].Line) <= spanLines {
				near = append(near, e)
			}
		}
		if ev, ok := r.matchAll(near); ok {
			return ev, true
		}
	}
	return nil, false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (r Rule) anyGroup(tok string) bool {
	for _, g := range r.All {
		if slices.Contains(g, tok) {
			return true
		}
	}
	return false
}

func (r Rule) matchAll(evs []sequence.Event) ([]sequence.Event, bool) {
	var ev []sequence.Event
	for _, g := range r.All {
		i := slices.IndexFunc(evs, func(e sequence.Event) bool { return slices.Contains(g, e.Token) })
		if i < 0 {
			return nil, false
		}
		if !slices.Contains(ev, evs[i]) {
			ev = append(ev, evs[i])
		}
	}
	slices.SortStableFunc(ev, func(a, b sequence.Event) int { return a.Line - b.Line })
	return ev, true
}
