package features_test

import (
	"context"
	"fmt"

	"github.com/moatproject/moat/scan"
	"github.com/moatproject/moat/scan/features"
)

var _ scan.Extractor = (*features.Extractor)(nil)

func Example() {
	e := features.New(features.Options{})
	defer e.Close()
	fe, err := e.Extract(context.Background(), "index.js", []byte(`const cp = require('child_process');
function run() { cp.exec('id'); }
run();
`))
	if err != nil {
		panic(err)
	}
	for _, ev := range fe.Events {
		fmt.Println(ev.Line, ev.Token, ev.Snippet)
	}
	fmt.Println(fe.Imports)
	// Output:
	// 1 process.import const cp = require('child_process');
	// 2 process.call function run() { cp.exec('id'); }
	// [child_process]
}
