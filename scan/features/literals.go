package features

import (
	"bytes"
	"net/netip"
	"regexp"
	"strings"
)

// Literal classification: the tokens a string literal's content earns.

const (
	minEncoded = 40  // string.base64 / string.hex
	minLong    = 500 // string.long
)

// emitter receives the tokens of a classified literal, for node n.
type emitter interface {
	emit(tok string, n int32)
}

// literal emits the tokens for a string literal with content s at node n.
// raw is the literal's source text (escapes intact), used for \x detection.
func (a *analysis) literal(s, raw []byte, n int32) {
	classifyLiteral(a, &a.lower, s, raw, n)
}

// classifyLiteral emits to a the tokens a string literal with content s
// earns (see analysis.literal); lower is scratch space.
func classifyLiteral(a emitter, lower *[]byte, s, raw []byte, n int32) {
	if len(raw) >= minLong {
		a.emit("string.long", n)
	}
	if len(s) < 4 {
		return
	}
	if len(raw) >= minEncoded && hexEscaped(raw) {
		a.emit("string.hex", n)
	} else if len(s) >= minEncoded {
		switch {
		case isHexString(s):
			a.emit("string.hex", n)
		case isBase64(s):
			a.emit("string.base64", n)
		}
	}
	if len(s) > 16<<10 {
		s = s[:16<<10] // patterns of interest sit in short strings; bound the work
	}
	*lower = append((*lower)[:0], s...)
	low := *lower
	for i, c := range low {
		if c >= 'A' && c <= 'Z' {
			low[i] = c + 'a' - 'A'
		}
	}
	urls(a, s, low, n)
	walletAndPublish(a, s, low, n)
	if !needles.mayContain(low) {
		// No needle of the path, store, persistence, publish or shell lists
		// can start anywhere in the literal: most literals of a bundle or an
		// icon set (identifiers, markup, SVG paths) end here, one pass over
		// their bytes instead of one per needle.
		return
	}
	if containsAny(low, sensitivePaths) || isComponent(low, ".env") {
		a.emit("sensitive.path", n)
	}
	// Browser secret stores, not the browsers' programs: a path to
	// chrome.exe or the program name "firefox" is what every browser
	// launcher (open, puppeteer, karma) names; the profile folder is
	// "Firefox" (Windows, macOS) or ".mozilla/firefox" (Linux).
	if containsAny(s, browserCase) || isComponent(s, "Cookies") || isComponent(s, "Firefox") ||
		containsAny(low, browserLower) && !bytes.Contains(low, []byte(".exe")) && !bytes.Contains(low, []byte("/application")) &&
			!bytes.Contains(low, []byte("\\application")) {
		a.emit("sensitive.browser", n)
	}
	if containsAny(low, walletLower) {
		a.emit("sensitive.wallet", n)
	}
	if containsAny(low, messengerLower) || isComponent(low, "tdata") ||
		(bytes.Contains(low, []byte("discord")) && containsAny(low, discordStores)) {
		a.emit("sensitive.messenger", n)
	}
	if containsAny(low, persistenceLower) || isComponent(low, ".profile") {
		a.emit("persistence", n)
	}
	shell(a, low, n)
}

// urls emits url, url.ip and the host-class tokens.
func urls(a emitter, s, low []byte, n int32) {
	hasURL := false
	// urlRE needs a scheme separator: skip the regexp for the many
	// literals without one.
	if bytes.Contains(low, []byte("://")) {
		for _, m := range urlRE.FindAllSubmatchIndex(low, 4) {
			hasURL = true
			if isRawIP(string(s[m[2]:m[3]])) {
				a.emit("url.ip", n)
				break
			}
		}
	}
	if hasURL {
		a.emit("url", n)
	} else if isRawIP(string(bytes.TrimSpace(s))) {
		a.emit("url.ip", n)
	}
	if !needles.mayContain(low) {
		return
	}
	for _, h := range hostClasses {
		if containsAny(low, h.needles) {
			a.emit(h.tok, n)
		}
	}
}

// isDownloadExec reports whether a command line that a process call starts
// downloads a script or program and runs it (curl … | sh, wget … && ./x,
// iwr … | iex).
func isDownloadExec(line string) bool {
	if len(line) > 16<<10 {
		line = line[:16<<10]
	}
	return line != "" && downloadExecRE.MatchString(strings.ToLower(line))
}

// shell emits shell.script, shell.download_exec and process.detached for a
// literal that reads as a shell command line.
func shell(a emitter, low []byte, n int32) {
	if !containsAny(low, shellHints) {
		return
	}
	if !shellRE.Match(low) {
		return
	}
	a.emit("shell.script", n)
	if downloadExecRE.Match(low) {
		a.emit("shell.download_exec", n)
	}
	if detachRE.Match(low) {
		a.emit("process.detached", n)
	}
}

var (
	urlRE   = regexp.MustCompile(`\b(?:https?|ftp|wss?|tcp)://\[?([a-z0-9._~%-]+(?::[0-9a-f:]+)?)\]?`)
	shellRE = regexp.MustCompile(`(?:^|[\s;&|(` + "`" + `"'])(?:curl|wget)\s|\b(?:ba|z|da)?sh\s+-c\b|powershell|\bcmd(?:\.exe)?\s+/[ck]\b|` +
		`chmod\s+(?:\+x|[0-7]{3,4})\b|\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|base64\s+(?:-d|--decode)|/dev/tcp/|\bnc\s+(?:-e|.*\s-e\s)|` +
		`\bmkfifo\b|\bnohup\b|\bpython[23]?\s+-c\b|\bcertutil\b.*-urlcache|\biex\b|invoke-expression|invoke-webrequest|downloadstring|\bcrontab\s`)
	downloadExecRE = regexp.MustCompile(`(?:curl|wget|invoke-webrequest|iwr)\b[^\n]*(?:\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|chmod\s+(?:\+x|[0-7]{3,4})|&&\s*\./|;\s*\./|\|\s*iex\b|&&\s*(?:ba|z)?sh\s)|downloadstring[^\n]*(?:iex|invoke-expression)|(?:iex|invoke-expression)[^\n]*downloadstring|certutil[^\n]*-urlcache[^\n]*&&`)
	detachRE       = regexp.MustCompile(`\bnohup\b|\bdisown\b|&\s*$|&\s*(?:;|\)|$)|\bsetsid\b|start\s+/b\b|-windowstyle\s+hidden`)
)

var shellHints = [][]byte{[]byte("curl"), []byte("wget"), []byte("sh"), []byte("powershell"), []byte("cmd"),
	[]byte("chmod"), []byte("base64"), []byte("/dev/tcp"), []byte("nc "), []byte("mkfifo"), []byte("nohup"),
	[]byte("python"), []byte("certutil"), []byte("iex"), []byte("invoke-"), []byte("downloadstring"), []byte("crontab")}

var sensitivePaths = bs(".npmrc", ".pypirc", ".ssh/", ".ssh\\", "/.ssh", "\\.ssh", "id_rsa", "id_ed25519", "id_ecdsa",
	".aws/", ".aws\\", "/.aws", "\\.aws", ".gitconfig", ".git-credentials", ".netrc", "_netrc", "/etc/passwd", "/etc/shadow",
	".bash_history", ".zsh_history", ".kube/config", ".kube\\config", ".docker/config.json", ".docker\\config.json",
	"credentials.json", ".config/gcloud", ".azure/")

var browserCase = bs("User Data", "Login Data", "Local State", "Web Data")

var browserLower = bs("logins.json", "key4.db", "key3.db", "cookies.sqlite", "google\\chrome", "google/chrome",
	"bravesoftware", "microsoft\\edge", "microsoft/edge", "chromium\\", "chromium/", "opera software", "yandexbrowser",
	"login data", "local state", "firefox/profiles", "firefox\\profiles", ".mozilla/firefox")

var walletLower = bs("wallet.dat", "exodus", "electrum", "metamask", "nkbihfbeogaeaoehlefnkodbefgpgknn", "atomic wallet",
	"atomic\\local storage", "atomic/local storage", ".ethereum", "ethereum\\keystore", "keystore", "solana/id.json",
	"solana\\id.json", "seed phrase", "mnemonic", "coinbase wallet", "bitcoin\\wallets", "bitcoin/wallets",
	"ledger live", "trust wallet", "jaxx", "guarda", "armory", "zcash", "monero\\wallets", "wallets/", "\\wallets")

var messengerLower = bs("discordcanary", "discordptb", "lightcord", "telegram desktop", "dqw4w9wgxcq", "discord_backup_codes")

var discordStores = bs("leveldb", "local storage", "token")

var persistenceLower = bs("crontab", "/etc/cron", "/var/spool/cron", "/etc/systemd", "systemctl enable", "/etc/init.d",
	"/etc/rc.local", ".bashrc", ".bash_profile", ".zshrc", ".zprofile", "currentversion\\run", "currentversion\\\\run",
	"start menu\\programs\\startup", "start menu\\\\programs\\\\startup", "start menu/programs/startup", "launchagents",
	"launchdaemons", "schtasks", ".config/autostart", "/etc/profile.d", "userinit")

type hostClass struct {
	tok     string
	needles [][]byte
}

var hostClasses = []hostClass{
	{"url.webhook", bs("discord.com/api/webhooks", "discordapp.com/api/webhooks", "discord.com\\/api\\/webhooks",
		"hooks.slack.com", "webhook.site", "pipedream.net", "requestbin", "hookbin.com", "hooks.zapier.com",
		"webhook.office.com", "beeceptor.com", "requestcatcher.com")},
	{"url.paste", bs("pastebin.com", "paste.ee", "hastebin", "ghostbin", "transfer.sh", "gist.githubusercontent.com",
		"rentry.co", "termbin.com", "0x0.st", "file.io", "anonfiles", "gofile.io", "catbox.moe", "mega.nz",
		"dpaste", "paste.rs", "controlc.com", "privatebin", "pastes.io", "temp.sh", "bashupload")},
	{"url.tunnel", bs("ngrok.io", "ngrok-free.app", "ngrok.app", "ngrok.dev", "trycloudflare.com", "loca.lt",
		"localtunnel.me", "serveo.net", "localhost.run", "burpcollaborator.net", "oastify.com", "interact.sh",
		"interactsh", "oast.pro", "oast.live", "oast.site", "oast.online", "oast.fun", "oast.me", "canarytokens.",
		"dnslog.cn", "ceye.io", "requestrepo.com", "pinggy.io", "bore.pub")},
	{"url.telegram", bs("api.telegram.org")},
}

// needleStarts is a prefilter for the needle lists classifyLiteral and urls
// search a lower-cased literal for: the set of the two-byte prefixes of every
// needle. A literal none of whose byte pairs is in the set contains none of
// the needles, which one pass over it tells.
type needleStarts [1 << 16 / 64]uint64

func (t *needleStarts) add(lists ...[][]byte) {
	for _, l := range lists {
		for _, n := range l {
			n = bytes.ToLower(n)
			if len(n) < 2 {
				panic("needle shorter than two bytes: " + string(n))
			}
			k := uint16(n[0])<<8 | uint16(n[1])
			t[k/64] |= 1 << (k % 64)
		}
	}
}

// mayContain reports whether some needle may occur in low (false: none does).
func (t *needleStarts) mayContain(low []byte) bool {
	for i := 0; i+1 < len(low); i++ {
		k := uint16(low[i])<<8 | uint16(low[i+1])
		if t[k/64]&(1<<(k%64)) != 0 {
			return true
		}
	}
	return false
}

// needles holds the prefixes of every list classifyLiteral searches after
// its prefilter, and the whole words it looks for with isComponent or
// bytes.Contains there.
var needles = func() *needleStarts {
	t := new(needleStarts)
	t.add(sensitivePaths, browserCase, browserLower, walletLower, messengerLower, discordStores, persistenceLower,
		shellHints, bs(".env", "cookies", "firefox", "tdata", ".profile", "discord"))
	for _, h := range hostClasses {
		t.add(h.needles)
	}
	return t
}()

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func containsAny(s []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(s, n) {
			return true
		}
	}
	return false
}

// isComponent reports whether name occurs in s as a whole literal or as a
// path component (delimited by / or \ or the string's ends).
func isComponent(s []byte, name string) bool {
	for i := 0; ; {
		j := bytes.Index(s[i:], []byte(name))
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		before := j == 0 || s[j-1] == '/' || s[j-1] == '\\'
		after := end == len(s) || s[end] == '/' || s[end] == '\\' || s[end] == '"' || s[end] == '\''
		if before && after {
			return true
		}
		i = j + 1
	}
}

// isRawIP reports whether host (optionally with a port) is a literal IP
// address other than loopback, unspecified or a 0.x "version-like" value.
func isRawIP(host string) bool {
	if len(host) < 7 || len(host) > 60 {
		return false
	}
	h := strings.Trim(host, "[]")
	if ap, err := netip.ParseAddrPort(host); err == nil {
		h = ap.Addr().String()
	} else if i := strings.LastIndexByte(h, ':'); i > 0 && strings.Count(h, ":") == 1 {
		h = h[:i]
	}
	ip, err := netip.ParseAddr(h)
	if err != nil || ip.IsLoopback() || ip.IsUnspecified() {
		return false
	}
	if ip.Is4() && ip.As4()[0] == 0 {
		return false
	}
	if ip.Is6() && strings.Count(h, ":") < 2 {
		return false
	}
	return true
}

// hexEscaped reports whether raw source text holds a run of \xNN escapes
// covering at least minEncoded characters.
func hexEscaped(raw []byte) bool {
	run, best := 0, 0
	for i := 0; i < len(raw); {
		if i+3 < len(raw) && raw[i] == '\\' && (raw[i+1] == 'x' || raw[i+1] == 'X') && isHex(raw[i+2]) && isHex(raw[i+3]) {
			run += 4
			i += 4
			best = max(best, run)
			continue
		}
		run = 0
		i++
	}
	return best >= minEncoded
}

func isHexString(s []byte) bool {
	for _, c := range s {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// isBase64 reports whether s looks like base64: the alphabet only, mixed
// case and digits (so words and identifiers do not qualify).
func isBase64(s []byte) bool {
	body := bytes.TrimRight(s, "=")
	if len(s)-len(body) > 2 {
		return false
	}
	for _, c := range body {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_') {
			return false
		}
	}
	return mixedAlnum(body)
}
