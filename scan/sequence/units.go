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

// Unit is one execution unit's own behaviour sequence. Scoring units apart
// keeps a small payload visible when it ships inside a large library: 30
// malicious lines appended to a 10,000-line package form a unit of their
// own (their file, or the entry that loads them), scored as if alone,
// instead of a few tokens in the library's 512.
type Unit struct {
	Kind string `json:"kind"`
	// Name identifies the unit: "install", the import entry's path, or the
	// file's path ("path#2" for the second window of a long file).
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
//   - one unit per remaining file with events; a file with more events than
//     fit in one sequence is cut into consecutive windows.
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
	for p := range b.seen {
		reached[p] = true
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

	// The rest, one file at a time, riskiest first.
	var rest []*unit
	for _, p := range b.paths {
		if reached[p] {
			continue
		}
		if u := b.unit(p, b.files[p]); u != nil && u.risk > 0 {
			rest = append(rest, u)
		}
	}
	slices.SortStableFunc(rest, func(a, b *unit) int {
		if c := cmp.Compare(b.risk, a.risk); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	for _, u := range rest {
		if len(out) >= maxUnits {
			break
		}
		if len(u.events) <= room {
			add(UnitOther, u.path, []*unit{u})
			continue
		}
		for i, w := 0, 1; i < len(u.events) && len(out) < maxUnits; i, w = i+room, w+1 {
			win := &unit{path: u.path, events: u.events[i:min(i+room, len(u.events))]}
			name := u.path
			if w > 1 {
				name = fmt.Sprintf("%s#%d", u.path, w)
			}
			add(UnitOther, name, []*unit{win})
		}
	}
	if len(out) > maxUnits {
		out = out[:maxUnits]
	}
	return out
}
