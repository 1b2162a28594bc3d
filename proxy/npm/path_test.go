package npm

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		path string
		want Route
	}{
		{"/lodash", Route{Kind: RoutePackument, Name: "lodash"}},
		{"/@types%2fnode", Route{Kind: RoutePackument, Name: "@types/node"}},
		{"/@types%2Fnode", Route{Kind: RoutePackument, Name: "@types/node"}},
		{"/@types/node", Route{Kind: RoutePackument, Name: "@types/node"}},
		{"/JSONStream", Route{Kind: RoutePackument, Name: "JSONStream"}},
		{"/lodash/4.17.21", Route{Kind: RoutePackumentVersion, Name: "lodash", Version: "4.17.21"}},
		{"/lodash/latest", Route{Kind: RoutePackumentVersion, Name: "lodash", Version: "latest"}},
		{"/@babel/core/7.0.0-beta.1", Route{Kind: RoutePackumentVersion, Name: "@babel/core", Version: "7.0.0-beta.1"}},
		{"/@babel%2fcore/next", Route{Kind: RoutePackumentVersion, Name: "@babel/core", Version: "next"}},
		{"/lodash/-/lodash-4.17.21.tgz", Route{Kind: RouteTarball, Name: "lodash", Version: "4.17.21", Filename: "lodash-4.17.21.tgz"}},
		{"/@types/node/-/node-20.1.0.tgz", Route{Kind: RouteTarball, Name: "@types/node", Version: "20.1.0", Filename: "node-20.1.0.tgz"}},
		{"/@types%2fnode/-/node-20.1.0-rc.1.tgz", Route{Kind: RouteTarball, Name: "@types/node", Version: "20.1.0-rc.1", Filename: "node-20.1.0-rc.1.tgz"}},
		{"/a-b/-/a-b-1.0.0.tgz", Route{Kind: RouteTarball, Name: "a-b", Version: "1.0.0", Filename: "a-b-1.0.0.tgz"}},
		{"/-/v1/search", Route{Kind: RouteSearch, Rest: "v1/search"}},
		{"/-/npm/v1/security/advisories/bulk", Route{Kind: RouteAdvisories, Rest: "npm/v1/security/advisories/bulk"}},
		{"/-/ping", Route{Kind: RouteOtherDash, Rest: "ping"}},
		{"/-/whoami", Route{Kind: RouteOtherDash, Rest: "whoami"}},
		{"/-/npm/v1/security/audits/quick", Route{Kind: RouteOtherDash, Rest: "npm/v1/security/audits/quick"}},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.path)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.path, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParsePath(%q) = %+v, want %+v", tt.path, got, tt.want)
		}
	}
}

func TestParsePathInvalid(t *testing.T) {
	for _, p := range []string{
		"",
		"/",
		"lodash",
		"/.hidden",
		"/_private",
		"/..",
		"/a..b",
		"/%2e%2e",
		"/%40types%2fnode", // npm does not accept an encoded "@"
		"/@types",
		"/@types%2f",
		"/@%2fnode",
		"/@types%2fnode%2fx",
		"/@types/.node",
		"/has%20space",
		"/ctl%0a",
		"/node_modules",
		"/a%2fb",
		"/lodash/",
		"/lodash/-/other-1.0.0.tgz",
		"/lodash/-/lodash-1.0.tgz",
		"/lodash/-/lodash-v1.0.0.tgz",
		"/lodash/-/lodash-1.0.0.tar.gz",
		"/lodash/-/",
		"/lodash/x/lodash-1.0.0.tgz",
		"/lodash/-/lodash-1.0.0.tgz/extra",
		"/lodash/1.0.0%2f..",
		"/" + strings.Repeat("a", 215),
		"/UPPER%zz",
	} {
		r, err := ParsePath(p)
		if err == nil {
			t.Errorf("ParsePath(%q) = %+v, want error", p, r)
			continue
		}
		var pe *PathError
		if !errors.Is(err, ErrInvalidPath) || !errors.As(err, &pe) {
			t.Errorf("ParsePath(%q) error %v is not a *PathError", p, err)
		}
	}
}

func TestTarballPath(t *testing.T) {
	tests := []struct{ name, version, want string }{
		{"lodash", "4.17.21", "/lodash/-/lodash-4.17.21.tgz"},
		{"@types/node", "20.1.0", "/@types/node/-/node-20.1.0.tgz"},
		{"x", "1.0.0+build.1", "/x/-/x-1.0.0+build.1.tgz"},
		{"x", "../../evil", "/x/-/x-..%2F..%2Fevil.tgz"},
	}
	for _, tt := range tests {
		if got := TarballPath(tt.name, tt.version); got != tt.want {
			t.Errorf("TarballPath(%q, %q) = %q, want %q", tt.name, tt.version, got, tt.want)
		}
	}
	// Round trip through the router for valid names and versions.
	for _, tt := range tests[:3] {
		r, err := ParsePath(TarballPath(tt.name, tt.version))
		if err != nil || r.Kind != RouteTarball || r.Name != tt.name || r.Version != tt.version {
			t.Errorf("ParsePath(TarballPath(%q, %q)) = %+v, %v", tt.name, tt.version, r, err)
		}
	}
}

func TestParseTarballFilename(t *testing.T) {
	tests := []struct {
		name, file, want string
		ok               bool
	}{
		{"lodash", "lodash-4.17.21.tgz", "4.17.21", true},
		{"@scope/pkg", "pkg-1.0.0-beta.2.tgz", "1.0.0-beta.2", true},
		{"@scope/pkg", "@scope/pkg-1.0.0.tgz", "", false},
		{"a-b", "a-b-1.0.0.tgz", "1.0.0", true},
		{"a", "a-b-1.0.0.tgz", "", false},
		{"a", "a-1.0.0", "", false},
		{"a", "a-=1.0.0.tgz", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseTarballFilename(tt.name, tt.file)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseTarballFilename(%q, %q) = %q, %v; want %q, %v", tt.name, tt.file, got, ok, tt.want, tt.ok)
		}
	}
}

func TestErrorBody(t *testing.T) {
	got := string(ErrorBody(`moat blocked x@1.0.0: "bad"`))
	want := `{"error":"moat blocked x@1.0.0: \"bad\""}`
	if got != want {
		t.Errorf("ErrorBody = %s, want %s", got, want)
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/lodash", "/@types%2fnode", "/@types/node/-/node-1.0.0.tgz", "/-/v1/search", "/a/1.0.0", "/%40x%2fy", "/a/-/a-1.0.0-rc.1+b.tgz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r, err := ParsePath(p)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("error %v does not wrap ErrInvalidPath", err)
			}
			return
		}
		switch r.Kind {
		case RoutePackument, RoutePackumentVersion, RouteTarball:
			if err := ValidateName(r.Name); err != nil {
				t.Fatalf("accepted invalid name %q: %v", r.Name, err)
			}
			if strings.ContainsAny(r.Version+r.Filename, "/\\") {
				t.Fatalf("version/filename with a slash: %+v", r)
			}
		case RouteSearch, RouteAdvisories, RouteOtherDash:
			if !strings.HasPrefix(p, "/-/") {
				t.Fatalf("dash route for %q", p)
			}
		default:
			t.Fatalf("unknown kind %v", r.Kind)
		}
		if r.Kind == RouteTarball {
			r2, err := ParsePath(TarballPath(r.Name, r.Version))
			if err != nil || r2.Name != r.Name || r2.Version != r.Version {
				t.Fatalf("TarballPath round trip of %+v: %+v, %v", r, r2, err)
			}
		}
	})
}
