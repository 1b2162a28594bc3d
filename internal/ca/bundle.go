package ca

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// systemBundles are where Linux distributions keep the system roots as one
// PEM file (the list crypto/x509 searches), then macOS/BSD.
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine, macOS, BSD
}

// SystemRootsFile returns the PEM file holding the system roots:
// $SSL_CERT_FILE when set, else the first of the usual locations that
// exists.
func SystemRootsFile() (string, error) {
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		if _, err := os.Stat(f); err != nil {
			return "", fmt.Errorf("SSL_CERT_FILE: %w", err)
		}
		return f, nil
	}
	for _, f := range systemBundles {
		if _, err := os.Stat(f); err == nil {
			return f, nil
		}
	}
	return "", errors.New("no system CA bundle found (set SSL_CERT_FILE to one)")
}

// CombinedBundle writes the system roots followed by moat's root to dst
// (mode 0644, replaced atomically). Clients whose CA-file option replaces
// their roots (npm's cafile, pip's --cert, requests' REQUESTS_CA_BUNDLE)
// need this, not moat's certificate alone. When the system bundle already
// holds moat's root (SSL_CERT_FILE pointing at an earlier bundle) it is not
// repeated.
func (c *CA) CombinedBundle(dst string) error {
	src, err := SystemRootsFile()
	if err != nil {
		return fmt.Errorf("ca: combined bundle: %w", err)
	}
	sys, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("ca: combined bundle: %w", err)
	}
	var out bytes.Buffer
	rest := sys
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" || bytes.Equal(block.Bytes, c.cert.Raw) {
			continue
		}
		// Re-encoded plainly: no PEM headers, no text between blocks (npm
		// splits cafile on END markers and keeps what lies between).
		_ = pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes})
		n++
	}
	if n == 0 {
		return fmt.Errorf("ca: combined bundle: %s holds no certificates", src)
	}
	out.Write(c.pem)

	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("ca: combined bundle: %w", err)
	}
	tmp, err := writeTemp(filepath.Dir(dst), filepath.Base(dst), out.Bytes(), 0o644)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("ca: combined bundle: cannot write %s: %w", dst, err)
		}
		return fmt.Errorf("ca: combined bundle: %w", err)
	}
	return nil
}
