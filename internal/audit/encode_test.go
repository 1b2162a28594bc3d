package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestAppendJSONMatchesMarshal(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 30, 0, 123456789, time.UTC)
	cases := map[string]Entry{
		"zero":          {},
		"whole":         {Time: t0, Client: "192.0.2.1", Ecosystem: "npm", Name: "@scope/pkg", Version: "1.0.0-beta.1+b", Filename: "pkg-1.0.0.tgz", SHA256: "ab12", Action: "block", Layer: "scan", Reasons: []string{"one", "two"}, Mode: "enforce", Score: 0.9731, DurationMS: 12},
		"escapes":       {Time: t0.Truncate(time.Second), Name: "a\"b\\c<d>&e\u2028\x01\n", Reasons: []string{"", "\xff\xfe bad utf8", "caf\u00e9 \U0001F600"}, Action: "warn"},
		"empty reasons": {Time: t0, Reasons: []string{}, Action: "allow"},
		"tiny score":    {Time: t0, Score: 1e-7, Action: "allow"},
		"huge score":    {Time: t0, Score: 1e21, Action: "allow"},
		"neg exp":       {Time: t0, Score: -3.5e-10, Action: "allow"},
		"big int score": {Time: t0, Score: 123456789, Action: "allow"},
		"negative":      {Time: t0, Score: -0.25, DurationMS: -1, Action: "allow"},
		"year zero":     {Time: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), Action: "allow"},
		"year 9999":     {Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Action: "allow"},
		"offset zone":   {Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", -(5*3600+30*60))), Action: "allow"},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			want, werr := json.Marshal(e)
			got, gerr := e.appendJSON(nil)
			if (werr != nil) != (gerr != nil) {
				t.Fatalf("errors differ: Marshal %v, appendJSON %v", werr, gerr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("appendJSON:\n%s\njson.Marshal:\n%s", got, want)
			}
		})
	}
}

func TestAppendJSONRefusesWhatMarshalRefuses(t *testing.T) {
	for _, e := range []Entry{
		{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Score: math.NaN()},
		{Score: math.Inf(-1)},
	} {
		if _, err := json.Marshal(e); err == nil {
			t.Fatalf("json.Marshal(%+v) succeeded; the test expects it to fail", e)
		}
		if b, err := e.appendJSON(nil); err == nil {
			t.Errorf("appendJSON(%+v) = %s, want an error", e, b)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("npm", "left-pad", "1.3.0", "a<b>&\"c\\", "reason \u2028", 0.5, int64(1700000000), int64(5))
	f.Add("", "", "", "", "", 0.0, int64(0), int64(0))
	f.Add("pypi", "\xff", "\x00", "\t", "<script>", 1e-9, int64(-62135596800), int64(-7))
	f.Fuzz(func(t *testing.T, eco, name, ver, reason1, reason2 string, score float64, unix, dur int64) {
		if math.IsNaN(score) || math.IsInf(score, 0) {
			return // refused by both (TestAppendJSONRefusesWhatMarshalRefuses)
		}
		e := Entry{Time: time.Unix(unix%(1<<36), dur).UTC(), Client: ver, Ecosystem: eco, Name: name, Version: ver,
			Filename: name + ver, SHA256: reason2, Action: reason1, Layer: eco, Reasons: []string{reason1, reason2}, Mode: name,
			Score: score, DurationMS: dur}
		want, werr := json.Marshal(e)
		got, gerr := e.appendJSON(nil)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("errors differ: Marshal %v, appendJSON %v", werr, gerr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("appendJSON:\n%q\njson.Marshal:\n%q", got, want)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	e := Entry{Time: time.Now().UTC(), Client: "127.0.0.1", Ecosystem: "npm", Name: "express", Version: "4.21.2",
		Filename: "express-4.21.2.tgz", SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Action: "allow", Layer: "scan", Score: 0.0123, DurationMS: 1}
	var buf []byte
	for b.Loop() {
		buf, _ = e.appendJSON(buf[:0])
	}
}
