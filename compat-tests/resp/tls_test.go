package resp_test

import (
	"bytes"
	"context"
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
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// testPKI is a CA, a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type testPKI struct {
	dir                          string
	ca, serverCert, serverKey    string
	clientCert, clientKey        string
	serverKeyEncrypted, password string
	pool                         *x509.CertPool
	client                       tls.Certificate
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir(), password: "key pass"}
	write := func(name string, blocks ...*pem.Block) string {
		var b bytes.Buffer
		for _, blk := range blocks {
			pem.Encode(&b, blk)
		}
		path := filepath.Join(p.dir, name)
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	newKey := func() (*ecdsa.PrivateKey, *pem.Block) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalECPrivateKey(k)
		return k, &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	}
	caKey, _ := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gpucache test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p.ca = write("ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	p.pool = x509.NewCertPool()
	p.pool.AddCert(caCert)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM *pem.Block) {
		k, kb := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return &pem.Block{Type: "CERTIFICATE", Bytes: der}, kb
	}
	sc, sk := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	p.serverCert, p.serverKey = write("server.pem", sc), write("server.key", sk)
	//lint:ignore SA1019 a legacy encrypted PEM key is what tls-key-file-pass reads.
	enc, err := x509.EncryptPEMBlock(rand.Reader, sk.Type, sk.Bytes, []byte(p.password), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	p.serverKeyEncrypted = write("server-enc.key", enc)
	cc, ck := issue(3, "client", x509.ExtKeyUsageClientAuth)
	p.clientCert, p.clientKey = write("client.pem", cc), write("client.key", ck)
	p.client, err = tls.X509KeyPair(pem.EncodeToMemory(cc), pem.EncodeToMemory(ck))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startTLS starts a server with RESP over TLS on a free port and returns
// it with that port.
func startTLS(t *testing.T, p *testPKI, extra ...string) (*internal.Server, int) {
	t.Helper()
	port := internal.FreePort(t)
	args := append([]string{"--tls-port", strconv.Itoa(port), "--tls-cert-file", p.serverCert,
		"--tls-key-file", p.serverKeyEncrypted, "--tls-key-file-pass", p.password,
		"--tls-ca-cert-file", p.ca}, extra...)
	return internal.Start(t, internal.Options{Args: args}), port
}

// TestTLSRedisCli: redis-cli --tls with a client certificate, as
// tls-auth-clients yes requires; without one the handshake fails; CONFIG
// SET tls-auth-clients optional admits it on the next connection.
func TestTLSRedisCli(t *testing.T) {
	internal.RequireTool(t, "redis-cli")
	if out, _ := exec.Command("redis-cli", "--help").CombinedOutput(); !bytes.Contains(out, []byte("--tls")) {
		t.Skip("redis-cli built without TLS")
	}
	p := newTestPKI(t)
	srv, port := startTLS(t, p)
	cli := func(withCert bool, args ...string) (string, error) {
		a := []string{"--tls", "--cacert", p.ca, "-h", "127.0.0.1", "-p", strconv.Itoa(port)}
		if withCert {
			a = append(a, "--cert", p.clientCert, "--key", p.clientKey)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "redis-cli", append(a, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := cli(true, "SET", "k", "over tls"); err != nil || out != "OK" {
		t.Fatalf("SET over TLS: %q %v", out, err)
	}
	if out, err := cli(true, "GET", "k"); err != nil || out != "over tls" {
		t.Fatalf("GET over TLS: %q %v", out, err)
	}
	if out, _ := cli(false, "GET", "k"); out == "over tls" {
		t.Fatal("a client without a certificate was served with tls-auth-clients yes")
	}
	if out, err := cli(true, "CONFIG", "SET", "tls-auth-clients", "optional"); err != nil || out != "OK" {
		t.Fatalf("CONFIG SET tls-auth-clients optional: %q %v", out, err)
	}
	if out, err := cli(false, "GET", "k"); err != nil || out != "over tls" {
		t.Fatalf("GET without a client certificate, tls-auth-clients optional: %q %v", out, err)
	}
	if out, _ := cli(true, "CONFIG", "SET", "tls-cert-file", filepath.Join(p.dir, "missing.pem")); !strings.Contains(out, "tls-cert-file") {
		t.Errorf("CONFIG SET of a missing certificate: %q, want a refusal", out)
	}
	// The plain port still serves.
	c := dialRaw(t, srv.Addr())
	c.send("GET", "k")
	c.expect("$8\r\nover tls\r\n")
}

// TestTLSGoRedisCopiesValues: go-redis over TLS with a client certificate
// stores and reads a 32 MiB value; the TLS GET copies it (no bytes sent by
// reference), where a plain-TCP GET of the same value sends it by
// reference.
func TestTLSGoRedisCopiesValues(t *testing.T) {
	p := newTestPKI(t)
	srv, port := startTLS(t, p, "--dram-send-by-reference", "yes")
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{
		Addr: "127.0.0.1:" + strconv.Itoa(port), Protocol: 3,
		TLSConfig:   &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, ServerName: "127.0.0.1"},
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, MaxRetries: -1,
	})
	defer rdb.Close()
	val := randomBytes(32, 32<<20)
	must(t, rdb.Set(ctx, "big", val, 0).Err())
	before := srv.InfoInt(t, "dram_bytes_sent_by_ref")
	got, err := rdb.Get(ctx, "big").Bytes()
	must(t, err)
	if !bytes.Equal(got, val) {
		t.Fatal("32 MiB value read over TLS differs")
	}
	if after := srv.InfoInt(t, "dram_bytes_sent_by_ref"); after != before {
		t.Fatalf("a GET over TLS sent %d bytes by reference; TLS connections must copy", after-before)
	}
	plain := newGoRedis(t, srv.Addr(), 3, "")
	got, err = plain.Get(ctx, "big").Bytes()
	must(t, err)
	if !bytes.Equal(got, val) {
		t.Fatal("32 MiB value read over TCP differs")
	}
	if after := srv.InfoInt(t, "dram_bytes_sent_by_ref"); after == before {
		t.Log("plain-TCP GET did not go by reference (kernel without vmsplice page references?)")
	}
}

// TestTLSRedisPy: redis-py (what LMCache's redis:// connector uses) with
// a rediss:// URL and a client certificate, as LMCache passes them.
func TestTLSRedisPy(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import redis").Run(); err != nil {
		internal.Missing(t, "redis-py (Debian python3-redis; scripts/deps.sh installs it)")
	}
	p := newTestPKI(t)
	_, port := startTLS(t, p)
	script := `
import sys, redis
url, ca, cert, key = sys.argv[1:5]
r = redis.Redis.from_url(url, ssl_ca_certs=ca, ssl_certfile=cert, ssl_keyfile=key, ssl_cert_reqs="required", socket_timeout=20)
v = bytes(range(256)) * 4096
assert r.set("py:kv_bytes", v) is True
assert r.get("py:kv_bytes") == v
assert r.exists("py:kv_bytes") == 1
assert r.delete("py:kv_bytes") == 1
try:
    redis.Redis.from_url(url, ssl_ca_certs=ca, ssl_cert_reqs="required", socket_timeout=20).ping()
except (redis.exceptions.ConnectionError, OSError):
    print("ok")
else:
    print("served without a client certificate")
`
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := "rediss://127.0.0.1:" + strconv.Itoa(port) + "/0"
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", script, url, p.ca, p.clientCert, p.clientKey).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("redis-py over %s: %v\n%s", url, err, out)
	}
}

// TestTLSConfigRefused: TLS settings that cannot be honoured stop the
// server with the key named.
func TestTLSConfigRefused(t *testing.T) {
	bin, err := internal.Binary()
	if err != nil {
		t.Fatal(err)
	}
	p := newTestPKI(t)
	base := []string{"--port", "0", "--s3-port", "0", "--dir", t.TempDir(), "--tls-port", strconv.Itoa(internal.FreePort(t)),
		"--tls-cert-file", p.serverCert, "--tls-key-file", p.serverKey}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "tls-ca-cert-file"}, // tls-auth-clients yes without a CA
		{[]string{"--tls-auth-clients", "no", "--tls-protocols", "TLSv1.1"}, "tls-protocols"},
		{[]string{"--tls-auth-clients", "no", "--tls-ciphers", "HIGH:!aNULL"}, "tls-ciphers"},
		{[]string{"--tls-auth-clients", "no", "--tls-ciphersuites", "TLS_AES_128_GCM_SHA256"}, "tls-ciphersuites"},
		{[]string{"--tls-auth-clients", "no", "--tls-prefer-server-ciphers", "no"}, "tls-prefer-server-ciphers"},
		{[]string{"--tls-auth-clients", "no", "--tls-key-file", p.serverKeyEncrypted}, "tls-key-file-pass"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, bin, append(append([]string{}, base...), c.args...)...).CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%v: %v\n%s\nwant a refusal naming %s", c.args, err, out, c.want)
		}
	}
}
