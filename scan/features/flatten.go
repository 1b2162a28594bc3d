package features

/*
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// The few tree-sitter v0.25 API declarations the walk needs, as in
// tree_sitter/api.h (the library itself is compiled and linked by
// github.com/tree-sitter/go-tree-sitter; go-tree-sitter's Node is documented
// as C-compatible with TSNode).
typedef struct TSTree TSTree;
typedef struct TSPoint { uint32_t row; uint32_t column; } TSPoint;
typedef struct TSNode { uint32_t context[4]; const void *id; const TSTree *tree; } TSNode;
typedef struct TSTreeCursor { const void *tree; const void *id; uint32_t context[3]; } TSTreeCursor;
extern TSTreeCursor ts_tree_cursor_new(TSNode node);
extern void ts_tree_cursor_delete(TSTreeCursor *self);
extern TSNode ts_tree_cursor_current_node(const TSTreeCursor *self);
extern uint16_t ts_tree_cursor_current_field_id(const TSTreeCursor *self);
extern bool ts_tree_cursor_goto_first_child(TSTreeCursor *self);
extern bool ts_tree_cursor_goto_next_sibling(TSTreeCursor *self);
extern bool ts_tree_cursor_goto_parent(TSTreeCursor *self);
extern uint16_t ts_node_symbol(TSNode self);
extern bool ts_node_is_named(TSNode self);
extern uint32_t ts_node_start_byte(TSNode self);
extern uint32_t ts_node_end_byte(TSNode self);
extern TSPoint ts_node_start_point(TSNode self);
extern uint32_t ts_node_descendant_count(TSNode self);
typedef struct TSParser TSParser;
extern TSTree *ts_parser_parse_string(TSParser *self, const TSTree *old_tree, const char *string, uint32_t length);
extern void ts_parser_reset(TSParser *self);
extern TSNode ts_tree_root_node(const TSTree *self);
extern void ts_tree_delete(TSTree *self);

// moat_parse parses a private copy of src in one call: no read callback,
// so no per-chunk copies through Go. A halted parse (timeout or
// cancellation flag) is reset while the copy is still alive, since the
// parser keeps pointers into its input until then.
static TSTree *moat_parse(TSParser *p, const char *src, uint32_t len) {
	char *copy = malloc(len ? len : 1);
	if (!copy) return NULL;
	memcpy(copy, src, len);
	TSTree *t = ts_parser_parse_string(p, NULL, copy, len);
	if (!t) ts_parser_reset(p);
	free(copy);
	return t;
}

// Must match the Go type node.
typedef struct {
	uint16_t kind, field;
	uint32_t start, end, row;
	int32_t parent, first, next;
} moat_node;

static int32_t moat_add(moat_node *out, int32_t *n, TSNode x, uint16_t field, int32_t parent) {
	int32_t i = (*n)++;
	out[i].kind = ts_node_symbol(x);
	out[i].field = field;
	out[i].start = ts_node_start_byte(x);
	out[i].end = ts_node_end_byte(x);
	out[i].row = ts_node_start_point(x).row;
	out[i].parent = parent;
	out[i].first = -1;
	out[i].next = -1;
	return i;
}

// moat_flatten copies the named nodes under *root into out (capacity cap,
// at least ts_node_descendant_count) in pre-order, linking parents, first
// children and next siblings. Anonymous nodes are skipped; named nodes
// below them attach to the nearest named ancestor. Returns the node count,
// or -1 when scratch memory could not be allocated.
static int32_t moat_flatten(const TSNode *root, moat_node *out, int32_t cap) {
	int32_t n = 0;
	if (cap < 1) return 0;
	size_t scap = 256;
	int32_t *owner = malloc(scap * sizeof(int32_t)); // per depth: named owner of children
	int32_t *last = malloc(scap * sizeof(int32_t));  // per depth: last linked child
	if (!owner || !last) { free(owner); free(last); return -1; }
	TSTreeCursor c = ts_tree_cursor_new(*root);
	owner[0] = moat_add(out, &n, *root, 0, -1);
	last[0] = -1;
	size_t depth = 0; // index of the level holding the cursor's node's owner
	if (ts_tree_cursor_goto_first_child(&c)) {
		for (;;) {
			TSNode x = ts_tree_cursor_current_node(&c);
			int32_t own = owner[depth], self = own;
			if (ts_node_is_named(x) && n < cap) {
				self = moat_add(out, &n, x, ts_tree_cursor_current_field_id(&c), own);
				if (last[depth] >= 0) out[last[depth]].next = self; else out[own].first = self;
				last[depth] = self;
			}
			if (ts_tree_cursor_goto_first_child(&c)) {
				if (depth + 1 >= scap) {
					scap *= 2;
					int32_t *o2 = realloc(owner, scap * sizeof(int32_t));
					if (o2) owner = o2;
					int32_t *l2 = realloc(last, scap * sizeof(int32_t));
					if (l2) last = l2;
					if (!o2 || !l2) { n = -1; break; }
				}
				depth++;
				owner[depth] = self;
				last[depth] = self != own ? -1 : last[depth - 1];
				continue;
			}
			bool done = false;
			while (!ts_tree_cursor_goto_next_sibling(&c)) {
				if (!ts_tree_cursor_goto_parent(&c) || depth == 0) { done = true; break; }
				if (owner[depth] == owner[depth - 1]) last[depth - 1] = last[depth];
				depth--;
			}
			if (done) break;
		}
	}
	ts_tree_cursor_delete(&c);
	free(owner);
	free(last);
	return n;
}

static uint32_t moat_descendants(const TSNode *root) { return ts_node_descendant_count(*root); }
*/
import "C"

import (
	"errors"
	"unsafe"

	ts "github.com/tree-sitter/go-tree-sitter"
)

// Compile-time check that node matches moat_node's size.
var _ [unsafe.Sizeof(node{}) - C.sizeof_moat_node]struct{}
var _ [C.sizeof_moat_node - unsafe.Sizeof(node{})]struct{}

var errFlatten = errors.New("features: out of memory flattening syntax tree")

// flatten copies t's named nodes into ft with one TreeCursor walk done in C:
// a walk through the Go bindings costs several cgo calls per node (and a Go
// allocation for each TreeCursor.Node), about 20x slower on large files.
func flatten(t *cTree, ft *flatTree) error {
	root := C.ts_tree_root_node(t.p)
	croot := &root
	total := int(C.moat_descendants(croot)) + 1
	if cap(ft.nodes) < total {
		ft.nodes = make([]node, total)
	}
	ft.nodes = ft.nodes[:total]
	n := C.moat_flatten(croot, (*C.moat_node)(unsafe.Pointer(&ft.nodes[0])), C.int32_t(total))
	if n < 0 {
		ft.nodes = ft.nodes[:0]
		return errFlatten
	}
	ft.nodes = ft.nodes[:n]
	return nil
}

// cTree is a tree-sitter tree owned by this package (parsed by parseString).
type cTree struct{ p *C.TSTree }

// Close frees the tree.
func (t *cTree) Close() { C.ts_tree_delete(t.p) }

// tsParserPtr is the C parser inside a go-tree-sitter Parser, whose only
// field is that pointer (checked by parserLayoutOK).
func tsParserPtr(p *ts.Parser) *C.TSParser { return *(**C.TSParser)(unsafe.Pointer(p)) }

// parserLayoutOK guards tsParserPtr against a change of go-tree-sitter's
// Parser layout.
var parserLayoutOK = unsafe.Sizeof(ts.Parser{}) == unsafe.Sizeof(uintptr(0))

// parseString parses src with p (honouring its timeout and cancellation
// flag); nil when the parse was halted.
func parseString(p *ts.Parser, src []byte) *cTree {
	if !parserLayoutOK {
		panic("features: unexpected go-tree-sitter Parser layout")
	}
	var ptr *C.char
	if len(src) > 0 {
		ptr = (*C.char)(unsafe.Pointer(&src[0]))
	}
	t := C.moat_parse(tsParserPtr(p), ptr, C.uint32_t(len(src)))
	if t == nil {
		return nil
	}
	return &cTree{p: t}
}
