// Package ca owns moat's local certificate authority for transparent mode:
// the root key and certificate in <data>/ca/ (created once, key mode 0600),
// the short-lived leaf certificates moat presents for the registry hosts it
// intercepts (cached in memory), and the combined trust bundle (system roots
// plus moat's root) that clients whose CA option replaces their roots need.
//
// The private key is never logged or printed; only the certificate leaves
// this package.
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside the data dir.
const (
	dirName    = "ca"
	keyName    = "ca.key"
	certName   = "ca.crt"
	bundleName = "bundle.pem"
)

// Validity periods.
const (
	rootValidity = 10 * 365 * 24 * time.Hour
	// LeafValidity is how long a leaf certificate is valid after it starts
	// (leaves start an hour in the past, for clients with a slow clock).
	LeafValidity = 14 * 24 * time.Hour
	leafBackdate = time.Hour
)

// ErrNoCA is returned by Load when the data dir has no CA yet.
var ErrNoCA = errors.New("no moat CA in the data dir (run `moat ca init`)")

// CA is moat's root: its certificate, key and a cache of leaves.
type CA struct {
	dir  string // <data>/ca
	cert *x509.Certificate
	pem  []byte
	key  crypto.Signer

	leaves *leafCache
	now    func() time.Time
}

// Dir is the CA folder inside a data dir.
func Dir(dataDir string) string { return filepath.Join(dataDir, dirName) }

// CertPath is where the root certificate of the CA in dataDir lives.
func CertPath(dataDir string) string { return filepath.Join(Dir(dataDir), certName) }

// BundlePath is where CombinedBundle writes by default for dataDir.
func BundlePath(dataDir string) string { return filepath.Join(Dir(dataDir), bundleName) }

// Init loads the CA in dataDir, creating it first if there is none. It is
// idempotent: an existing CA is never replaced. A half-present CA (a key
// without a certificate or the reverse) is an error, not silently
// regenerated, because clients may already trust the old root.
func Init(dataDir string) (*CA, error) {
	c, err := Load(dataDir)
	if !errors.Is(err, ErrNoCA) {
		return c, err
	}
	if err := create(dataDir); err != nil {
		return nil, err
	}
	return Load(dataDir)
}

// Load reads the CA in dataDir. It returns ErrNoCA (wrapped) when neither
// file exists, and a precise error when a file is unreadable or corrupt.
func Load(dataDir string) (*CA, error) {
	dir := Dir(dataDir)
	keyPath, certPath := filepath.Join(dir, keyName), filepath.Join(dir, certName)
	keyPEM, kerr := os.ReadFile(keyPath)
	certPEM, cerr := os.ReadFile(certPath)
	switch {
	case errors.Is(kerr, fs.ErrNotExist) && errors.Is(cerr, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: %w", dir, ErrNoCA)
	case errors.Is(kerr, fs.ErrNotExist):
		return nil, fmt.Errorf("ca: %s exists but its key %s does not; restore the key or remove %s and run `moat ca init` (clients must then trust the new root)", certPath, keyPath, dir)
	case errors.Is(cerr, fs.ErrNotExist):
		return nil, fmt.Errorf("ca: %s exists but its certificate %s does not; remove %s and run `moat ca init` (clients must then trust the new root)", keyPath, certPath, dir)
	case kerr != nil:
		return nil, fmt.Errorf("ca: read key: %w", kerr)
	case cerr != nil:
		return nil, fmt.Errorf("ca: read certificate: %w", cerr)
	}
	if fi, err := os.Stat(keyPath); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("ca: %s is readable by other users (mode %v); run chmod 600 %s", keyPath, fi.Mode().Perm(), keyPath)
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("ca: key %s: %w; if it is damaged, remove %s and run `moat ca init`", keyPath, err, dir)
	}
	cert, err := ParseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("ca: certificate %s: %w", certPath, err)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("ca: %s and %s do not belong together (the certificate is not for this key)", certPath, keyPath)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("ca: %s is not a CA certificate", certPath)
	}
	return &CA{dir: dir, cert: cert, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), key: key,
		leaves: newLeafCache(leafCacheSize), now: time.Now}, nil
}

// ParseKey parses a PEM private key (PKCS#8, SEC 1 EC or PKCS#1 RSA).
func ParseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM private key (the file is empty or corrupt)")
	}
	var k any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("corrupt private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
	return s, nil
}

// ParseCert parses the first PEM certificate in data.
func ParseCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate (the file is empty or corrupt)")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("corrupt certificate: %w", err)
	}
	return c, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

// create writes a new root into dataDir/ca. Files are written under
// temporary names and linked into place, so a concurrent Init never sees a
// partial file and never replaces a root another process created.
func create(dataDir string) error {
	dir := Dir(dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("ca: generate key: %w", err)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	now := time.Now()
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return err
	}
	serial, err := randomSerial()
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "moat local CA (" + host + ")", Organization: []string{"moat"}},
		NotBefore:             now.Add(-leafBackdate),
		NotAfter:              now.Add(rootValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          ski,
		// No ExtKeyUsage at all: an empty EKU extension makes rustls and Go
		// reject every leaf.
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("ca: create root: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})

	tmpKey, err := writeTemp(dir, keyName, keyPEM, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmpKey)
	tmpCert, err := writeTemp(dir, certName, certPEM, 0o644)
	if err != nil {
		return err
	}
	defer os.Remove(tmpCert)
	// Link fails when the key already exists: another Init won the race.
	if err := os.Link(tmpKey, filepath.Join(dir, keyName)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return fmt.Errorf("ca: %w", err)
	}
	if err := os.Rename(tmpCert, filepath.Join(dir, certName)); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	return nil
}

// writeTemp writes data to a new temporary file next to name, with mode
// perm from the moment it exists, and returns its path.
func writeTemp(dir, name string, data []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return "", fmt.Errorf("ca: %w", err)
	}
	p := f.Name()
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(p)
		return "", fmt.Errorf("ca: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(p)
		return "", fmt.Errorf("ca: write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(p)
		return "", fmt.Errorf("ca: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(p)
		return "", fmt.Errorf("ca: %w", err)
	}
	return p, nil
}

func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	// RFC 5280 §4.2.1.2 method 1 over the whole SubjectPublicKeyInfo is
	// fine for an identifier; it only has to be stable and unique.
	sum := sha1.Sum(der)
	return sum[:], nil
}

func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("ca: serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil // never zero
}

// Certificate is the root certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// CertPEM is the root certificate in PEM form.
func (c *CA) CertPEM() []byte { return append([]byte(nil), c.pem...) }

// CertPath is the path of the root certificate file.
func (c *CA) CertPath() string { return filepath.Join(c.dir, certName) }

// BundlePath is the default path of the combined bundle.
func (c *CA) BundlePath() string { return filepath.Join(c.dir, bundleName) }

// Leaf returns a certificate for host (a DNS name or an IP address, without
// port) signed by the root, from the cache when a cached one is far from
// expiry. It is safe for concurrent use.
func (c *CA) Leaf(host string) (*tls.Certificate, error) {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return nil, errors.New("ca: leaf for an empty host name")
	}
	now := c.now()
	if cert := c.leaves.get(host, now); cert != nil {
		return cert, nil
	}
	cert, err := c.newLeaf(host, now)
	if err != nil {
		return nil, err
	}
	c.leaves.put(host, cert)
	return cert, nil
}

func (c *CA) newLeaf(host string, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ca: leaf key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:   serial,
		Subject:        pkix.Name{CommonName: host, Organization: []string{"moat"}},
		NotBefore:      now.Add(-leafBackdate),
		NotAfter:       now.Add(LeafValidity),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		AuthorityKeyId: c.cert.SubjectKeyId,
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return nil, fmt.Errorf("ca: sign leaf for %s: %w", host, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, c.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}
