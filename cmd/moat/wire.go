package main

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/moatproject/moat/internal/config"
	"github.com/moatproject/moat/scan"
	"github.com/moatproject/moat/scan/features"
	"github.com/moatproject/moat/scan/model"
	"github.com/moatproject/moat/scan/rules"
)

// scannerOptions is what the scanner wiring needs from flags and config.
type scannerOptions struct {
	Timeout time.Duration // per artifact; 0 = scan.DefaultTimeout
	// Classifier is "model" (the ONNX model) or "rules" (the transparent
	// rule layer); "" means the default.
	Classifier string
	Model      string // model directory; "" = the embedded model
	ORTLibrary string // libonnxruntime path; "" = search
	// ParseBudget and MaxUnits are scan.Options' (0: the scanner's defaults).
	ParseBudget int
	MaxUnits    int
	Logger      *slog.Logger
	// OnParse is scan.Options.OnParse (nil: none).
	OnParse func(srcBytes int) (done func())
}

// scannerOptionsFrom takes the scanner settings of a loaded config.
func scannerOptionsFrom(cfg config.Config, log *slog.Logger) scannerOptions {
	return scannerOptions{
		Timeout:     cfg.Scan.Timeout,
		Classifier:  cfg.Scan.Classifier,
		Model:       cfg.Scan.Model,
		ORTLibrary:  cfg.Scan.ORTLibrary,
		ParseBudget: int(cfg.Scan.ParseBudgetBytes),
		MaxUnits:    cfg.Scan.MaxUnits,
		Logger:      log,
	}
}

// buildScanner wires the tree-sitter extractor and a classifier into a
// scan.Scanner. The returned function releases them (parsers, model
// session) and must be called when the scanner is no longer used.
func buildScanner(opts scannerOptions) (*scan.Scanner, func() error, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl, closeCl, err := newClassifier(opts, log)
	if err != nil {
		return nil, nil, err
	}
	ex := features.New(features.Options{Logger: log})
	s := scan.New(ex, cl, scan.Options{Timeout: opts.Timeout, Logger: log, OnParse: opts.OnParse,
		ParseBudget: opts.ParseBudget, MaxUnits: opts.MaxUnits})
	closeAll := func() error {
		err := ex.Close()
		if cerr := closeCl(); err == nil {
			err = cerr
		}
		return err
	}
	return s, closeAll, nil
}

// newClassifier picks the classifier named by opts.Classifier.
func newClassifier(opts scannerOptions, log *slog.Logger) (scan.Classifier, func() error, error) {
	noop := func() error { return nil }
	switch opts.Classifier {
	case "", "rules":
		return rules.New(), noop, nil
	case "model":
		mo := model.Options{LibraryPath: opts.ORTLibrary, Logger: log}
		if opts.Model != "" {
			mo.ModelPath = filepath.Join(opts.Model, "model.onnx")
			mo.VocabPath = filepath.Join(opts.Model, "vocab.txt")
			mo.ManifestPath = filepath.Join(opts.Model, "manifest.json")
		}
		m, err := model.Load(mo)
		if err != nil {
			return nil, nil, fmt.Errorf("loading the model (scan.classifier: model; set scan.classifier: rules to run without ONNX Runtime): %w", err)
		}
		return m, m.Close, nil
	default:
		return nil, nil, fmt.Errorf("scan.classifier: unknown classifier %q (want model or rules)", opts.Classifier)
	}
}
