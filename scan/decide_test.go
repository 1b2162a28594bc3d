package scan

import (
	"context"
	"slices"
	"strconv"
	"testing"
)

// batchRecorder scores a sequence by its first token (a number) and records
// the size of every batch it is given.
type batchRecorder struct{ sizes []int }

func (b *batchRecorder) Score(_ context.Context, toks []string) (float64, error) {
	v, _ := strconv.ParseFloat(toks[0], 64)
	return v, nil
}
func (b *batchRecorder) ScoreBatch(ctx context.Context, seqs [][]string) ([]float64, error) {
	b.sizes = append(b.sizes, len(seqs))
	out := make([]float64, len(seqs))
	for i, s := range seqs {
		out[i], _ = b.Score(ctx, s)
	}
	return out, nil
}
func (b *batchRecorder) Threshold() float64 { return 0.5 }
func (b *batchRecorder) Version() string    { return "recorder" }

// TestScoreAllChunks: the package and its units reach the model in batches
// of at most maxBatch sequences (the attention's memory grows with the
// batch), and the scores come back in order.
func TestScoreAllChunks(t *testing.T) {
	rec := &batchRecorder{}
	s := &Scanner{cl: rec}
	var batch [][]string
	var want []float64
	for i := range 2*maxBatch + 3 {
		v := float64(i) / 100
		batch = append(batch, []string{strconv.FormatFloat(v, 'f', -1, 64)})
		want = append(want, v)
	}
	got, err := s.scoreAll(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("scores %v, want %v", got, want)
	}
	if !slices.Equal(rec.sizes, []int{maxBatch, maxBatch, 3}) {
		t.Errorf("batch sizes %v, want [%d %d 3]", rec.sizes, maxBatch, maxBatch)
	}
}
