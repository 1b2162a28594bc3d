package features

import (
	"bytes"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Decoded payloads, publishing, data-file reads and wallet literals
// (Python).

// Limits of decoded-payload expansion.
const (
	maxPayloadDepth     = 2         // payloads inside payloads
	maxPayloadBytes     = 256 << 10 // one payload
	maxPayloads         = 16        // per file, all depths
	maxPayloadTotal     = 1 << 20   // bytes parsed per file, all depths
	payloadParseTimeout = 500 * time.Millisecond
)

// payloadBudget is shared by a file and the payloads expanded from it.
type payloadBudget struct{ count, bytes int }

func (st *pyState) reset() {
	clear(st.bindings)
	clear(st.cache)
	clear(st.active)
	st.bindingsReady = false
	st.steps, st.bytes = pyStepBudget, pyByteBudget
	st.depth, st.execArg, st.payloadDepth = 0, 0, 0
	st.payload = nil
}

// pyExpandPayload parses src, a constant string that reaches
// eval/exec/compile at call n, as Python and emits its events at n. A
// payload that does not parse as Python adds nothing.
func (a *analysis) pyExpandPayload(src []byte, n int32) {
	st := a.pyS()
	if a.ctx == nil || st.payloadDepth >= maxPayloadDepth || len(bytes.TrimSpace(src)) == 0 ||
		len(src) > maxPayloadBytes || !utf8.Valid(src) {
		return
	}
	b := st.payload
	if b == nil {
		b = &payloadBudget{}
		st.payload = b
	}
	if b.count >= maxPayloads || b.bytes+len(src) > maxPayloadTotal {
		return
	}
	b.count++
	b.bytes += len(src)
	p, err := a.lang.get(a.ctx)
	if err != nil {
		return
	}
	tree, cancelled := p.parse(a.ctx, src, payloadParseTimeout)
	if cancelled || tree == nil {
		a.lang.discard(p) // as in Extract: a halted parser is not reused
		if tree != nil {
			tree.Close()
		}
		return
	}
	sub := getAnalysis(a.lang, a.path, src)
	defer putAnalysis(sub)
	err = flatten(tree, &sub.tree)
	tree.Close()
	a.lang.put(p)
	if err != nil {
		return
	}
	ss := sub.pyS()
	ss.payload = b
	ss.payloadDepth = st.payloadDepth + 1
	for r := range a.seenTok { // import tokens once per file, payloads included
		sub.seenTok[r] = struct{}{}
	}
	if sub.run(a.ctx) != nil {
		return
	}
	for _, it := range sub.fileItems {
		if it.tok == "parse.error" {
			return // not Python source
		}
	}
	sub.fileItems = sub.fileItems[:0] // layout of the payload, not of the file
	for _, ev := range sub.output(nil) {
		a.emit(ev.Token, n)
	}
	for _, spec := range sub.imports {
		if _, ok := a.seenImport[spec]; !ok {
			a.seenImport[spec] = struct{}{}
			a.imports = append(a.imports, spec)
		}
	}
	for r := range sub.seenTok {
		a.seenTok[r] = struct{}{}
	}
}

// pyDecodeCall reports whether a call named q may produce a decoded value.
func pyDecodeCall(q string) bool {
	if pyDecoders[q] != nil {
		return true
	}
	switch q {
	case "zlib.decompress", "codecs.decode", "codecs.encode":
		return true
	}
	switch lastSeg(q) {
	case "decode", "join", "replace":
		return true
	}
	return false
}

// pyClassifyDecoded classifies the text a decoding call produces as if it
// were a literal, so a URL or command hidden in base64 still counts. Only
// the outermost call of a decoding chain is classified, and not inside the
// argument of eval/exec (whose payload is expanded instead).
func (a *analysis) pyClassifyDecoded(q string, n int32) {
	if a.pyS().execArg > 0 || !pyDecodeCall(q) {
		return
	}
	k := a.k
	switch p := a.parent(n); a.kind(p) {
	case k.attribute:
		if a.kind(a.parent(p)) == k.call {
			return // x.decode(): the outer call is classified
		}
	case k.argList:
		if c := a.parent(p); a.kind(c) == k.call && pyDecodeCall(a.pyName(a.child(c, k.fFunction), 0)) {
			return
		}
	}
	v, ok := a.pyEvalTop(n)
	if !ok || !v.dec || (v.k != pvStr && v.k != pvBytes) || !utf8.Valid(v.b) {
		return
	}
	a.literal(v.b, v.b, n)
}

var pyPublishRE = regexp.MustCompile(`(?i)(?:^|[\s;&|("'])(?:twine\s+upload|(?:npm|pnpm|yarn)\s+(?:npm\s+)?publish)\b`)

// isPublishCommand reports a command line that publishes a package
// (twine upload, python -m twine upload, npm/pnpm/yarn publish).
func isPublishCommand(s []byte) bool {
	if len(s) > 16<<10 {
		s = s[:16<<10]
	}
	return (containsFoldASCII(s, "publish") || containsFoldASCII(s, "upload")) && pyPublishRE.Match(s)
}

// looksLikePython is looksLikeCode for a Python payload, which may be a
// bare import statement.
func looksLikePython(b []byte) bool {
	s := string(b)
	return looksLikeCode(s) || strings.HasPrefix(strings.TrimSpace(s), "import ")
}

// pyDownloadExec reports whether the command a process call starts (its
// first argument folded: a string, or a list of strings joined with spaces)
// downloads a script or program and runs it: os.system('curl … | sh'),
// subprocess.run(['sh', '-c', 'wget … && ./x']).
func (a *analysis) pyDownloadExec(args int32) bool {
	v, ok := a.pyEvalTop(a.first(args))
	if !ok {
		return false
	}
	switch v.k {
	case pvStr, pvBytes:
		return isDownloadExec(string(v.b))
	case pvList:
		var line []byte
		for i, e := range v.l {
			if i >= 16 {
				break
			}
			if e.k == pvStr || e.k == pvBytes {
				line = append(append(line, e.b...), ' ')
			}
		}
		return isDownloadExec(string(line))
	}
	return false
}

// pyPublishArgs emits publish.self for a command given as an argument list
// (["twine", "upload", ...]) at process call n.
func (a *analysis) pyPublishArgs(args, n int32, mark int) {
	if a.since(mark, "publish.self") {
		return
	}
	v, ok := a.pyEvalTop(a.first(args))
	if !ok || v.k != pvList || len(v.l) > 64 {
		return
	}
	var line []byte
	for _, e := range v.l {
		if e.k != pvStr {
			return
		}
		line = append(append(line, e.b...), ' ')
	}
	if isPublishCommand(line) {
		a.emit("publish.self", n)
	}
}

// dataExts are file extensions of non-source data (images, fonts, media,
// opaque blobs) that package code rarely needs to read as bytes, and that
// steganographic or split payloads hide in.
var dataExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true, ".ico": true,
	".webp": true, ".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true, ".mp3": true,
	".mp4": true, ".wav": true, ".dat": true, ".bin": true}

func hasDataExt(p string) bool {
	return dataExts[strings.ToLower(path.Ext(strings.TrimRight(p, " \t\"'")))]
}

// pyDataPath reports whether expression n names a file with a data
// extension: a constant path, the last part of os.path.join/Path/joinpath,
// the right side of Path / "x.png", or a name bound once to one of those.
func (a *analysis) pyDataPath(n int32, depth int) bool {
	if n < 0 || depth > 8 {
		return false
	}
	if s, ok := a.pyStr(n); ok {
		return hasDataExt(s)
	}
	k := a.k
	switch a.kind(n) {
	case k.paren:
		return a.pyDataPath(a.first(n), depth+1)
	case k.binary:
		l, r := a.child(n, k.fLeft), a.child(n, k.fRight)
		if l >= 0 && r >= 0 && string(bytes.TrimSpace(a.src[a.tree.nodes[l].end:a.tree.nodes[r].start])) == "/" {
			return a.pyDataPath(r, depth+1)
		}
	case k.call:
		switch lastSeg(a.pyName(a.child(n, k.fFunction), 0)) {
		case "join", "joinpath", "Path", "PurePath", "PosixPath", "WindowsPath", "abspath", "realpath",
			"normpath", "expanduser", "resolve", "absolute":
			args := a.child(n, k.fArguments)
			last := int32(-1)
			for c := a.tree.nodes[max(args, 0)].first; args >= 0 && c >= 0; c = a.tree.nodes[c].next {
				if a.kind(c) != k.comment && a.kind(c) != k.keywordArg {
					last = c
				}
			}
			if last < 0 { // Path(x).resolve(): the receiver
				if fn := a.child(n, k.fFunction); a.kind(fn) == k.attribute {
					return a.pyDataPath(a.child(fn, k.fObject), depth+1)
				}
			}
			return a.pyDataPath(last, depth+1)
		}
	case k.identifier:
		st := a.pyS()
		if !st.bindingsReady {
			a.pyCollectBindings()
		}
		if rhs, ok := st.bindings[string(a.text(n))]; ok && rhs >= 0 {
			return a.pyDataPath(rhs, depth+1)
		}
	}
	return false
}

// pyDataRead emits fs.read.nonsource for reads of data files: Path reads,
// pkgutil.get_data and importlib.resources readers. open() is handled by
// pyOpen.
func (a *analysis) pyDataRead(q string, fn, args, n int32) {
	k := a.k
	switch last := lastSeg(q); {
	case (last == "read_bytes" || last == "read_text" || last == "open") && a.kind(fn) == k.attribute && q != "open":
		if last == "open" {
			if m, _ := a.pyStr(a.first(args)); strings.ContainsAny(m, "wax+") {
				return
			}
		}
		if a.pyDataPath(a.child(fn, k.fObject), 0) {
			a.emit("fs.read.nonsource", n)
		}
	case q == "pkgutil.get_data" || (strings.HasPrefix(q, "importlib.resources.") || strings.HasPrefix(q, "importlib_resources.")) &&
		(last == "read_binary" || last == "read_text" || last == "open_binary" || last == "open_text"):
		if a.pyDataPath(a.nth(args, 1), 0) {
			a.emit("fs.read.nonsource", n)
		}
	}
}

// containsFoldASCII reports whether s contains the lower-case ASCII word w,
// ignoring ASCII case, without allocating.
func containsFoldASCII(s []byte, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for ; j < len(w) && s[i+j]|0x20 == w[j]; j++ {
		}
		if j == len(w) {
			return true
		}
	}
	return false
}
