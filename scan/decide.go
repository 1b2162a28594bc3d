package scan

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/moatproject/moat/scan/behaviour"
	"github.com/moatproject/moat/scan/sequence"
)

// ruleScore is the score of a report a behaviour rule decided: the rules
// fire only on combinations measured never to occur in the benign corpora.
const ruleScore = 1.0

// decide scores the package sequence and each execution unit, runs the
// behaviour rules, and fills r's score, verdict, units, rules and findings
// from the strongest of them. A unit decides only when it reaches
// Options.UnitThreshold: the model was trained on whole packages, and a
// unit cut from a benign package (one file of a build tool) reaches the
// package threshold more often than a whole benign package does.
func (s *Scanner) decide(ctx context.Context, r *Report, pkg sequence.Package, files []*sequence.FileEvents, seq sequence.Sequence) error {
	var units []sequence.Unit
	if s.opts.MaxUnits >= 0 {
		units = sequence.Units(pkg, files, s.opts.Sequence, s.opts.MaxUnits)
	}
	batch := make([][]string, 0, 1+len(units))
	batch = append(batch, s.modelInput(seq.Tokens))
	for _, u := range units {
		batch = append(batch, s.modelInput(u.Sequence.Tokens))
	}
	scores, err := s.scoreAll(ctx, batch)
	if err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	r.PackageScore = scores[0]
	r.Score, r.DecidedBy = scores[0], "package"
	best := seq
	unitBar := max(r.Threshold, s.opts.UnitThreshold)
	for i, u := range units {
		sc := scores[i+1]
		r.Units = append(r.Units, UnitScore{Kind: u.Kind, Name: u.Name, Score: sc, Files: u.Files})
		if sc > r.Score && sc >= unitBar {
			r.Score, r.DecidedBy, best = sc, "unit:"+u.Kind+":"+u.Name, u.Sequence
		}
	}
	slices.SortStableFunc(r.Units, func(a, b UnitScore) int { return cmp.Compare(b.Score, a.Score) })

	r.Rules = behaviour.Evaluate(ruleFiles(pkg, files))
	r.Verdict = VerdictClean
	if len(r.Rules) > 0 {
		r.Score, r.DecidedBy = ruleScore, "rule:"+r.Rules[0].Rule
	}
	if r.Score >= r.Threshold {
		r.Verdict = VerdictMalicious
	}
	r.Findings = dedupFindings(append(ruleFindings(r.Rules), s.findings(ctx, best, r.Score, r.Threshold)...), s.opts.MaxFindings)
	return nil
}

// modelInput drops the tokens the classifier does not know (TokenFilter).
func (s *Scanner) modelInput(tokens []string) []string {
	f, ok := s.cl.(TokenFilter)
	if !ok {
		return tokens
	}
	out := tokens
	for i, t := range tokens {
		if !f.Knows(t) {
			out = slices.Clone(tokens[:i])
			for _, t := range tokens[i+1:] {
				if f.Knows(t) {
					out = append(out, t)
				}
			}
			break
		}
	}
	return out
}

// scoreAll scores sequences in one batch when the classifier can.
func (s *Scanner) scoreAll(ctx context.Context, batch [][]string) ([]float64, error) {
	if bs, ok := s.cl.(BatchScorer); ok && len(batch) > 1 {
		scores, err := bs.ScoreBatch(ctx, batch)
		if err == nil && len(scores) != len(batch) {
			err = fmt.Errorf("batch of %d returned %d scores", len(batch), len(scores))
		}
		return scores, err
	}
	scores := make([]float64, len(batch))
	for i, b := range batch {
		sc, err := s.cl.Score(ctx, b)
		if err != nil {
			return nil, err
		}
		scores[i] = sc
	}
	return scores, nil
}

// ruleFiles gives each file with events the strongest place it runs in:
// install time if an install entry reaches it or it is an in-tree build
// backend, else import time if an import entry reaches it, else other.
func ruleFiles(pkg sequence.Package, files []*sequence.FileEvents) []behaviour.File {
	install := sequence.Reached(pkg, files, pkg.Install)
	for _, f := range pkg.BuildBackend {
		install[sequence.CleanPath(f)] = true
	}
	imported := sequence.Reached(pkg, files, pkg.Import)
	out := make([]behaviour.File, 0, len(files))
	for _, f := range files {
		if f == nil || len(f.Events) == 0 {
			continue
		}
		k, p := behaviour.Other, sequence.CleanPath(f.Path)
		switch {
		case install[p]:
			k = behaviour.Install
		case imported[p]:
			k = behaviour.Import
		}
		out = append(out, behaviour.File{Path: f.Path, Kind: k, Events: f.Events})
	}
	return out
}

// ruleFindings lists each hit's evidence as findings, weight 1.
func ruleFindings(hits []behaviour.Hit) []Finding {
	var out []Finding
	for _, h := range hits {
		for _, e := range h.Evidence {
			out = append(out, Finding{Feature: e.Token, File: e.File, Line: e.Line, Snippet: e.Snippet, Weight: 1})
		}
	}
	return out
}

// dedupFindings keeps the first finding of each feature, file and line, at
// most max of them.
func dedupFindings(fs []Finding, max int) []Finding {
	type key struct {
		feature, file string
		line          int
	}
	seen := make(map[key]bool, len(fs))
	out := fs[:0]
	for _, f := range fs {
		k := key{f.Feature, f.File, f.Line}
		if seen[k] || len(out) >= max {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}
