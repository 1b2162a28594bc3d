package scan

import (
	"cmp"
	"context"
	"slices"

	"github.com/moatproject/moat/scan/sequence"
)

// minWeight is the smallest occlusion weight that makes a token a finding.
const minWeight = 1e-3

// findings explains a score. Only scores of at least half the threshold
// are explained: a clean package far from the bar has nothing to explain.
//
// The suspicious tokens are those with sequence.Risk of at least 3, plus,
// when the classifier is a BatchScorer, any token whose occlusion weight
// (the score minus the score of the sequence without any occurrence of that
// token) is positive. They are ordered by weight, then risk, then first
// appearance; redundant evidence (two tokens that each suffice) weighs 0
// but is still listed. Findings are all events of suspicious tokens,
// deduplicated by token, file and line, in that token order and then
// sequence order, capped at MaxFindings.
func (s *Scanner) findings(ctx context.Context, seq sequence.Sequence, score, threshold float64) []Finding {
	out := []Finding{}
	if score < threshold/2 {
		return out
	}
	var distinct []string
	seenTok := make(map[string]bool)
	for _, t := range seq.Tokens {
		if !isMarker(t) && !seenTok[t] {
			seenTok[t] = true
			distinct = append(distinct, t)
		}
	}
	weights := s.occlusion(ctx, seq.Tokens, distinct, score)
	var suspicious []string
	for _, t := range distinct {
		if weights[t] > minWeight || sequence.Risk(t) >= 3 {
			suspicious = append(suspicious, t)
		}
	}
	slices.SortStableFunc(suspicious, func(a, b string) int {
		if c := cmp.Compare(weights[b], weights[a]); c != 0 {
			return c
		}
		return cmp.Compare(sequence.Risk(b), sequence.Risk(a))
	})

	type key struct {
		tok, file string
		line      int
	}
	seen := make(map[key]bool)
	for _, t := range suspicious {
		for i, tok := range seq.Tokens {
			if tok != t {
				continue
			}
			e := seq.Events[i]
			k := key{tok, e.File, e.Line}
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, Finding{Feature: tok, File: e.File, Line: e.Line, Snippet: e.Snippet, Weight: weights[t]})
			if len(out) >= s.opts.MaxFindings {
				return out
			}
		}
	}
	return out
}

// occlusion weighs each distinct token, or returns nil when the classifier
// cannot score batches.
func (s *Scanner) occlusion(ctx context.Context, tokens, distinct []string, base float64) map[string]float64 {
	bs, ok := s.cl.(BatchScorer)
	if !ok || len(distinct) == 0 {
		return nil
	}
	batch := make([][]string, len(distinct))
	for i, t := range distinct {
		batch[i] = slices.DeleteFunc(slices.Clone(tokens), func(x string) bool { return x == t })
	}
	scores, err := bs.ScoreBatch(ctx, batch)
	if err != nil || len(scores) != len(distinct) {
		s.log.Debug("occlusion failed", "err", err)
		return nil
	}
	w := make(map[string]float64, len(distinct))
	for i, t := range distinct {
		w[t] = base - scores[i]
	}
	return w
}

func isMarker(t string) bool {
	return t == sequence.MarkInstall || t == sequence.MarkImport || t == sequence.MarkOther
}
