package sequence

import (
	"fmt"
	"strings"
	"testing"
)

func TestUnits(t *testing.T) {
	pkg := Package{
		Install: []string{"package.json#scripts.postinstall"},
		Import:  []string{"./index", "cli.js"},
	}
	files := []*FileEvents{
		fe("package.json#scripts.postinstall", "install.script", "./setup.js"),
		fe("setup.js", "env.read.all net.call"),
		fe("index.js", "net.import net.call", "./lib/util"),
		fe("cli.js", "process.call", "./lib/util"),
		fe("lib/util.js", "os.call"),
		fe("lib/payload.js", "eval.decoded net.call"),
		fe("lib/plain.js", "fs.import net.import"), // no risk: not a unit
		fe("lib/same.js", "eval.decoded net.call"), // same tokens as payload.js: deduplicated
	}
	got := Units(pkg, files, Options{}, 0)
	var b []string
	for _, u := range got {
		b = append(b, fmt.Sprintf("%s:%s[%s]=%s", u.Kind, u.Name, strings.Join(u.Files, ","), strings.Join(u.Sequence.Tokens, " ")))
	}
	want := []string{
		"install:install[package.json#scripts.postinstall,setup.js]=[INSTALL] install.script env.read.all net.call",
		"import:index.js[index.js,lib/util.js]=[IMPORT] net.import net.call os.call",
		"import:cli.js[cli.js,lib/util.js]=[IMPORT] process.call os.call",
		"other:lib/payload.js[lib/payload.js]=[OTHER] eval.decoded net.call",
		// Then each file alone, riskiest first.
		"install:setup.js[setup.js]=[INSTALL] env.read.all net.call",
		"import:cli.js[cli.js]=[IMPORT] process.call",
		"import:index.js[index.js]=[IMPORT] net.import net.call",
		"install:package.json#scripts.postinstall[package.json#scripts.postinstall]=[INSTALL] install.script",
		"import:lib/util.js[lib/util.js]=[IMPORT] os.call",
	}
	if strings.Join(b, "\n") != strings.Join(want, "\n") {
		t.Errorf("units:\n%s\nwant:\n%s", strings.Join(b, "\n"), strings.Join(want, "\n"))
	}
	for _, u := range got {
		if len(u.Sequence.Events) != len(u.Sequence.Tokens) || u.Risk <= 0 {
			t.Errorf("unit %s: %d events for %d tokens, risk %d", u.Name, len(u.Sequence.Events), len(u.Sequence.Tokens), u.Risk)
		}
	}
}

// TestUnitsDilution: a payload file next to a large library is a unit of
// its own, and a payload appended to a long file is scored with only its
// neighbourhood, however long the file.
func TestUnitsDilution(t *testing.T) {
	lib := strings.Repeat("net.call fs.read process.call url ", 400)
	files := []*FileEvents{
		fe("lib/big.js", lib),
		fe("lib/evil.js", "env.read.secret net.call url.webhook"),
		fe("index.js", lib+"sensitive.path fs.read env.read.secret net.call"),
	}
	var evil, tail *Unit
	units := Units(Package{Import: []string{"index.js"}}, files, Options{MaxTokens: 128}, 0)
	for i, u := range units {
		switch {
		case u.Name == "lib/evil.js":
			evil = &units[i]
		case strings.HasPrefix(u.Name, "index.js:"):
			tail = &units[i]
		case strings.HasPrefix(u.Name, "lib/big.js"):
			t.Errorf("unit %s of a long file without rarely benign events", u.Name)
		}
		if len(u.Sequence.Tokens) > 128 {
			t.Errorf("unit %s has %d tokens, over the cap", u.Name, len(u.Sequence.Tokens))
		}
	}
	if evil == nil || strings.Join(evil.Sequence.Tokens, " ") != "[OTHER] env.read.secret net.call url.webhook" {
		t.Fatalf("payload file unit %+v", evil)
	}
	if tail == nil || tail.Kind != UnitImport || tail.Name != "index.js:1577-1604" ||
		!strings.HasSuffix(strings.Join(tail.Sequence.Tokens, " "), "sensitive.path fs.read env.read.secret net.call") {
		t.Fatalf("appended payload unit %+v", tail)
	}
}

func TestNeighbourhoods(t *testing.T) {
	evs := make([]Event, 200)
	for i := range evs {
		evs[i].Token = "fs.read"
	}
	evs[10].Token, evs[40].Token, evs[150].Token = "eval.decoded", "env.read.secret", "sensitive.path"
	got := fmt.Sprint(neighbourhoods(evs))
	if want := "[[0 65] [126 175]]"; got != want {
		t.Errorf("neighbourhoods %s, want %s", got, want)
	}
}

func TestUnitsCap(t *testing.T) {
	var files []*FileEvents
	for i := range 100 {
		files = append(files, fe(fmt.Sprintf("f%03d.js", i), strings.Repeat("fs.read net.call ", i+1)+"eval.call"))
	}
	if n := len(Units(Package{}, files, Options{}, 5)); n != 5 {
		t.Errorf("%d units, want the cap 5", n)
	}
	if n := len(Units(Package{}, nil, Options{}, 0)); n != 0 {
		t.Errorf("%d units of an empty package", n)
	}
}
