package semver

import (
	"errors"
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"1.2.3", "1.2.3", true},
		{"v1.2.3", "1.2.3", true},
		{"=1.2.3", "1.2.3", true},
		{" =v1.2.3 ", "1.2.3", true},
		{"1.2.3-beta.1", "1.2.3-beta.1", true},
		{"1.2.3-0.3.7", "1.2.3-0.3.7", true},
		{"1.2.3-x.7.z.92", "1.2.3-x.7.z.92", true},
		{"1.2.3+build.5", "1.2.3", true},
		{"1.2.3-rc.1+exp.sha.5114f85", "1.2.3-rc.1", true},
		{"1.2.3-alpha-1", "1.2.3-alpha-1", true},
		{"0.0.0", "0.0.0", true},
		{"1.2", "", false},
		{"1", "", false},
		{"1.2.x", "", false},
		{"01.2.3", "", false},
		{"1.02.3", "", false},
		{"1.2.3-01", "", false},
		{"1.2.3-", "", false},
		{"1.2.3+", "", false},
		{"1.2.3-a..b", "", false},
		{"1.2.3.4", "", false},
		{"a.b.c", "", false},
		{"", "", false},
		{"99999999999999999.0.0", "", false},
		{"1.2.3 4", "", false},
	}
	for _, tt := range tests {
		v, err := Parse(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("Parse(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", tt.in, err)
			}
			continue
		}
		if got := v.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	// Each entry is lower than the next (semver.org §11 plus npm cases).
	ordered := []string{
		"0.0.0-0",
		"0.0.0",
		"0.9.99",
		"1.0.0-0",
		"1.0.0-0.0",
		"1.0.0-1",
		"1.0.0-2",
		"1.0.0-10",
		"1.0.0-alpha",
		"1.0.0-alpha.1",
		"1.0.0-alpha.beta",
		"1.0.0-beta",
		"1.0.0-beta.2",
		"1.0.0-beta.11",
		"1.0.0-rc.1",
		"1.0.0",
		"1.0.1",
		"1.2.0",
		"1.10.0",
		"2.0.0-alpha",
		"2.0.0",
		"10.0.0",
	}
	for i := range ordered {
		for j := range ordered {
			a, b := MustParse(ordered[i]), MustParse(ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := Compare(a, b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	if Compare(MustParse("1.0.0+a"), MustParse("1.0.0+b")) != 0 {
		t.Error("build metadata must not affect precedence")
	}
	if !MustParse("1.0.0-x").Prerelease() || MustParse("1.0.0+x").Prerelease() {
		t.Error("Prerelease() wrong")
	}
}

// Cases from node-semver's test/fixtures/range-include.js and
// range-exclude.js (default options).
func TestRangeContains(t *testing.T) {
	include := [][2]string{
		{"1.0.0 - 2.0.0", "1.2.3"},
		{"^1.2.3+build", "1.2.3"},
		{"^1.2.3+build", "1.3.0"},
		{"1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3"},
		{"1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3-pre.2"},
		{"1.2.3-pre+asdf - 2.4.3-pre+asdf", "2.4.3-alpha"},
		{"1.2.3+asdf - 2.4.3+asdf", "1.2.3"},
		{"1.0.0", "1.0.0"},
		{">=*", "0.2.4"},
		{"", "1.0.0"},
		{"*", "1.2.3"},
		{"*", "v1.2.3"},
		{">=1.0.0", "1.0.0"},
		{">=1.0.0", "1.0.1"},
		{">=1.0.0", "1.1.0"},
		{">1.0.0", "1.0.1"},
		{">1.0.0", "1.1.0"},
		{"<=2.0.0", "2.0.0"},
		{"<=2.0.0", "1.9999.9999"},
		{"<=2.0.0", "0.2.9"},
		{"<2.0.0", "1.9999.9999"},
		{"<2.0.0", "0.2.9"},
		{">= 1.0.0", "1.0.0"},
		{">=  1.0.0", "1.0.1"},
		{"> 1.0.0", "1.0.1"},
		{"<=   2.0.0", "2.0.0"},
		{"< 2.0.0", "0.2.9"},
		{">=0.1.97", "v0.1.97"},
		{">=0.1.97", "0.1.97"},
		{"0.1.20 || 1.2.4", "1.2.4"},
		{">=0.2.3 || <0.0.1", "0.0.0"},
		{">=0.2.3 || <0.0.1", "0.2.3"},
		{">=0.2.3 || <0.0.1", "0.2.4"},
		{"||", "1.3.4"},
		{"2.x.x", "2.1.3"},
		{"1.2.x", "1.2.3"},
		{"1.2.x || 2.x", "2.1.3"},
		{"1.2.x || 2.x", "1.2.3"},
		{"x", "1.2.3"},
		{"2.*.*", "2.1.3"},
		{"1.2.*", "1.2.3"},
		{"1.2.* || 2.*", "2.1.3"},
		{"*", "1.2.3"},
		{"2", "2.1.2"},
		{"2.3", "2.3.1"},
		{"~0.0.1", "0.0.1"},
		{"~0.0.1", "0.0.2"},
		{"~x", "0.0.9"},
		{"~2", "2.0.9"},
		{"~2.4", "2.4.0"},
		{"~2.4", "2.4.5"},
		{"~>3.2.1", "3.2.2"},
		{"~1", "1.2.3"},
		{"~>1", "1.2.3"},
		{"~> 1", "1.2.3"},
		{"~1.0", "1.0.2"},
		{"~ 1.0", "1.0.2"},
		{"~ 1.0.3", "1.0.12"},
		{">=1", "1.0.0"},
		{">= 1", "1.0.0"},
		{"<1.2", "1.1.1"},
		{"< 1.2", "1.1.1"},
		{"~v0.5.4-pre", "0.5.5"},
		{"~v0.5.4-pre", "0.5.4"},
		{"=0.7.x", "0.7.2"},
		{"<=0.7.x", "0.7.2"},
		{">=0.7.x", "0.7.2"},
		{"<=0.7.x", "0.6.2"},
		{"~1.2.1 >=1.2.3", "1.2.3"},
		{"~1.2.1 =1.2.3", "1.2.3"},
		{"~1.2.1 1.2.3", "1.2.3"},
		{"~1.2.1 >=1.2.3 1.2.3", "1.2.3"},
		{"~1.2.1 1.2.3 >=1.2.3", "1.2.3"},
		{">=1.2.1 1.2.3", "1.2.3"},
		{"1.2.3 >=1.2.1", "1.2.3"},
		{">=1.2.3 >=1.2.1", "1.2.3"},
		{">=1.2.1 >=1.2.3", "1.2.3"},
		{">=1.2", "1.2.8"},
		{"^1.2.3", "1.8.1"},
		{"^0.1.2", "0.1.2"},
		{"^0.1", "0.1.2"},
		{"^0.0.1", "0.0.1"},
		{"^1.2", "1.4.2"},
		{"^1.2 ^1", "1.4.2"},
		{"^1.2.3-alpha", "1.2.3-pre"},
		{"^1.2.0-alpha", "1.2.0-pre"},
		{"^0.0.1-alpha", "0.0.1-beta"},
		{"^0.0.1-alpha", "0.0.1"},
		{"^0.1.1-alpha", "0.1.1-beta"},
		{"^x", "1.2.3"},
		{"x - 1.0.0", "0.9.7"},
		{"x - 1.x", "0.9.7"},
		{"1.0.0 - x", "1.9.7"},
		{"1.x - x", "1.9.7"},
		{"<=7.x", "7.9.9"},
		{"2.x", "2.0.0"},
		{"1.1.x", "1.1.0"},
		{">1.1.x", "1.2.0"},
		{"<1.x", "0.9.9"},
	}
	for _, c := range include {
		r, err := ParseRange(c[0])
		if err != nil {
			t.Errorf("ParseRange(%q): %v", c[0], err)
			continue
		}
		if !r.Contains(MustParse(c[1])) {
			t.Errorf("%q should contain %s", c[0], c[1])
		}
	}
	exclude := [][2]string{
		{"1.0.0 - 2.0.0", "2.2.3"},
		{"1.2.3+asdf - 2.4.3+asdf", "1.2.3-pre.2"},
		{"1.2.3+asdf - 2.4.3+asdf", "2.4.3-alpha"},
		{"^1.2.3+build", "2.0.0"},
		{"^1.2.3+build", "1.2.0"},
		{"^1.2.3", "1.2.3-pre"},
		{"^1.2", "1.2.0-pre"},
		{">1.2", "1.3.0-beta"},
		{"<=1.2.3", "1.2.3-beta"},
		{"^1.2.3", "1.2.3-beta"},
		{"=0.7.x", "0.7.0-asdf"},
		{">=0.7.x", "0.7.0-asdf"},
		{"<=0.7.x", "0.7.0-asdf"},
		{"1", "1.0.0beta"},
		{"<1", "1.0.0beta"},
		{"< 1", "1.0.0beta"},
		{"1.0.0", "1.0.1"},
		{">=1.0.0", "0.0.0"},
		{">=1.0.0", "0.0.1"},
		{">=1.0.0", "0.1.0"},
		{">1.0.0", "0.0.1"},
		{">1.0.0", "0.1.0"},
		{"<=2.0.0", "3.0.0"},
		{"<=2.0.0", "2.9999.9999"},
		{"<=2.0.0", "2.2.9"},
		{"<2.0.0", "2.9999.9999"},
		{"<2.0.0", "2.2.9"},
		{">=0.1.97", "v0.1.93"},
		{">=0.1.97", "0.1.93"},
		{"0.1.20 || 1.2.4", "1.2.3"},
		{">=0.2.3 || <0.0.1", "0.0.3"},
		{">=0.2.3 || <0.0.1", "0.2.2"},
		{"2.x.x", "1.1.3"},
		{"2.x.x", "3.1.3"},
		{"1.2.x", "1.3.3"},
		{"1.2.x || 2.x", "3.1.3"},
		{"1.2.x || 2.x", "1.1.3"},
		{"2.*.*", "1.1.3"},
		{"2.*.*", "3.1.3"},
		{"1.2.*", "1.3.3"},
		{"2", "1.1.2"},
		{"2.3", "2.4.1"},
		{"~0.0.1", "0.1.0-alpha"},
		{"~0.0.1", "0.1.0"},
		{"~2.4", "2.5.0"},
		{"~2.4", "2.3.9"},
		{"~>3.2.1", "3.3.2"},
		{"~>3.2.1", "3.2.0"},
		{"~1", "0.2.3"},
		{"~>1", "2.2.3"},
		{"~1.0", "1.1.0"},
		{"<1", "1.0.0"},
		{">=1.2", "1.1.1"},
		{"~v0.5.4-beta", "0.5.4-alpha"},
		{"=0.7.x", "0.8.2"},
		{">=0.7.x", "0.6.2"},
		{"<0.7.x", "0.7.2"},
		{"<1.2.3", "1.2.3-beta"},
		{"=1.2.3", "1.2.3-beta"},
		{">1.2", "1.2.8"},
		{"^0.0.1", "0.0.2-alpha"},
		{"^0.0.1", "0.0.2"},
		{"^1.2.3", "2.0.0-alpha"},
		{"^1.2.3", "1.2.2"},
		{"^1.2", "1.1.9"},
		{"*", "1.2.3-foo"},
		{"", "1.0.0-rc1"},
		{"^0.1.2", "0.2.0"},
		{"^0.1", "0.2.0"},
		{"^1.2.3-alpha", "1.3.0-pre"},
		{">*", "1.0.0"},
		{"<*", "1.0.0"},
		{"1.0.0 - x", "0.9.7"},
		{"<=7.x", "8.0.0"},
		{">1.1.x", "1.1.5"},
	}
	for _, c := range exclude {
		r, err := ParseRange(c[0])
		if err != nil {
			t.Errorf("ParseRange(%q): %v", c[0], err)
			continue
		}
		v, err := Parse(c[1])
		if err != nil {
			continue // node's loose-only versions such as "1.0.0beta"
		}
		if r.Contains(v) {
			t.Errorf("%q should not contain %s", c[0], c[1])
		}
	}
}

func TestParseRangeInvalid(t *testing.T) {
	for _, s := range []string{">=abc", "1.2.3.4", "^1.2.3-", "~1.2.3 - ", "1.2.3 - a", "=>1.0.0", "1.02"} {
		if _, err := ParseRange(s); err == nil {
			t.Errorf("ParseRange(%q) succeeded, want error", s)
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseRange(%q) error %v does not wrap ErrInvalid", s, err)
		}
	}
}

func TestMaxSatisfying(t *testing.T) {
	tests := []struct {
		versions []string
		rng      string
		want     string
	}{
		{[]string{"1.2.3", "1.2.4"}, "1.2", "1.2.4"},
		{[]string{"1.2.4", "1.2.3"}, "1.2", "1.2.4"},
		{[]string{"1.2.3", "1.2.4", "1.2.5", "1.2.6"}, "~1.2.3", "1.2.6"},
		{[]string{"1.1.0", "1.2.0", "1.2.1", "1.3.0", "2.0.0-b1", "2.0.0-b2", "2.0.0-b3", "2.0.0", "2.1.0"}, "~2.0.0", "2.0.0"},
		{[]string{"1.0.0", "2.0.0-beta.1"}, "^2.0.0-beta.0", "2.0.0-beta.1"},
		{[]string{"1.0.0", "1.1.0-beta"}, "^1.0.0", "1.0.0"},
		{[]string{"1.0.0"}, "^2", ""},
	}
	for _, tt := range tests {
		var vs []Version
		for _, s := range tt.versions {
			vs = append(vs, MustParse(s))
		}
		got, ok := MaxSatisfying(vs, MustParseRange(tt.rng))
		if tt.want == "" {
			if ok {
				t.Errorf("MaxSatisfying(%v, %q) = %s, want none", tt.versions, tt.rng, got)
			}
			continue
		}
		if !ok || got.String() != tt.want {
			t.Errorf("MaxSatisfying(%v, %q) = %s, %v; want %s", tt.versions, tt.rng, got, ok, tt.want)
		}
	}
}

func TestSortStable(t *testing.T) {
	in := []string{"1.0.0", "1.0.0-rc.1", "0.9.0", "1.0.0-beta", "10.0.0", "2.0.0"}
	vs := make([]Version, len(in))
	for i, s := range in {
		vs[i] = MustParse(s)
	}
	slices.SortFunc(vs, Compare)
	var got []string
	for _, v := range vs {
		got = append(got, v.String())
	}
	want := []string{"0.9.0", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "2.0.0", "10.0.0"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted = %v, want %v", got, want)
	}
}

func FuzzSemverRange(f *testing.F) {
	for _, s := range []string{"^1.2.3", "~1.2", "1.x || >=2.5.0 || 5.0.0 - 7.2.3", "*", "", ">=1.0.0-beta <2", "1.2.3-pre+asdf - 2.4.3-pre+asdf", "~>3.2.1", "<=7.x"} {
		f.Add(s, "1.2.3")
		f.Add(s, "2.0.0-beta.1")
	}
	f.Fuzz(func(t *testing.T, rs, vs string) {
		r, err := ParseRange(rs)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		v, err := Parse(vs)
		if err != nil {
			return
		}
		got := r.Contains(v)
		// String round trip keeps precedence.
		v2, err := Parse(v.String())
		if err != nil || Compare(v, v2) != 0 {
			t.Fatalf("round trip %q -> %q: %v", vs, v.String(), err)
		}
		if r.Contains(v2) != got {
			t.Fatalf("Contains differs after round trip")
		}
		// A union with itself changes nothing.
		r2, err := ParseRange(rs + " || " + rs)
		if err == nil && r2.Contains(v) != got {
			t.Fatalf("%q || itself disagrees on %s", rs, vs)
		}
	})
}
