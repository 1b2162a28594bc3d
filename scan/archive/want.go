package archive

import (
	"path"
	"strings"
)

// WantSource is the default Options.Want: it keeps what the scanner parses
// or what drives installation — JavaScript (.js .cjs .mjs .jsx), Python (.py
// .pyw .pth), manifests and metadata (.json .cfg .toml, PKG-INFO, METADATA,
// RECORD, entry_points.txt, top_level.txt, top-level requirements*.txt),
// shell and Windows scripts (.sh .bat .cmd .ps1), node-gyp files
// (binding.gyp, .gyp) and extension-less files under a bin/ folder or a
// wheel's .data/scripts/ folder. Everything else (TypeScript and .d.ts,
// source maps, images, fonts, native binaries) is rejected. Extensions
// compare case-insensitively.
func WantSource(p string, size int64) bool {
	base := path.Base(p)
	switch base {
	case "PKG-INFO", "METADATA", "RECORD", "entry_points.txt", "top_level.txt", "binding.gyp":
		return true
	}
	lower := strings.ToLower(base)
	switch path.Ext(lower) {
	case ".js", ".cjs", ".mjs", ".jsx",
		".py", ".pyw", ".pth",
		".json", ".cfg", ".toml",
		".sh", ".bat", ".cmd", ".ps1",
		".gyp":
		return true
	case ".txt":
		return !strings.Contains(p, "/") && strings.HasPrefix(lower, "requirements")
	case "":
		return isScriptDir(path.Dir(p))
	}
	return false
}

// isScriptDir reports whether dir is, or lies under, a bin/ folder (at any
// level), or is a wheel's <name>.data/scripts folder.
func isScriptDir(dir string) bool {
	if dir == "bin" || strings.HasPrefix(dir, "bin/") ||
		strings.HasSuffix(dir, "/bin") || strings.Contains(dir, "/bin/") {
		return true
	}
	parent, last := path.Split(dir)
	return last == "scripts" && strings.HasSuffix(strings.TrimSuffix(parent, "/"), ".data")
}
