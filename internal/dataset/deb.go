package dataset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"strconv"
	"strings"
)

// ErrDeb marks a .deb that cannot be turned into a package archive.
var ErrDeb = errors.New("unusable .deb")

// arMember is one file of an ar archive.
type arMember struct {
	Name string
	Data []byte
}

// parseAr reads the members of a System V / GNU ar archive (the .deb
// container) held in memory.
func parseAr(b []byte) ([]arMember, error) {
	const magic = "!<arch>\n"
	if !bytes.HasPrefix(b, []byte(magic)) {
		return nil, fmt.Errorf("%w: not an ar archive", ErrDeb)
	}
	var out []arMember
	off := len(magic)
	for off < len(b) {
		if len(b)-off < 60 {
			return nil, fmt.Errorf("%w: truncated ar header at %d", ErrDeb, off)
		}
		h := b[off : off+60]
		if h[58] != '`' || h[59] != '\n' {
			return nil, fmt.Errorf("%w: bad ar header at %d", ErrDeb, off)
		}
		name := strings.TrimRight(strings.TrimSpace(string(h[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(h[48:58])), 10, 64)
		if err != nil || size < 0 || size > int64(len(b)-off-60) {
			return nil, fmt.Errorf("%w: bad ar member size %q", ErrDeb, h[48:58])
		}
		off += 60
		out = append(out, arMember{Name: name, Data: b[off : off+int(size)]})
		off += int(size)
		if off%2 == 1 && off < len(b) { // members are 2-byte aligned
			off++
		}
	}
	return out, nil
}

// debToTar turns a Debian python3-* package into a package-like tar held in
// memory: the files under usr/lib/python3*/dist-packages/ (installed-form
// Python code), with that prefix stripped. Regular files only. xz is
// decompressed by piping through the system's xz (the Go standard library
// has none); nothing is written to disk.
func debToTar(ctx context.Context, deb []byte, maxBytes int64) ([]byte, error) {
	members, err := parseAr(deb)
	if err != nil {
		return nil, err
	}
	var data *arMember
	for i := range members {
		if strings.HasPrefix(members[i].Name, "data.tar") {
			data = &members[i]
			break
		}
	}
	if data == nil {
		return nil, fmt.Errorf("%w: no data.tar member", ErrDeb)
	}
	var raw io.Reader
	switch path.Ext(data.Name) {
	case ".xz":
		b, err := unxz(ctx, data.Data, maxBytes)
		if err != nil {
			return nil, err
		}
		raw = bytes.NewReader(b)
	case ".gz":
		zr, err := gzip.NewReader(bytes.NewReader(data.Data))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDeb, err)
		}
		raw = io.LimitReader(zr, maxBytes)
	case ".tar":
		raw = bytes.NewReader(data.Data)
	default:
		return nil, fmt.Errorf("%w: unsupported member %s", ErrDeb, data.Name)
	}

	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(raw)
	files := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: data.tar: %v", ErrDeb, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		rel, ok := distPackagesPath(h.Name)
		if !ok {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: rel, Mode: 0o644, Size: h.Size, Typeflag: tar.TypeReg, ModTime: h.ModTime}); err != nil {
			return nil, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, fmt.Errorf("%w: data.tar: %v", ErrDeb, err)
		}
		files++
	}
	if files == 0 {
		return nil, fmt.Errorf("%w: no files under usr/lib/python3*/dist-packages", ErrDeb)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// distPackagesPath returns name relative to usr/lib/python3*/dist-packages/.
func distPackagesPath(name string) (string, bool) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	parts := strings.SplitN(name, "/", 5)
	if len(parts) < 5 || parts[0] != "usr" || parts[1] != "lib" ||
		!strings.HasPrefix(parts[2], "python3") || parts[3] != "dist-packages" {
		return "", false
	}
	return parts[4], true
}

// unxz decompresses b through `xz -dc` (stdin to stdout, all in memory),
// refusing output over maxBytes.
func unxz(ctx context.Context, b []byte, maxBytes int64) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "xz", "-dc")
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: run xz (needed for data.tar.xz): %v", ErrDeb, err)
	}
	out, readErr := io.ReadAll(io.LimitReader(stdout, maxBytes+1))
	if int64(len(out)) > maxBytes {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("%w: data.tar is larger than %d bytes", ErrDeb, maxBytes)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("%w: xz: %v: %s", ErrDeb, err, strings.TrimSpace(stderr.String()))
	}
	if readErr != nil {
		return nil, fmt.Errorf("%w: xz: %v", ErrDeb, readErr)
	}
	return out, nil
}
