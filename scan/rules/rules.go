// Package rules is moat's interim classifier: a transparent layer of
// hand-weighted evidence over a package's behaviour sequence, used until the
// learned model (scan/model) ships, and kept afterwards as a readable
// baseline.
//
// Every rule names a combination of behaviours that is rare in benign
// packages (for example network access plus a read of the whole environment
// at install time, or the evaluation of a decoded string) and carries a
// weight in logits. The score is the logistic function of the bias plus the
// weights of the rules that fire:
//
//	score = 1 / (1 + exp(-(Bias + Σ weight)))
//
// With Bias -4 and Threshold 0.5, a package is flagged once the weights of
// its evidence sum to more than 4: one strong rule, or two medium ones. The
// rules see only the token sequence (phase markers included): install-time
// rules look at the whole install phase, while combinations elsewhere must
// occur close together in the sequence (which is ordered by file), so a big
// library that has every capability somewhere does not add up to a
// stealer. The classifier is a drop-in scan.Classifier and can be compared
// with the model on exactly the same input. Capabilities that benign packages use every day
// (reading a few environment variables for build flags, running node-gyp or
// a compiler at install time, HTTP clients) carry no weight on their own.
package rules

import (
	"context"
	"math"
	"strings"
)

// Version identifies this rule set; bump it whenever a rule or weight
// changes so that cached reports are invalidated.
const Version = "rules/2"

// Bias is the logit of a package with no evidence (score ≈ 0.018).
const Bias = -4.0

// DefaultThreshold is the score at and above which a package is flagged.
const DefaultThreshold = 0.5

// Rule is one piece of weighted evidence.
type Rule struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"` // logits added when the rule fires
	Why    string  `json:"why"`
	match  func(*evidence) bool
}

// Hit is a rule that fired for a sequence.
type Hit struct {
	Rule   string  `json:"rule"`
	Weight float64 `json:"weight"`
	Why    string  `json:"why"`
}

// Classifier scores sequences with the rules. It implements scan.Classifier
// and scan.BatchScorer and is safe for concurrent use.
type Classifier struct {
	rules     []Rule
	threshold float64
}

// New returns the classifier with the built-in rules.
func New() *Classifier {
	return &Classifier{rules: builtin(), threshold: DefaultThreshold}
}

// Version returns Version.
func (c *Classifier) Version() string { return Version }

// Threshold returns DefaultThreshold.
func (c *Classifier) Threshold() float64 { return c.threshold }

// Rules lists the rules with their weights, for documentation and reports.
func (c *Classifier) Rules() []Rule { return append([]Rule(nil), c.rules...) }

// Score returns the probability-like score of tokens in [0, 1].
func (c *Classifier) Score(ctx context.Context, tokens []string) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return c.score(tokens), nil
}

// ScoreBatch scores many sequences (the scanner uses it for occlusion).
func (c *Classifier) ScoreBatch(ctx context.Context, seqs [][]string) ([]float64, error) {
	out := make([]float64, len(seqs))
	for i, s := range seqs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out[i] = c.score(s)
	}
	return out, nil
}

// Explain lists the rules that fire for tokens, in rule order.
func (c *Classifier) Explain(tokens []string) []Hit {
	ev := collect(tokens)
	var hits []Hit
	for _, r := range c.rules {
		if r.match(ev) {
			hits = append(hits, Hit{Rule: r.Name, Weight: r.Weight, Why: r.Why})
		}
	}
	return hits
}

func (c *Classifier) score(tokens []string) float64 {
	logit := Bias
	for _, h := range c.Explain(tokens) {
		logit += h.Weight
	}
	return 1 / (1 + math.Exp(-logit))
}

// Phases of a sequence, as marked by scan/sequence.
const (
	phaseNone = iota // before any marker
	phaseInstall
	phaseImport
	phaseOther
	numPhases
)

// evidence is the set of tokens seen in each phase, and the sequence
// itself for proximity tests.
type evidence struct {
	phase  [numPhases]map[string]bool
	all    map[string]bool
	tokens []string
}

func collect(tokens []string) *evidence {
	ev := &evidence{all: make(map[string]bool), tokens: tokens}
	for i := range ev.phase {
		ev.phase[i] = make(map[string]bool)
	}
	p := phaseNone
	for _, t := range tokens {
		switch t {
		case "[INSTALL]":
			p = phaseInstall
			continue
		case "[IMPORT]":
			p = phaseImport
			continue
		case "[OTHER]":
			p = phaseOther
			continue
		}
		ev.phase[p][t] = true
		ev.all[t] = true
	}
	return ev
}

// any reports whether set holds one of toks; a token ending in ".*" matches
// its prefix.
func anyOf(set map[string]bool, toks ...string) bool {
	for _, t := range toks {
		if prefix, ok := strings.CutSuffix(t, ".*"); ok {
			for s := range set {
				if strings.HasPrefix(s, prefix+".") {
					return true
				}
			}
			continue
		}
		if set[t] {
			return true
		}
	}
	return false
}

// window is how close (in tokens) two behaviours must be for a
// combination rule outside the install phase. The sequence is ordered by
// file, so nearby tokens usually come from the same file; a big library
// collects every capability somewhere, but rarely in one place.
const window = 16

// near reports whether a token of a and a token of b occur within w
// tokens of each other.
func (ev *evidence) near(w int, a, b []string) bool {
	lastA, lastB := -w-1, -w-1
	for i, t := range ev.tokens {
		inA, inB := matches(t, a), matches(t, b)
		if inA {
			lastA = i
		}
		if inB {
			lastB = i
		}
		if (inA && i-lastB <= w) || (inB && i-lastA <= w) {
			return true
		}
	}
	return false
}

func matches(tok string, set []string) bool {
	for _, t := range set {
		if prefix, ok := strings.CutSuffix(t, ".*"); ok {
			if strings.HasPrefix(tok, prefix+".") {
				return true
			}
		} else if tok == t {
			return true
		}
	}
	return false
}

// distinct counts how many of toks occur.
func distinct(set map[string]bool, toks ...string) int {
	n := 0
	for _, t := range toks {
		if set[t] {
			n++
		}
	}
	return n
}

var (
	network      = []string{"net.call", "net.dns"}
	oddEndpoint  = []string{"url.ip", "url.webhook", "url.tunnel", "url.telegram", "url.paste"}
	secrets      = []string{"env.read.all", "env.read.secret", "sensitive.*"}
	stolen       = []string{"sensitive.*"}
	hostInfo     = []string{"env.read.all", "env.read.secret", "sensitive.*", "os.call"}
	stores       = []string{"sensitive.browser", "sensitive.wallet", "sensitive.messenger"}
	obfuscated   = []string{"obfuscation.*"}
	encoded      = []string{"string.base64", "string.hex"}
	execution    = []string{"eval.call", "eval.decoded", "process.call", "import.dynamic"}
	evaluation   = []string{"eval.call", "import.dynamic"}
	decodingExec = []string{"encoding.call", "eval.call", "eval.decoded", "process.call", "net.call", "import.dynamic"}
	setupHooks   = []string{"setup.cmdclass", "setup.install_class"}
	remoteOrExec = []string{"net.call", "net.dns", "eval.call", "eval.decoded", "shell.download_exec"}
)

func builtin() []Rule {
	install := func(ev *evidence) map[string]bool { return ev.phase[phaseInstall] }
	return []Rule{
		{Name: "install-exfiltration", Weight: 6,
			Why: "at install time, reads credentials or the whole environment and talks to the network",
			match: func(ev *evidence) bool {
				return anyOf(install(ev), network...) && anyOf(install(ev), secrets...)
			}},
		{Name: "install-host-probe", Weight: 3,
			Why: "at install time, reads host identity (host or user name) and talks to the network",
			match: func(ev *evidence) bool {
				return anyOf(install(ev), network...) && install(ev)["os.call"]
			}},
		{Name: "install-network", Weight: 2,
			Why:   "talks to the network at install time",
			match: func(ev *evidence) bool { return anyOf(install(ev), network...) }},
		{Name: "setup-hook-remote", Weight: 3,
			Why: "setup.py overrides an install command and connects or evaluates code",
			match: func(ev *evidence) bool {
				return anyOf(install(ev), setupHooks...) && anyOf(install(ev), remoteOrExec...)
			}},
		{Name: "install-node-eval", Weight: 2,
			Why:   "an npm install script evaluates inline JavaScript (node -e)",
			match: func(ev *evidence) bool { return ev.all["install.node_eval"] }},
		{Name: "install-obfuscated", Weight: 4,
			Why:   "code run at install time is minified or obfuscated",
			match: func(ev *evidence) bool { return anyOf(install(ev), obfuscated...) }},
		{Name: "install-shell", Weight: 3.5,
			Why:   "code run at install time runs shell commands (curl, wget, sh -c, powershell...)",
			match: func(ev *evidence) bool { return install(ev)["shell.script"] && install(ev)["process.call"] }},
		{Name: "install-decode-exec", Weight: 4,
			Why: "code run at install time decodes an embedded blob and executes code",
			match: func(ev *evidence) bool {
				return install(ev)["encoding.call"] && anyOf(install(ev), "string.base64", "string.hex", "string.long") &&
					anyOf(install(ev), execution...)
			}},
		{Name: "install-detached", Weight: 2,
			Why:   "starts a detached background process at install time",
			match: func(ev *evidence) bool { return install(ev)["process.detached"] }},
		{Name: "pth-exec", Weight: 1.5,
			Why:   "a .pth file runs code on every Python start",
			match: func(ev *evidence) bool { return ev.all["pth.exec"] }},
		{Name: "pth-payload", Weight: 4,
			Why: "the code run by a .pth file decodes, evaluates, spawns or connects",
			match: func(ev *evidence) bool {
				return ev.all["pth.exec"] && anyOf(install(ev), decodingExec...)
			}},
		{Name: "download-exec", Weight: 5,
			Why: "downloads a file or script and executes it",
			// A command line that a process call starts, or any at install
			// time; a "curl … | sh" help text in a CLI is neither.
			match: func(ev *evidence) bool {
				return ev.all["process.download_exec"] || install(ev)["shell.download_exec"]
			}},
		{Name: "eval-decoded", Weight: 5,
			Why:   "evaluates code produced by decoding or decompressing a string (packed payload)",
			match: func(ev *evidence) bool { return ev.all["eval.decoded"] }},
		{Name: "obfuscated-exec", Weight: 3,
			Why:   "obfuscated code close to code execution",
			match: func(ev *evidence) bool { return ev.near(window, obfuscated, execution) }},
		{Name: "encoded-eval", Weight: 2,
			Why:   "a long encoded string right next to code evaluation",
			match: func(ev *evidence) bool { return ev.near(window/2, encoded, evaluation) }},
		{Name: "exfil-endpoint", Weight: 3.5,
			Why:   "names a webhook, tunnel or Telegram bot endpoint",
			match: func(ev *evidence) bool { return anyOf(ev.all, "url.webhook", "url.tunnel", "url.telegram") }},
		{Name: "endpoint-exfil", Weight: 2,
			Why: "a webhook, tunnel or Telegram endpoint close to host, environment or credential reads",
			match: func(ev *evidence) bool {
				return ev.near(window, []string{"url.webhook", "url.tunnel", "url.telegram"}, hostInfo)
			}},
		{Name: "paste-endpoint", Weight: 2,
			Why:   "names a paste or file-sharing site",
			match: func(ev *evidence) bool { return ev.all["url.paste"] }},
		{Name: "secrets-to-odd-endpoint", Weight: 3,
			Why:   "names credential files or stores close to a raw IP, webhook, tunnel or paste endpoint",
			match: func(ev *evidence) bool { return ev.near(window, stolen, oddEndpoint) }},
		{Name: "secret-stores", Weight: 3,
			Why:   "names credential stores of more than one kind (browser, wallet, messenger)",
			match: func(ev *evidence) bool { return distinct(ev.all, stores...) >= 2 }},
		{Name: "secret-stores-network", Weight: 2,
			Why:   "reads browser, wallet or messenger credential stores close to network calls",
			match: func(ev *evidence) bool { return ev.near(window, stores, network) }},
		{Name: "raw-ip-network", Weight: 2,
			Why:   "talks to a raw IP address",
			match: func(ev *evidence) bool { return ev.near(window/2, []string{"url.ip"}, network) }},
		{Name: "persistence", Weight: 2,
			Why:   "installs itself to run again (cron, systemd, shell profile, Run keys, LaunchAgents)",
			match: func(ev *evidence) bool { return ev.all["persistence"] }},
		{Name: "spying", Weight: 2,
			Why:   "reads the clipboard, screen or keyboard",
			match: func(ev *evidence) bool { return ev.all["spy.call"] }},
	}
}
