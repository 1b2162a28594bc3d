package behaviour

import (
	"strings"
	"testing"

	"github.com/moatproject/moat/scan/sequence"
)

func file(path, kind, toks string) File {
	f := File{Path: path, Kind: kind}
	for i, t := range strings.Fields(toks) {
		f.Events = append(f.Events, sequence.Event{Token: t, File: path, Line: i + 1})
	}
	return f
}

// spread puts f's events gap lines apart.
func spread(f File, gap int) File {
	for i := range f.Events {
		f.Events[i].Line = 1 + i*gap
	}
	return f
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name string
		f    File
		want string // rule names, comma-separated
	}{
		{"npmrc sent at install", file("setup.js", Install, "fs.read sensitive.path net.call"), "install.exfiltration"},
		{"same code at import time is not enough", file("index.js", Import, "fs.read sensitive.path net.call"), ""},
		{"token to webhook at install", file("i.js", Install, "env.read.secret net.call url.webhook"), "install.secret_to_collector,secret_to_collector"},
		{"token to raw IP at install", file("i.js", Install, "env.read.secret net.call url.ip"), "install.secret_to_collector"},
		{"token to raw IP at import: dev servers do this", file("i.js", Import, "env.read.secret net.call url.ip"), ""},
		{"token to webhook anywhere", file("lib/x.js", Other, "env.read.all url.webhook net.call"), "secret_to_collector"},
		{"env copied for a child at install", file("install.js", Install, "env.read.all process.call net.call"), ""},
		{"self-publishing at install", file("bundle.js", Install, "env.read.secret publish.self"), "install.self_publish"},
		{"setup.py publish command", file("setup.py", Install, "process.call publish.self"), ""},
		{"release tool (not at install)", file("lib/publish.js", Import, "env.read.secret publish.self net.call"), ""},
		{"drainer", file("dist/index.js", Import, "browser.hook wallet.address net.call"), "wallet_drainer"},
		{"fetch polyfill", file("dist/polyfill.js", Import, "browser.hook net.call"), ""},
		{"payload in an image", file("lib/font.js", Import, "fs.read.nonsource encoding.call eval.call"), "hidden_payload"},
		{"image read, nothing run", file("lib/img.js", Import, "fs.read.nonsource net.call"), ""},
		{"webhook alone", file("lib/notify.js", Other, "net.call url.webhook"), ""},
		{"webhook far from the secret in a bundle", file("dist/sdk.js", Import, "env.read.all "+strings.Repeat("url fs.read ", 20)+"net.call url.webhook"), ""},
		{"webhook near the secret after a long library", file("lib.js", Import, strings.Repeat("url fs.read net.call ", 200)+"env.read.secret net.call url.webhook"), "secret_to_collector"},
		{"stealer at import", file("index.js", Import, "env.read.secret env.read.secret os.call os.call fs.read sensitive.path fs.read sensitive.path net.call"), "credential_harvest"},
		{"config loader at import: no host identity", file("index.js", Import, "env.read.secret fs.read sensitive.path net.call"), ""},
		{"stealer shape in a test file", file("test/x.js", Other, "env.read.secret os.call fs.read sensitive.path net.call"), ""},
		{"stealer inventory spread over a bundle", spread(file("dist/chunks/config.js", Import, "net.dns os.call env.read.secret sensitive.path"), 400), ""},
		{"stealer inventory within a function", spread(file("index.js", Import, "env.read.secret os.call sensitive.path net.call"), 15), "credential_harvest"},
		{"decoded string run at import", file("index.js", Import, "string.base64 encoding.call eval.call eval.decoded eval.payload url"), "decoded_exec"},
		{"decoded string run at install", file("setup.py", Install, "encoding.call eval.decoded eval.payload"), "decoded_exec"},
		{"decoded string run elsewhere: a test or a tool", file("test/x.js", Other, "encoding.call eval.decoded eval.payload"), ""},
		{"a decoding call inside generated code", file("lib/wrap.js", Import, "encoding.call eval.call eval.decoded"), ""},
		{"template compiled at import", file("index.js", Import, "string.base64 encoding.call eval.call"), ""},
		{"curl | sh started at import", file("index.js", Import, "url shell.script shell.download_exec process.call process.download_exec"), "download_exec"},
		{"curl | sh started at install", file("install.js", Install, "shell.download_exec fs.read process.call process.download_exec"), "download_exec"},
		{"curl | sh in a help text", file("cli.js", Import, "shell.download_exec process.call"), ""},
		{"curl | sh started from a test", file("test/e2e.js", Other, "process.call process.download_exec"), ""},
		{"config loader reads .npmrc, sends nothing", file("lib/config.js", Import, "sensitive.path fs.read env.read.secret"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, h := range Evaluate([]File{tt.f}) {
				got = append(got, h.Rule)
				if h.File != tt.f.Path || h.Kind != tt.f.Kind || len(h.Evidence) == 0 || h.Why == "" {
					t.Errorf("hit %+v", h)
				}
				for i := 1; i < len(h.Evidence); i++ {
					if h.Evidence[i].Line < h.Evidence[i-1].Line {
						t.Errorf("evidence out of order: %+v", h.Evidence)
					}
				}
			}
			if g := strings.Join(got, ","); g != tt.want {
				t.Errorf("rules %q, want %q", g, tt.want)
			}
		})
	}
}

// TestRulesUseKnownTokens keeps every rule written in tokens of the
// vocabulary: a misspelt token would make a rule silently never fire.
func TestRulesUseKnownTokens(t *testing.T) {
	known := make(map[string]bool)
	for _, tok := range sequence.Tokens {
		known[tok] = true
	}
	for _, r := range Rules {
		for _, g := range r.All {
			for _, tok := range g {
				if !known[tok] {
					t.Errorf("rule %s uses %q, not in sequence.Tokens", r.Name, tok)
				}
			}
		}
	}
}
