package rules

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestScore(t *testing.T) {
	tests := []struct {
		name    string
		seq     string
		flagged bool
		rules   []string
	}{
		// Malicious shapes.
		{"npm postinstall exfiltration",
			"[INSTALL] install.script os.import fs.import net.import os.call sensitive.path fs.read env.read.all url net.call [IMPORT] fs.import",
			true, []string{"install-exfiltration", "install-host-probe", "install-network"}},
		{"obfuscated eval", "[IMPORT] encoding.call string.base64 eval.decoded",
			true, []string{"eval-decoded"}},
		{"obfuscated exec", "[IMPORT] obfuscation.identifiers string.base64 encoding.call eval.call",
			true, []string{"obfuscated-exec", "encoded-eval"}},
		{"setup.py cmdclass to raw IP",
			"[INSTALL] setup.py setup.install_class setup.cmdclass os.import env.read.all net.import url url.ip net.call",
			true, []string{"install-exfiltration", "raw-ip-network", "install-network", "setup-hook-remote"}},
		{"pth payload", "[INSTALL] pth.exec encoding.import encoding.call eval.decoded",
			true, []string{"eval-decoded", "pth-exec", "pth-payload"}},
		{"curl pipe sh", "[INSTALL] install.script shell.script net.call shell.download_exec",
			true, []string{"download-exec", "install-network"}},
		{"minified setup.py", "[INSTALL] setup.py obfuscation.minified eval.call env.read", true, []string{"install-obfuscated", "obfuscated-exec"}},
		{"setup.py shell", "[INSTALL] setup.py process.import shell.script process.call", false, []string{"install-shell"}},
		{"setup.py shell detached", "[INSTALL] setup.py process.import shell.script process.detached process.call", true, nil},
		{"setup.py drops a blob", "[INSTALL] setup.py string.base64 encoding.call fs.write process.call", true, []string{"install-decode-exec"}},
		{"tunnel with host facts", "[OTHER] os.call url url.tunnel net.dns", true, []string{"exfil-endpoint", "endpoint-exfil"}},
		{"discord stealer", "[IMPORT] sensitive.browser sensitive.messenger fs.read url.webhook net.call",
			true, []string{"exfil-endpoint", "endpoint-exfil", "secrets-to-odd-endpoint", "secret-stores", "secret-stores-network"}},
		{"dependency confusion probe", "[INSTALL] setup.py os.call net.dns", true, nil},
		// Benign shapes, hard negatives included.
		{"plain library", "[IMPORT] fs.import fs.read url net.import net.call", false, nil},
		{"setup.py build flags", "[INSTALL] setup.py os.import env.read env.read fs.read process.import process.call", false, nil},
		{"node-gyp", "[INSTALL] install.script install.binding_gyp", false, nil},
		{"prebuild-install", "[INSTALL] install.script process.call", false, nil},
		{"cmake build_ext", "[INSTALL] setup.py setup.cmdclass setup.install_class env.read process.call fs.write", false, nil},
		{"minified bundle with eval", "[IMPORT] obfuscation.minified eval.call net.call", false, []string{"obfuscated-exec"}},
		{"http client reading token env at import", "[IMPORT] env.read.secret net.import net.call url", false, nil},
		{"empty", "", false, nil},
		{"big library with every capability far apart",
			"[IMPORT] sensitive.wallet env.read.secret " + strings.Repeat("fs.read url ", 30) + "net.call url.ip " + strings.Repeat("os.import fs.write ", 30) + "string.hex " + strings.Repeat("fs.read url ", 30) + "eval.call",
			false, nil},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks := strings.Fields(tt.seq)
			s, err := c.Score(context.Background(), toks)
			if err != nil {
				t.Fatal(err)
			}
			if s < 0 || s > 1 {
				t.Fatalf("score %v outside [0,1]", s)
			}
			if got := s >= c.Threshold(); got != tt.flagged {
				t.Errorf("score %.3f, flagged %v, want %v (hits %v)", s, got, tt.flagged, c.Explain(toks))
			}
			if tt.rules != nil {
				var names []string
				for _, h := range c.Explain(toks) {
					names = append(names, h.Rule)
				}
				slices.Sort(names)
				want := slices.Sorted(slices.Values(tt.rules))
				if !slices.Equal(names, want) {
					t.Errorf("rules %v, want %v", names, want)
				}
			}
		})
	}
}

func TestBatchAndContext(t *testing.T) {
	c := New()
	seqs := [][]string{strings.Fields("[IMPORT] eval.decoded"), nil}
	got, err := c.ScoreBatch(context.Background(), seqs)
	if err != nil || len(got) != 2 || got[0] <= got[1] {
		t.Fatalf("ScoreBatch = %v, %v", got, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Score(ctx, nil); err == nil {
		t.Error("Score ignored a cancelled context")
	}
	if _, err := c.ScoreBatch(ctx, seqs); err == nil {
		t.Error("ScoreBatch ignored a cancelled context")
	}
	if c.Version() != Version || len(c.Rules()) == 0 {
		t.Error("Version/Rules")
	}
}
