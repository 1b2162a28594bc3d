package clientsetup

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func params(home string) Params {
	return Params{
		RegistryURL: "http://127.0.0.1:7878",
		ProxyURL:    "http://127.0.0.1:7879",
		CACert:      filepath.Join(home, ".local/share/moat/ca/ca.crt"),
		Bundle:      filepath.Join(home, ".local/share/moat/ca/bundle.pem"),
		Files:       DefaultLocations(home, func(string) string { return "" }),
	}
}

func TestRenderGolden(t *testing.T) {
	p := params("/home/dev")
	for _, client := range Clients {
		for _, mode := range []Mode{ModeRegistry, ModeProxy} {
			t.Run(client+"-"+string(mode), func(t *testing.T) {
				pl, err := For(client, mode, p)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := pl.Render(&b, p.Files); err != nil {
					t.Fatal(err)
				}
				golden(t, client+"-"+string(mode)+".txt", b.Bytes())
			})
		}
	}
}

func TestForErrors(t *testing.T) {
	p := params("/home/dev")
	if _, err := For("bun", ModeRegistry, p); !errors.Is(err, ErrUnknownClient) {
		t.Errorf("unknown client: %v", err)
	}
	if _, err := For("npm", "mirror", p); err == nil {
		t.Error("unknown mode accepted")
	}
	p.Bundle = ""
	if _, err := For("npm", ModeProxy, p); err == nil {
		t.Error("proxy mode without a bundle accepted")
	}
}

func TestTrustedHostForRemoteHTTP(t *testing.T) {
	p := params("/home/dev")
	p.RegistryURL = "http://moat.internal.example:7878"
	pl, err := For("pip", ModeRegistry, p)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_ = pl.Render(&b, p.Files)
	if !strings.Contains(b.String(), "pip config set global.trusted-host moat.internal.example") {
		t.Errorf("no trusted-host for a remote plain-HTTP index:\n%s", b.String())
	}
}

func TestDefaultLocationsOverrides(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": "/x", "NPM_CONFIG_USERCONFIG": "/n/npmrc", "PIP_CONFIG_FILE": "/p/pip.conf"}
	l := DefaultLocations("/home/dev", func(k string) string { return env[k] })
	if l.Npmrc != "/n/npmrc" || l.PipConf != "/p/pip.conf" || l.UVToml != "/x/uv/uv.toml" || l.EnvFile != "/x/moat/env.sh" || l.Yarnrc != "/home/dev/.yarnrc" {
		t.Errorf("%+v", l)
	}
}

// TestApplyGolden applies every plan to a fake HOME holding existing
// configuration and compares the resulting files and report.
func TestApplyGolden(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	existing := map[string]string{
		".npmrc":               "; my settings\n//registry.example.invalid/:_authToken=${TOKEN}\nregistry=https://registry.example.invalid/\nfund=false\n",
		".yarnrc":              "# yarn lockfile v1\nregistry \"https://registry.example.invalid/\"\n",
		".config/pip/pip.conf": "[global]\ntimeout = 60\n\n[install]\nuser = false\n",
		".config/uv/uv.toml":   "native-tls = false\n",
	}
	for _, client := range Clients {
		for _, mode := range []Mode{ModeRegistry, ModeProxy} {
			t.Run(client+"-"+string(mode), func(t *testing.T) {
				home := t.TempDir()
				for rel, content := range existing {
					p := filepath.Join(home, rel)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				p := params(home)
				pl, err := For(client, mode, p)
				if err != nil {
					t.Fatal(err)
				}
				res, err := Apply(pl, now)
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				_ = res.Render(&out, p.Files)
				for _, w := range res.Written {
					b, err := os.ReadFile(w)
					if err != nil {
						t.Fatal(err)
					}
					rel, _ := filepath.Rel(home, w)
					out.WriteString("==> ~/" + filepath.ToSlash(rel) + "\n")
					out.Write(b)
				}
				for _, bk := range res.Backups {
					orig, _ := filepath.Rel(home, bk.Path)
					b, _ := os.ReadFile(bk.Copy)
					if string(b) != existing[filepath.ToSlash(orig)] {
						t.Errorf("backup of %s does not hold the original", orig)
					}
				}
				golden(t, "apply-"+client+"-"+string(mode)+".txt", bytes.ReplaceAll(out.Bytes(), []byte(home), []byte("$HOME")))

				// A second run changes nothing and takes no new backup.
				res2, err := Apply(pl, now.Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				if len(res2.Written) != 0 || len(res2.Backups) != 0 {
					t.Errorf("second apply wrote %v, backups %v", res2.Written, res2.Backups)
				}
			})
		}
	}
}

func TestApplyUndoRestores(t *testing.T) {
	home := t.TempDir()
	orig := "registry=https://registry.example.invalid/\n"
	npmrc := filepath.Join(home, ".npmrc")
	if err := os.WriteFile(npmrc, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	p := params(home)
	pl, _ := For("npm", ModeRegistry, p)
	res, err := Apply(pl, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Backups) != 1 {
		t.Fatalf("backups %v", res.Backups)
	}
	fi, _ := os.Stat(npmrc)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("npmrc mode changed to %v", fi.Mode().Perm())
	}
	if err := os.Rename(res.Backups[0].Copy, npmrc); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(npmrc); string(b) != orig {
		t.Errorf("undo did not restore: %q", b)
	}
}

func TestEditors(t *testing.T) {
	cases := []struct {
		name string
		old  string
		fe   FileEdit
		want string
	}{
		{"npmrc append", "a=1", FileEdit{Format: FormatNpmrc, Set: []KV{{"registry", "x"}}}, "a=1\nregistry=x\n"},
		{"npmrc replace all", "registry=a\n# registry=c\n registry = b\n", FileEdit{Format: FormatNpmrc, Set: []KV{{"registry", "x"}}}, "registry=x\n# registry=c\nregistry=x\n"},
		{"ini new file", "", FileEdit{Format: FormatINI, Section: "global", Set: []KV{{"index-url", "u"}}}, "[global]\nindex-url = u\n"},
		{"ini insert in section", "[global]\na = 1\n\n[x]\nb = 2\n", FileEdit{Format: FormatINI, Section: "global", Set: []KV{{"cert", "c"}}}, "[global]\na = 1\ncert = c\n\n[x]\nb = 2\n"},
		{"ini other section only", "[x]\nindex-url = old\n", FileEdit{Format: FormatINI, Section: "global", Set: []KV{{"index-url", "u"}}}, "[x]\nindex-url = old\n\n[global]\nindex-url = u\n"},
		{"toml block replaced", "a = 1\n\n" + blockBegin + "\nold\n" + blockEnd + "\n", FileEdit{Format: FormatTOML, Set: []KV{{Key: "new"}}}, "a = 1\n\n" + blockBegin + "\nnew\n" + blockEnd + "\n"},
		{"yarnrc", "registry \"a\"\nb c\n", FileEdit{Format: FormatYarnrc, Set: []KV{{"registry", "x"}, {"cafile", "/p q"}}}, "registry \"x\"\nb c\ncafile \"/p q\"\n"},
	}
	for _, c := range cases {
		if got := string(edit([]byte(c.old), c.fe)); got != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, got, c.want)
		}
	}
}

// FuzzSetINI: editing an arbitrary existing pip.conf never panics, keeps
// the setting, and is idempotent.
func FuzzSetINI(f *testing.F) {
	for _, s := range []string{"", "[global]\na=1\n", "[x]\n[global]\n; c\nindex-url = y\n[", "\n\n[global]", "=\n[]\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, old string) {
		fe := FileEdit{Format: FormatINI, Section: "global", Set: []KV{{"index-url", "u"}}}
		once := edit([]byte(old), fe)
		if !strings.Contains(string(once), "index-url = u") {
			t.Fatalf("setting missing from %q", once)
		}
		if twice := edit(once, fe); !bytes.Equal(once, twice) {
			t.Fatalf("not idempotent:\n%q\n%q", once, twice)
		}
	})
}
