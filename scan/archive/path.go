package archive

import (
	"errors"
	"path"
	"strings"
)

// cleanName validates an entry name and returns it cleaned: slash-separated,
// without leading "./", duplicate or trailing slashes. "." means the archive
// root itself (a "./" directory entry). With backslash set, `\` is read as a
// separator first (zip names written on Windows; tar extractors on Windows
// do the same, so `..\` is an escape attempt there too).
//
// Any ".." element is refused, even one that would not escape: packaging
// tools never write one, so it is a signal of its own.
func cleanName(name string, backslash bool, maxDepth int) (string, error) {
	bad := func(msg string) (string, error) {
		return "", &Error{Kind: KindBadPath, Path: name, Err: errors.New(msg)}
	}
	if name == "" {
		return bad("empty name")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return bad("NUL byte in name")
	}
	n := name
	if backslash {
		n = strings.ReplaceAll(n, `\`, "/")
	}
	if n[0] == '/' {
		return bad("absolute path")
	}
	if len(n) >= 2 && n[1] == ':' && isASCIILetter(n[0]) {
		return bad("drive-letter path")
	}
	for elem := range strings.SplitSeq(n, "/") {
		if elem == ".." {
			return bad(`".." path element`)
		}
	}
	p := path.Clean(n)
	if p != "." && strings.Count(p, "/")+1 > maxDepth {
		return "", &Error{Kind: KindDepth, Path: name, Err: errors.New("path too deep")}
	}
	return p, nil
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// firstElem returns the first path element of p and whether p has more.
func firstElem(p string) (string, bool) {
	first, _, more := strings.Cut(p, "/")
	return first, more
}

// rootCandidate returns the top folder a file at p suggests, or "" when p
// cannot live under a strippable one: it sits at the top level, or its top
// folder is wheel/egg metadata, which is content, not a wrapper.
func rootCandidate(p string) string {
	first, more := firstElem(p)
	if !more || isMetadataDir(first) {
		return ""
	}
	return first
}

func isMetadataDir(name string) bool {
	return strings.HasSuffix(name, ".dist-info") || strings.HasSuffix(name, ".data") ||
		strings.HasSuffix(name, ".egg-info") || name == "EGG-INFO"
}

// commonRoot is the top folder shared by every path, or "".
func commonRoot(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	root := rootCandidate(paths[0])
	if root == "" {
		return ""
	}
	for _, p := range paths[1:] {
		if !strings.HasPrefix(p, root+"/") {
			return ""
		}
	}
	return root
}

// stripRoot removes root+"/" from p, when p lies under it.
func stripRoot(p, root string) string {
	if root == "" {
		return p
	}
	if rest, ok := strings.CutPrefix(p, root+"/"); ok {
		return rest
	}
	return p
}
