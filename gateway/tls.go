package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
)

// TLS on the RESP port, configured with KVRocks's keys (tls-port,
// tls-cert-file, ...). The listener takes its tls.Config from an atomic
// pointer for every handshake, so a CONFIG SET of a certificate, key, CA
// or policy key (a rotated certificate, say) applies to the next
// connection, and is refused, leaving the old one, if the new settings do
// not load.

// tlsKeys are the keys buildTLSConfig reads; a CONFIG SET of one rebuilds
// the configuration.
var tlsKeys = []string{
	"tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-ca-cert-file", "tls-ca-cert-dir",
	"tls-auth-clients", "tls-protocols", "tls-ciphers", "tls-ciphersuites",
	"tls-prefer-server-ciphers", "tls-session-caching",
}

// tlsState holds the configuration in force.
type tlsState struct{ cur atomic.Pointer[tls.Config] }

// listenerConfig is the configuration given to tls.NewListener: each
// handshake uses the one in force then.
func (s *tlsState) listenerConfig() *tls.Config {
	return &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return s.cur.Load(), nil
	}}
}

// applyTLS builds the configuration from cfg and registers the appliers
// that rebuild it on CONFIG SET.
func applyTLS(cfg *Config, st *tlsState) error {
	c, err := buildTLSConfig(cfg.Get)
	if err != nil {
		return err
	}
	st.cur.Store(c)
	for _, key := range tlsKeys {
		cfg.OnSet(key, func(v string) error {
			c, err := buildTLSConfig(func(k string) string {
				if k == key {
					return v
				}
				return cfg.Get(k)
			})
			if err != nil {
				return err
			}
			st.cur.Store(c)
			return nil
		})
	}
	return nil
}

// buildTLSConfig makes the server's tls.Config from the tls-* keys.
func buildTLSConfig(get func(string) string) (*tls.Config, error) {
	certFile, keyFile := get("tls-cert-file"), get("tls-key-file")
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls-port needs tls-cert-file and tls-key-file")
	}
	cert, err := loadKeyPair(certFile, keyFile, get("tls-key-file-pass"))
	if err != nil {
		return nil, err
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.MinVersion, c.MaxVersion, err = parseTLSProtocols(get("tls-protocols")); err != nil {
		return nil, err
	}
	if c.CipherSuites, err = parseTLSCiphers(get("tls-ciphers")); err != nil {
		return nil, err
	}
	if err := checkTLS13Suites(get("tls-ciphersuites")); err != nil {
		return nil, err
	}
	c.SessionTicketsDisabled = get("tls-session-caching") == "no"
	pool, n, err := loadCAs(get("tls-ca-cert-file"), get("tls-ca-cert-dir"))
	if err != nil {
		return nil, err
	}
	switch auth := get("tls-auth-clients"); auth {
	case "", "yes":
		if n == 0 {
			return nil, errors.New("tls-auth-clients yes needs tls-ca-cert-file or tls-ca-cert-dir to verify client certificates (or set tls-auth-clients no)")
		}
		c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, pool
	case "optional":
		if n == 0 {
			return nil, errors.New("tls-auth-clients optional needs tls-ca-cert-file or tls-ca-cert-dir")
		}
		c.ClientAuth, c.ClientCAs = tls.VerifyClientCertIfGiven, pool
	case "no":
		c.ClientAuth = tls.NoClientCert
	default:
		return nil, fmt.Errorf("tls-auth-clients %q: want yes, no or optional", auth)
	}
	return c, nil
}

// loadKeyPair loads a certificate and its key; with a password the key may
// be a legacy encrypted PEM block (Proc-Type: 4,ENCRYPTED), as OpenSSL's
// -traditional output writes it.
func loadKeyPair(certFile, keyFile, pass string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cannot read tls-cert-file: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cannot read tls-key-file: %w", err)
	}
	if block, _ := pem.Decode(keyPEM); block != nil {
		switch {
		case block.Type == "ENCRYPTED PRIVATE KEY":
			return tls.Certificate{}, errors.New("tls-key-file: PKCS#8-encrypted keys are not supported; convert it with `openssl pkey -traditional -aes256` (or store it unencrypted with mode 0600)")
		//lint:ignore SA1019 legacy PEM encryption is what tls-key-file-pass keys use; there is no successor in the standard library.
		case x509.IsEncryptedPEMBlock(block):
			if pass == "" {
				return tls.Certificate{}, errors.New("tls-key-file is encrypted: set tls-key-file-pass")
			}
			//lint:ignore SA1019 see above.
			der, err := x509.DecryptPEMBlock(block, []byte(pass))
			if err != nil {
				return tls.Certificate{}, fmt.Errorf("cannot decrypt tls-key-file with tls-key-file-pass: %w", err)
			}
			keyPEM = pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der})
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls-cert-file/tls-key-file: %w", err)
	}
	return cert, nil
}

// loadCAs reads the CA certificates of a file and of every *.pem, *.crt
// and *.cer file in a directory; it returns how many it found.
func loadCAs(file, dir string) (*x509.CertPool, int, error) {
	pool := x509.NewCertPool()
	n, err := addCAs(pool, file, dir)
	if err != nil {
		return nil, 0, err
	}
	return pool, n, nil
}

// addCAs adds to pool the CA certificates of a file and of a directory
// (see loadCAs) and returns how many it added.
func addCAs(pool *x509.CertPool, file, dir string) (int, error) {
	n := 0
	add := func(name, key string) error {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", key, err)
		}
		for {
			var block *pem.Block
			block, b = pem.Decode(b)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return fmt.Errorf("%s %s: %w", key, name, err)
			}
			pool.AddCert(c)
			n++
		}
		return nil
	}
	if file != "" {
		if err := add(file, "tls-ca-cert-file"); err != nil {
			return 0, err
		}
	}
	if dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return 0, fmt.Errorf("cannot read tls-ca-cert-dir: %w", err)
		}
		for _, e := range ents {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".pem", ".crt", ".cer", ".0":
				if err := add(filepath.Join(dir, e.Name()), "tls-ca-cert-dir"); err != nil {
					return 0, err
				}
			}
		}
	}
	if (file != "" || dir != "") && n == 0 {
		return 0, errors.New("tls-ca-cert-file/tls-ca-cert-dir hold no certificate")
	}
	return n, nil
}

// parseTLSProtocols reads tls-protocols ("TLSv1.2 TLSv1.3"; empty: both).
// TLS 1.0 and 1.1 are refused.
func parseTLSProtocols(v string) (lo, hi uint16, err error) {
	if strings.TrimSpace(v) == "" {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, p := range strings.Fields(v) {
		var ver uint16
		switch strings.ToLower(p) {
		case "tlsv1.2":
			ver = tls.VersionTLS12
		case "tlsv1.3":
			ver = tls.VersionTLS13
		case "tlsv1", "tlsv1.1":
			return 0, 0, fmt.Errorf("tls-protocols: %s is not supported (insecure); use TLSv1.2 and/or TLSv1.3", p)
		default:
			return 0, 0, fmt.Errorf("tls-protocols: unknown protocol %q (want TLSv1.2, TLSv1.3)", p)
		}
		if lo == 0 || ver < lo {
			lo = ver
		}
		hi = max(hi, ver)
	}
	return lo, hi, nil
}

// parseTLSCiphers reads tls-ciphers: the TLS 1.2 suites, by OpenSSL name
// (ECDHE-RSA-AES128-GCM-SHA256) or IANA name, separated by colons; empty:
// Go's defaults. OpenSSL's keyword expressions (HIGH, !aNULL, ...) are
// refused: only named suites can be honoured exactly.
func parseTLSCiphers(v string) ([]uint16, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	byName := make(map[string]uint16)
	for _, s := range tls.CipherSuites() {
		byName[s.Name] = s.ID
	}
	var ids []uint16
	for _, name := range strings.Split(v, ":") {
		name = strings.TrimSpace(name)
		if id, ok := byName[name]; ok {
			ids = append(ids, id)
			continue
		}
		if iana, ok := opensslCiphers[name]; ok {
			if id, ok := byName[iana]; ok {
				ids = append(ids, id)
				continue
			}
		}
		known := make([]string, 0, len(opensslCiphers))
		for k := range opensslCiphers {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("tls-ciphers: %q is not a supported cipher suite (OpenSSL keywords are not supported); supported: %s", name, strings.Join(known, ":"))
	}
	return ids, nil
}

// opensslCiphers maps OpenSSL's names of the TLS 1.2 suites Go offers by
// default to their IANA names.
var opensslCiphers = map[string]string{
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
}

// tls13Suites are the TLS 1.3 suites Go always enables (it has no setting
// for them).
var tls13Suites = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// checkTLS13Suites accepts tls-ciphersuites only when it names exactly the
// TLS 1.3 suites that are in force (in any order): a narrower list could
// not be honoured.
func checkTLS13Suites(v string) error {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	got := strings.Split(v, ":")
	for i := range got {
		got[i] = strings.TrimSpace(got[i])
	}
	sort.Strings(got)
	if strings.Join(got, ":") != strings.Join(tls13Suites, ":") {
		return fmt.Errorf("tls-ciphersuites: TLS 1.3 always offers %s here; list all three or leave it empty (restrict TLS 1.3 with tls-protocols TLSv1.2 instead)", strings.Join(tls13Suites, ":"))
	}
	return nil
}

// checkTLSAuthClients validates tls-auth-clients.
func checkTLSAuthClients(v string) error {
	switch v {
	case "yes", "no", "optional":
		return nil
	}
	return errors.New("want yes, no or optional")
}

// checkOnly returns a check that accepts only want, explaining why.
func checkOnly(want, why string) func(string) error {
	return func(v string) error {
		if v != want {
			return errors.New(why)
		}
		return nil
	}
}
