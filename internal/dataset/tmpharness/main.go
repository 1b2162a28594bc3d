// Temporary harness (to be deleted): runs dataset.Export with the real
// scanner until cmd/moat's buildScanner lands.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/moatproject/moat/internal/dataset"
	"github.com/moatproject/moat/scan"
	"github.com/moatproject/moat/scan/features"
	"github.com/moatproject/moat/scan/rules"
)

func main() {
	out := flag.String("out", "", "")
	label := flag.Int("label", -1, "")
	source := flag.String("source", "", "")
	tsv := flag.String("tsv", "", "")
	eco := flag.String("eco", "", "")
	flag.Parse()
	opts := dataset.Options{Label: *label, Source: *source, Progress: os.Stderr, Ecosystem: scan.Ecosystem(*eco)}
	if *tsv != "" {
		f, err := os.Open(*tsv)
		if err != nil {
			panic(err)
		}
		opts.Meta, err = dataset.ReadMeta(f, nil)
		if err != nil {
			panic(err)
		}
	}
	sc := scan.New(features.New(features.Options{ParseTimeout: time.Minute}), rules.New(), scan.Options{Timeout: 5 * time.Minute})
	f, err := os.OpenFile(*out, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(f)
	keep := bytes.LastIndexByte(b, '\n') + 1
	opts.Done, _ = dataset.ReadDone(bytes.NewReader(b[:keep]))
	f.Truncate(int64(keep))
	f.Seek(int64(keep), io.SeekStart)
	st, err := dataset.Export(context.Background(), sc, flag.Args(), f, opts)
	f.Close()
	fmt.Fprintf(os.Stderr, "%+v %v\n", st, err)
}
