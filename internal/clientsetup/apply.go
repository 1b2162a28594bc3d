package clientsetup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Markers delimit the block moat manages in a TOML file.
const (
	blockBegin = "# >>> moat setup >>>"
	blockEnd   = "# <<< moat setup <<<"
)

// Result says what Apply did.
type Result struct {
	Written   []string // files created or changed
	Unchanged []string // files that already had the settings
	Backups   []Backup
	Undo      []string // shell commands that restore the previous state
	Notes     []string
}

// Backup is a copy of a file taken before Apply changed it.
type Backup struct{ Path, Copy string }

// Apply writes pl.Files. Each existing file is first copied to
// <file>.moat-backup-<timestamp> (its mode kept); a file that already holds
// every setting is left alone. The result's Undo restores the backups and
// removes files Apply created.
func Apply(pl *Plan, now time.Time) (*Result, error) {
	res := &Result{}
	if len(pl.Files) == 0 {
		return res, nil
	}
	stamp := now.UTC().Format("20060102T150405Z")
	for _, fe := range pl.Files {
		old, err := os.ReadFile(fe.Path)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("read %s: %w", fe.Path, err)
		}
		updated := edit(old, fe)
		if exists && bytes.Equal(updated, old) {
			res.Unchanged = append(res.Unchanged, fe.Path)
			continue
		}
		perm := os.FileMode(0o644)
		if fe.Format == FormatNpmrc || fe.Format == FormatYarnrc {
			perm = 0o600 // these files often hold registry tokens
		}
		if exists {
			fi, err := os.Stat(fe.Path)
			if err != nil {
				return res, err
			}
			perm = fi.Mode().Perm()
			bak := fe.Path + ".moat-backup-" + stamp
			if err := writeAtomic(bak, old, perm); err != nil {
				return res, fmt.Errorf("backup %s: %w", fe.Path, err)
			}
			res.Backups = append(res.Backups, Backup{Path: fe.Path, Copy: bak})
			res.Undo = append(res.Undo, "mv "+shellQuote(bak)+" "+shellQuote(fe.Path))
		} else {
			res.Undo = append(res.Undo, "rm "+shellQuote(fe.Path))
		}
		if err := os.MkdirAll(filepath.Dir(fe.Path), 0o755); err != nil {
			return res, err
		}
		if err := writeAtomic(fe.Path, updated, perm); err != nil {
			return res, fmt.Errorf("write %s: %w", fe.Path, err)
		}
		res.Written = append(res.Written, fe.Path)
		if fe.Format == FormatEnv {
			res.Notes = append(res.Notes, "Load it in your shell profile (~/.bashrc, ~/.zshrc): . "+shellQuote(fe.Path))
		}
	}
	return res, nil
}

func writeAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// edit returns old with fe's settings applied.
func edit(old []byte, fe FileEdit) []byte {
	switch fe.Format {
	case FormatNpmrc:
		return setLines(old, fe.Set, func(line string) string {
			k, _, _ := strings.Cut(line, "=")
			return strings.TrimSpace(k)
		}, func(kv KV) string { return kv.Key + "=" + kv.Value })
	case FormatYarnrc:
		return setLines(old, fe.Set, func(line string) string {
			k, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			return strings.Trim(k, `"`)
		}, func(kv KV) string { return kv.Key + " " + strconv.Quote(kv.Value) })
	case FormatINI:
		return setINI(old, fe.Section, fe.Set)
	case FormatTOML:
		var lines []string
		for _, kv := range fe.Set {
			lines = append(lines, kv.Key)
		}
		return setBlock(old, lines)
	case FormatEnv:
		var b strings.Builder
		b.WriteString("# Written by `moat setup`; load it from your shell profile.\n")
		for _, kv := range fe.Set {
			b.WriteString("export " + kv.Key + "=" + shellQuote(kv.Value) + "\n")
		}
		return []byte(b.String())
	}
	return old
}

func splitLines(b []byte) []string {
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func joinLines(lines []string) []byte {
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

func isComment(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";")
}

// setLines replaces the line of each key (the last one, if repeated, wins
// in these formats, so all are replaced) or appends it.
func setLines(old []byte, set []KV, keyOf func(string) string, format func(KV) string) []byte {
	lines := splitLines(old)
	for _, kv := range set {
		found := false
		for i, l := range lines {
			if !isComment(l) && keyOf(l) == kv.Key {
				lines[i] = format(kv)
				found = true
			}
		}
		if !found {
			lines = append(lines, format(kv))
		}
	}
	return joinLines(lines)
}

// setINI sets keys in [section], adding the section when absent.
func setINI(old []byte, section string, set []KV) []byte {
	lines := splitLines(old)
	header := "[" + section + "]"
	for _, kv := range set {
		start, end := -1, len(lines) // the section's lines are (start, end)
		for i, l := range lines {
			t := strings.TrimSpace(l)
			if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
				if start >= 0 {
					end = i
					break
				}
				if strings.EqualFold(t, header) {
					start = i
				}
			}
		}
		line := kv.Key + " = " + kv.Value
		if start < 0 {
			if len(lines) > 0 {
				lines = append(lines, "")
			}
			lines = append(lines, header, line)
			continue
		}
		found := false
		last := start
		for i := start + 1; i < end; i++ {
			if isComment(lines[i]) {
				continue
			}
			last = i
			k, _, _ := strings.Cut(lines[i], "=")
			if strings.TrimSpace(k) == kv.Key {
				lines[i] = line
				found = true
			}
		}
		if !found {
			lines = append(lines[:last+1], append([]string{line}, lines[last+1:]...)...)
		}
	}
	return joinLines(lines)
}

// setBlock replaces moat's marked block or appends one.
func setBlock(old []byte, body []string) []byte {
	lines := splitLines(old)
	block := append(append([]string{blockBegin}, body...), blockEnd)
	b, e := -1, -1
	for i, l := range lines {
		switch strings.TrimSpace(l) {
		case blockBegin:
			b = i
		case blockEnd:
			if b >= 0 {
				e = i
			}
		}
	}
	if b >= 0 && e > b {
		out := append(append(append([]string{}, lines[:b]...), block...), lines[e+1:]...)
		return joinLines(out)
	}
	if len(lines) > 0 {
		lines = append(lines, "")
	}
	return joinLines(append(lines, block...))
}

// Render writes what Apply did and how to undo it.
func (r *Result) Render(w io.Writer, files Locations) error {
	var b strings.Builder
	for _, p := range r.Written {
		b.WriteString("wrote " + files.Pretty(p) + "\n")
	}
	for _, p := range r.Unchanged {
		b.WriteString("unchanged " + files.Pretty(p) + " (already set)\n")
	}
	for _, bk := range r.Backups {
		b.WriteString("backup " + files.Pretty(bk.Copy) + "\n")
	}
	for _, n := range r.Notes {
		b.WriteString(n + "\n")
	}
	if len(r.Undo) > 0 {
		b.WriteString("To undo:\n")
		for _, u := range r.Undo {
			b.WriteString("  " + u + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
