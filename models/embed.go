// Package models holds moat's shipped classifier: the ONNX graph, the
// vocabulary it was trained over and its manifest (version, sha256 of the
// graph, threshold, max_len, validation metrics), embedded so the moat
// binary runs with them by default. models/train/ is the training pipeline
// that produces them (see models/train/run.sh and README.md).
//
// This package is pure Go; scan/model turns the bytes into an ONNX Runtime
// session.
package models

import (
	"bytes"
	_ "embed"
)

var (
	//go:embed model.onnx
	onnx []byte
	//go:embed vocab.txt
	vocab []byte
	//go:embed manifest.json
	manifest []byte
)

// ONNX returns a copy of the embedded ONNX graph (model.onnx).
func ONNX() []byte { return bytes.Clone(onnx) }

// Vocab returns a copy of the embedded vocabulary (vocab.txt: one token per
// line, the line index is the token id).
func Vocab() []byte { return bytes.Clone(vocab) }

// Manifest returns a copy of the embedded manifest.json.
func Manifest() []byte { return bytes.Clone(manifest) }
