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

func TestMallocArenas(t *testing.T) {
	for _, tt := range []struct{ cpus, want int }{{1, 1}, {2, 1}, {4, 1}, {8, 2}, {16, 4}, {64, 16}} {
		if got := mallocArenas(tt.cpus); got != tt.want {
			t.Errorf("mallocArenas(%d) = %d, want %d", tt.cpus, got, tt.want)
		}
	}
}
