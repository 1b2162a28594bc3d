package audit

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendJSON appends e's JSON encoding (without a newline) to b: byte for
// byte what json.Marshal(e) gives (TestAppendJSONMatchesMarshal and
// FuzzAppendJSON hold it to that), without reflection. Every served
// artifact writes an entry, so this is on the cached-artifact path.
func (e *Entry) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"time":`...)
	var err error
	if b, err = appendTime(b, e.Time); err != nil {
		return nil, err
	}
	b = appendField(b, "client", e.Client)
	b = appendField(b, "ecosystem", e.Ecosystem)
	b = appendField(b, "name", e.Name)
	b = appendField(b, "version", e.Version)
	b = appendField(b, "filename", e.Filename)
	b = appendField(b, "sha256", e.SHA256)
	b = append(b, `,"action":`...)
	b = appendString(b, e.Action)
	b = appendField(b, "layer", e.Layer)
	if len(e.Reasons) > 0 {
		b = append(b, `,"reasons":[`...)
		for i, r := range e.Reasons {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, r)
		}
		b = append(b, ']')
	}
	b = appendField(b, "mode", e.Mode)
	if e.Score != 0 {
		if math.IsNaN(e.Score) || math.IsInf(e.Score, 0) {
			return nil, &json.UnsupportedValueError{Str: strconv.FormatFloat(e.Score, 'g', -1, 64)}
		}
		b = append(b, `,"score":`...)
		b = appendFloat(b, e.Score)
	}
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendInt(b, e.DurationMS, 10)
	return append(b, '}'), nil
}

// appendField appends ,"key":"v" unless v is empty (omitempty).
func appendField(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

// appendString appends s as a JSON string. Plain printable ASCII is copied;
// anything encoding/json would escape (quotes, backslashes, control
// characters, <, > and &, invalid UTF-8, U+2028/9) goes through it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds, in quotes); years it refuses go through it for its error.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		q, err := t.MarshalJSON()
		if err != nil {
			return nil, err
		}
		return append(b, q...), nil
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendFloat formats f as encoding/json does for a float64 (ES6 number
// formatting: %f-like unless very small or large, exponents without a
// leading zero).
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	fmt := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	b = strconv.AppendFloat(b, f, fmt, -1, 64)
	if fmt == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
