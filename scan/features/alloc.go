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

#ifdef __GLIBC__
#include <malloc.h>
// moat_limit_arenas bounds the number of glibc malloc arenas.
static void moat_limit_arenas(int n) { mallopt(M_ARENA_MAX, n); }
// moat_trim hands the free pages of every arena back to the system.
static void moat_trim(void) { malloc_trim(0); }
#else
static void moat_limit_arenas(int n) {}
static void moat_trim(void) {}
#endif

static size_t *moat_flag_new(void) { return (size_t *)calloc(1, sizeof(size_t)); }
static void moat_flag_free(size_t *p) { free(p); }
*/
import "C"

import (
	"os"
	"runtime"
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

// C allocator settings (glibc; tree-sitter and ONNX Runtime share it).
const (
	// cpusPerArena sets how many glibc malloc arenas New allows: one per
	// this many CPUs, at least one. By default glibc creates up to 8 per
	// CPU, one for each thread that finds the others busy; a parse's freed
	// tree then stays in its thread's arena as free, resident memory that
	// the next parse, on another thread, does not reuse. Fewer arenas bound
	// that, at the price of parsers on different threads taking turns at
	// the allocator. On 2 CPUs over a cold install of the bench app (one
	// run each, GOGC 50): peak RSS 168 MB with 2 arenas, 143 MB with 1,
	// install time within noise (bench/README.md has the repeated runs).
	cpusPerArena = 4
	// trimAfter is the source size from which Extract hands the memory
	// freed by its parse back to the system (malloc_trim). Without it the
	// arenas keep their free pages: after a few parses of 1 MiB, 80 MB more
	// stays resident (TestLargeParseMemoryReturned). A trim costs 10-40 ms
	// here, against 200 ms to 1 s for the parse before it.
	trimAfter = 256 << 10
)

// mallocArenas is the arena bound for n CPUs.
func mallocArenas(n int) int { return max(1, n/cpusPerArena) }

// tuneMalloc bounds the arenas (mallocArenas of GOMAXPROCS) unless the
// environment sets MALLOC_ARENA_MAX, which glibc has then applied itself.
var tuneMalloc = sync.OnceFunc(func() {
	if os.Getenv("MALLOC_ARENA_MAX") == "" {
		C.moat_limit_arenas(C.int(mallocArenas(runtime.GOMAXPROCS(0))))
	}
})

// The bound applies to arenas created after it: set it when the process
// starts, before ONNX Runtime and the first parsers start threads that
// would each take an arena of their own.
func init() { tuneMalloc() }

// trimCHeap returns free C heap pages to the system.
func trimCHeap() { C.moat_trim() }

// usesGoAllocator reports whether tree-sitter allocates through Go callbacks.
func usesGoAllocator() bool { return C.moat_ts_uses_go_allocator() != 0 }

// cancelFlag is a word in C memory that tree-sitter polls during a parse
// (ts_parser_set_cancellation_flag). It must not live in Go memory: C keeps
// the pointer after the call returns.
type cancelFlag struct{ p *C.size_t }

func newCancelFlag() cancelFlag { return cancelFlag{C.moat_flag_new()} }

func (f cancelFlag) ptr() *uintptr { return (*uintptr)(unsafe.Pointer(f.p)) }

func (f cancelFlag) free() { C.moat_flag_free(f.p) }
