package npm

import (
	"maps"
	"testing"
)

const resolveDoc = `{"name":"demo","dist-tags":{"latest":"1.2.0","next":"2.0.0-beta.1"},
"versions":{
 "1.0.0":{"version":"1.0.0","dist":{"tarball":"u"}},
 "1.2.0":{"version":"1.2.0","dist":{"tarball":"u"},"dependencies":{"a":"^1.0.0","b":"npm:@s/real@~2.1","g":"git+https://example.invalid/g.git","f":"file:../f","gh":"user/repo"},
   "optionalDependencies":{"o":"*"},"peerDependencies":{"p":">=3"}},
 "1.3.0":{"version":"1.3.0","dist":{"tarball":"u"}},
 "2.0.0-beta.1":{"version":"2.0.0-beta.1","dist":{"tarball":"u"}},
 "3.1.0":{"version":"3.1.0","dist":{"tarball":"u"}}}}`

func TestResolve(t *testing.T) {
	p, err := ParsePackument([]byte(resolveDoc))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ spec, want string }{
		{"", "1.2.0"},
		{"latest", "1.2.0"},
		{"next", "2.0.0-beta.1"},
		{"^1.0.0", "1.2.0"}, // latest satisfies: npm prefers it over 1.3.0
		{"~1.3", "1.3.0"},
		{">=2", "3.1.0"},   // the prerelease is not matched by a plain range
		{"1.0.0", "1.0.0"}, // exact
		{"^4", ""},
		{"not a range !!", ""},
	} {
		vi, ok := p.Resolve(tt.spec)
		if got := vi.Version; ok != (tt.want != "") || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.spec, got, ok, tt.want)
		}
	}
}

func TestDependencies(t *testing.T) {
	p, err := ParsePackument([]byte(resolveDoc))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Dependencies("1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "^1.0.0", "@s/real": "~2.1", "o": "*", "p": ">=3"}
	if !maps.Equal(got, want) {
		t.Errorf("Dependencies = %v, want %v", got, want)
	}
	if d, err := p.Dependencies("1.0.0"); err != nil || len(d) != 0 {
		t.Errorf("Dependencies(1.0.0) = %v, %v; want empty", d, err)
	}
	if _, err := p.Dependencies("9.9.9"); err == nil {
		t.Error("Dependencies of a missing version: no error")
	}
}
