package sequence

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Unit kinds: where a unit's code runs.
const (
	UnitInstall = "install" // the install-time chain: hooks and the files they reach
	UnitImport  = "import"  // one import-time entry and the local files it loads
	UnitOther   = "other"   // one file (or a window of a long file) no entry reaches
)

// DefaultMaxUnits caps the units Units returns.
const DefaultMaxUnits = 48

// neighbourhood is how many events on each side of a rarely benign event
// (Risk 10) a neighbourhood unit holds: about what a 30-line payload
// produces, so a payload appended to a long file is scored with little of
// the file around it.
const neighbourhood = 24

// neighbourhoods returns the event ranges [from, to) within neighbourhood
// events of each event with Risk 10, overlapping ranges merged.
func neighbourhoods(evs []Event) [][2]int {
	var out [][2]int
	for i, e := range evs {
		if Risk(e.Token) < 10 {
			continue
		}
		from, to := max(i-neighbourhood, 0), min(i+neighbourhood+1, len(evs))
		if n := len(out); n > 0 && from <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], to)
			continue
		}
		out = append(out, [2]int{from, to})
	}
	return out
}

// Unit is one execution unit's own behaviour sequence. Scoring units apart
// keeps a small payload visible when it ships inside a large library: 30
// malicious lines appended to a 10,000-line package form a unit of their
// own (their file, or the entry that loads them), scored as if alone,
// instead of a few tokens in the library's 512.
type Unit struct {
	Kind string `json:"kind"`
	// Name identifies the unit: "install", the import entry's path, the
	// file's path, or "path:first-last" (lines) for a neighbourhood.
	Name string `json:"name"`
	// Files lists the files whose events the unit holds, in visiting order.
	Files []string `json:"files"`
	// Risk is the summed Risk of the unit's distinct tokens.
	Risk     int      `json:"risk"`
	Sequence Sequence `json:"-"`
}

// Units splits a package into execution units, each with its own sequence
// built like Build's (phase marker, repeats compressed, riskiest events kept
// when over MaxTokens):
//
//   - one install unit: the install entries and every local file they reach;
//   - one unit per import entry: the entry and every local file it reaches
//     (a file shared by two entries is in both);
//   - one unit per file that fits in one sequence (a file of a chain too);
//   - in every longer file, one unit per neighbourhood of rarely benign
//     events (Risk 10): the events around them, so that a payload inside or
//     appended to a long file is scored nearly alone. Its kind is where the
//     file runs.
//
// Units whose tokens carry no Risk at all are left out (nothing in them can
// be malicious on its own), and so are units whose tokens repeat an earlier
// unit's exactly. At most maxUnits are returned (0: DefaultMaxUnits): the
// install unit, then import entries in order, then the rest by Risk.
func Units(pkg Package, files []*FileEvents, opts Options, maxUnits int) []Unit {
	opts = opts.withDefaults()
	if maxUnits <= 0 {
		maxUnits = DefaultMaxUnits
	}
	room := opts.MaxTokens - 1 // the phase marker
	if room < 1 {
		return nil
	}
	var out []Unit
	seenSeq := make(map[string]bool)
	add := func(kind, name string, parts []*unit) {
		u := Unit{Kind: kind, Name: name}
		var evs []Event
		distinct := make(map[string]bool)
		for _, p := range parts {
			u.Files = append(u.Files, p.path)
			evs = append(evs, p.events...)
			for _, e := range p.events {
				if !distinct[e.Token] {
					distinct[e.Token] = true
					u.Risk += Risk(e.Token)
				}
			}
		}
		if u.Risk == 0 {
			return
		}
		evs = compress(pick(evs, room), opts.MaxRepeat)
		mark := map[string]string{UnitInstall: MarkInstall, UnitImport: MarkImport, UnitOther: MarkOther}[kind]
		u.Sequence = Sequence{Events: append([]Event{marker(mark)}, evs...)}
		u.Sequence.Tokens = make([]string, len(u.Sequence.Events))
		for i, e := range u.Sequence.Events {
			u.Sequence.Tokens[i] = e.Token
		}
		key := strings.Join(u.Sequence.Tokens, " ")
		if seenSeq[key] {
			return
		}
		seenSeq[key] = true
		out = append(out, u)
	}

	reached := make(map[string]bool)
	b := newBuilder(files, pkg.PythonRoots, opts.MaxRepeat)
	if install := b.walk(pkg.Install); len(install) > 0 {
		add(UnitInstall, UnitInstall, install)
	}
	inInstall := make(map[string]bool)
	for p := range b.seen {
		reached[p], inInstall[p] = true, true
	}
	for _, entry := range pkg.Import {
		eb := newBuilder(files, pkg.PythonRoots, opts.MaxRepeat)
		parts := eb.walk([]string{entry})
		for p := range eb.seen {
			reached[p] = true
		}
		if len(parts) > 0 {
			add(UnitImport, parts[0].path, parts)
		}
	}

	// Then every file on its own, riskiest first, its kind where it runs;
	// in a file too long to be one unit, the neighbourhood of each rarely
	// benign event instead.
	var rest, long []*unit
	for _, p := range b.paths {
		u := b.unit(p, b.files[p])
		if u == nil || u.risk == 0 {
			continue
		}
		if len(u.events) <= room {
			rest = append(rest, u)
		} else {
			long = append(long, u)
		}
	}
	byRisk := func(a, b *unit) int {
		if c := cmp.Compare(b.risk, a.risk); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	}
	slices.SortStableFunc(rest, byRisk)
	slices.SortStableFunc(long, byRisk)
	kindOf := func(p string) string {
		switch {
		case inInstall[p]:
			return UnitInstall
		case reached[p]:
			return UnitImport
		}
		return UnitOther
	}
	for _, u := range rest {
		add(kindOf(u.path), u.path, []*unit{u})
	}
	for _, u := range long {
		kind := kindOf(u.path)
		for _, w := range neighbourhoods(u.events) {
			win := &unit{path: u.path, events: u.events[w[0]:w[1]]}
			add(kind, fmt.Sprintf("%s:%d-%d", u.path, win.events[0].Line, win.events[len(win.events)-1].Line), []*unit{win})
		}
	}
	if len(out) > maxUnits {
		out = out[:maxUnits]
	}
	return out
}
