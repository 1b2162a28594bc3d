package policy_test

import (
	"testing"

	"github.com/moatproject/moat/internal/feed"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

// Feed records are stored under the name the feed package normalises; the
// engine looks them up under policy.NormalizeName. The two must agree.
func TestFeedNamesMatchPolicyNames(t *testing.T) {
	for _, c := range []struct {
		eco  scan.Ecosystem
		name string
	}{
		{scan.PyPI, "Fake_Py.Loader"}, {scan.PyPI, "_lead"}, {scan.PyPI, "trail."}, {scan.PyPI, "A--B__C"},
		{scan.NPM, "@Fake-Scope%2fTypo-Lib"}, {scan.NPM, "Plain.Name_x"},
	} {
		doc := `{"id":"MAL-T","affected":[{"package":{"ecosystem":"` + string(c.eco) + `","name":"` + c.name + `"}}]}`
		recs, err := feed.ParseOSV([]byte(doc))
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %v", c.name, err)
		}
		if want := policy.NormalizeName(c.eco, c.name); recs[0].Name != want {
			t.Errorf("%s %q: feed %q, policy %q", c.eco, c.name, recs[0].Name, want)
		}
	}
}
