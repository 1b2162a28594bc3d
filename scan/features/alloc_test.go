package features

import "testing"

func TestLibcAllocator(t *testing.T) {
	// go-tree-sitter's init installs its Go-callback allocator; New undoes it.
	e := New(Options{})
	defer e.Close()
	if usesGoAllocator() {
		t.Fatal("tree-sitter still allocates through Go callbacks after New")
	}
	extract(t, e, "a.js", "eval(x)")
}
