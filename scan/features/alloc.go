package features

/*
#include <stdlib.h>
#include <stdint.h>

// Declared here rather than through tree_sitter/api.h: the definition lives
// in the C library that github.com/tree-sitter/go-tree-sitter compiles, and
// the linker resolves this reference to that single copy.
extern void ts_set_allocator(
	void *(*new_malloc)(size_t),
	void *(*new_calloc)(size_t, size_t),
	void *(*new_realloc)(void *, size_t),
	void (*new_free)(void *));

// moat_ts_use_libc points tree-sitter's allocator straight at libc. NULL
// selects tree-sitter's built-in defaults, which are malloc, calloc, realloc
// and free wrapped with an abort on out-of-memory (tree-sitter never checks
// for NULL, so a bare malloc would turn OOM into a wild write instead).
static void moat_ts_use_libc(void) { ts_set_allocator(NULL, NULL, NULL, NULL); }

// For tests: whether tree-sitter still allocates through go-tree-sitter's
// Go callbacks.
extern void *(*ts_current_malloc)(size_t);
extern void *c_malloc_fn(size_t);
static int moat_ts_uses_go_allocator(void) { return ts_current_malloc == c_malloc_fn; }

static size_t *moat_flag_new(void) { return (size_t *)calloc(1, sizeof(size_t)); }
static void moat_flag_free(size_t *p) { free(p); }
*/
import "C"

import (
	"sync"
	"unsafe"
)

// useLibcAllocator undoes go-tree-sitter's allocator hook. Its init (which
// runs before ours because we import it) installs C trampolines that call
// back into Go for every malloc/calloc/realloc/free; those callbacks only
// forward to C.malloc and friends, so memory allocated through either path
// comes from the same libc heap and may be freed by the other. Switching is
// therefore safe at any time; we do it once, before the first parser exists.
var useLibcAllocator = sync.OnceFunc(func() { C.moat_ts_use_libc() })

// usesGoAllocator reports whether tree-sitter allocates through Go callbacks.
func usesGoAllocator() bool { return C.moat_ts_uses_go_allocator() != 0 }

// cancelFlag is a word in C memory that tree-sitter polls during a parse
// (ts_parser_set_cancellation_flag). It must not live in Go memory: C keeps
// the pointer after the call returns.
type cancelFlag struct{ p *C.size_t }

func newCancelFlag() cancelFlag { return cancelFlag{C.moat_flag_new()} }

func (f cancelFlag) ptr() *uintptr { return (*uintptr)(unsafe.Pointer(f.p)) }

func (f cancelFlag) free() { C.moat_flag_free(f.p) }
