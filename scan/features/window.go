package features

import (
	"bytes"
	"sort"
	"unicode/utf8"
)

// Parse windows of a file longer than MaxParseBytes. A window is a byte
// range [ws, we) between two cut candidates of the lexer (or forced cuts),
// whose kept bytes (those outside drops) are at most MaxParseBytes; its
// parse input is those kept bytes, and rowSegs map the input's rows back to
// the file's.

// layout is the lexer's structure of a file.
type layout struct {
	cuts  []cut
	drops []drop
	cum   []int // cum[k]: bytes of drops[:k]
}

// scanLayout runs the structure pass of the lexer over src.
func scanLayout(lang langID, src []byte) *layout {
	l := newLexer(lang, src)
	l.structure = true
	l.run(0, len(src), 0)
	ly := &layout{cuts: l.cuts, drops: l.drops, cum: make([]int, len(l.drops)+1)}
	for k, d := range l.drops {
		ly.cum[k+1] = ly.cum[k] + d.end - d.start
	}
	return ly
}

// dropAt returns the index of the first drop ending after p.
func (ly *layout) dropAt(p int) int {
	return sort.Search(len(ly.drops), func(k int) bool { return ly.drops[k].end > p })
}

// inDrop reports whether p lies strictly inside a drop.
func (ly *layout) inDrop(p int) bool {
	k := ly.dropAt(p)
	return k < len(ly.drops) && ly.drops[k].start < p
}

// kept returns the bytes before p that are not in drops.
func (ly *layout) kept(p int) int {
	k := ly.dropAt(p)
	dropped := ly.cum[k]
	if k < len(ly.drops) && ly.drops[k].start < p {
		dropped += p - ly.drops[k].start
	}
	return p - dropped
}

// rawAt returns the least position p with kept(p) == k that is not inside a
// drop.
func (ly *layout) rawAt(k int) int {
	// drops[j] starts after k kept bytes once drops[j].start-cum[j] >= k.
	j := sort.Search(len(ly.drops), func(j int) bool { return ly.drops[j].start-ly.cum[j] >= k })
	return k + ly.cum[j]
}

// next returns the end of the window that starts at ws and holds at most w
// kept bytes: the end of the file if the rest fits, else the best-scored cut
// candidate in the window's second half (the latest among equals), else any
// candidate in it, else the last line end in its second half, else the
// last UTF-8 boundary before the limit.
func (ly *layout) next(src []byte, ws, w int) int {
	base := ly.kept(ws)
	if ly.kept(len(src))-base <= w {
		return len(src)
	}
	limit := min(ly.rawAt(base+w), len(src))
	lo := sort.Search(len(ly.cuts), func(i int) bool { return ly.cuts[i].off > ws })
	hi := sort.Search(len(ly.cuts), func(i int) bool { return ly.cuts[i].off > limit })
	for _, from := range []int{base + w/2, base} {
		best := -1
		for i := lo; i < hi; i++ {
			c := ly.cuts[i]
			if ly.kept(c.off) < from || ly.inDrop(c.off) {
				continue
			}
			if best < 0 || c.score <= ly.cuts[best].score {
				best = i
			}
		}
		if best >= 0 {
			return ly.cuts[best].off
		}
	}
	if i := bytes.LastIndexByte(src[ws:limit], '\n'); i >= 0 && ly.kept(ws+i+1) >= base+w/2 && !ly.inDrop(ws+i+1) {
		return ws + i + 1
	}
	p := limit
	for k := 0; k < utf8.UTFMax && p > ws+1 && !utf8.RuneStart(src[p]); k++ {
		p--
	}
	return p
}

// rowSeg maps a row of a window's parse input to a row of the file: from
// input row parseRow on, rows follow on from file row fileRow.
type rowSeg struct{ parseRow, fileRow int }

// build appends the kept bytes of [ws, we) to buf, with the row map; row
// is the file row at ws. It returns the file row at we.
func (ly *layout) build(src []byte, ws, we, row int, buf []byte, segs []rowSeg) ([]byte, []rowSeg, int) {
	pos, prow := ws, 0
	segs = append(segs, rowSeg{0, row})
	for k := ly.dropAt(ws); k < len(ly.drops) && ly.drops[k].start < we; k++ {
		d := ly.drops[k]
		piece := src[pos:max(pos, d.start)]
		buf = append(buf, piece...)
		n := bytes.Count(piece, []byte{'\n'})
		prow += n
		row += n + bytes.Count(src[max(pos, d.start):min(d.end, we)], []byte{'\n'})
		pos = min(d.end, we)
		segs = append(segs, rowSeg{prow, row})
	}
	piece := src[pos:we]
	buf = append(buf, piece...)
	row += bytes.Count(piece, []byte{'\n'})
	return buf, segs, row
}

// mapRow maps a parse-input row to a file row.
func mapRow(segs []rowSeg, r int) int {
	k := sort.Search(len(segs), func(k int) bool { return segs[k].parseRow > r }) - 1
	if k < 0 {
		return r
	}
	return segs[k].fileRow + r - segs[k].parseRow
}
