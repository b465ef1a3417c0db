package gateway

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/s3"
)

// s3Requested reports whether the configuration asks for the S3 front
// end: any s3-* key in the file or on the command line. A KVRocks
// configuration names none, so it opens only the ports it names: an S3
// listener it never asked for would take a port a second instance (or
// another program) needs, and would be a way into the data that
// requirepass does not guard.
func s3Requested(cfg *Config) bool { return cfg.givenPrefix("s3-") }

// startS3 starts the S3 front end when the configuration asks for it and
// s3-port is not 0, and returns it with its closer.
func startS3(cfg *Config, eng *engine.Engine, logf func(string, ...any), errc chan<- error, opts ...s3.Option) (*s3.Server, func(), error) {
	port := cfg.Int("s3-port")
	if !s3Requested(cfg) {
		logf("S3 front end off: no s3-* key is configured (set s3-port to serve S3)")
		return nil, nil, nil
	}
	if port == 0 {
		return nil, nil, nil
	}
	creds, err := s3Credentials(cfg)
	if err != nil {
		return nil, nil, err
	}
	var domains []string
	for _, d := range strings.Split(cfg.Get("s3-domain"), ",") {
		if d = strings.TrimSpace(d); d != "" {
			domains = append(domains, d)
		}
	}
	users := cfg.Get("s3-users-file")
	if users == "" {
		users = filepath.Join(cfg.Get("dir"), "s3-users.json")
	}
	addr := net.JoinHostPort(cfg.Get("s3-bind"), strconv.FormatInt(port, 10))
	maxBody := cfg.Bytes("s3-max-body-bytes")
	if maxBody == 0 {
		maxBody = cfg.Bytes("dram-cache-size")
	}
	srv, err := s3.NewServer(eng, s3.Config{
		Addr:         addr,
		Domains:      domains,
		Credentials:  creds,
		UsersFile:    users,
		Region:       cfg.Get("s3-region"),
		TLSCertFile:  cfg.Get("s3-tls-cert-file"),
		TLSKeyFile:   cfg.Get("s3-tls-key-file"),
		TLSHTTP1Only: !cfg.Bool("s3-tls-http2"),
		RESPBucket:   cfg.Get("s3-resp-bucket"),
		FastETag:     cfg.Bool("s3-fast-etag"),
		MaxRequests:  int(cfg.Int("s3-max-requests")),
		MaxBodyBytes: maxBody,
		Logf:         logf,
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot start S3: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		return nil, nil, fmt.Errorf("cannot listen for S3: %w", err)
	}
	scheme := "http"
	if cfg.Get("s3-tls-cert-file") != "" {
		scheme = "https"
	}
	logf("S3 listening on %s://%s", scheme, ln.Addr())
	go func() { errc <- serveErr(srv.Serve(ln), nil) }()
	return srv, func() { srv.Close() }, nil
}

// s3Credentials collects s3-access-key/s3-secret-key and the s3-credentials
// list ("key:secret,key:secret").
func s3Credentials(cfg *Config) ([]s3.Credential, error) {
	var creds []s3.Credential
	ak, sk := cfg.Get("s3-access-key"), cfg.Get("s3-secret-key")
	if (ak == "") != (sk == "") {
		return nil, fmt.Errorf("s3-access-key and s3-secret-key go together")
	}
	if ak != "" {
		creds = append(creds, s3.Credential{AccessKey: ak, SecretKey: sk})
	}
	for _, pair := range strings.Split(cfg.Get("s3-credentials"), ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		k, s, ok := strings.Cut(pair, ":")
		if !ok || k == "" || s == "" {
			return nil, fmt.Errorf("s3-credentials: want key:secret pairs, got %q", pair)
		}
		creds = append(creds, s3.Credential{AccessKey: k, SecretKey: s})
	}
	return creds, nil
}
