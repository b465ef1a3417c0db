package gateway

import (
	"crypto/tls"
	"strings"
	"testing"
)

func TestParseTLSProtocols(t *testing.T) {
	for in, want := range map[string][2]uint16{
		"":                {tls.VersionTLS12, tls.VersionTLS13},
		"TLSv1.2":         {tls.VersionTLS12, tls.VersionTLS12},
		"tlsv1.3":         {tls.VersionTLS13, tls.VersionTLS13},
		"TLSv1.3 TLSv1.2": {tls.VersionTLS12, tls.VersionTLS13},
	} {
		lo, hi, err := parseTLSProtocols(in)
		if err != nil || lo != want[0] || hi != want[1] {
			t.Errorf("parseTLSProtocols(%q) = %x, %x, %v", in, lo, hi, err)
		}
	}
	for _, in := range []string{"TLSv1", "TLSv1.1 TLSv1.2", "SSLv3", "TLSv1.4"} {
		if _, _, err := parseTLSProtocols(in); err == nil {
			t.Errorf("parseTLSProtocols(%q) accepted", in)
		}
	}
}

func TestParseTLSCiphers(t *testing.T) {
	ids, err := parseTLSCiphers("ECDHE-RSA-AES128-GCM-SHA256:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
	if err != nil || len(ids) != 2 || ids[0] != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 || ids[1] != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Fatalf("ids %x, %v", ids, err)
	}
	for _, in := range []string{"HIGH:!aNULL", "RC4-SHA", "ECDHE-RSA-AES128-GCM-SHA256:"} {
		if _, err := parseTLSCiphers(in); err == nil || !strings.Contains(err.Error(), "tls-ciphers") {
			t.Errorf("parseTLSCiphers(%q): %v", in, err)
		}
	}
	// Every OpenSSL name maps to a suite Go offers.
	for name := range opensslCiphers {
		if _, err := parseTLSCiphers(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := checkTLS13Suites("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"); err != nil {
		t.Error(err)
	}
	if err := checkTLS13Suites("TLS_AES_256_GCM_SHA384"); err == nil {
		t.Error("a subset of the TLS 1.3 suites accepted")
	}
}

// FuzzTLSSettings: the tls-* value parsers never panic, and what they
// accept is within what Go can honour.
func FuzzTLSSettings(f *testing.F) {
	for _, s := range []string{"", "TLSv1.2 TLSv1.3", "ECDHE-RSA-AES128-GCM-SHA256:HIGH", "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256", ":::", " tlsv1.3 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if lo, hi, err := parseTLSProtocols(s); err == nil && (lo < tls.VersionTLS12 || hi > tls.VersionTLS13 || lo > hi) {
			t.Fatalf("parseTLSProtocols(%q) = %x..%x", s, lo, hi)
		}
		if ids, err := parseTLSCiphers(s); err == nil {
			for _, id := range ids {
				if tls.CipherSuiteName(id) == "" {
					t.Fatalf("parseTLSCiphers(%q) gave unknown suite %x", s, id)
				}
			}
		}
		_ = checkTLS13Suites(s)
	})
}
