package admin

import (
	"errors"
	"strings"
	"testing"

	"github.com/moatproject/moat/scan"
)

// FuzzDecodeOverride: any body yields a valid rule or a bad-request error,
// never a panic.
func FuzzDecodeOverride(f *testing.F) {
	for _, s := range []string{
		`{"action":"allow","ecosystem":"npm","package":"left-pad","version":"1.3.0","reason":"ok"}`,
		`{"action":"deny","ecosystem":"pypi","package":"Requests","range":"~=2.31"}`,
		`{"action":"deny","ecosystem":"npm","package":"@acme/*"}`,
		`{"action":"block","ecosystem":"npm","package":"x","range":">=1 <2 || ^3"}`,
		`{"action":"warn","ecosystem":"npm","package":"x"}`,
		`{"action":"allow","ecosystem":"npm","package":"[x"}`,
		`{"action":"allow","ecosystem":"npm","package":"x","version":"1","range":"^1"}`,
		`{"action":"allow"} trailing`, `[]`, `null`, `{`, ``, `{"action":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeOverride(strings.NewReader(string(body)))
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("error is not a bad request: %v", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("decoded an invalid rule %+v: %v", r, err)
		}
	})
}

// FuzzDecodeFeed: accepted records are all well-formed.
func FuzzDecodeFeed(f *testing.F) {
	for _, s := range []string{
		`[{"id":"MAL-1","ecosystem":"npm","name":"x","all_versions":true}]`,
		`[{"id":"MAL-2","ecosystem":"pypi","name":"Evil_Lib","versions":["1.0"],"ranges":[{"type":"ECOSYSTEM","introduced":"0"}]}]`,
		`[]`, `null`, `{}`, `[{"id":""}]`, `[1,2]`, `[{"id":"M","ecosystem":"npm","name":"a"}] x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := DecodeFeed(strings.NewReader(string(body)))
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("error is not a bad request: %v", err)
			}
			return
		}
		for _, r := range recs {
			if strings.TrimSpace(r.ID) == "" || r.Name == "" || (r.Ecosystem != scan.NPM && r.Ecosystem != scan.PyPI) {
				t.Fatalf("accepted a malformed record %+v", r)
			}
		}
	})
}
