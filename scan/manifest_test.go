package scan

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/moatproject/moat/scan/archive"
)

func TestExportTargets(t *testing.T) {
	for in, want := range map[string][]string{
		`"./index.js"`: {"./index.js"},
		`{"./b":"./b.js","./a":{"import":"./a.mjs","require":"./a.cjs"},".":"./main.js","./p/*":"./p/*.js"}`: {"./main.js", "./a.mjs", "./a.cjs", "./b.js"},
		`[{"node":"./n.js"},"./f.js"]`: {"./n.js", "./f.js"},
		`{".":null}`:                   nil,
		`42`:                           nil,
		``:                             nil,
	} {
		if got := exportTargets(json.RawMessage(in), 0); !slices.Equal(got, want) {
			t.Errorf("exportTargets(%s) = %q, want %q", in, got, want)
		}
	}
	deep := strings.Repeat(`{"a":`, 100) + `"./x.js"` + strings.Repeat(`}`, 100)
	if got := exportTargets(json.RawMessage(deep), 0); got != nil {
		t.Errorf("deep exports = %q", got)
	}
}

func TestLineOfKey(t *testing.T) {
	doc := []byte("{\n  \"description\": \"postinstall\",\n  \"scripts\": {\n    \"postinstall\" : \"x\"\n  }\n}")
	if got := lineOfKey(doc, "postinstall"); got != 4 {
		t.Errorf("line %d, want 4", got)
	}
	if got := lineOfKey(doc, "missing"); got != 0 {
		t.Errorf("line %d, want 0", got)
	}
}

func TestPythonMetadata(t *testing.T) {
	n, v := parseMetadata([]byte("Metadata-Version: 2.1\r\nName: foo-bar\r\nVersion: 1.0\r\n\r\nName: body"))
	if n != "foo-bar" || v != "1.0" {
		t.Errorf("parseMetadata = %q %q", n, v)
	}
	n, v = parsePyproject([]byte("[build-system]\nname = \"no\"\n[project]\nname = 'pkg'\nversion = \"2.0\"\n[tool.x]\nversion = \"3\""))
	if n != "pkg" || v != "2.0" {
		t.Errorf("parsePyproject = %q %q", n, v)
	}
	for fn, want := range map[string][2]string{
		"foo_bar-1.2.3-py3-none-any.whl": {"foo_bar", "1.2.3"},
		"foo-bar-1.0.tar.gz":             {"foo-bar", "1.0"},
		"x.zip":                          {"", ""},
		"bad.whl":                        {"", ""},
	} {
		if n, v := nameFromFilename(fn); n != want[0] || v != want[1] {
			t.Errorf("nameFromFilename(%q) = %q %q", fn, n, v)
		}
	}
}

func TestPlanPyPI(t *testing.T) {
	a := &archive.Archive{Files: []archive.File{
		{Path: "setup.py", Data: []byte("x")},
		{Path: "PKG-INFO", Data: []byte("Name: My-Pkg\nVersion: 3\n")},
		{Path: "my_pkg/__init__.py", Data: []byte("")},
		{Path: "tests/__init__.py", Data: []byte("")},
		{Path: "hook.pth", Data: []byte("./lib\nimport os; os.system('x')\n  import not\n")},
	}}
	p := newPlan(a, Input{Filename: "My-Pkg-3.tar.gz"})
	if p.eco != PyPI || p.name != "My-Pkg" || p.version != "3" {
		t.Fatalf("identity %q %q %q", p.eco, p.name, p.version)
	}
	if !slices.Equal(p.pkg.Install, []string{"setup.py", "hook.pth"}) || !slices.Equal(p.pkg.Import, []string{"my_pkg/__init__.py"}) {
		t.Errorf("entries %q %q", p.pkg.Install, p.pkg.Import)
	}
	// A wheel does not run setup.py.
	a.Files = append(a.Files, archive.File{Path: "my_pkg-3.dist-info/METADATA", Data: []byte("Name: my_pkg\n")})
	if p := newPlan(a, Input{}); slices.Contains(p.pkg.Install, "setup.py") {
		t.Errorf("wheel runs setup.py: %q", p.pkg.Install)
	}
}

func TestDetectEcosystem(t *testing.T) {
	for _, tt := range []struct {
		fn    string
		files []string
		want  Ecosystem
	}{
		{"x.whl", nil, PyPI},
		{"", []string{"package.json", "index.js"}, NPM},
		{"", []string{"package.json", "PKG-INFO"}, PyPI},
		{"", []string{"pyproject.toml"}, PyPI},
		{"", []string{"a.py", "b.js"}, PyPI},
		{"", []string{"a.js"}, NPM},
		{"", []string{"README"}, ""},
	} {
		data := map[string][]byte{}
		for _, f := range tt.files {
			data[f] = []byte{}
		}
		if got := detectEcosystem(tt.fn, tt.files, data); got != tt.want {
			t.Errorf("detectEcosystem(%q, %q) = %q, want %q", tt.fn, tt.files, got, tt.want)
		}
	}
}

// FuzzPlan feeds hostile manifests to the planner.
func FuzzPlan(f *testing.F) {
	f.Add(`{"name":"x","scripts":{"postinstall":"node a.js && curl x|sh","install":"npm run b","b":"npm run install"},"main":"a","exports":{".":["./a.js",{"x":"./b.js"}]},"bin":{"z":"bin/z"}}`,
		"Name: x\nVersion: 1\n", "import os\nimport\tsys\n")
	f.Add(`{"scripts":{"install":"node -e \"1\" ; node -e 2"}}`, "", "")
	f.Add(`[]`, "\x00:", "import")
	f.Fuzz(func(t *testing.T, pkgJSON, meta, pth string) {
		for _, files := range [][]archive.File{
			{{Path: "package.json", Data: []byte(pkgJSON)}, {Path: "a.js", Data: []byte("x")}, {Path: "bin/z", Data: []byte("x")}, {Path: "binding.gyp", Data: []byte("")}},
			{{Path: "PKG-INFO", Data: []byte(meta)}, {Path: "setup.py", Data: []byte(meta)}, {Path: "x.pth", Data: []byte(pth)}, {Path: "pyproject.toml", Data: []byte(meta)}},
		} {
			p := newPlan(&archive.Archive{Files: files}, Input{})
			for _, c := range p.files {
				for _, pt := range c.parts {
					if pt.job >= len(p.jobs) {
						t.Fatalf("job %d out of range", pt.job)
					}
					for _, e := range pt.events {
						if len(e.Snippet) > maxSnippet {
							t.Fatalf("snippet of %d bytes", len(e.Snippet))
						}
					}
				}
			}
		}
	})
}

func TestPlanInTreeBackend(t *testing.T) {
	tests := []struct {
		name, pyproject string
		want            []string
	}{
		{"module in backend-path", "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n", []string{"backend.py"}},
		{"package over lines", "[build-system]\nbuild-backend = 'build_tools.hooks:Backend'  # ours\nbackend-path = [\n  \"_build\",\n]\n", []string{"_build/build_tools/hooks/__init__.py"}},
		{"installed backend", "[build-system]\nbuild-backend = \"setuptools.build_meta\"\n", nil},
		{"backend-path elsewhere", "[tool.x]\nbackend-path = [\".\"]\nbuild-backend = \"backend\"\n", nil},
		{"missing file", "[build-system]\nbuild-backend = \"nothere\"\nbackend-path = [\".\"]\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &archive.Archive{Files: []archive.File{
				{Path: "pyproject.toml", Data: []byte(tt.pyproject)},
				{Path: "backend.py", Data: []byte("import os\n")},
				{Path: "_build/build_tools/hooks/__init__.py", Data: []byte("import os\n")},
				{Path: "PKG-INFO", Data: []byte("Name: x\nVersion: 1\n")},
			}}
			p := newPlan(a, Input{Filename: "x-1.tar.gz"})
			if !slices.Equal(p.pkg.BuildBackend, tt.want) {
				t.Errorf("build backends %q, want %q", p.pkg.BuildBackend, tt.want)
			}
			// A wheel is not built: no backend runs.
			if p := newPlan(a, Input{Filename: "x-1-py3-none-any.whl"}); len(p.pkg.BuildBackend) != 0 {
				t.Errorf("wheel build backends %q", p.pkg.BuildBackend)
			}
		})
	}
}

// TestPlanInstallTokens covers what install scripts reveal beyond the shell
// lexer: files run that the scanner cannot read as source, and publishing.
func TestPlanInstallTokens(t *testing.T) {
	tests := []struct {
		script string
		want   string // a token the install composite must hold ("" none of the two)
	}{
		{"./bin/setup-helper", "install.binary"},        // shipped, not kept as source
		{"node lib/font.woff2", "install.binary"},       // node runs any extension
		{"node scripts/post", ""},                       // resolves to scripts/post.js
		{"./missing-file", ""},                          // not in the package
		{"sh ./install.sh", ""},                         // shell source, read line by line
		{"npm publish --access public", "publish.self"}, // spreading
		{"gh auth token > /dev/null; echo ok", "env.read.secret"},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			pj, _ := json.Marshal(map[string]any{"name": "x", "version": "1.0.0", "scripts": map[string]string{"postinstall": tt.script}})
			a := &archive.Archive{Files: []archive.File{
				{Path: "package.json", Data: pj},
				{Path: "bin/setup-helper"}, // listed, its bytes not kept (a binary)
				{Path: "lib/font.woff2"},
				{Path: "scripts/post.js", Data: []byte("1")},
				{Path: "install.sh", Data: []byte("echo hi\n")},
			}}
			p := newPlan(a, Input{})
			var toks []string
			for _, c := range p.files {
				if c.path == "package.json#scripts.postinstall" {
					for _, pt := range c.parts {
						for _, e := range pt.events {
							toks = append(toks, e.Token)
						}
					}
				}
			}
			for _, tok := range []string{"install.binary", "publish.self", "env.read.secret"} {
				if has := slices.Contains(toks, tok); has != (tok == tt.want) {
					t.Errorf("tokens %q: %s present = %v", toks, tok, has)
				}
			}
		})
	}
}
