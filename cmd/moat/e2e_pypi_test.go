package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/config"
	"github.com/moatproject/moat/internal/testutil/pypifake"
)

// inTreeBackend is a PEP 517 build backend written with the standard
// library only, so the test sdist builds with no setuptools or wheel from
// an index (PyPI is unreachable here). It is the package's own build code,
// not something moat runs: pip runs it after moat allowed the sdist.
const inTreeBackend = `import base64, hashlib, os, zipfile
NAME, VERSION = "envlib", "1.0.0"
DI = NAME + "-" + VERSION + ".dist-info"
META = "Metadata-Version: 2.1\nName: " + NAME + "\nVersion: " + VERSION + "\n"
def get_requires_for_build_wheel(config_settings=None):
    return []
def prepare_metadata_for_build_wheel(d, config_settings=None):
    os.makedirs(os.path.join(d, DI))
    with open(os.path.join(d, DI, "METADATA"), "w") as f:
        f.write(META)
    return DI
def build_wheel(wd, config_settings=None, metadata_directory=None):
    fn = NAME + "-" + VERSION + "-py3-none-any.whl"
    here = os.path.dirname(os.path.abspath(__file__))
    rec = []
    with zipfile.ZipFile(os.path.join(wd, fn), "w") as z:
        def add(arc, data):
            z.writestr(arc, data)
            h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rec.append(arc + ",sha256=" + h + "," + str(len(data)))
        for f in sorted(os.listdir(os.path.join(here, NAME))):
            with open(os.path.join(here, NAME, f), "rb") as src:
                add(NAME + "/" + f, src.read())
        add(DI + "/METADATA", META.encode())
        add(DI + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: moat-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(DI + "/RECORD", "\n".join(rec + [DI + "/RECORD,,"]) + "\n")
    return fn
`

// fixtureIndex publishes the PyPI fixtures on a fake upstream:
//
//	mathutil 1.0.0 (wheel) → requires envlib
//	envlib 1.0.0 (sdist; setup.py reads os.environ for build flags: a hard negative)
//	requestz 2.31.1 (sdist; defanged install-command credential stealer)
func fixtureIndex(t *testing.T) *pypifake.Index {
	t.Helper()
	ix := pypifake.New()
	t.Cleanup(ix.Close)
	fn, data, md := pypifake.Wheel("mathutil", "1.0.0", map[string]string{
		"mathutil/__init__.py": "from .ops import add\n",
		"mathutil/ops.py":      "def add(a, b):\n    return a + b\n",
	}, "envlib>=1.0")
	ix.Add("mathutil", &pypifake.File{Filename: fn, Data: data, Metadata: md, RequiresPython: ">=3.7"})

	fn, data = pypifake.Sdist("envlib", "1.0.0", map[string]string{
		"setup.py": "import os\nfrom setuptools import setup\n\n# Build flags from the environment, a common benign pattern.\n" +
			"debug = os.environ.get(\"ENVLIB_DEBUG\", \"\") == \"1\"\nopts = os.getenv(\"ENVLIB_OPTS\", \"\").split()\n\n" +
			"setup(name=\"envlib\", version=\"1.0.0\", packages=[\"envlib\"])\n",
		"pyproject.toml":     "[build-system]\nrequires = []\nbuild-backend = \"_backend\"\nbackend-path = [\".\"]\n",
		"_backend.py":        inTreeBackend,
		"envlib/__init__.py": "VALUE = 42\n",
	})
	ix.Add("envlib", &pypifake.File{Filename: fn, Data: data})

	mal := readFixtureDir(t, filepath.Join(repoRoot(t), "testdata", "fixtures", "pypi-malicious-sdist"))
	delete(mal, "PKG-INFO")
	fn, data = pypifake.Sdist("requestz", "2.31.1", mal)
	ix.Add("requestz", &pypifake.File{Filename: fn, Data: data})
	return ix
}

func readFixtureDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// pip runs the real pip, isolated from this machine's pip configuration.
func pip(t *testing.T, index string, args ...string) (string, error) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	full := append([]string{"-m", "pip"}, args...)
	full = append(full, "--isolated", "--no-cache-dir", "--disable-pip-version-check", "--retries", "0", "--timeout", "60", "--index-url", index)
	cmd := exec.CommandContext(ctx, py, full...)
	cmd.Env = filteredEnv("PIP_")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

func TestPipInstallThroughMoat(t *testing.T) {
	for _, form := range []string{"json", "html"} {
		t.Run("upstream "+form, func(t *testing.T) {
			ix := fixtureIndex(t)
			ix.Force = form
			m := startMoat(t, testConfigPyPI(ix.URL()))
			index := m.URL + "/pypi/simple/"

			target := t.TempDir()
			out, err := pip(t, index, "install", "--target", target, "mathutil")
			if err != nil {
				t.Fatalf("pip install mathutil: %v\n%s", err, out)
			}
			for _, p := range []string{"mathutil/ops.py", "envlib/__init__.py"} {
				if _, err := os.Stat(filepath.Join(target, p)); err != nil {
					t.Errorf("%s not installed: %v\n%s", p, err, out)
				}
			}

			out, err = pip(t, index, "download", "--no-deps", "--dest", t.TempDir(), "requestz")
			if err == nil {
				t.Fatalf("pip download of the malicious sdist succeeded:\n%s", out)
			}
			t.Logf("pip's output:\n%s", out)
			if !strings.Contains(out, "403") || !strings.Contains(out, "moat blocked requestz 2.31.1") {
				t.Errorf("pip output does not show moat's 403 reason:\n%s", out)
			}
		})
	}
}

func testConfigPyPI(index string) (cfg config.Config) {
	cfg = testConfig("http://127.0.0.1:1/")
	cfg.PyPI.Upstream = index
	return cfg
}

// TestPyPIIndexForms asks moat for both index forms and checks the
// rewriting kept what clients need.
func TestPyPIIndexForms(t *testing.T) {
	ix := fixtureIndex(t)
	m := startMoat(t, testConfigPyPI(ix.URL()))
	get := func(path, accept string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, m.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	resp, body := get("/pypi/simple/mathutil/", "application/vnd.pypi.simple.v1+json")
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.pypi.simple.v1+json" || resp.Header.Get("Vary") != "Accept" {
		t.Errorf("JSON: content type %q, vary %q", ct, resp.Header.Get("Vary"))
	}
	var doc struct {
		Files []struct {
			Filename, URL  string
			Hashes         map[string]string
			RequiresPython string `json:"requires-python"`
			CoreMetadata   any    `json:"core-metadata"`
			UploadTime     string `json:"upload-time"`
		}
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Files) != 1 {
		t.Fatalf("JSON page: %v %s", err, body)
	}
	f := doc.Files[0]
	if !strings.HasPrefix(f.URL, m.URL+"/pypi/files/mathutil/") || len(f.Hashes["sha256"]) != 64 || f.RequiresPython != ">=3.7" || f.CoreMetadata == nil || f.UploadTime == "" {
		t.Errorf("JSON file entry lost data: %+v", f)
	}

	resp, body = get("/pypi/simple/mathutil/", "text/html")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("HTML: content type %q", resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{m.URL + "/pypi/files/mathutil/mathutil-1.0.0-py3-none-any.whl#sha256=", `data-requires-python="&gt;=3.7"`, `data-core-metadata="sha256=`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("HTML page lacks %q:\n%s", want, body)
		}
	}

	resp, _ = get("/pypi/simple/MathUtil", "")
	if resp.Request.URL.Path != "/pypi/simple/mathutil/" {
		t.Errorf("non-normalised name not redirected: ended at %s", resp.Request.URL.Path)
	}
}

// TestPyPIFaults checks what a client sees for each upstream failure.
func TestPyPIFaults(t *testing.T) {
	ix := pypifake.New()
	defer ix.Close()
	ix.SlowDelay = 5 * time.Second
	add := func(project string, fault pypifake.Fault) {
		fn, data, _ := pypifake.Wheel(project, "1.0.0", map[string]string{project + "/__init__.py": "X = 1\n"})
		ix.Add(project, &pypifake.File{Filename: fn, Data: data, Fault: fault})
	}
	add("wronghash", pypifake.FaultWrongHash)
	add("nohash", pypifake.FaultNoHash)
	add("down", pypifake.Fault503)
	add("slowfile", pypifake.FaultSlow)
	add("badhtml", pypifake.FaultNone)
	ix.SetProjectFault("badhtml", pypifake.FaultMalformed)
	add("badjson", pypifake.FaultNone)
	ix.SetProjectFault("badjson", pypifake.FaultMalformed)
	add("pagedown", pypifake.FaultNone)
	ix.SetProjectFault("pagedown", pypifake.Fault503)

	cfg := testConfigPyPI(ix.URL())
	cfg.Upstream.ArtifactTimeout = 2 * time.Second
	m := startMoat(t, cfg)

	cases := []struct {
		name, path, accept string
		status             int
		contains           string
	}{
		{"wrong hash", "/pypi/files/wronghash/wronghash-1.0.0-py3-none-any.whl", "", 502, "sha256 mismatch"},
		{"missing hash", "/pypi/files/nohash/nohash-1.0.0-py3-none-any.whl", "", 403, "no usable hash"},
		{"file 503", "/pypi/files/down/down-1.0.0-py3-none-any.whl", "", 502, "answered HTTP 503"},
		{"file timeout", "/pypi/files/slowfile/slowfile-1.0.0-py3-none-any.whl", "", 504, "timed out"},
		{"malformed html", "/pypi/simple/badhtml/", "text/html", 502, "malformed document"},
		{"malformed json", "/pypi/simple/badjson/", "application/vnd.pypi.simple.v1+json", 502, "malformed document"},
		{"index 503", "/pypi/simple/pagedown/", "", 502, "answered HTTP 503"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "malformed html" {
				ix.Force = "html"
			} else {
				ix.Force = ""
			}
			req, _ := http.NewRequest(http.MethodGet, m.URL+c.path, nil)
			if c.accept != "" {
				req.Header.Set("Accept", c.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(body), c.contains) {
				t.Errorf("got %d %q, want %d containing %q", resp.StatusCode, body, c.status, c.contains)
			}
			if c.status >= 500 && strings.Contains(c.path, "/files/") && !strings.Contains(resp.Status, c.contains) {
				t.Errorf("status line %q does not carry the reason pip prints", resp.Status)
			}
		})
	}

	t.Run("pip shows the reason", func(t *testing.T) {
		ix.Force = ""
		out, err := pip(t, m.URL+"/pypi/simple/", "download", "--no-deps", "--dest", t.TempDir(), "wronghash")
		if err == nil || !strings.Contains(out, "sha256 mismatch") {
			t.Errorf("pip: err %v, output lacks the reason:\n%s", err, out)
		}
	})
}
