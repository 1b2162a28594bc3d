package features

import "bytes"

// The lexical pre-pass: a fast, allocation-light scan of a JavaScript or
// Python file that knows where comments and string literals are without
// building a syntax tree. Extract uses it for files larger than one parse
// window, for two things:
//
//   - structure: where the file may be cut into parse windows (cut
//     candidates: positions in plain code, outside any string, comment or
//     template, ranked by bracket depth and, for Python, indentation) and
//     which runs of whole lines hold nothing but comments, whitespace or
//     the inside of a docstring (drops), which are left out of the parse;
//   - lexical analysis: the code runs and string literal bodies of the part
//     of a file that is not parsed, fed to lexicalAnalysis.
//
// The lexer is best effort on malformed input (an unterminated literal runs
// to the end of its line or file; JavaScript regular expression literals are
// told from division by the preceding token) and never fails.

const (
	// cutBucketShift spaces the recorded cut candidates: one per 4 KiB of
	// source (the best one in it), so a 16 MiB file keeps at most 4096.
	cutBucketShift = 12
	// minDrop is the smallest run of inert lines left out of a parse; shorter
	// runs are parsed with the code around them (tree-sitter skips comments
	// quickly) and keep the drop list short.
	minDrop = 4 << 10
	// maxTemplateNesting bounds the `${` nesting the JavaScript lexer tracks.
	maxTemplateNesting = 64
)

// cut is a position where a parse window may start: plain code at its top
// level, the lower score the better (0: a line start at bracket depth 0 and,
// for Python, without indentation).
type cut struct {
	off   int
	score int
}

// drop is a run of whole lines [start, end) that is only comments,
// whitespace or docstring interior: leaving it out of a parse keeps the
// source around it syntactically the same.
type drop struct {
	start, end int
	rows       int // newlines in the run
}

// lexer scans one file. The zero value is not usable: see newLexer.
type lexer struct {
	lang langID
	src  []byte

	// structure results (when structure is set)
	structure bool
	cuts      []cut
	drops     []drop
	pending   drop // inert run being extended; pending.end == 0: none

	// lexical-analysis callbacks (either may be nil): a run of code
	// src[start:end] beginning on row (0-based), and a string literal whose
	// body is src[start:end], beginning on row.
	onCode   func(start, end, row int)
	onString func(start, end, row int)

	row           int
	lineStart     int
	lineCode      bool // the current line has code or string bytes
	lineDroppable bool // the current line started outside any string
	depth         int  // open brackets (clamped at 0)
	templ         []int
	regexOK       bool // JS: a '/' here starts a regular expression
	contLine      bool // Python: the previous line ended with a backslash
	codeStart     int  // start of the current code run
	codeRow       int
}

func newLexer(lang langID, src []byte) *lexer {
	return &lexer{lang: lang, src: src, regexOK: true, lineDroppable: true}
}

// run scans src[from:to], starting in plain code on row (0-based). from
// must be a line start or a cut candidate for the results to be exact.
func (l *lexer) run(from, to, row int) {
	l.src = l.src[:to]
	l.row, l.lineStart, l.codeStart, l.codeRow = row, from, from, row
	if l.lang == langJS {
		l.js(from)
	} else {
		l.py(from)
	}
	l.flushCode(len(l.src))
	l.endLine(len(l.src))
	l.flushDrop()
}

// flushCode reports the code run ending at end.
func (l *lexer) flushCode(end int) {
	if l.onCode != nil && end > l.codeStart {
		l.onCode(l.codeStart, end, l.codeRow)
	}
}

// resumeCode starts a new code run at off.
func (l *lexer) resumeCode(off int) {
	l.codeStart, l.codeRow = off, l.row
}

// candidate records a cut candidate at off.
func (l *lexer) candidate(off, score int) {
	if !l.structure || off <= 0 || off >= len(l.src) {
		return
	}
	if n := len(l.cuts); n > 0 && l.cuts[n-1].off>>cutBucketShift == off>>cutBucketShift {
		if score <= l.cuts[n-1].score {
			l.cuts[n-1] = cut{off: off, score: score}
		}
		return
	}
	l.cuts = append(l.cuts, cut{off: off, score: score})
}

// endLine ends the current line at end (just past its newline).
func (l *lexer) endLine(end int) {
	if !l.structure || end <= l.lineStart {
		return
	}
	if l.lineDroppable && !l.lineCode {
		l.inert(l.lineStart, end, 1)
		if end == len(l.src) && l.src[end-1] != '\n' {
			l.pending.rows-- // the last line has no newline
		}
		return
	}
	l.flushDrop()
}

// inert extends the pending drop with the whole lines [start, end).
func (l *lexer) inert(start, end, rows int) {
	if l.pending.end == start && l.pending.end > 0 {
		l.pending.end = end
		l.pending.rows += rows
		return
	}
	l.flushDrop()
	l.pending = drop{start: start, end: end, rows: rows}
}

func (l *lexer) flushDrop() {
	if l.pending.end-l.pending.start >= minDrop {
		l.drops = append(l.drops, l.pending)
	}
	l.pending = drop{}
}

// newline handles the newline at i in plain code and returns i+1.
func (l *lexer) newline(i int) int {
	l.endLine(i + 1)
	l.row++
	i++
	l.lineStart, l.lineCode, l.lineDroppable = i, false, true
	return i
}

// span accounts for src[start:end], one comment or string literal that may
// cover several lines. Its interior lines (those it covers entirely) are
// inert when interior is set; its first and last lines count as code unless
// ends is set.
func (l *lexer) span(start, end int, interior, ends bool) {
	if !ends {
		l.lineCode = true
	}
	seg := l.src[start:end]
	f := bytes.IndexByte(seg, '\n')
	if f < 0 {
		return
	}
	last := bytes.LastIndexByte(seg, '\n')
	n := 1 + bytes.Count(seg[f+1:last+1], []byte{'\n'})
	l.endLine(start + f + 1)
	if l.structure {
		if interior && last > f {
			l.inert(start+f+1, start+last+1, n-1)
		} else if last > f {
			l.flushDrop()
		}
	}
	l.row += n
	l.lineStart = start + last + 1
	l.lineCode = !ends
	l.lineDroppable = ends
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// quoted returns the end (past the closing quote) of the single-line string
// literal opening at i. A newline not escaped by a backslash ends an
// unterminated literal (the newline is not part of it).
func (l *lexer) quoted(i int, q byte) (end int, closed bool) {
	src := l.src
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case q:
			return j + 1, true
		case '\\':
			j++
		case '\n':
			return j, false
		}
	}
	return len(src), false
}

// jsKeywordBeforeRegex reports whether w is a keyword after which '/'
// starts a regular expression literal.
func jsKeywordBeforeRegex(w []byte) bool {
	if len(w) < 2 || len(w) > 10 {
		return false
	}
	switch string(w) {
	case "return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield", "await",
		"instanceof":
		return true
	}
	return false
}

func (l *lexer) js(i int) {
	src := l.src
	if i == 0 && len(src) >= 2 && src[0] == '#' && src[1] == '!' { // hashbang line
		i = bytes.IndexByte(src, '\n')
		if i < 0 {
			i = len(src)
		}
		l.lineCode = true
		l.resumeCode(i)
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			i = l.newline(i)
			if len(l.templ) == 0 {
				l.candidate(i, 2*l.depth)
			}
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			l.flushCode(i)
			j := bytes.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			i += j
			l.resumeCode(i)
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			l.flushCode(i)
			end := len(src)
			if j := bytes.Index(src[i+2:], []byte("*/")); j >= 0 {
				end = i + 2 + j + 2
			}
			l.span(i, end, true, true)
			i = end
			l.resumeCode(i)
		case c == '\'' || c == '"':
			l.flushCode(i)
			end, closed := l.quoted(i, c)
			bodyEnd := end
			if closed {
				bodyEnd--
			}
			l.str(i+1, bodyEnd)
			l.span(i, end, false, false)
			i = end
			l.regexOK = false
			l.resumeCode(i)
		case c == '`':
			l.flushCode(i)
			i = l.template(i + 1)
		case c == '/' && l.regexOK:
			i = l.regex(i)
			l.regexOK = false
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			l.regexOK = jsKeywordBeforeRegex(src[i:j])
			l.lineCode = true
			i = j
		case c >= '0' && c <= '9':
			for i < len(src) && (isIdentByte(src[i]) || src[i] == '.') {
				i++
			}
			l.regexOK = false
			l.lineCode = true
		default:
			l.lineCode = true
			l.regexOK = true
			switch c {
			case '(', '[', '{':
				l.depth++
			case ')', ']':
				l.depth = max(0, l.depth-1)
				l.regexOK = false
			case '}':
				l.depth = max(0, l.depth-1)
				l.regexOK = false
				if n := len(l.templ); n > 0 && l.templ[n-1] == l.depth {
					l.templ = l.templ[:n-1]
					l.flushCode(i)
					i = l.template(i + 1)
					continue
				}
			case ';':
				if len(l.templ) == 0 {
					l.candidate(i+1, 2*l.depth+1)
				}
			}
			i++
		}
	}
}

// template scans a template literal's text from i (just past '`' or the
// '}' closing a substitution) to past its closing '`', or to past a '${'
// (the substitution is then scanned as code).
func (l *lexer) template(i int) int {
	src := l.src
	start := i
	for j := i; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '`':
			l.str(start, j)
			l.span(start, j+1, false, false)
			l.regexOK = false
			l.resumeCode(j + 1)
			return j + 1
		case '$':
			if j+1 < len(src) && src[j+1] == '{' {
				l.str(start, j)
				l.span(start, j+2, false, false)
				if len(l.templ) < maxTemplateNesting {
					l.templ = append(l.templ, l.depth)
					l.depth++
				}
				l.regexOK = true
				l.resumeCode(j + 2)
				return j + 2
			}
		}
	}
	l.str(start, len(src))
	l.span(start, len(src), false, false)
	l.resumeCode(len(src))
	return len(src)
}

// regex skips the regular expression literal at i (a '/'); an unterminated
// one is taken to be a division.
func (l *lexer) regex(i int) int {
	src := l.src
	class := false
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '[':
			class = true
		case ']':
			class = false
		case '/':
			if class {
				continue
			}
			j++
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			l.lineCode = true
			return j
		case '\n':
			l.lineCode = true
			return i + 1
		}
	}
	l.lineCode = true
	return i + 1
}

// str reports the string literal body src[start:end].
func (l *lexer) str(start, end int) {
	if l.onString != nil && end >= start {
		l.onString(start, end, l.row)
	}
}

func (l *lexer) py(i int) {
	src := l.src
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			i = l.newline(i)
			cont := l.contLine
			l.contLine = false
			if !cont {
				ind := 0
				for i+ind < len(src) && (src[i+ind] == ' ' || src[i+ind] == '\t') && ind < 1000 {
					ind++
				}
				l.candidate(i, 1024*l.depth+ind)
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
		case c == '#':
			l.flushCode(i)
			j := bytes.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			i += j
			l.resumeCode(i)
		case c == '\\' && i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r'):
			l.contLine = true
			l.lineCode = true
			i++
		case c == '\'' || c == '"':
			i = l.pyString(i, i)
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			if j < len(src) && (src[j] == '\'' || src[j] == '"') && j-i <= 2 && isPyPrefix(src[i:j]) {
				i = l.pyString(i, j)
				continue
			}
			l.lineCode = true
			i = j
		default:
			l.lineCode = true
			switch c {
			case '(', '[', '{':
				l.depth++
			case ')', ']', '}':
				l.depth = max(0, l.depth-1)
			}
			i++
		}
	}
}

func isPyPrefix(p []byte) bool {
	for _, c := range p {
		switch c {
		case 'r', 'R', 'b', 'B', 'u', 'U', 'f', 'F':
		default:
			return false
		}
	}
	return true
}

// pyString scans the Python string literal whose prefix starts at start and
// whose quote is at q, and returns its end.
func (l *lexer) pyString(start, q int) int {
	src := l.src
	quote := src[q]
	stmt := !l.lineCode && l.depth == 0 && !l.contLine // the literal opens a statement
	l.flushCode(start)
	var end int
	triple := q+2 < len(src) && src[q+1] == quote && src[q+2] == quote
	if triple {
		body, bodyEnd := q+3, len(src)
		end = len(src)
		for j := body; j < len(src); j++ {
			if src[j] == '\\' {
				j++
				continue
			}
			if src[j] == quote && j+2 < len(src) && src[j+1] == quote && src[j+2] == quote {
				bodyEnd, end = j, j+3
				break
			}
		}
		l.str(body, bodyEnd)
	} else {
		var closed bool
		end, closed = l.quoted(q, quote)
		bodyEnd := end
		if closed {
			bodyEnd--
		}
		l.str(q+1, bodyEnd)
	}
	inert := false
	if triple && stmt {
		// A string statement alone on its lines (a docstring) is inert:
		// only what follows its closing quotes on their line matters.
		j := end
		for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r') {
			j++
		}
		inert = j == len(src) || src[j] == '\n' || src[j] == '#'
	}
	l.span(start, end, inert, false)
	l.resumeCode(end)
	return end
}
