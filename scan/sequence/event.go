// Package sequence owns the step from behaviour events to the model's input:
// it orders a package's events along the likely execution path (install-time
// entry points, then import-time, then the rest), compresses repeats, caps the
// length while keeping the install-time head, and maps tokens to ids through a
// versioned vocabulary.
package sequence

// Event is one observed behaviour: a vocabulary token plus where it was seen.
// The feature extractor (scan/features) produces events per file in source
// order, already descending into locally defined functions at their call
// sites; this package orders files and builds the package-level sequence.
type Event struct {
	// Token is the vocabulary token, e.g. "net.import", "fs.read.sensitive",
	// "exec.call", "install.script". Tokens are lower-case, dot-separated.
	Token string `json:"token"`
	// File is the path inside the package (archive prefix such as npm's
	// "package/" stripped), slash-separated.
	File string `json:"file"`
	// Line is 1-based; 0 when the event belongs to the whole file.
	Line int `json:"line"`
	// Snippet is a short (≤ 120 bytes), single-line excerpt of the source.
	Snippet string `json:"snippet"`
}

// FileEvents is what the extractor reports for one source file.
type FileEvents struct {
	Path   string  `json:"path"`
	Events []Event `json:"events"`
	// Imports lists the module specifiers the file loads, raw and in source
	// order ("./lib/util", "os", "..helpers", "child_process"), so the
	// sequence builder can follow local modules from the entry points.
	Imports []string `json:"imports,omitempty"`
	// Truncated is set when part of the file was only lexically analysed
	// because it lay past the parse budget (an event "file.truncated" is
	// also emitted).
	Truncated bool `json:"truncated,omitempty"`
	// TimedOut is set when a parse of the file exceeded its time budget: the
	// code it covered was only lexically analysed ("parse.error" is also
	// emitted).
	TimedOut bool `json:"timed_out,omitempty"`
}
