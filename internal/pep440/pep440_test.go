package pep440

import (
	"errors"
	"testing"
)

func TestParseNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.0", "1.0"},
		{"v1.0", "1.0"},
		{" 1.0 ", "1.0"},
		{"1!2.0", "1!2.0"},
		{"0!1.0", "1.0"},
		{"1.0a1", "1.0a1"},
		{"1.0alpha1", "1.0a1"},
		{"1.0-ALPHA.1", "1.0a1"},
		{"1.0beta", "1.0b0"},
		{"1.0c1", "1.0rc1"},
		{"1.0pre2", "1.0rc2"},
		{"1.0preview3", "1.0rc3"},
		{"1.0-1", "1.0.post1"},
		{"1.0.post", "1.0.post0"},
		{"1.0-r4", "1.0.post4"},
		{"1.0rev5", "1.0.post5"},
		{"1.0.dev", "1.0.dev0"},
		{"1.0-dev_3", "1.0.dev3"},
		{"1.0a1.post2.dev3", "1.0a1.post2.dev3"},
		{"1.0+Ubuntu-1", "1.0+ubuntu.1"},
		{"1.0+abc_5.x", "1.0+abc.5.x"},
		{"2012.10", "2012.10"},
		{"01.02", "1.2"},
	}
	for _, tt := range tests {
		v, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := v.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "1.0.", "french toast", "1.0+", "1.0+a..b", "1!", "1.0-", "1.0a1a2", "1.0 .1", "1.0+ab c", "1.0.*"} {
		if _, err := Parse(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestCompare(t *testing.T) {
	// PEP 440's example ordering, ascending.
	ordered := []string{
		"1.0.dev456",
		"1.0a1",
		"1.0a2.dev456",
		"1.0a12.dev456",
		"1.0a12",
		"1.0b1.dev456",
		"1.0b2",
		"1.0b2.post345.dev456",
		"1.0b2.post345",
		"1.0rc1.dev456",
		"1.0rc1",
		"1.0",
		"1.0+abc.5",
		"1.0+abc.7",
		"1.0+5",
		"1.0.post456.dev34",
		"1.0.post456",
		"1.0.15",
		"1.1.dev1",
		"1!0.1",
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := Compare(MustParse(ordered[i]), MustParse(ordered[j])); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	if Compare(MustParse("1.0"), MustParse("1.0.0.0")) != 0 {
		t.Error("1.0 != 1.0.0.0")
	}
	for s, want := range map[string]bool{"1.0": false, "1.0a1": true, "1.0.dev0": true, "1.0.post1": false, "1.0rc1.post1": true, "1.0+local": false} {
		if got := MustParse(s).IsPrerelease(); got != want {
			t.Errorf("IsPrerelease(%s) = %v", s, got)
		}
	}
}

func TestSpecifier(t *testing.T) {
	tests := []struct {
		spec    string
		version string
		want    bool
	}{
		{"~=1.4,!=1.5.*,<2", "1.4", true},
		{"~=1.4,!=1.5.*,<2", "1.4.5", true},
		{"~=1.4,!=1.5.*,<2", "1.5.1", false},
		{"~=1.4,!=1.5.*,<2", "1.6", true},
		{"~=1.4,!=1.5.*,<2", "2.0", false},
		{"~=1.4,!=1.5.*,<2", "1.3", false},
		{"~=1.4.5", "1.4.9", true},
		{"~=1.4.5", "1.5.0", false},
		{"~=1.4.5a4", "1.4.5", true},
		{"~=1.4.5a4", "1.4.5a5", true},
		{"~=2.2.post3", "2.3", true},
		{"~=2.2.post3", "3.0", false},
		{"~=1!1.0", "1!1.5", true},
		{"~=1!1.0", "1.5", false},
		{"==1.1", "1.1.0", true},
		{"==1.1", "1.1+local", true},
		{"==1.1+local", "1.1", false},
		{"==1.1+local", "1.1+LOCAL", true},
		{"==1.1.*", "1.1.post1", true},
		{"==1.1.*", "1.10", false},
		{"==1.*", "1", true},
		{"==1.0.*", "1", true},
		{"!=1.1.*", "1.2", true},
		{"!=1.1", "1.1+local", false},
		{">=3.8", "3.8", true},
		{">=3.8", "3.12.1", true},
		{">=3.8", "3.7.17", false},
		{">=3.8", "3.13.0rc1", false},
		{">=3.8", "3.8+local", true},
		{"<=2.0", "2.0+local", true},
		{"<3.1", "3.0.9", true},
		{"<3.1", "3.1.dev0", false},
		{"<3.1", "3.1a1", false},
		{"<3.1rc1", "3.1a1", true},
		{"<3.1rc1", "3.1rc1", false},
		{">3.1", "3.1.post1", false},
		{">3.1", "3.1+local", false},
		{">3.1", "3.1.1", true},
		{">3.1.post1", "3.1.post2", true},
		{">1.0", "2.0.dev1", false},
		{">=1.0a1", "2.0.dev1", true},
		{">=1.0.dev0", "1.0.dev1", true},
		{"===1.0.FOO", "1.0.foo", false}, // not a valid PEP 440 version on the right; tested below
		{"===1.0", "1.0", true},
		{"===1.0", "1.0.0", false},
		{"", "1.0", true},
		{"", "1.0rc1", false},
		{">=2, <3", "2.5", true},
		{">= 2 , < 3", "3.0", false},
		{"==2.0rc1", "2.0rc1", true},
		{"!=2.0rc1", "2.0rc2", false},
	}
	for _, tt := range tests {
		sp, err := ParseSpecifier(tt.spec)
		if err != nil {
			t.Errorf("ParseSpecifier(%q): %v", tt.spec, err)
			continue
		}
		v, err := Parse(tt.version)
		if err != nil {
			continue
		}
		if got := sp.Contains(v); got != tt.want {
			t.Errorf("%q.Contains(%s) = %v, want %v", tt.spec, tt.version, got, tt.want)
		}
	}
	if !MustParseSpecifier(">=1").Match(MustParse("2.0b1"), true) {
		t.Error("Match(pre=true) should accept pre-releases")
	}
}

func TestParseSpecifierInvalid(t *testing.T) {
	for _, s := range []string{"1.0", "=>1.0", "~=1", "~=1.0.*", "<1.0.*", "==1.0a1.*", ">=1.0+local", "==", ">= 1.0 1", ",", "==1.0,"} {
		if _, err := ParseSpecifier(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSpecifier(%q) error = %v, want ErrInvalid", s, err)
		}
	}
}

func FuzzPEP440(f *testing.F) {
	for _, s := range []string{"1.0", "1!2.0a1.post2.dev3+local.7", "1.0-1", "v2.0RC1", "1.0.dev", "01.2"} {
		f.Add(s, "~=1.4,!=1.5.*,<2")
		f.Add(s, ">=3.8")
	}
	f.Fuzz(func(t *testing.T, vs, ss string) {
		v, err := Parse(vs)
		if err == nil {
			// The normal form parses back to an equal version and is a fixed point.
			n := v.String()
			v2, err := Parse(n)
			if err != nil {
				t.Fatalf("normal form %q of %q does not parse: %v", n, vs, err)
			}
			if Compare(v, v2) != 0 || v2.String() != n {
				t.Fatalf("round trip %q -> %q -> %q", vs, n, v2.String())
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
		sp, err := ParseSpecifier(ss)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if v.Release != nil {
			_ = sp.Contains(v)
		}
	})
}
