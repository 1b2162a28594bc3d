package ca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

func TestInitRootExtensions(t *testing.T) {
	dir := t.TempDir()
	c, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(CertPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	root, err := ParseCert(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !root.BasicConstraintsValid || !root.IsCA || root.MaxPathLen != 0 || !root.MaxPathLenZero {
		t.Errorf("basic constraints: valid %v CA %v maxpath %d zero %v", root.BasicConstraintsValid, root.IsCA, root.MaxPathLen, root.MaxPathLenZero)
	}
	for _, e := range root.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 19}) && !e.Critical {
			t.Error("basic constraints is not critical")
		}
		if e.Id.Equal(oidExtKeyUsage) {
			t.Error("root carries an ExtendedKeyUsage extension; it must have none")
		}
	}
	if root.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("key usage %v", root.KeyUsage)
	}
	if len(root.SubjectKeyId) == 0 {
		t.Error("no subject key id")
	}
	if len(root.ExtKeyUsage) != 0 || len(root.UnknownExtKeyUsage) != 0 {
		t.Errorf("root EKU %v %v", root.ExtKeyUsage, root.UnknownExtKeyUsage)
	}
	if !strings.HasPrefix(root.Subject.CommonName, "moat local CA (") {
		t.Errorf("subject %q", root.Subject.CommonName)
	}
	if years := root.NotAfter.Sub(root.NotBefore).Hours() / 24 / 365; years < 9.9 || years > 10.1 {
		t.Errorf("root validity %.1f years", years)
	}
	if pub, ok := root.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("root key is %T, want ECDSA P-256", root.PublicKey)
	}
	if !bytes.Equal(c.CertPEM(), raw) {
		t.Error("CertPEM differs from ca.crt")
	}
	if c.CertPath() != CertPath(dir) {
		t.Errorf("CertPath %s", c.CertPath())
	}
}

func TestFileModes(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{keyName: 0o600, certName: 0o644} {
		fi, err := os.Stat(filepath.Join(Dir(dir), name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	fi, _ := os.Stat(Dir(dir))
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("ca dir mode %v", fi.Mode().Perm())
	}
	leftovers, _ := filepath.Glob(filepath.Join(Dir(dir), ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestInitIdempotent(t *testing.T) {
	dir := t.TempDir()
	a, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	key1, _ := os.ReadFile(filepath.Join(Dir(dir), keyName))
	b, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	key2, _ := os.ReadFile(filepath.Join(Dir(dir), keyName))
	if !bytes.Equal(a.CertPEM(), b.CertPEM()) || !bytes.Equal(key1, key2) {
		t.Error("second Init replaced the CA")
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("absent", func(t *testing.T) {
		if _, err := Load(t.TempDir()); !errors.Is(err, ErrNoCA) {
			t.Errorf("got %v, want ErrNoCA", err)
		}
	})
	cases := []struct {
		name    string
		mutate  func(t *testing.T, dir string)
		wantSub string
	}{
		{"corrupted key", func(t *testing.T, dir string) {
			write(t, filepath.Join(Dir(dir), keyName), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600)
		}, "corrupt private key"},
		{"garbage key", func(t *testing.T, dir string) {
			write(t, filepath.Join(Dir(dir), keyName), []byte("not pem at all"), 0o600)
		}, "not a PEM private key"},
		{"key readable by others", func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(Dir(dir), keyName), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "readable by other users"},
		{"missing certificate", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(Dir(dir), certName))
		}, "its certificate"},
		{"missing key", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(Dir(dir), keyName))
		}, "its key"},
		{"mismatched pair", func(t *testing.T, dir string) {
			other := t.TempDir()
			if _, err := Init(other); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(CertPath(other))
			write(t, CertPath(dir), b, 0o644)
		}, "do not belong together"},
		{"corrupted certificate", func(t *testing.T, dir string) {
			write(t, CertPath(dir), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644)
		}, "corrupt certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Init(dir); err != nil {
				t.Fatal(err)
			}
			c.mutate(t, dir)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.wantSub) {
				t.Fatalf("Load: %v, want an error containing %q", err, c.wantSub)
			}
			// Init must not paper over a damaged CA either.
			if _, err := Init(dir); err == nil {
				t.Error("Init replaced a damaged CA silently")
			}
		})
	}
}

func write(t *testing.T, p string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func TestLeaf(t *testing.T) {
	c, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Certificate())
	for _, host := range []string{"registry.example.invalid", "127.0.0.1", "::1", "[::1]", "Files.Example.Invalid."} {
		t.Run(host, func(t *testing.T) {
			tc, err := c.Leaf(host)
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(tc.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("EKU %v", leaf.ExtKeyUsage)
			}
			if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
				t.Errorf("key usage %v", leaf.KeyUsage)
			}
			if !bytes.Equal(leaf.AuthorityKeyId, c.Certificate().SubjectKeyId) {
				t.Error("authority key id does not name the root")
			}
			if leaf.IsCA {
				t.Error("leaf is a CA")
			}
			if d := leaf.NotAfter.Sub(leaf.NotBefore); d > 30*24*time.Hour {
				t.Errorf("leaf validity %v > 30 days", d)
			}
			if start := time.Since(leaf.NotBefore); start < 59*time.Minute || start > 61*time.Minute {
				t.Errorf("leaf starts %v in the past, want 1h", start)
			}
			if leaf.SerialNumber.BitLen() < 64 {
				t.Errorf("serial %v looks not random", leaf.SerialNumber)
			}
			name := strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Errorf("chain does not verify for serverAuth: %v", err)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example.invalid", Roots: roots}); err == nil {
				t.Error("leaf verifies for another host")
			}
		})
	}
}

func TestLeafCache(t *testing.T) {
	c, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c.now = func() time.Time { return now }
	a, _ := c.Leaf("a.example.invalid")
	b, _ := c.Leaf("a.example.invalid")
	if a != b {
		t.Error("second Leaf for the same host was not cached")
	}
	now = now.Add(LeafValidity/2 + time.Hour)
	d, _ := c.Leaf("a.example.invalid")
	if d == a {
		t.Error("leaf near expiry was not renewed")
	}
	c.leaves = newLeafCache(2)
	for _, h := range []string{"1.invalid", "2.invalid", "3.invalid"} {
		if _, err := c.Leaf(h); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.leaves.len(); n != 2 {
		t.Errorf("cache holds %d leaves, want the bound 2", n)
	}
	if _, err := c.Leaf(""); err == nil {
		t.Error("leaf for an empty host")
	}
}

// TestLeafHandshake checks that a Go TLS client trusting only the root
// completes a handshake against a leaf.
func TestLeafHandshake(t *testing.T) {
	c, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Certificate())
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		return c.Leaf(h.ServerName)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			_ = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "registry.example.invalid"})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	conn.Close()
}

func TestCombinedBundle(t *testing.T) {
	dir := t.TempDir()
	c, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sys := filepath.Join(t.TempDir(), "roots.pem")
	write(t, sys, append([]byte("# a comment\n"), other.CertPEM()...), 0o644)
	t.Setenv("SSL_CERT_FILE", sys)

	dst := c.BundlePath()
	if err := c.CombinedBundle(dst); err != nil {
		t.Fatal(err)
	}
	got := certsIn(t, dst)
	if len(got) != 2 || !got[0].Equal(other.Certificate()) || !got[1].Equal(c.Certificate()) {
		t.Fatalf("bundle holds %d certificates, want system root then moat's", len(got))
	}
	fi, _ := os.Stat(dst)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("bundle mode %v", fi.Mode().Perm())
	}

	// SSL_CERT_FILE pointing at an earlier bundle: moat's root is not doubled.
	t.Setenv("SSL_CERT_FILE", dst)
	dst2 := filepath.Join(t.TempDir(), "again.pem")
	if err := c.CombinedBundle(dst2); err != nil {
		t.Fatal(err)
	}
	if n := len(certsIn(t, dst2)); n != 2 {
		t.Errorf("rebundled: %d certificates, want 2", n)
	}

	t.Setenv("SSL_CERT_FILE", filepath.Join(t.TempDir(), "missing.pem"))
	if err := c.CombinedBundle(dst2); err == nil {
		t.Error("missing SSL_CERT_FILE accepted")
	}
}

func certsIn(t *testing.T, p string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

// FuzzParseKey: a damaged key file yields an error, never a panic.
func FuzzParseKey(f *testing.F) {
	dir := f.TempDir()
	if _, err := Init(dir); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(Dir(dir), keyName))
	f.Add(good)
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\n\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKey(data)
		if err == nil && k == nil {
			t.Fatal("nil key without error")
		}
		_, _ = ParseCert(data)
	})
}
