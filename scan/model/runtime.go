package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryEnv names the environment variable that points at the ONNX Runtime
// shared library when Options.LibraryPath is empty.
const LibraryEnv = "MOAT_ORT_LIB"

// libraryName is the file scan/model looks for in lib/ folders; it is what
// scripts/install-onnxruntime.sh installs.
const libraryName = "libonnxruntime.so.1"

const installHint = "install it with scripts/install-onnxruntime.sh (or point " + LibraryEnv + " at a libonnxruntime.so.1 of ONNX Runtime >= 1.24)"

// Errors callers may branch on (wrapped; use errors.Is).
var (
	// ErrLibraryNotFound: no ONNX Runtime shared library at any candidate path.
	ErrLibraryNotFound = errors.New("onnx runtime library not found")
	// ErrLibraryLoad: the library exists but could not be loaded or is not a
	// version onnxruntime_go v1.27 supports (ORT API 24).
	ErrLibraryLoad = errors.New("onnx runtime library cannot be used")
	// ErrChecksum: a model or vocabulary file does not match the sha256 in
	// its manifest.
	ErrChecksum = errors.New("model checksum mismatch")
	// ErrClosed: the Model was closed.
	ErrClosed = errors.New("model closed")
)

// resolveLibrary picks the ONNX Runtime library: explicit, else $MOAT_ORT_LIB,
// else lib/libonnxruntime.so.1 next to the executable, else ./lib/. An
// explicitly named path that does not exist is an error, never a fallback.
func resolveLibrary(explicit, env, exe string) (string, error) {
	for _, named := range []struct{ how, path string }{{"Options.LibraryPath", explicit}, {"$" + LibraryEnv, env}} {
		if named.path == "" {
			continue
		}
		if _, err := os.Stat(named.path); err != nil {
			return "", fmt.Errorf("%w: %s = %s: %v; %s", ErrLibraryNotFound, named.how, named.path, err, installHint)
		}
		return named.path, nil
	}
	var tried []string
	if exe != "" {
		tried = append(tried, filepath.Join(filepath.Dir(exe), "lib", libraryName))
	}
	tried = append(tried, filepath.Join(".", "lib", libraryName))
	for _, p := range tried {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (tried %s); %s", ErrLibraryNotFound, strings.Join(tried, ", "), installHint)
}

// runtimeEnv is ONNX Runtime's process-wide environment. onnxruntime_go
// keeps it in package state and InitializeEnvironment may only run once at a
// time, so it is shared by every Model in the process and reference-counted:
// the first Load initialises it with its library, the last Close destroys it.
// All Models in a process must use the same library file.
var runtimeEnv struct {
	mu   sync.Mutex
	refs int
	lib  string
}

func acquireRuntime(lib string) error {
	runtimeEnv.mu.Lock()
	defer runtimeEnv.mu.Unlock()
	if runtimeEnv.refs > 0 {
		if abs(lib) != abs(runtimeEnv.lib) {
			return fmt.Errorf("%w: %s: this process already uses the ONNX Runtime library %s", ErrLibraryLoad, lib, runtimeEnv.lib)
		}
		runtimeEnv.refs++
		return nil
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		hint := installHint
		if strings.Contains(err.Error(), "API base") {
			hint = "the library is too old for onnxruntime_go v1.27 (needs ORT API 24, ONNX Runtime >= 1.24); " + installHint
		}
		return fmt.Errorf("%w: %s: %v; %s", ErrLibraryLoad, lib, err, hint)
	}
	_ = ort.DisableTelemetry()
	runtimeEnv.refs = 1
	runtimeEnv.lib = lib
	return nil
}

func releaseRuntime() error {
	runtimeEnv.mu.Lock()
	defer runtimeEnv.mu.Unlock()
	if runtimeEnv.refs == 0 {
		return nil
	}
	runtimeEnv.refs--
	if runtimeEnv.refs > 0 {
		return nil
	}
	runtimeEnv.lib = ""
	if err := ort.DestroyEnvironment(); err != nil {
		return fmt.Errorf("destroy onnx runtime environment: %w", err)
	}
	return nil
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
