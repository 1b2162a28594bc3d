package model

import (
	"context"
	"fmt"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/moatproject/moat/models"
)

// typical returns a plausible behaviour sequence of n tokens.
func typical(n int) []string {
	pool := []string{"[IMPORT]", "fs.import", "fs.read", "os.import", "env.read", "net.import",
		"net.call", "url", "encoding.import", "encoding.call", "process.import", "fs.write"}
	out := make([]string, n)
	for i := range out {
		out[i] = pool[i%len(pool)]
	}
	return out
}

func benchScore(b *testing.B, n int) {
	m := load(b, Options{IntraOpThreads: 1})
	seq := typical(n - 2) // + [CLS] and [SEP] = n
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Score(ctx, seq); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScore128 and BenchmarkScore512: one sequence of 128 / 512 ids
// (the target is <= 5 ms median for a typical sequence) on one ORT thread.
func BenchmarkScore128(b *testing.B) { benchScore(b, 128) }
func BenchmarkScore512(b *testing.B) { benchScore(b, 512) }

// BenchmarkScoreBatch: 32 occlusion-style variants of a 128-token sequence.
func BenchmarkScoreBatch(b *testing.B) {
	m := load(b, Options{IntraOpThreads: 1})
	base := typical(126)
	batch := make([][]string, 32)
	for i := range batch {
		batch[i] = append(append([]string{}, base[:i]...), base[i+1:]...)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := m.ScoreBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFixedSession runs an AdvancedSession with preallocated, fixed-shape
// tensors: the alternative to the DynamicAdvancedSession that Model uses.
func BenchmarkFixedSession(b *testing.B) {
	for _, n := range []int{128, 512} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			load(b, Options{}) // holds the runtime environment
			shape := ort.NewShape(1, int64(n))
			ids := make([]int64, n)
			mask := make([]int64, n)
			for i := range ids {
				ids[i], mask[i] = int64(5+i%20), 1
			}
			idsT, _ := ort.NewTensor(shape, ids)
			defer idsT.Destroy()
			maskT, _ := ort.NewTensor(shape, mask)
			defer maskT.Destroy()
			outT, _ := ort.NewEmptyTensor[float32](ort.NewShape(1))
			defer outT.Destroy()
			so, _ := ort.NewSessionOptions()
			defer so.Destroy()
			_ = so.SetIntraOpNumThreads(1)
			_ = so.SetInterOpNumThreads(1)
			s, err := ort.NewAdvancedSessionWithONNXData(models.ONNX(), []string{"input_ids", "attention_mask"},
				[]string{"probability"}, []ort.Value{idsT, maskT}, []ort.Value{outT}, so)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Destroy()
			for b.Loop() {
				if err := s.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
