// Package features owns moat's behaviour extraction: it parses JavaScript and
// Python sources with tree-sitter and turns each file into the ordered
// behaviour events (scan/sequence tokens) of the Cerebro approach. It is the
// only tree-sitter user in moat and implements scan.Extractor.
//
// # Bindings
//
// Parsing uses the official github.com/tree-sitter/go-tree-sitter v0.25.0
// bindings with the tree-sitter-javascript and tree-sitter-python v0.25.0
// grammars (their bindings/go packages compile the grammar C sources). Three
// details of those bindings shape this package:
//
//   - v0.25.0 installs an allocator that calls back into Go for every C
//     allocation. A small cgo shim (alloc.go) resets tree-sitter to its libc
//     allocator once, before the first parser is created.
//   - Parser.ParseWithOptions registers its options with go-pointer and never
//     releases them (one leaked entry per parse), so parses go through
//     Parser.ParseWith, with the parser's timeout and a cancellation flag in
//     C memory providing the time budget and context cancellation.
//   - Parsers are not safe for concurrent use: each language keeps a bounded
//     pool of parsers, created lazily and closed by Extractor.Close. Trees
//     and cursors are closed explicitly; nothing relies on finalizers.
//
// # Extraction
//
// A parsed tree is first copied into a flat slice of named nodes with one
// TreeCursor walk (reused buffers, no per-node Go allocation); the analysis
// then runs in plain Go over that slice.
//
// Events come in execution order within a file: module-level code in source
// order; a call to a function defined in the same file (declarations,
// function values bound to names, Python def and methods reached via self.x)
// emits the callee's events at the call site, at most once per call path
// (recursion is cut) and with repeated expansions capped at four times the
// file's own event count. A function's body is not repeated at its definition;
// functions that are never called are emitted after the module-level events,
// in source order, so their behaviour still counts. Passing a local function
// by name as a call argument (setTimeout(f), Thread(target=f)) counts as a
// call. The run method of a setuptools command class is emitted where the
// class is defined, as install-time code.
//
// # Whole files
//
// Every byte of a file is analysed. A file longer than MaxParseBytes is
// first scanned by a lexer (lex.go) that knows comments, strings, template
// literals and regular expressions: runs of lines holding only comments or
// docstring text are left out of the parse, and the rest is parsed in
// windows of at most MaxParseBytes cut where the code is at its top level
// (window.go), so padding a payload with megabytes of comments costs only
// the lexer pass. Aliases bound in one window carry to the next. Code past
// MaxFileParseBytes, and code whose parse timed out, is analysed lexically
// (lexical.go): calls, imports and literals found without a tree, through
// the same token tables; "file.truncated" marks a file with such a part.
//
// Aliases are resolved cheaply and flow-insensitively (imports, require,
// destructuring, simple assignments, values returned by module calls), and
// computed names are constant-folded when they are concatenations of literals.
// JavaScript folding goes further (jsfold.go): escapes, templates,
// String.fromCharCode, atob, Buffer.from, URI decoding, split/reverse/join,
// XOR maps and identifiers bound once are evaluated within step and size
// bounds, so g['ev'+'al'], require(atob(…)) and []['constructor']['constructor']
// resolve like their plain forms. Code that such folding decodes and hands to
// eval, Function or vm is parsed and analysed in turn (two levels at most),
// its events placed at the evaluating call; the string pools of
// obfuscator.io-style output are decoded and stand for every access to them.
package features
