package forward

import (
	"net/netip"
	"testing"
)

func TestAuthority(t *testing.T) {
	cases := []struct{ in, def, want string }{
		{"Registry.Example.Invalid", "443", "registry.example.invalid:443"},
		{"registry.example.invalid.:8443", "443", "registry.example.invalid:8443"},
		{"127.0.0.1:80", "443", "127.0.0.1:80"},
		{"[::1]:443", "80", "[::1]:443"},
		{"[::1]", "80", "[::1]:80"},
		{"[0:0::1]:1", "80", "[::1]:1"},
		{"", "443", ""},
		{":443", "443", ""},
		{"host:0", "443", ""},
		{"host:99999", "443", ""},
		{"host:+1", "443", ""},
		{"host:01", "443", ""},
		{"ho st", "443", ""},
		{"host/x", "443", ""},
		{"[fe80::1%eth0]:1", "443", ""},
	}
	for _, c := range cases {
		got, err := Authority(c.in, c.def)
		if c.want == "" {
			if err == nil {
				t.Errorf("Authority(%q) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Authority(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestHostMatcher(t *testing.T) {
	m := HostMatcher([]string{"Registry.Example.Invalid", "127.0.0.1:8443", "*.files.example.invalid", "::1", "[", ""})
	cases := map[string]bool{
		"registry.example.invalid:443":  true,
		"registry.example.invalid:8080": true,
		"127.0.0.1:8443":                true,
		"127.0.0.1:443":                 false,
		"a.files.example.invalid:443":   true,
		"files.example.invalid:443":     false,
		"[::1]:443":                     true,
		"evil.example.invalid:443":      false,
		"not-an-authority":              false,
	}
	for in, want := range cases {
		if got := m(in); got != want {
			t.Errorf("match(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes([]string{"10.0.0.0/8", "192.0.2.7", " ::1 ", "10.1.2.3/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.0.0.0/8")}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %v, want %v", i, got[i], want[i])
		}
	}
	if _, err := ParsePrefixes([]string{"not-a-net"}); err == nil {
		t.Error("garbage accepted")
	}
}

// FuzzAuthority: client-supplied authorities never panic, and a normalised
// one is a fixed point that matches itself as a pattern.
func FuzzAuthority(f *testing.F) {
	for _, s := range []string{"registry.example.invalid", "a.b:443", "[::1]:8080", "[::1]", "127.0.0.1:1", "x:", ":1", "[", "a%2f:1", "\x00:1", "A.B.:65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		hp, err := Authority(in, "443")
		if err != nil {
			return
		}
		again, err := Authority(hp, "1")
		if err != nil || again != hp {
			t.Fatalf("Authority(%q) = %q, then %q, %v", in, hp, again, err)
		}
		if !HostMatcher([]string{hp})(hp) {
			t.Fatalf("%q does not match itself", hp)
		}
	})
}
