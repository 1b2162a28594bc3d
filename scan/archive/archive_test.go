package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"testing"
)

// summary renders an archive one line per file and skip, so expectations
// read like a listing.
func summary(a *Archive) string {
	var b strings.Builder
	fmt.Fprintf(&b, "format=%s root=%q\n", a.Format, a.Root)
	for _, f := range a.Files {
		data := "-"
		if f.Data != nil {
			data = fmt.Sprintf("%q", f.Data)
		}
		tr := ""
		if f.Truncated {
			tr = " truncated"
		}
		fmt.Fprintf(&b, "file %s %d %s%s\n", f.Path, f.Size, data, tr)
	}
	for _, s := range a.Skipped {
		fmt.Fprintf(&b, "skip %s: %s\n", s.Path, s.Reason)
	}
	return b.String()
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

func TestRead(t *testing.T) {
	long := "package/" + strings.Repeat("a-long-folder-name/", 12) + "deep.js" // needs a PAX long name
	tests := []struct {
		name     string
		filename string
		data     func(t *testing.T) []byte
		opt      Options
		want     string
	}{
		{
			name:     "npm layout",
			filename: "demo-1.0.0.tgz",
			data: func(t *testing.T) []byte {
				return tgz(t,
					tent{name: "package/", typ: tar.TypeDir},
					tent{name: "package/package.json", body: `{"name":"demo"}`},
					tent{name: "package/index.js", body: "module.exports = 1\n"},
					tent{name: "package/lib/util.js", body: "exports.u = 2\n"},
				)
			},
			want: lines(`format=tar.gz root="package"`,
				`file package.json 15 "{\"name\":\"demo\"}"`,
				`file index.js 19 "module.exports = 1\n"`,
				`file lib/util.js 14 "exports.u = 2\n"`),
		},
		{
			name:     "leading dot slash",
			filename: "x.tgz",
			data: func(t *testing.T) []byte {
				return tgz(t,
					tent{name: "./", typ: tar.TypeDir},
					tent{name: "./package/index.js", body: "a"},
					tent{name: "./package//lib/b.js", body: "b"},
				)
			},
			want: lines(`format=tar.gz root="package"`, `file index.js 1 "a"`, `file lib/b.js 1 "b"`),
		},
		{
			name:     "unusual npm top folder",
			filename: "node-thing-2.0.0.tgz",
			data: func(t *testing.T) []byte {
				return tgz(t, tent{name: "node-thing/package.json", body: "{}"}, tent{name: "node-thing/cli.js", body: "x"})
			},
			want: lines(`format=tar.gz root="node-thing"`, `file package.json 2 "{}"`, `file cli.js 1 "x"`),
		},
		{
			name:     "no common top folder",
			filename: "x.tgz",
			data: func(t *testing.T) []byte {
				return tgz(t, tent{name: "pkg/a.js", body: "a"}, tent{name: "README.md", body: "r"})
			},
			want: lines(`format=tar.gz root=""`, `file pkg/a.js 1 "a"`, `file README.md 1 "r"`),
		},
		{
			name:     "single top-level file",
			filename: "x.tgz",
			data:     func(t *testing.T) []byte { return tgz(t, tent{name: "index.js", body: "a"}) },
			want:     lines(`format=tar.gz root=""`, `file index.js 1 "a"`),
		},
		{
			name:     "long name",
			filename: "x.tgz",
			data: func(t *testing.T) []byte {
				return tgz(t, tent{name: "package/package.json", body: "{}"}, tent{name: long, body: "z"})
			},
			want: lines(`format=tar.gz root="package"`, `file package.json 2 "{}"`,
				fmt.Sprintf(`file %s 1 "z"`, strings.TrimPrefix(long, "package/"))),
		},
		{
			name:     "sdist tar.gz",
			filename: "demo-1.0.tar.gz",
			data: func(t *testing.T) []byte {
				return tgz(t,
					tent{name: "demo-1.0/PKG-INFO", body: "Name: demo\n"},
					tent{name: "demo-1.0/setup.py", body: "from setuptools import setup\n"},
					tent{name: "demo-1.0/demo/__init__.py", body: ""},
				)
			},
			want: lines(`format=tar.gz root="demo-1.0"`,
				`file PKG-INFO 11 "Name: demo\n"`,
				`file setup.py 29 "from setuptools import setup\n"`,
				`file demo/__init__.py 0 ""`),
		},
		{
			name:     "sdist tar.bz2 fixture",
			filename: "demo-1.0.tar.bz2",
			data:     fixture("demo-1.0.tar.bz2"),
			want: lines(`format=tar.bz2 root="demo-1.0"`,
				`file PKG-INFO 46 "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"`,
				`file demo/__init__.py 16 "VERSION = \"1.0\"\n"`,
				`file setup.py 83 "from setuptools import setup\n\nsetup(name=\"demo\", version=\"1.0\", packages=[\"demo\"])\n"`),
		},
		{
			name:     "plain tar",
			filename: "x.tar",
			data:     func(t *testing.T) []byte { return makeTar(t, tent{name: "p/a.py", body: "a"}) },
			want:     lines(`format=tar root="p"`, `file a.py 1 "a"`),
		},
		{
			name:     "wheel",
			filename: "demo-1.0-py3-none-any.whl",
			data: func(t *testing.T) []byte {
				return makeZip(t,
					zent{name: "demo/__init__.py", body: "x = 1\n"},
					zent{name: "demo-1.0.dist-info/METADATA", body: "Name: demo\n"},
					zent{name: "demo-1.0.dist-info/RECORD", body: ""},
				)
			},
			want: lines(`format=zip root=""`,
				`file demo/__init__.py 6 "x = 1\n"`,
				`file demo-1.0.dist-info/METADATA 11 "Name: demo\n"`,
				`file demo-1.0.dist-info/RECORD 0 ""`),
		},
		{
			name:     "wheel with only dist-info keeps it",
			filename: "demo-1.0-py3-none-any.whl",
			data: func(t *testing.T) []byte {
				return makeZip(t, zent{name: "demo-1.0.dist-info/METADATA", body: "m"}, zent{name: "demo-1.0.dist-info/RECORD", body: "r"})
			},
			want: lines(`format=zip root=""`, `file demo-1.0.dist-info/METADATA 1 "m"`, `file demo-1.0.dist-info/RECORD 1 "r"`),
		},
		{
			name:     "wheel served as tar.gz",
			filename: "demo-1.0.tar.gz",
			data: func(t *testing.T) []byte {
				return makeZip(t, zent{name: "demo/__init__.py", body: "x"}, zent{name: "demo-1.0.dist-info/RECORD", body: "r"})
			},
			want: lines(`format=zip root=""`, `file demo/__init__.py 1 "x"`, `file demo-1.0.dist-info/RECORD 1 "r"`),
		},
		{
			name:     "zip sdist with windows separators",
			filename: "demo-1.0.zip",
			data: func(t *testing.T) []byte {
				return makeZip(t, zent{name: `demo-1.0\`}, zent{name: `demo-1.0\setup.py`, body: "s"}, zent{name: `demo-1.0\demo\__init__.py`, body: "i"})
			},
			want: lines(`format=zip root="demo-1.0"`, `file setup.py 1 "s"`, `file demo/__init__.py 1 "i"`),
		},
		{
			name:     "links devices and specials are skipped",
			filename: "x.tgz",
			data: func(t *testing.T) []byte {
				return tgz(t,
					tent{name: "package/index.js", body: "i"},
					tent{name: "package/ln", typ: tar.TypeSymlink, link: "../../outside"},
					tent{name: "package/hard", typ: tar.TypeLink, link: "package/index.js"},
					tent{name: "package/chr", typ: tar.TypeChar},
					tent{name: "package/blk", typ: tar.TypeBlock},
					tent{name: "package/fifo", typ: tar.TypeFifo},
				)
			},
			want: lines(`format=tar.gz root="package"`, `file index.js 1 "i"`,
				`skip ln: symlink to ../../outside`,
				`skip hard: hardlink to package/index.js`,
				`skip chr: character device`,
				`skip blk: block device`,
				`skip fifo: fifo`),
		},
		{
			// pip writes such entries as regular files: their bytes must be seen.
			name:     "zip mode bits are ignored",
			filename: "x.whl",
			data: func(t *testing.T) []byte {
				return makeZip(t,
					zent{name: "demo/a.py", body: "a"},
					zent{name: "demo/ln.py", body: "import os", mode: os.ModeSymlink | 0o777},
					zent{name: "demo/dir.py", body: "import sys", mode: os.ModeDir | 0o755},
					zent{name: "demo/sub/", body: ""},
				)
			},
			want: lines(`format=zip root="demo"`, `file a.py 1 "a"`, `file ln.py 9 "import os"`, `file dir.py 10 "import sys"`),
		},
		{
			// Python's tarfile extracts unknown entry types as regular files.
			name:     "unknown tar type is read as a file",
			filename: "x.tgz",
			data: func(t *testing.T) []byte {
				return tgz(t, tent{name: "demo-1.0/PKG-INFO", body: "p"}, tent{name: "demo-1.0/setup.py", typ: 'Z', body: "import os"})
			},
			want: lines(`format=tar.gz root="demo-1.0"`, `file PKG-INFO 1 "p"`, `file setup.py 9 "import os"`),
		},
		{
			name:     "pax global header is skipped",
			filename: "x.tgz",
			data: func(t *testing.T) []byte {
				var buf bytes.Buffer
				tw := tar.NewWriter(&buf)
				must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "c0ffee"}}))
				must(t, tw.WriteHeader(&tar.Header{Name: "p/a.js", Size: 1, Mode: 0o644}))
				_, _ = tw.Write([]byte("a"))
				must(t, tw.Close())
				return gz(t, buf.Bytes())
			},
			want: lines(`format=tar.gz root="p"`, `file a.js 1 "a"`, `skip pax_global_header: pax global header`),
		},
		{
			name:     "tar duplicates keep the last",
			filename: "x.tgz",
			data: func(t *testing.T) []byte {
				return tgz(t, tent{name: "package/a.js", body: "first"}, tent{name: "package/b.js", body: "b"}, tent{name: "./package/a.js", body: "second"})
			},
			want: lines(`format=tar.gz root="package"`, `file b.js 1 "b"`, `file a.js 6 "second"`,
				`skip a.js: duplicate entry, superseded by a later one`),
		},
		{
			name:     "zip duplicates keep the last",
			filename: "x.whl",
			data: func(t *testing.T) []byte {
				return makeZip(t, zent{name: "d/a.py", body: "first"}, zent{name: "d/a.py", body: "second"})
			},
			want: lines(`format=zip root="d"`, `file a.py 6 "second"`, `skip a.py: duplicate entry, superseded by a later one`),
		},
		{
			name:     "want filtering and truncation",
			filename: "x.tgz",
			data: func(t *testing.T) []byte {
				return tgz(t,
					tent{name: "package/index.js", body: "0123456789abc"},
					tent{name: "package/logo.png", body: "\x89PNG"},
					tent{name: "package/index.js.map", body: "{}"},
					tent{name: "package/types.d.ts", body: "x"},
					tent{name: "package/bin/cli", body: "#!/bin/sh\n"},
					tent{name: "package/small.json", body: "{}"},
				)
			},
			opt: Options{Limits: Limits{MaxFileBytes: 10}, Want: WantSource},
			want: lines(`format=tar.gz root="package"`,
				`file index.js 13 "0123456789" truncated`,
				`file logo.png 4 -`,
				`file index.js.map 2 -`,
				`file types.d.ts 1 -`,
				`file bin/cli 10 "#!/bin/sh\n"`,
				`file small.json 2 "{}"`),
		},
		{
			name:     "empty tar.gz",
			filename: "x.tgz",
			data:     func(t *testing.T) []byte { return tgz(t) },
			want:     lines(`format=tar.gz root=""`),
		},
		{
			name:     "empty zip",
			filename: "x.whl",
			data:     func(t *testing.T) []byte { return makeZip(t) },
			want:     lines(`format=zip root=""`),
		},
		{
			name:     "below ratio floor",
			filename: "x.tgz",
			data:     func(t *testing.T) []byte { return tgz(t, tent{name: "p/zeros.bin", body: "\x00", size: 4 << 20}) },
			opt:      Options{Want: WantSource},
			want:     lines(`format=tar.gz root="p"`, `file zeros.bin 4194304 -`),
		},
		{
			name:     "depth at the limit",
			filename: "x.tgz",
			data: func(t *testing.T) []byte {
				return tgz(t, tent{name: strings.Repeat("d/", 47) + "f", body: "f"})
			},
			want: lines(`format=tar.gz root="d"`, fmt.Sprintf(`file %sf 1 "f"`, strings.Repeat("d/", 46))),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Read(tt.filename, tt.data(t), tt.opt)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := summary(a); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func fixture(name string) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rawZip builds a one-entry zip whose header fields are taken as given.
func rawZip(t testing.TB, fh zip.FileHeader, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	fh.CompressedSize64 = uint64(len(raw))
	w, err := zw.CreateRaw(&fh)
	must(t, err)
	_, err = w.Write(raw)
	must(t, err)
	must(t, zw.Close())
	return buf.Bytes()
}

func deflate(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = fw.Write(b)
	must(t, fw.Close())
	return buf.Bytes()
}

func TestReadErrors(t *testing.T) {
	body := []byte("print('hi')\n")
	crc := crc32.ChecksumIEEE(body)
	small := Limits{MaxFiles: 3, MaxTotalBytes: 100}
	tests := []struct {
		name     string
		filename string
		data     func(t *testing.T) []byte
		opt      Options
		kind     string
		msg      string // substring of Error()
	}{
		{"empty input", "x.tgz", func(*testing.T) []byte { return nil }, Options{}, KindFormat, "empty input"},
		{"unknown format", "x.rar", func(*testing.T) []byte { return []byte("Rar!\x1a\x07") }, Options{}, KindFormat, "unknown archive format"},
		{"garbage named tgz", "x.tgz", func(*testing.T) []byte { return []byte("not an archive") }, Options{}, KindFormat, "gzip"},
		{"garbage named whl", "x.whl", func(*testing.T) []byte { return []byte("not an archive") }, Options{}, KindFormat, "zip"},
		{"gzip of non-tar", "x.tgz", func(t *testing.T) []byte { return gz(t, bytes.Repeat([]byte("hello "), 200)) }, Options{}, KindFormat, "tar"},
		{"gzip of nothing", "x.tgz", func(t *testing.T) []byte { return gz(t, nil) }, Options{}, KindFormat, "end-of-archive"},
		{"truncated gzip", "x.tgz", func(t *testing.T) []byte {
			b := tgz(t, tent{name: "package/a.js", body: "x", size: 100_000})
			return b[:len(b)/2]
		}, Options{}, KindFormat, "truncated"},
		{"truncated gzip trailer", "x.tgz", func(t *testing.T) []byte {
			b := tgz(t, tent{name: "package/a.js", body: "abc"})
			return b[:len(b)-4]
		}, Options{}, KindFormat, "truncated"},
		{"tar cut at an entry boundary", "x.tar", func(t *testing.T) []byte {
			b := makeTar(t, tent{name: "package/a.js", body: "abc"}, tent{name: "package/b.js", body: "def"})
			return b[:1024] // first header and its data block, nothing more
		}, Options{}, KindFormat, "end-of-archive marker"},
		{"tar cut mid data", "x.tar", func(t *testing.T) []byte {
			b := makeTar(t, tent{name: "package/a.js", body: "x", size: 2000})
			return b[:1000]
		}, Options{}, KindFormat, "truncated"},
		{"data after end marker", "x.tgz", func(t *testing.T) []byte {
			b := makeTar(t, tent{name: "package/a.js", body: "abc"})
			b = append(b, makeTar(t, tent{name: "package/hidden.js", body: "evil"})...)
			return gz(t, b)
		}, Options{}, KindFormat, "after the tar end-of-archive marker"},
		{"corrupt tar header", "x.tar", func(t *testing.T) []byte {
			b := makeTar(t, tent{name: "package/a.js", body: "abc"})
			b[0] ^= 0xff // name byte; checksum no longer matches
			return b
		}, Options{}, KindFormat, "tar"},

		{"dotdot", "x.tgz", func(t *testing.T) []byte {
			return tgz(t, tent{name: "package/a.js", body: "a"}, tent{name: "../evil.js", body: "e"})
		}, Options{}, KindBadPath, `".." path element`},
		{"dotdot inside", "x.tgz", func(t *testing.T) []byte { return tgz(t, tent{name: "package/../../evil.js", body: "e"}) }, Options{}, KindBadPath, "package/../../evil.js"},
		{"absolute", "x.tgz", func(t *testing.T) []byte { return tgz(t, tent{name: "/etc/evil", body: "e"}) }, Options{}, KindBadPath, "absolute"},
		{"backslash dotdot in tar", "x.tgz", func(t *testing.T) []byte { return tgz(t, tent{name: `package\..\..\evil.js`, body: "e"}) }, Options{}, KindBadPath, "path element"},
		{"symlink named dotdot", "x.tgz", func(t *testing.T) []byte {
			return tgz(t, tent{name: "../ln", typ: tar.TypeSymlink, link: "x"})
		}, Options{}, KindBadPath, "path element"},
		{"zip backslash dotdot", "x.whl", func(t *testing.T) []byte { return makeZip(t, zent{name: `..\..\evil.py`, body: "e"}) }, Options{}, KindBadPath, "path element"},
		{"zip drive letter", "x.whl", func(t *testing.T) []byte { return makeZip(t, zent{name: `C:\evil.py`, body: "e"}) }, Options{}, KindBadPath, "drive-letter"},
		{"zip absolute", "x.whl", func(t *testing.T) []byte { return makeZip(t, zent{name: "/evil.py", body: "e"}) }, Options{}, KindBadPath, "absolute"},
		{"zip NUL", "x.whl", func(t *testing.T) []byte { return makeZip(t, zent{name: "demo/a.py\x00.txt", body: "e"}) }, Options{}, KindBadPath, `\x00`},

		{"too deep", "x.tgz", func(t *testing.T) []byte { return tgz(t, tent{name: strings.Repeat("d/", 48) + "f", body: "f"}) }, Options{}, KindDepth, "too deep"},
		{"too deep dir", "x.tgz", func(t *testing.T) []byte { return tgz(t, tent{name: strings.Repeat("d/", 5), typ: tar.TypeDir}) }, Options{Limits: Limits{MaxDepth: 4}}, KindDepth, "too deep"},

		{"too many tar entries", "x.tgz", func(t *testing.T) []byte {
			return tgz(t, tent{name: "p/", typ: tar.TypeDir}, tent{name: "p/a", body: "a"}, tent{name: "p/b", body: "b"}, tent{name: "p/c", body: "c"})
		}, Options{Limits: small}, KindTooManyFiles, "more than 3"},
		{"too many zip entries", "x.whl", func(t *testing.T) []byte {
			return makeZip(t, zent{name: "a"}, zent{name: "b"}, zent{name: "c"}, zent{name: "d"})
		}, Options{Limits: small}, KindTooManyFiles, "more than 3"},
		{"too large total", "x.tgz", func(t *testing.T) []byte {
			return tgz(t, tent{name: "p/a.js", body: "a", size: 60}, tent{name: "p/b.js", body: "b", size: 60})
		}, Options{Limits: small}, KindTooLarge, "p/b.js"},
		{"unwanted bytes still count", "x.tgz", func(t *testing.T) []byte {
			return tgz(t, tent{name: "p/a.png", body: "a", size: 60}, tent{name: "p/b.png", body: "b", size: 60})
		}, Options{Limits: small, Want: WantSource}, KindTooLarge, "p/b.png"},
		{"single entry over budget", "x.tgz", func(t *testing.T) []byte {
			return tgz(t, tent{name: "p/a.js", body: "a", size: 200})
		}, Options{Limits: small}, KindTooLarge, "remaining budget"},
		{"zip over budget", "x.whl", func(t *testing.T) []byte {
			return makeZip(t, zent{name: "p/a.py", body: "a", size: 200})
		}, Options{Limits: small}, KindTooLarge, "p/a.py"},

		{"gzip bomb", "x.tgz", func(t *testing.T) []byte {
			return tgz(t, tent{name: "package/a.js", body: "\x00", size: 16 << 20})
		}, Options{}, KindRatio, "ratio above 200"},
		{"gzip bomb of headers", "x.tgz", func(t *testing.T) []byte {
			// A symlink with a large body: archive/tar discards it, the
			// stream counter still sees it.
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			must(t, tw.WriteHeader(&tar.Header{Name: "p/a.js", Typeflag: tar.TypeReg, Size: 16 << 20}))
			_, _ = tw.Write(make([]byte, 16<<20))
			must(t, tw.Close())
			b := buf.Bytes()
			b[156] = tar.TypeSymlink
			fixChecksum(b[:512])
			return gz(t, b)
		}, Options{}, KindRatio, "ratio"},
		{"zip bomb", "x.whl", func(t *testing.T) []byte {
			return makeZip(t, zent{name: "demo/a.py", body: "\x00", size: 16 << 20})
		}, Options{}, KindRatio, "ratio above 200"},

		{"zip size lies low (stored)", "x.whl", func(t *testing.T) []byte {
			return rawZip(t, zip.FileHeader{Name: "demo/a.py", Method: zip.Store, CRC32: crc, UncompressedSize64: 3}, body)
		}, Options{}, KindFormat, "declared size of 3"},
		{"zip size lies high (stored)", "x.whl", func(t *testing.T) []byte {
			return rawZip(t, zip.FileHeader{Name: "demo/a.py", Method: zip.Store, CRC32: crc, UncompressedSize64: 500}, body)
		}, Options{}, KindFormat, "declared size of 500"},
		{"zip size lies low (deflate)", "x.whl", func(t *testing.T) []byte {
			big := bytes.Repeat(body, 1000)
			return rawZip(t, zip.FileHeader{Name: "demo/a.py", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(big), UncompressedSize64: 10}, deflate(t, big))
		}, Options{}, KindFormat, "declared size of 10"},
		{"zip bad crc", "x.whl", func(t *testing.T) []byte {
			return rawZip(t, zip.FileHeader{Name: "demo/a.py", Method: zip.Store, CRC32: crc + 1, UncompressedSize64: uint64(len(body))}, body)
		}, Options{}, KindFormat, "checksum"},
		{"zip unsupported method", "x.whl", func(t *testing.T) []byte {
			return rawZip(t, zip.FileHeader{Name: "demo/a.py", Method: 14, CRC32: crc, UncompressedSize64: uint64(len(body))}, body)
		}, Options{}, KindFormat, "unsupported compression method 14"},
		{"zip encrypted", "x.whl", func(t *testing.T) []byte {
			return rawZip(t, zip.FileHeader{Name: "demo/a.py", Method: zip.Store, Flags: 1, CRC32: crc, UncompressedSize64: uint64(len(body))}, body)
		}, Options{}, KindFormat, "encrypted"},
		{"zip truncated", "x.whl", func(t *testing.T) []byte {
			b := makeZip(t, zent{name: "demo/a.py", body: "a"})
			return b[:len(b)-10]
		}, Options{}, KindFormat, "zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Read(tt.filename, tt.data(t), tt.opt)
			if err == nil {
				t.Fatalf("Read succeeded:\n%s", summary(a))
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if ae.Kind != tt.kind {
				t.Errorf("kind %q, want %q (%v)", ae.Kind, tt.kind, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			if a != nil {
				t.Errorf("partial archive returned with an error")
			}
		})
	}
}

// fixChecksum recomputes a tar header block's checksum after an edit.
func fixChecksum(h []byte) {
	copy(h[148:156], "        ")
	var sum int
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

// Every strict prefix of an archive must fail: a cut never yields a
// partial success that silently drops files.
func TestReadEveryPrefixFails(t *testing.T) {
	ents := []tent{{name: "package/package.json", body: `{"name":"x"}`}, {name: "package/index.js", body: "y", size: 3000}}
	cases := map[string][]byte{
		"x.tgz": tgz(t, ents...),
		"x.tar": makeTar(t, ents...),
		"x.whl": makeZip(t, zent{name: "d/a.py", body: "a"}, zent{name: "d/b.py", body: "b", size: 3000}),
	}
	for name, full := range cases {
		for n := 1; n < len(full); n++ {
			// One zero block of the two-block end marker is a valid end.
			if name == "x.tar" && n == len(full)-512 {
				continue
			}
			a, err := Read(name, full[:n], Options{})
			if err == nil {
				t.Fatalf("%s cut at %d/%d: succeeded with %d files", name, n, len(full), len(a.Files))
			}
			if ae := (*Error)(nil); !errors.As(err, &ae) || ae.Kind != KindFormat {
				t.Fatalf("%s cut at %d: %v, want %s", name, n, err, KindFormat)
			}
		}
	}
}

// When the first file suggests a top folder that a later one does not share,
// Want must still be asked with the true (unstripped) paths.
func TestWantSeesFinalPaths(t *testing.T) {
	data := tgz(t, tent{name: "pkg/a.js", body: "a"}, tent{name: "pkg/b.js", body: "b"}, tent{name: "other/c.js", body: "c"})
	var asked []string
	a, err := Read("x.tgz", data, Options{Want: func(p string, size int64) bool {
		asked = append(asked, p)
		return true
	}})
	must(t, err)
	if got, want := strings.Join(asked[len(asked)-3:], ","), "pkg/a.js,pkg/b.js,other/c.js"; got != want {
		t.Errorf("last Want calls %s, want %s", got, want)
	}
	if a.Root != "" || a.Files[0].Path != "pkg/a.js" {
		t.Errorf("root %q, first file %q", a.Root, a.Files[0].Path)
	}

	asked = nil
	data = tgz(t, tent{name: "package/a.js", body: "a"}, tent{name: "package/lib/b.js", body: "b"})
	_, err = Read("x.tgz", data, Options{Want: func(p string, size int64) bool {
		asked = append(asked, fmt.Sprintf("%s:%d", p, size))
		return true
	}})
	must(t, err)
	if got, want := strings.Join(asked, ","), "a.js:1,lib/b.js:1"; got != want {
		t.Errorf("Want calls %s, want %s", got, want)
	}
}

func TestZipUsesDataDescriptors(t *testing.T) {
	// archive/zip's writer streams entries with data descriptors; make sure
	// that is what TestRead's wheels exercise.
	data := makeZip(t, zent{name: "demo/a.py", body: "a"})
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	must(t, err)
	if zr.File[0].Flags&0x8 == 0 {
		t.Fatal("test zips carry no data descriptor")
	}
	if _, err := Read("x.whl", data, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestErrorType(t *testing.T) {
	cause := errors.New("boom")
	e := &Error{Kind: KindBadPath, Path: "a\x00b", Err: cause}
	if !errors.Is(e, cause) {
		t.Error("Unwrap does not reach the cause")
	}
	if got, want := e.Error(), `archive.bad_path: "a\x00b": boom`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (&Error{Kind: KindFormat}).Error(), "archive.format"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestDefaultLimits(t *testing.T) {
	want := Limits{MaxTotalBytes: 512 << 20, MaxFileBytes: 16 << 20, MaxFiles: 50_000, MaxRatio: 200, MaxDepth: 48}
	if got := DefaultLimits(); got != want {
		t.Errorf("DefaultLimits() = %+v", got)
	}
	if got := (Limits{MaxFiles: 7}).withDefaults(); got.MaxFiles != 7 || got.MaxTotalBytes != want.MaxTotalBytes {
		t.Errorf("withDefaults = %+v", got)
	}
}

// countingWriter records what an Observe writer was given.
type countingWriter struct {
	path string
	buf  bytes.Buffer
}

func (w *countingWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

// Observe sees every byte of the files Want keeps (up to MaxFileBytes) and
// caps what is kept of them; the File carries its writer.
func TestObserve(t *testing.T) {
	big := strings.Repeat("0123456789", 1000)
	data := tgz(t, tent{name: "package/a.js", body: big}, tent{name: "package/b.js", body: "short"},
		tent{name: "package/c.json", body: big}, tent{name: "package/d.png", body: big})
	var asked []string
	a, err := Read("x.tgz", data, Options{Limits: Limits{MaxFileBytes: 5000}, Want: WantSource,
		Observe: func(p string, size int64) (io.Writer, int64) {
			asked = append(asked, fmt.Sprintf("%s:%d", p, size))
			if p == "c.json" {
				return nil, 0 // kept whole, no writer
			}
			return &countingWriter{path: p}, 100
		}})
	must(t, err)
	if got, want := strings.Join(asked, ","), "a.js:10000,b.js:5,c.json:10000"; got != want {
		t.Errorf("Observe calls %s, want %s", got, want)
	}
	byPath := map[string]File{}
	for _, f := range a.Files {
		byPath[f.Path] = f
	}
	fa := byPath["a.js"]
	if string(fa.Data) != big[:100] || !fa.Truncated || fa.Size != 10000 {
		t.Errorf("a.js: %d bytes kept, truncated %v, size %d", len(fa.Data), fa.Truncated, fa.Size)
	}
	if w, ok := fa.Observer.(*countingWriter); !ok || w.buf.String() != big[:5000] {
		t.Errorf("a.js observer %T saw the wrong bytes (MaxFileBytes is 5000)", fa.Observer)
	}
	fb := byPath["b.js"]
	if string(fb.Data) != "short" || fb.Truncated || fb.Observer.(*countingWriter).buf.String() != "short" {
		t.Errorf("b.js: %+v", fb)
	}
	fc := byPath["c.json"]
	if len(fc.Data) != 5000 || !fc.Truncated || fc.Observer != nil {
		t.Errorf("c.json: %d bytes kept, truncated %v, observer %v", len(fc.Data), fc.Truncated, fc.Observer)
	}
	if fd := byPath["d.png"]; fd.Data != nil || fd.Observer != nil {
		t.Errorf("d.png (not wanted): %+v", fd)
	}

	// A read again without stripping (a wrong top-folder guess) gives the
	// files fresh writers, which saw each file once.
	data = tgz(t, tent{name: "pkg/a.js", body: "aaa"}, tent{name: "other/b.js", body: "bbb"})
	a, err = Read("x.tgz", data, Options{Observe: func(p string, size int64) (io.Writer, int64) {
		return &countingWriter{path: p}, 0
	}})
	must(t, err)
	for _, f := range a.Files {
		w := f.Observer.(*countingWriter)
		if w.path != f.Path || w.buf.String() != string(f.Data) {
			t.Errorf("%s: observer for %s saw %q", f.Path, w.path, w.buf.String())
		}
	}
}
