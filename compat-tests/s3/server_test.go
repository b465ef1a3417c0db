package s3compat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
	"github.com/gpucache/gpucache/protocols/s3"
	"github.com/gpucache/gpucache/protocols/s3/s3test"
)

func TestMain(m *testing.M) { internal.Main(m) }

const (
	accessKey = "compatkey"
	secretKey = "compatsecret0123456789"
	domain    = "s3.test"
)

// target is one S3 endpoint under test.
type target struct {
	Host    string // 127.0.0.1:port
	TLS     bool
	CAFile  string // PEM of the CA that signed the server certificate
	CAPool  *x509.CertPool
	Real    bool // a gpucache process, not the in-process fallback
	process *internal.Server
}

// URL is the endpoint URL.
func (t *target) URL() string {
	if t.TLS {
		return "https://" + t.Host
	}
	return "http://" + t.Host
}

// testCA is a CA and a server certificate for 127.0.0.1, localhost and
// *.s3.test, written to files for the server and clients.
type testCA struct {
	pool              *x509.CertPool
	caFile            string
	certFile, keyFile string
	cert              tls.Certificate
}

func newTestCA(t testing.TB) *testCA {
	ca := internal.NewTestCA(t, domain, "*."+domain)
	return &testCA{pool: ca.Pool, caFile: ca.CAFile, certFile: ca.CertFile, keyFile: ca.KeyFile, cert: ca.Cert}
}

// startTarget starts a gpucache process serving S3 (over TLS when
// useTLS); a process that does not listen on --s3-port fails the test.
// GPUCACHE_S3_INPROCESS=1 serves the same protocols/s3 code in-process
// instead, for debugging the handlers under a Go debugger.
func startTarget(t *testing.T, useTLS bool, extra ...string) *target {
	t.Helper()
	return startTargetOn(t, internal.FreePort(t), useTLS, extra...)
}

// startTargetOn is startTarget with S3 on the given port.
func startTargetOn(t *testing.T, port int, useTLS bool, extra ...string) *target {
	t.Helper()
	var ca *testCA
	if useTLS {
		ca = newTestCA(t)
	}
	tg := &target{TLS: useTLS}
	if ca != nil {
		tg.CAFile, tg.CAPool = ca.caFile, ca.pool
	}
	args := []string{"--s3-access-key", accessKey, "--s3-secret-key", secretKey, "--s3-domain", domain,
		"--dram-cache-size", "512mb",
		// NB: given after the helper's "--s3-port 0"; the last value wins.
		"--s3-port", strconv.Itoa(port)}
	if ca != nil {
		args = append(args, "--s3-tls-cert-file", ca.certFile, "--s3-tls-key-file", ca.keyFile)
	} else {
		// Over plain HTTP, GETs hand resident pages to the socket; over
		// TLS they are copied (encrypted), as they are with the default.
		args = append(args, "--dram-send-by-reference", "yes")
	}
	args = append(args, extra...)
	if os.Getenv("GPUCACHE_S3_INPROCESS") == "" {
		srv := internal.Start(t, internal.Options{Args: args})
		tg.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if c, err := net.DialTimeout("tcp", tg.Host, time.Second); err == nil {
				c.Close()
				tg.Real, tg.process = true, srv
				return tg
			}
			time.Sleep(50 * time.Millisecond)
		}
		srv.Kill(t)
		t.Fatalf("gpucache does not serve S3 on --s3-port %d", port)
	}
	if len(extra) > 0 {
		t.Skipf("GPUCACHE_S3_INPROCESS: server arguments %v need the gpucache binary", extra)
	}
	t.Logf("GPUCACHE_S3_INPROCESS: testing an in-process server, not the gpucache binary")
	var opts []s3.Option
	if ca != nil {
		opts = append(opts, s3.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{ca.cert}}))
	}
	tg.Host = s3test.Start(t, 512<<20, s3.Config{Domains: []string{domain},
		Credentials: []s3.Credential{{AccessKey: accessKey, SecretKey: secretKey}}}, opts...)
	return tg
}

// httpClient returns a client that trusts the target's CA, speaks HTTP/2
// over TLS, and dials every host name (virtual-host buckets) to the target.
func (t *target) httpClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, t.Host)
		},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 16,
	}
	if t.TLS {
		tr.TLSClientConfig = &tls.Config{RootCAs: t.CAPool}
	}
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}
