package internal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCA is a test certificate authority and a server certificate it
// signed for 127.0.0.1, localhost and the names given, written to files
// for servers and clients.
type TestCA struct {
	Pool      *x509.CertPool // holds the CA
	CAFile    string         // the CA certificate (PEM)
	CertFile  string         // the server certificate (PEM)
	ChainFile string         // the server certificate, then the CA's
	KeyFile   string         // the server key (PEM)
	Cert      tls.Certificate
}

// NewTestCA makes a TestCA under a new t.TempDir().
func NewTestCA(t testing.TB, names ...string) *TestCA {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gpucache compat CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: append([]string{"localhost"}, names...), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca := &TestCA{Pool: x509.NewCertPool(), CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "cert.pem"),
		ChainFile: filepath.Join(dir, "chain.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	ca.Pool.AddCert(caCert)
	keyDER, _ := x509.MarshalECPrivateKey(key)
	writePEM(t, ca.CAFile, "CERTIFICATE", caDER)
	writePEM(t, ca.CertFile, "CERTIFICATE", der)
	writePEM(t, ca.ChainFile, "CERTIFICATE", der, caDER)
	writePEM(t, ca.KeyFile, "EC PRIVATE KEY", keyDER)
	ca.Cert, err = tls.LoadX509KeyPair(ca.CertFile, ca.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// writePEM writes blocks of one type to path.
func writePEM(t testing.TB, path, typ string, ders ...[]byte) {
	t.Helper()
	var b []byte
	for _, der := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
