// Package clientsetup owns what `moat setup` tells each package manager:
// for registry mode, the setting that points the client at moat's registry
// root; for proxy (transparent) mode, the proxy URL and the CA trust the
// client needs. For prints a Plan as shell-pasteable text; Apply writes the
// user-level config files it names, after a timestamped backup, and says
// how to undo. It is pure Go: no client binary is run.
package clientsetup

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
)

// Mode is how clients reach moat.
type Mode string

const (
	// ModeRegistry points clients at moat's registry roots.
	ModeRegistry Mode = "registry"
	// ModeProxy keeps clients' registries and routes them through moat's
	// forward proxy, trusting moat's CA.
	ModeProxy Mode = "proxy"
)

// Clients lists the clients For knows, in the order help shows them.
var Clients = []string{"npm", "yarn", "pnpm", "pip", "uv", "poetry", "env"}

// ErrUnknownClient is returned by For for a client it does not know.
var ErrUnknownClient = errors.New("unknown client")

// Params are the facts a plan is built from.
type Params struct {
	// RegistryURL is moat's registry-mode base URL (no trailing path),
	// e.g. http://127.0.0.1:7878.
	RegistryURL string
	// ProxyURL is moat's forward proxy, e.g. http://127.0.0.1:7879.
	ProxyURL string
	// CACert is moat's root certificate (PEM), for clients that add to
	// their roots (NODE_EXTRA_CA_CERTS).
	CACert string
	// Bundle is the combined bundle (system roots + moat's root), for
	// clients whose CA option replaces their roots.
	Bundle string
	// Files are the user-level config locations.
	Files Locations
}

// Locations are the user-level config files Apply may write.
type Locations struct {
	Home    string // shown as ~ in output
	Npmrc   string // npm and pnpm
	Yarnrc  string // yarn classic
	PipConf string
	UVToml  string
	EnvFile string // moat's own file of exports, for the shell profile
}

// DefaultLocations resolves the config files under home, honouring the
// clients' own overrides (NPM_CONFIG_USERCONFIG, PIP_CONFIG_FILE,
// XDG_CONFIG_HOME) as getenv reports them.
func DefaultLocations(home string, getenv func(string) string) Locations {
	xdg := getenv("XDG_CONFIG_HOME")
	if xdg == "" {
		xdg = filepath.Join(home, ".config")
	}
	l := Locations{
		Home:    home,
		Npmrc:   filepath.Join(home, ".npmrc"),
		Yarnrc:  filepath.Join(home, ".yarnrc"),
		PipConf: filepath.Join(xdg, "pip", "pip.conf"),
		UVToml:  filepath.Join(xdg, "uv", "uv.toml"),
		EnvFile: filepath.Join(xdg, "moat", "env.sh"),
	}
	for _, k := range []string{"NPM_CONFIG_USERCONFIG", "npm_config_userconfig"} {
		if v := getenv(k); v != "" {
			l.Npmrc = v
		}
	}
	if v := getenv("PIP_CONFIG_FILE"); v != "" && v != "/dev/null" {
		l.PipConf = v
	}
	return l
}

// Format is the syntax of a config file Apply edits.
type Format int

const (
	FormatNpmrc  Format = iota // key=value lines (npm, pnpm)
	FormatYarnrc               // key "value" lines (yarn classic)
	FormatINI                  // [section] then key = value (pip)
	FormatTOML                 // a moat-managed block appended to a TOML file (uv)
	FormatEnv                  // a file of export lines owned by moat
)

// KV is one setting.
type KV struct{ Key, Value string }

// FileEdit is one user-level file Apply changes.
type FileEdit struct {
	Path    string
	Format  Format
	Section string // FormatINI
	Set     []KV   // key/values; for FormatTOML the block's lines as Key only
}

// Plan is what to set for one client in one mode.
type Plan struct {
	Client   string
	Mode     Mode
	Notes    []string // printed as comments first
	Commands []string // shell commands that make the change
	Env      []KV     // variables to export
	Files    []FileEdit
	Undo     []string // shell commands that revert Commands
}

// For builds the plan for client in mode.
func For(client string, mode Mode, p Params) (*Plan, error) {
	if mode != ModeRegistry && mode != ModeProxy {
		return nil, fmt.Errorf("mode %q: want registry or proxy", mode)
	}
	if mode == ModeRegistry && p.RegistryURL == "" || mode == ModeProxy && (p.ProxyURL == "" || p.CACert == "" || p.Bundle == "") {
		return nil, errors.New("clientsetup: incomplete parameters")
	}
	npmURL := strings.TrimSuffix(p.RegistryURL, "/") + "/npm/"
	pypiURL := strings.TrimSuffix(p.RegistryURL, "/") + "/pypi/simple/"
	pl := &Plan{Client: client, Mode: mode}
	proxyEnv := []KV{{"HTTPS_PROXY", p.ProxyURL}, {"HTTP_PROXY", p.ProxyURL}}
	switch client + "/" + string(mode) {
	case "npm/registry", "pnpm/registry":
		pl.Commands = []string{client + " config set registry " + npmURL}
		pl.Files = []FileEdit{{Path: p.Files.Npmrc, Format: FormatNpmrc, Set: []KV{{"registry", npmURL}}}}
		pl.Undo = []string{client + " config delete registry"}
		pl.Notes = []string{"Lockfiles keep the URLs they were resolved from; moat's proxy mode covers those."}
	case "npm/proxy", "pnpm/proxy":
		pl.Notes = []string{client + "'s cafile replaces its roots, so it gets the combined bundle (system roots + moat's CA)."}
		set := []KV{{"https-proxy", p.ProxyURL}, {"proxy", p.ProxyURL}, {"cafile", p.Bundle}}
		for _, kv := range set {
			pl.Commands = append(pl.Commands, client+" config set "+kv.Key+" "+shellQuote(kv.Value))
			pl.Undo = append(pl.Undo, client+" config delete "+kv.Key)
		}
		pl.Env = []KV{{"NODE_EXTRA_CA_CERTS", p.CACert}}
		pl.Files = []FileEdit{{Path: p.Files.Npmrc, Format: FormatNpmrc, Set: set}}
	case "yarn/registry":
		pl.Notes = []string{"Yarn classic (1.x). Yarn Berry: yarn config set npmRegistryServer " + npmURL + " (and unsafeHttpWhitelist for plain HTTP)."}
		pl.Commands = []string{"yarn config set registry " + npmURL}
		pl.Files = []FileEdit{{Path: p.Files.Yarnrc, Format: FormatYarnrc, Set: []KV{{"registry", npmURL}}}}
		pl.Undo = []string{"yarn config delete registry"}
	case "yarn/proxy":
		pl.Notes = []string{
			"Yarn classic reads https-proxy, proxy and cafile (cafile replaces its roots: the combined bundle).",
			"Yarn Berry reads YARN_HTTPS_PROXY and NODE_EXTRA_CA_CERTS; do not set its caFilePath (it drops the system roots).",
		}
		set := []KV{{"https-proxy", p.ProxyURL}, {"proxy", p.ProxyURL}, {"cafile", p.Bundle}}
		for _, kv := range set {
			pl.Commands = append(pl.Commands, "yarn config set "+kv.Key+" "+shellQuote(kv.Value))
			pl.Undo = append(pl.Undo, "yarn config delete "+kv.Key)
		}
		pl.Env = []KV{{"YARN_HTTPS_PROXY", p.ProxyURL}, {"YARN_HTTP_PROXY", p.ProxyURL}, {"NODE_EXTRA_CA_CERTS", p.CACert}}
		pl.Files = []FileEdit{{Path: p.Files.Yarnrc, Format: FormatYarnrc, Set: set}}
	case "pip/registry":
		set := []KV{{"index-url", pypiURL}}
		pl.Commands = []string{"pip config set global.index-url " + pypiURL}
		pl.Undo = []string{"pip config unset global.index-url"}
		if h := insecureHost(p.RegistryURL); h != "" {
			set = append(set, KV{"trusted-host", h})
			pl.Commands = append(pl.Commands, "pip config set global.trusted-host "+h)
			pl.Undo = append(pl.Undo, "pip config unset global.trusted-host")
		}
		pl.Files = []FileEdit{{Path: p.Files.PipConf, Format: FormatINI, Section: "global", Set: set}}
	case "pip/proxy":
		pl.Notes = []string{"pip's cert option replaces its roots, so it gets the combined bundle."}
		pl.Commands = []string{"pip config set global.proxy " + p.ProxyURL, "pip config set global.cert " + shellQuote(p.Bundle)}
		pl.Undo = []string{"pip config unset global.proxy", "pip config unset global.cert"}
		pl.Env = []KV{{"PIP_CERT", p.Bundle}, {"REQUESTS_CA_BUNDLE", p.Bundle}}
		pl.Files = []FileEdit{{Path: p.Files.PipConf, Format: FormatINI, Section: "global", Set: []KV{{"proxy", p.ProxyURL}, {"cert", p.Bundle}}}}
	case "uv/registry":
		pl.Notes = []string{
			"Or per project, in pyproject.toml:",
			"  [[tool.uv.index]]",
			"  url = \"" + pypiURL + "\"",
			"  default = true",
		}
		pl.Env = []KV{{"UV_DEFAULT_INDEX", pypiURL}}
		pl.Files = []FileEdit{{Path: p.Files.UVToml, Format: FormatTOML, Set: []KV{{Key: "[[index]]"}, {Key: `url = "` + pypiURL + `"`}, {Key: "default = true"}}}}
	case "uv/proxy":
		pl.Notes = []string{
			"uv uses its bundled roots unless told otherwise; SSL_CERT_FILE (the combined bundle) takes precedence.",
			"If moat's CA is installed in the system store instead, UV_NATIVE_TLS=true is enough.",
		}
		pl.Env = append(proxyEnv, KV{"SSL_CERT_FILE", p.Bundle})
		pl.Files = []FileEdit{envFile(p.Files.EnvFile, pl.Env)}
	case "poetry/registry":
		pl.Notes = []string{"Poetry sources are per project: run this in each project (it edits pyproject.toml)."}
		pl.Commands = []string{"poetry source add --priority=primary moat " + pypiURL}
		pl.Undo = []string{"poetry source remove moat"}
	case "poetry/proxy":
		pl.Notes = []string{"Poetry downloads with requests: REQUESTS_CA_BUNDLE (the combined bundle) replaces its roots."}
		pl.Env = append(proxyEnv, KV{"REQUESTS_CA_BUNDLE", p.Bundle})
		pl.Files = []FileEdit{envFile(p.Files.EnvFile, pl.Env)}
	case "env/registry":
		pl.Notes = []string{"For shells and CI: every client at once, through environment variables."}
		pl.Env = []KV{{"NPM_CONFIG_REGISTRY", npmURL}, {"YARN_REGISTRY", npmURL}, {"PIP_INDEX_URL", pypiURL}, {"UV_DEFAULT_INDEX", pypiURL}}
		pl.Files = []FileEdit{envFile(p.Files.EnvFile, pl.Env)}
	case "env/proxy":
		pl.Notes = []string{
			"For shells and CI: every client at once, through environment variables.",
			"NODE_EXTRA_CA_CERTS adds moat's CA to Node's roots; the *_CA_BUNDLE/CERT variables replace roots, so they get the combined bundle.",
		}
		pl.Env = append(proxyEnv,
			KV{"NODE_EXTRA_CA_CERTS", p.CACert},
			KV{"NPM_CONFIG_CAFILE", p.Bundle},
			KV{"YARN_HTTPS_PROXY", p.ProxyURL},
			KV{"PIP_CERT", p.Bundle},
			KV{"REQUESTS_CA_BUNDLE", p.Bundle},
			KV{"SSL_CERT_FILE", p.Bundle},
		)
		pl.Files = []FileEdit{envFile(p.Files.EnvFile, pl.Env)}
	default:
		return nil, fmt.Errorf("%w %q (want one of %s)", ErrUnknownClient, client, strings.Join(Clients, ", "))
	}
	return pl, nil
}

func envFile(path string, env []KV) FileEdit {
	return FileEdit{Path: path, Format: FormatEnv, Set: env}
}

// insecureHost returns the host of a plain-HTTP URL that is not loopback
// (pip refuses those unless trusted), else "".
func insecureHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return ""
	}
	h := u.Hostname()
	if h == "localhost" {
		return ""
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return ""
	}
	return h
}

// Render writes the plan as shell text: comments, commands, exports, and
// the undo commands as comments.
func (pl *Plan) Render(w io.Writer, files Locations) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# moat setup %s --mode %s\n", pl.Client, pl.Mode)
	for _, n := range pl.Notes {
		b.WriteString("# " + n + "\n")
	}
	if len(pl.Commands) > 0 {
		b.WriteString("\n")
		for _, c := range pl.Commands {
			b.WriteString(c + "\n")
		}
	}
	if len(pl.Env) > 0 {
		b.WriteString("\n# Environment (shell profile or CI):\n")
		for _, kv := range pl.Env {
			b.WriteString("export " + kv.Key + "=" + shellQuote(kv.Value) + "\n")
		}
	}
	if len(pl.Files) > 0 {
		b.WriteString("\n# --apply writes:\n")
		for _, f := range pl.Files {
			b.WriteString("#   " + files.Pretty(f.Path) + "\n")
		}
	} else {
		b.WriteString("\n# --apply: nothing user-level to write for this client; run the commands above.\n")
	}
	if len(pl.Undo) > 0 {
		b.WriteString("\n# Undo:\n")
		for _, c := range pl.Undo {
			b.WriteString("#   " + c + "\n")
		}
	} else if len(pl.Env) > 0 {
		b.WriteString("\n# Undo: unset " + strings.Join(envKeys(pl.Env), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func envKeys(env []KV) []string {
	var ks []string
	for _, kv := range env {
		ks = append(ks, kv.Key)
	}
	return ks
}

// Pretty shows p with the home directory as ~.
func (l Locations) Pretty(p string) string {
	if l.Home != "" {
		if rel, err := filepath.Rel(l.Home, p); err == nil && !strings.HasPrefix(rel, "..") {
			return "~/" + filepath.ToSlash(rel)
		}
	}
	return p
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=+,%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
