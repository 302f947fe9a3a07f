package browser

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"
)

// DevCertValidity is how long a DevCertificate is valid: browsers accept a
// certificate by its hash (serverCertificateHashes) only when it is valid
// for at most 14 days.
const DevCertValidity = 13 * 24 * time.Hour

// DevCertificate makes a self-signed ECDSA P-256 certificate for hosts
// (IP addresses or DNS names), valid from an hour before now for
// DevCertValidity, with a key drawn from random (crypto/rand.Reader). It
// returns the certificate and the SHA-256 hash of its DER encoding, which
// a page passes to the WebTransport constructor as serverCertificateHashes
// (browserconn.Config.CertHash). Make a new one on every start: a
// development certificate should never outlive the process.
func DevCertificate(now time.Time, hosts []string, random io.Reader) (tls.Certificate, [32]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), random)
	if err != nil {
		return tls.Certificate{}, [32]byte{}, fmt.Errorf("browser: certificate key: %w", err)
	}
	var serial [16]byte
	if _, err := io.ReadFull(random, serial[:]); err != nil {
		return tls.Certificate{}, [32]byte{}, fmt.Errorf("browser: certificate serial: %w", err)
	}
	start := now.Add(-time.Hour)
	tmpl := x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(serial[:]),
		Subject:               pkix.Name{CommonName: "tickwire development"},
		NotBefore:             start,
		NotAfter:              start.Add(DevCertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(random, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, [32]byte{}, fmt.Errorf("browser: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, [32]byte{}, fmt.Errorf("browser: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, sha256.Sum256(der), nil
}
