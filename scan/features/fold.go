package features

import "bytes"

// fold evaluates a constant string expression: a literal, or literals joined
// with + (JS template strings without substitutions, Python implicit
// concatenation). Escapes are kept as written.
func (a *analysis) fold(n int32) (string, bool) {
	var buf []byte
	if !a.foldInto(n, &buf, 0) {
		return "", false
	}
	return string(buf), true
}

func (a *analysis) foldInto(n int32, buf *[]byte, depth int) bool {
	if n < 0 || depth > 32 {
		return false
	}
	k := a.k
	switch a.kind(n) {
	case k.str, k.templateString:
		s, ok := a.strContent(n)
		if !ok || len(*buf)+len(s) > maxFold {
			return false
		}
		*buf = append(*buf, s...)
		return true
	case k.concatString:
		for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
			if !a.foldInto(c, buf, depth+1) {
				return false
			}
		}
		return true
	case k.binary:
		l, r := a.child(n, k.fLeft), a.child(n, k.fRight)
		if l < 0 || r < 0 || !bytes.Equal(bytes.TrimSpace(a.src[a.tree.nodes[l].end:a.tree.nodes[r].start]), []byte("+")) {
			return false
		}
		return a.foldInto(l, buf, depth+1) && a.foldInto(r, buf, depth+1)
	case k.paren:
		return a.foldInto(a.first(n), buf, depth+1)
	}
	return false
}

// strContent returns the content of a string literal without quotes or
// prefixes; ok is false for strings with interpolation.
func (a *analysis) strContent(n int32) ([]byte, bool) {
	k := a.k
	raw := a.text(n)
	if a.lang.id == langJS {
		if len(raw) < 2 {
			return nil, false
		}
		if a.kind(n) == k.templateString {
			for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
				if a.kind(c) == k.templateSubst {
					return nil, false
				}
			}
		}
		return raw[1 : len(raw)-1], true
	}
	start, end := a.tree.nodes[n].start, a.tree.nodes[n].end
	for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
		switch a.kind(c) {
		case k.stringStart:
			start = a.tree.nodes[c].end
		case k.stringEnd:
			end = a.tree.nodes[c].start
		case k.interpolation:
			return nil, false
		}
	}
	if end < start {
		return nil, false
	}
	return a.src[start:end], true
}

// Charcode obfuscation.

const (
	charcodeMin = 20
	chainScan   = 4096 // nodes examined per expression for chr()+chr() chains
)

// countNumbers counts numeric literals among n's children.
func (a *analysis) countNumbers(n int32) int {
	if n < 0 {
		return 0
	}
	c := 0
	for x := a.tree.nodes[n].first; x >= 0; x = a.tree.nodes[x].next {
		if a.kind(x) == a.k.number {
			c++
		}
	}
	return c
}

// charcodeArray flags an array of 20+ numbers in a statement that also
// turns numbers into characters (fromCharCode, chr, bytes, bytearray,
// Buffer.from).
func (a *analysis) charcodeArray(n int32) {
	if a.countNumbers(n) < charcodeMin {
		return
	}
	// The enclosing statement: climb to a child of a block or the root.
	s := n
	for {
		p := a.parent(s)
		if p < 0 {
			break
		}
		pk := a.kind(p)
		if p == 0 || pk == a.k.block || pk == a.k.program || pk == a.k.module {
			break
		}
		s = p
	}
	t := a.text(s)
	if len(t) > 1<<20 {
		t = t[:1<<20]
	}
	for _, m := range charcodeFuncs {
		if bytes.Contains(t, m) {
			a.emit("obfuscation.charcodes", n)
			return
		}
	}
}

var charcodeFuncs = bs("fromCharCode", "chr(", "bytes(", "bytearray(", "Buffer.from(", "fromCodePoint")

// charcodeChain flags chr(104)+chr(105)+… chains of 20+ character calls
// with numeric arguments, at the outermost binary expression.
func (a *analysis) charcodeChain(n int32) {
	if a.kind(a.parent(n)) == a.k.binary {
		return
	}
	end := a.tree.nodes[n].end
	count := 0
	limit := min(len(a.tree.nodes), int(n)+1+chainScan)
	for i := n + 1; int(i) < limit && a.tree.nodes[i].start < end; i++ {
		if a.tree.nodes[i].kind != a.k.call {
			continue
		}
		fn := a.child(i, a.k.fFunction)
		t := a.text(fn)
		if !bytes.Equal(t, []byte("chr")) && !bytes.HasSuffix(t, []byte("fromCharCode")) {
			continue
		}
		if a.countNumbers(a.child(i, a.k.fArguments)) > 0 {
			count++
			if count >= charcodeMin {
				a.emit("obfuscation.charcodes", n)
				return
			}
		}
	}
}
