package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadDir reads the files under the folder root as if they were an archive
// (Format "dir", no top folder). It never follows symbolic links below root
// (they are listed in Skipped), skips .git and node_modules folders, and
// applies the same limits as Read (MaxRatio aside). Failures to read the
// folder itself are returned as ordinary I/O errors, not *Error.
func ReadDir(root string, opt Options) (*Archive, error) {
	lim := opt.Limits.withDefaults()
	// Following a link given as the root itself is the caller's choice.
	resolved, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if fi, err := os.Stat(resolved); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("archive: %s: not a directory", root)
	}
	r := newReader(formatDir, lim, opt)
	r.fixRoot("")
	err = filepath.WalkDir(resolved, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == resolved {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(resolved, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if err := r.countEntry(rel); err != nil {
			return err
		}
		name, err := cleanName(rel, false, lim.MaxDepth)
		if err != nil {
			return err
		}
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			r.skip(name, "symlink to "+quotePath(target))
			return nil
		case t.IsRegular():
			return r.dirFile(p, name)
		default:
			r.skip(name, fmt.Sprintf("irregular file (mode %v)", t))
			return nil
		}
	})
	if err != nil {
		if ae := (*Error)(nil); errors.As(err, &ae) {
			return nil, ae
		}
		return nil, fmt.Errorf("archive: %w", err)
	}
	return r.finish(), nil
}

func (r *reader) dirFile(p, name string) error {
	f, err := openNoFollow(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() { // replaced between the walk and the open
		r.skip(name, fmt.Sprintf("irregular file (mode %v)", fi.Mode()))
		return nil
	}
	return r.addFile(f, name, fi.Size())
}
