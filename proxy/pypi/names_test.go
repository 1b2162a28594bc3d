package pypi

import (
	"errors"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	tests := map[string]string{
		"Django":            "django",
		"zope.interface":    "zope-interface",
		"Foo__Bar-.-baz":    "foo-bar-baz",
		"typing_extensions": "typing-extensions",
		"a":                 "a",
		"A.B_C-D":           "a-b-c-d",
		"":                  "",
	}
	for in, want := range tests {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
	for name, want := range map[string]bool{"requests": true, "zope.interface": true, "a": true, "A1": true, "-a": false, "a-": false, "a b": false, "": false, "ä": false, "a.b-c_d": true} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v", name, got)
		}
	}
}

func TestParseFilename(t *testing.T) {
	tests := []struct {
		in   string
		want FileInfo
	}{
		{"requests-2.31.0-py3-none-any.whl", FileInfo{Project: "requests", Version: "2.31.0", Kind: Wheel, Python: "py3", ABI: "none", Platform: "any", Ext: ".whl"}},
		{"numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", FileInfo{Project: "numpy", Version: "1.26.4", Kind: Wheel, Python: "cp312", ABI: "cp312", Platform: "manylinux_2_17_x86_64.manylinux2014_x86_64", Ext: ".whl"}},
		{"Foo_Bar-1.0-1-py2.py3-none-any.whl", FileInfo{Project: "foo-bar", Version: "1.0", Kind: Wheel, BuildTag: "1", Python: "py2.py3", ABI: "none", Platform: "any", Ext: ".whl"}},
		{"pkg-1.0-2abc-py3-none-any.WHL", FileInfo{Project: "pkg", Version: "1.0", Kind: Wheel, BuildTag: "2abc", Python: "py3", ABI: "none", Platform: "any", Ext: ".whl"}},
		{"requests-2.31.0.tar.gz", FileInfo{Project: "requests", Version: "2.31.0", Kind: Sdist, Ext: ".tar.gz"}},
		{"python-dateutil-2.8.2.tar.gz", FileInfo{Project: "python-dateutil", Version: "2.8.2", Kind: Sdist, Ext: ".tar.gz"}},
		{"Zope.Interface-5.0.zip", FileInfo{Project: "zope-interface", Version: "5.0", Kind: Sdist, Ext: ".zip"}},
		{"pkg-1.0.tar.bz2", FileInfo{Project: "pkg", Version: "1.0", Kind: Sdist, Ext: ".tar.bz2"}},
		{"pkg-1.0.tgz", FileInfo{Project: "pkg", Version: "1.0", Kind: Sdist, Ext: ".tgz"}},
		{"pkg-1.0.tar", FileInfo{Project: "pkg", Version: "1.0", Kind: Sdist, Ext: ".tar"}},
		{"pkg-1!2.0rc1+local.tar.gz", FileInfo{Project: "pkg", Version: "1!2.0rc1+local", Kind: Sdist, Ext: ".tar.gz"}},
	}
	for _, tt := range tests {
		got, err := ParseFilename(tt.in)
		if err != nil {
			t.Errorf("ParseFilename(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseFilename(%q) =\n %+v\nwant\n %+v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{
		"", "pkg.tar.gz", "pkg-.tar.gz", "-1.0.tar.gz", "pkg-1.0.exe", "pkg-1.0-py3-none.whl",
		"pkg-1.0-x-py3-none-any.whl", "pkg-1.0-1-2-py3-none-any.whl", "../pkg-1.0.tar.gz", "pkg-1.0 .tar.gz",
		"pkg-1.0--none-any.whl", "pkg-1.0.egg", "p\x85kg-1.0.tar.gz", "pkg-1.0-py3-none-any\u212a.whl", "p%2fkg-1.0.tar.gz", "pkg-1.0-py3-none-any.whl.metadata",
	} {
		if fi, err := ParseFilename(bad); !errors.Is(err, ErrFilename) {
			t.Errorf("ParseFilename(%q) = %+v, %v; want ErrFilename", bad, fi, err)
		}
	}
}

func TestStripMetadataSuffix(t *testing.T) {
	if f, ok := StripMetadataSuffix("pkg-1.0-py3-none-any.whl.metadata"); !ok || f != "pkg-1.0-py3-none-any.whl" {
		t.Errorf("got %q %v", f, ok)
	}
	if _, ok := StripMetadataSuffix("pkg-1.0.tar.gz"); ok {
		t.Error("plain file name recognised as metadata")
	}
	if _, ok := StripMetadataSuffix(".metadata"); ok {
		t.Error("bare suffix recognised")
	}
}

func FuzzParseFilename(f *testing.F) {
	for _, s := range []string{"requests-2.31.0-py3-none-any.whl", "python-dateutil-2.8.2.tar.gz", "Foo_Bar-1.0-1-py2.py3-none-any.whl", "x-1.zip", "a-b-c-d-e-f-g.whl", "\xc8\xba-1.TAR.GZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fi, err := ParseFilename(s)
		if err != nil {
			if !errors.Is(err, ErrFilename) {
				t.Fatalf("error %v does not wrap ErrFilename", err)
			}
			return
		}
		if fi.Project == "" || fi.Version == "" || NormalizeName(fi.Project) != fi.Project {
			t.Fatalf("bad result %+v for %q", fi, s)
		}
		if fi.Kind == Wheel && (fi.Python == "" || fi.ABI == "" || fi.Platform == "") {
			t.Fatalf("wheel without tags %+v", fi)
		}
	})
}
