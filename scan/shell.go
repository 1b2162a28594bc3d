package scan

import (
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
)

// shellFacts is what a shell command line (an npm lifecycle script, a line
// of a shell file an install script runs) reveals.
type shellFacts struct {
	tokens []string // behaviour tokens in command order
	runs   []string // local files run by an interpreter ("setup.js", "scripts/x.sh")
	inline []inlineCode
	npmRun []string // scripts invoked through npm/yarn/pnpm run
	execs  []string // local files run directly ("./bin/x"), not through an interpreter
}

// inlineCode is code passed on a command line (node -e, python -c).
type inlineCode struct {
	ext  string // ".js" or ".py"
	code string
}

// maxShellDepth bounds nesting of sh -c "..." strings.
const maxShellDepth = 4

// analyzeShell reads one shell command line without running anything. It
// is a small lexer, not a shell: quoting, escapes, pipelines and command
// lists are understood; expansions are not performed.
func analyzeShell(cmd string) shellFacts {
	var f shellFacts
	f.analyze(cmd, 0)
	return f
}

func (f *shellFacts) add(toks ...string) { f.tokens = append(f.tokens, toks...) }

// downloadExec records a command line that runs what it downloaded: the
// literal's token and, since the line is executed, the process's.
func (f *shellFacts) downloadExec() { f.add("shell.download_exec", "process.download_exec") }

func (f *shellFacts) analyze(cmd string, depth int) {
	if depth > maxShellDepth {
		return
	}
	words, ops := lexShell(cmd)
	// Split into pipelines of simple commands.
	var (
		pipeline   [][]string
		cur        []string
		downloaded bool // an earlier command fetched something
	)
	flush := func(op string) {
		if len(cur) > 0 {
			pipeline = append(pipeline, cur)
			cur = nil
		}
		if op == "|" {
			return
		}
		downloaded = f.pipeline(pipeline, depth, downloaded) || downloaded
		pipeline = nil
		if op == "&" {
			f.add("process.detached")
		}
	}
	for i, w := range words {
		if op := ops[i]; op != "" {
			flush(op)
			continue
		}
		cur = append(cur, w)
	}
	flush("")
}

var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "ash": true}

var interpreters = map[string]bool{
	"node": true, "nodejs": true, "python": true, "python2": true, "python3": true,
	"perl": true, "ruby": true, "php": true, "powershell": true, "pwsh": true, "iex": true,
}

// pipeline analyses commands joined by pipes; it reports whether one of
// them downloads.
func (f *shellFacts) pipeline(cmds [][]string, depth int, downloadedBefore bool) bool {
	fetched := false
	for i, words := range cmds {
		name, raw, args := commandName(words, f)
		if name == "" {
			continue
		}
		if j := slices.Index(args, "-c"); shells[name] && j >= 0 && j+1 < len(args) {
			f.words(slices.Delete(slices.Clone(args), j+1, j+2)) // the -c script is analysed below
		} else {
			f.words(args)
		}
		switch {
		case name == "curl" || name == "wget":
			f.add("shell.script", "net.call")
			fetched = true
			for _, next := range cmds[i+1:] {
				if n, _, _ := commandName(next, nil); shells[n] || interpreters[n] {
					f.downloadExec()
					break
				}
			}
		case shells[name]:
			f.add("shell.script", "process.call")
			if downloadedBefore && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
				f.downloadExec()
			}
			for j, a := range args {
				if a == "-c" && j+1 < len(args) {
					f.analyze(args[j+1], depth+1)
					break
				}
				if !strings.HasPrefix(a, "-") {
					f.runs = append(f.runs, a)
					break
				}
			}
		case name == "node" || name == "nodejs":
			f.interpreter(args, ".js", map[string]bool{"-e": true, "--eval": true, "-p": true, "--print": true},
				map[string]bool{"-r": true, "--require": true, "--import": true, "--loader": true})
		case strings.HasPrefix(name, "python"):
			f.add("process.call")
			f.interpreter(args, ".py", map[string]bool{"-c": true}, map[string]bool{"-m": true, "-W": true, "-X": true})
		case name == "powershell" || name == "pwsh" || name == "cmd" || name == "cmd.exe":
			f.add("shell.script", "process.call")
		case name == "chmod":
			f.add("shell.script")
			if downloadedBefore {
				f.downloadExec()
			}
		case name == "base64":
			if hasAny(args, "-d", "--decode", "-D") {
				f.add("shell.script", "encoding.call")
			}
		case name == "crontab" || name == "systemctl" || name == "launchctl":
			f.add("persistence")
		case name == "printenv" || (name == "env" || name == "set" || name == "export") && len(args) == 0:
			f.add("env.read.all")
		case name == "nc" || name == "ncat" || name == "netcat" || name == "socat" || name == "ssh" || name == "scp":
			f.add("shell.script", "net.call")
		case name == "nslookup" || name == "dig" || name == "host":
			f.add("net.dns")
		case name == "npm" || name == "yarn" || name == "pnpm":
			f.npmScript(name, args)
		case name == "twine" && len(args) > 0 && args[0] == "upload":
			f.add("publish.self")
		case name == "gh" && len(args) > 1 && args[0] == "auth" && args[1] == "token":
			f.add("env.read.secret") // prints the GitHub CLI's stored token
		case strings.HasPrefix(raw, "./") || strings.HasPrefix(raw, "/tmp/"):
			f.add("process.call")
			if strings.HasPrefix(raw, "./") {
				f.execs = append(f.execs, raw)
			}
			if downloadedBefore {
				f.downloadExec()
			}
		}
	}
	return fetched
}

// interpreter handles node/python arguments: inline code, the script run.
func (f *shellFacts) interpreter(args []string, ext string, inlineFlags, flagsWithArg map[string]bool) {
	for j := 0; j < len(args); j++ {
		a := args[j]
		switch {
		case inlineFlags[a] && j+1 < len(args):
			if ext == ".js" {
				f.add("install.node_eval")
			}
			f.inline = append(f.inline, inlineCode{ext: ext, code: args[j+1]})
			return
		case flagsWithArg[a]:
			j++
		case strings.HasPrefix(a, "-"):
		default:
			f.runs = append(f.runs, a)
			return
		}
	}
}

// npmScript records "npm run X", "yarn X", "pnpm run X".
func (f *shellFacts) npmScript(tool string, args []string) {
	if len(args) == 0 {
		return
	}
	switch {
	case args[0] == "publish" || args[0] == "token" || tool == "yarn" && args[0] == "npm" && len(args) > 1 && args[1] == "publish":
		f.add("publish.self")
	case (args[0] == "run" || args[0] == "run-script") && len(args) > 1:
		f.npmRun = append(f.npmRun, args[1])
	case tool == "yarn" && !strings.HasPrefix(args[0], "-") && !knownYarnCommands[args[0]]:
		f.npmRun = append(f.npmRun, args[0])
	}
}

var knownYarnCommands = map[string]bool{
	"install": true, "add": true, "remove": true, "workspace": true, "workspaces": true,
	"global": true, "cache": true, "config": true, "link": true, "unlink": true, "dlx": true, "exec": true,
}

// commandName skips assignments and wrappers (sudo, env, nohup, npx...) and
// returns the command's lower-case base name, the word as written and the
// arguments. Wrappers that detach are recorded on f when it is not nil.
func commandName(words []string, f *shellFacts) (name, raw string, args []string) {
	for len(words) > 0 {
		w := words[0]
		name := strings.ToLower(path.Base(w))
		switch {
		case isAssignment(w):
			if f != nil {
				f.words([]string{w})
			}
		case name == "nohup" || name == "setsid" || name == "disown":
			if f != nil {
				f.add("process.detached")
			}
		case name == "sudo" || name == "exec" || name == "time" || name == "command" || name == "npx" || name == "cross-env":
		case name == "env" && len(words) > 1:
		default:
			return strings.TrimSuffix(name, ".exe"), w, words[1:]
		}
		words = words[1:]
	}
	return "", "", nil
}

func isAssignment(w string) bool {
	i := strings.IndexByte(w, '=')
	if i <= 0 {
		return false
	}
	for _, c := range w[:i] {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

var (
	envRef      = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	secretName  = regexp.MustCompile(`(?i)TOKEN|SECRET|KEY|PASS|AWS_|NPM_|GITHUB|^CI$`)
	urlInText   = regexp.MustCompile(`(?i)\b(?:https?|ftp|wss?)://[^\s'"<>\x60|;&)]+`)
	sensitiveRe = regexp.MustCompile(`(?i)\.npmrc|\.pypirc|\.ssh\b|id_rsa|id_ed25519|\.aws/|\.gitconfig|\.git-credentials|\.netrc|/etc/passwd|/etc/shadow|\.bash_history|\.zsh_history|\.kube/config|\.docker/config\.json`)
)

// words records what the arguments of a command mention: environment
// variables, URLs, credential files, raw TCP devices.
func (f *shellFacts) words(ws []string) {
	for _, w := range ws {
		for _, m := range envRef.FindAllStringSubmatch(w, -1) {
			if secretName.MatchString(m[1]) {
				f.add("env.read.secret")
			} else {
				f.add("env.read")
			}
		}
		for _, u := range urlInText.FindAllString(w, -1) {
			f.add(urlTokens(u)...)
		}
		if sensitiveRe.MatchString(w) {
			f.add("sensitive.path")
		}
		if strings.Contains(w, "/dev/tcp/") || strings.Contains(w, "/dev/udp/") {
			f.add("shell.script", "net.call")
		}
	}
}

func hasAny(args []string, want ...string) bool {
	for _, a := range args {
		for _, w := range want {
			if a == w {
				return true
			}
		}
	}
	return false
}

// urlTokens classifies a URL literal: "url" plus the finer kinds.
func urlTokens(raw string) []string {
	toks := []string{"url"}
	u, err := url.Parse(raw)
	if err != nil {
		return toks
	}
	host := strings.ToLower(u.Hostname())
	if net.ParseIP(host) != nil {
		toks = append(toks, "url.ip")
	}
	hp := host + u.EscapedPath()
	for _, k := range urlKinds {
		for _, pat := range k.patterns {
			if strings.Contains(hp, pat) {
				toks = append(toks, k.token)
				break
			}
		}
	}
	return toks
}

var urlKinds = []struct {
	token    string
	patterns []string
}{
	{"url.webhook", []string{"discord.com/api/webhooks", "discordapp.com/api/webhooks", "hooks.slack.com",
		"webhook.site", "pipedream.net", "requestbin", "hookbin.com", "hooks.zapier.com"}},
	{"url.paste", []string{"pastebin.", "paste.ee", "hastebin", "ghostbin", "transfer.sh", "gist.githubusercontent.com",
		"file.io", "anonfiles", "0x0.st"}},
	{"url.tunnel", []string{"ngrok.io", "ngrok-free.app", "ngrok.app", "trycloudflare.com", "loca.lt", "localtunnel.me",
		"serveo.net", "burpcollaborator.net", "oastify.com", "interact.sh", "oast.", "canarytokens", "dnslog.cn", "ceye.io"}},
	{"url.telegram", []string{"api.telegram.org"}},
}

// lexShell splits a command line into words; ops[i] is non-empty when
// word i is an operator (| || && ; & newline, parentheses, $( and `).
func lexShell(s string) (words, ops []string) {
	var (
		b      strings.Builder
		inWord bool
	)
	emit := func() {
		if inWord {
			words = append(words, b.String())
			ops = append(ops, "")
			b.Reset()
			inWord = false
		}
	}
	op := func(o string) {
		emit()
		words = append(words, o)
		ops = append(ops, o)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] != '\n' {
				b.WriteByte(s[i])
				inWord = true
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				b.WriteString(s[i+1:])
				i = len(s)
			} else {
				b.WriteString(s[i+1 : i+1+j])
				i += j + 1
			}
		case c == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
		case c == ' ' || c == '\t' || c == '\r':
			emit()
		case c == '\n' || c == ';' || c == '(' || c == ')' || c == '`':
			op(string(c))
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			op("$(")
			i++
		case c == '|' || c == '&':
			if i+1 < len(s) && s[i+1] == c {
				op(s[i : i+2])
				i++
			} else if c == '&' && i+1 < len(s) && s[i+1] == '>' {
				emit() // &> redirection
				i++
			} else if c == '&' && b.Len() > 0 && strings.HasSuffix(b.String(), ">") {
				b.WriteByte(c) // 2>&1
			} else {
				op(string(c))
			}
		case c == '#' && !inWord:
			// A comment runs to the end of the line.
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				i = len(s)
			} else {
				i += j - 1
			}
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	emit()
	return words, ops
}
