package npm

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func sri(algo string, sum []byte) string { return algo + "-" + base64.StdEncoding.EncodeToString(sum) }

func TestVerify(t *testing.T) {
	data := []byte("package bytes")
	other := []byte("tampered bytes")
	s512 := sha512.Sum512(data)
	s384 := sha512.Sum384(data)
	s256 := sha256.Sum256(data)
	s1 := sha1.Sum(data)
	bad512 := sha512.Sum512(other)
	bad1 := sha1.Sum(other)

	tests := []struct {
		name            string
		integrity, sha1 string
		wantErr         error
	}{
		{"sha512", sri("sha512", s512[:]), "", nil},
		{"sha384", sri("sha384", s384[:]), "", nil},
		{"sha256", sri("sha256", s256[:]), "", nil},
		{"shasum only", "", hex.EncodeToString(s1[:]), nil},
		{"shasum upper case", "", strings.ToUpper(hex.EncodeToString(s1[:])), nil},
		{"sha512 wins over wrong shasum", sri("sha512", s512[:]), hex.EncodeToString(bad1[:]), nil},
		{"strongest wins", sri("sha1", bad1[:]) + " " + sri("sha512", s512[:]), "", nil},
		{"any of strongest", sri("sha512", bad512[:]) + " " + sri("sha512", s512[:]), "", nil},
		{"options ignored", sri("sha512", s512[:]) + "?foo=bar", "", nil},
		{"unknown algo falls back to shasum", "md5-AAAA", hex.EncodeToString(s1[:]), nil},
		{"sha512 mismatch", sri("sha512", bad512[:]), hex.EncodeToString(s1[:]), ErrIntegrity},
		{"weaker does not rescue", sri("sha512", bad512[:]) + " " + sri("sha256", s256[:]), "", ErrIntegrity},
		{"shasum mismatch", "", hex.EncodeToString(bad1[:]), ErrIntegrity},
		{"nothing", "", "", ErrNoHash},
		{"only unknown", "md5-AAAA", "", ErrNoHash},
		{"bad base64", "sha512-!!!", "", ErrBadIntegrity},
		{"wrong length", sri("sha512", s256[:]), "", ErrBadIntegrity},
		{"bad shasum", "", "xyz", ErrBadIntegrity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(data, tt.integrity, tt.sha1)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			var ie *IntegrityError
			if errors.Is(err, ErrIntegrity) && (!errors.As(err, &ie) || ie.Expected == "" || ie.Got == "") {
				t.Errorf("mismatch without details: %v", err)
			}
		})
	}
}

func TestParseIntegrityOrder(t *testing.T) {
	d1, d256, d512 := sha1.Sum(nil), sha256.Sum256(nil), sha512.Sum512(nil)
	hs, err := ParseIntegrity("  " + sri("sha1", d1[:]) + "\n" + sri("sha256", d256[:]) + "\t" + sri("sha512", d512[:]))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hs {
		got = append(got, h.Algo)
	}
	if strings.Join(got, ",") != "sha512,sha256,sha1" {
		t.Errorf("order = %v", got)
	}
	if hs[0].String() != sri("sha512", d512[:]) {
		t.Errorf("String() = %s", hs[0])
	}
}

func TestChecker(t *testing.T) {
	data := []byte(strings.Repeat("streamed tarball bytes ", 1000))
	c, err := NewChecker(Integrity(data), "")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(data); i += 777 {
		_, _ = c.Write(data[i:min(i+777, len(data))])
	}
	if err := c.Verify(); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	if c.SHA256() != hex.EncodeToString(want[:]) {
		t.Errorf("SHA256 = %s", c.SHA256())
	}
	if c.Size() != int64(len(data)) || c.Algo() != "sha512" {
		t.Errorf("Size/Algo = %d %s", c.Size(), c.Algo())
	}
	// SHA-256 integrity: the same hash serves both purposes.
	c2, _ := NewChecker(sri("sha256", want[:]), "")
	_, _ = c2.Write(data)
	if c2.Verify() != nil || c2.SHA256() != hex.EncodeToString(want[:]) {
		t.Error("sha256 checker")
	}
	if _, err := NewChecker("", ""); !errors.Is(err, ErrNoHash) {
		t.Errorf("NewChecker without hashes: %v", err)
	}
}
