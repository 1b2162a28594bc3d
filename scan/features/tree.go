package features

// node is one named syntax node in a flatTree. Links are indexes into the
// same slice; -1 means none.
type node struct {
	kind   uint16
	field  uint16 // field id within the parent, 0 if none
	start  uint32 // byte offsets
	end    uint32
	row    uint32 // 0-based line of start
	parent int32
	first  int32 // first named child
	next   int32 // next named sibling
}

// flatTree is a tree-sitter tree copied into Go memory: named nodes in
// pre-order (= source order), so the analysis never calls into C and can
// index, recurse and look around freely.
type flatTree struct {
	nodes []node
}

// errorKind is tree-sitter's ERROR symbol (ts_builtin_sym_error).
const errorKind = 0xFFFF
