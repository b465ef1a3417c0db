package s3

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// Credential is one access key pair accepted by the server.
type Credential = sigv4.Credential

// DevCredential is the documented development credential used when the
// configuration names none. NewServer logs that it is in use.
var DevCredential = Credential{AccessKey: "gpucacheadmin", SecretKey: "gpucacheadmin"}

// Config configures the S3 front end. The zero value of each field selects
// the default noted on it; Config is copied by NewServer.
type Config struct {
	// Addr is the listen address ("s3-bind" and "s3-port" joined), used by
	// ListenAndServe; Serve takes its own listener.
	Addr string
	// Domains are the virtual-host domains ("s3-domain", comma separated in
	// the config file): a request for Host "bkt.<domain>" addresses bucket
	// "bkt". Path-style requests always work.
	Domains []string
	// Credentials are the accepted access keys ("s3-access-key" /
	// "s3-secret-key" pairs). Empty: DevCredential, with a log line.
	Credentials []Credential
	// UsersFile keeps the accounts added through the admin API
	// ("s3-users-file"; the gateway's default is s3-users.json in its
	// working directory). Empty: such accounts live in memory only.
	// Secrets are stored as given: the file is created mode 0600.
	UsersFile string
	// Region is reported by GetBucketLocation and used for buckets created
	// without a LocationConstraint ("s3-region"). Default "us-east-1".
	// Requests must be signed for it, or for the region of the bucket
	// they address.
	Region string
	// TLSCertFile and TLSKeyFile enable TLS on Serve, with HTTP/2
	// ("s3-tls-cert-file", "s3-tls-key-file"). Both or neither.
	TLSCertFile, TLSKeyFile string
	// TLSHTTP1Only offers only HTTP/1.1 over TLS ("s3-tls-http2 no"):
	// clients that prefer HTTP/2, as LMCache's CRT client does, fall back
	// to it. Go's HTTP/2 server moves large bodies at well under half the
	// rate of HTTP/1.1 over TLS (README, Performance).
	TLSHTTP1Only bool
	// RESPBucket names a bucket that maps onto the RESP default keyspace
	// (Redis DB 0 of the default namespace), so a value SET over Redis reads
	// back over S3 and the reverse ("s3-resp-bucket"). Empty: none.
	RESPBucket string
	// PieceSize bounds the bytes of a body held in one engine buffer;
	// larger single PUTs and parts are stored as pieces and composed.
	// Default 64 MiB.
	PieceSize int64
	// MaxObjectSize bounds a single PUT or part. Default 5 GiB.
	MaxObjectSize int64
	// MinPartSize is the smallest part (but the last) that
	// CompleteMultipartUpload accepts. Default 5 MiB.
	MinPartSize int64
	// FastETag makes the ETag of a PUT or part a 128-bit xxhash-based tag
	// instead of the body's MD5 ("s3-fast-etag"). MD5 runs at well under
	// 1 GB/s per core and dominates the CPU cost of large PUTs; clients
	// that compare ETags with a local MD5 (rclone, s3cmd) need the default.
	// Content-MD5, when sent, is verified either way.
	FastETag bool
	// MaxRequests bounds the requests served at once ("s3-max-requests");
	// more are answered 503 SlowDown. 0: no limit.
	MaxRequests int
	// MaxBodyBytes bounds the request body bytes admitted at once
	// ("s3-max-body-bytes"; limiter.go says how bodies are charged);
	// more are answered 503 SlowDown. 0: no limit.
	MaxBodyBytes int64
	// MaxSkew is the accepted clock skew of signed requests. Default 15m.
	MaxSkew time.Duration
	// MaxHeaderBytes bounds request headers. Default 64 KiB.
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds the time to read request headers. Default 30s.
	ReadHeaderTimeout time.Duration
	// BodyIdleTimeout aborts an upload that sends nothing for this long.
	// Default 60s.
	BodyIdleTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections. Default 120s.
	IdleTimeout time.Duration
	// Logf receives operational log lines. Default: discard.
	Logf func(format string, args ...any)
	// Now is the clock used for signatures. Default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.PieceSize <= 0 {
		c.PieceSize = 64 << 20
	}
	if c.MaxObjectSize <= 0 {
		c.MaxObjectSize = 5 << 30
	}
	if c.MinPartSize <= 0 {
		c.MinPartSize = 5 << 20
	}
	if c.MaxSkew <= 0 {
		c.MaxSkew = 15 * time.Minute
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 64 << 10
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = 30 * time.Second
	}
	if c.BodyIdleTimeout <= 0 {
		c.BodyIdleTimeout = 60 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	for i, d := range c.Domains {
		c.Domains[i] = strings.ToLower(strings.Trim(strings.TrimSpace(d), "."))
	}
}

func (c *Config) validate() error {
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("s3: s3-tls-cert-file and s3-tls-key-file must be set together")
	}
	for _, cr := range c.Credentials {
		if cr.AccessKey == "" || cr.SecretKey == "" {
			return errors.New("s3: empty access key or secret key")
		}
	}
	if c.RESPBucket != "" && !validBucketName(c.RESPBucket) {
		return fmt.Errorf("s3: invalid s3-resp-bucket name %q", c.RESPBucket)
	}
	return nil
}
