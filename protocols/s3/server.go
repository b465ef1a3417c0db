package s3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// Server is the S3 front end over one engine. Its methods are safe for
// concurrent use.
type Server struct {
	eng      *engine.Engine
	cfg      Config
	verifier *sigv4.Verifier
	tls      *tls.Config
	idBase   string
	nextID   atomic.Uint64
	md5      md5Lanes // ETag hashers
	users    *userStore
	stats    serverStats
	acls     aclCache // decoded ACL documents
	limit    inflight
	conns    connCounter    // metrics.go
	cl       *clusterRouter // nil unless in cluster mode (cluster.go)

	mu      sync.Mutex
	servers []*http.Server
	closed  bool
}

// Option modifies a Server at construction.
type Option func(*Server)

// WithTLSConfig serves TLS with cfg (certificates included) instead of
// loading Config.TLSCertFile/TLSKeyFile. Used by tests.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(s *Server) { s.tls = cfg.Clone() }
}

// NewServer returns a server over eng. It does not listen: call Serve with
// a listener, or mount Handler.
func NewServer(eng *engine.Engine, cfg Config, opts ...Option) (*Server, error) {
	if eng == nil {
		return nil, errors.New("s3: nil engine")
	}
	cfg.Domains = append([]string(nil), cfg.Domains...)
	cfg.Credentials = append([]Credential(nil), cfg.Credentials...)
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(cfg.Credentials) == 0 {
		cfg.Credentials = []Credential{DevCredential}
		cfg.Logf("s3: no credentials configured: using the development credential %s/%s; set s3-access-key and s3-secret-key",
			DevCredential.AccessKey, DevCredential.SecretKey)
	}
	users, err := loadUsers(cfg.UsersFile)
	if err != nil {
		return nil, err
	}
	s := &Server{eng: eng, cfg: cfg, idBase: randomHex(4), users: users}
	s.limit.maxReqs, s.limit.maxBytes = int64(cfg.MaxRequests), cfg.MaxBodyBytes
	s.verifier = sigv4.NewVerifier(cfg.Credentials)
	s.verifier.Lookup = s.lookupSecret
	s.verifier.MaxSkew = cfg.MaxSkew
	s.verifier.Now = cfg.Now
	for _, o := range opts {
		o(s)
	}
	if s.tls == nil && cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("s3: cannot load TLS certificate: %w", err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return s, nil
}

// TLS reports whether Serve speaks TLS.
func (s *Server) TLS() bool { return s.tls != nil }

// Handler returns the S3 HTTP handler (for mounting behind another
// server; TLS and timeouts are then that server's business).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) newHTTPServer() *http.Server {
	hs := &http.Server{
		Handler:           s.Handler(),
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          nil,
		ConnState:         s.conns.track,
	}
	if s.tls != nil {
		hs.TLSConfig = s.tls.Clone()
		hs.TLSConfig.NextProtos = []string{"h2", "http/1.1"}
		if s.cfg.TLSHTTP1Only {
			hs.TLSConfig.NextProtos = []string{"http/1.1"}
			hs.Protocols = new(http.Protocols)
			hs.Protocols.SetHTTP1(true)
		}
	}
	return hs
}

// Serve accepts connections on ln until Close, with TLS (and HTTP/2) when
// configured. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	hs := s.newHTTPServer()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.servers = append(s.servers, hs)
	s.mu.Unlock()
	var err error
	if hs.TLSConfig != nil {
		err = hs.ServeTLS(ln, "", "")
	} else {
		if s.eng.SendsByReference() {
			// Response bodies end in the connection's ReadFrom (see
			// writeBody).
			ln = engine.SpliceListener(ln)
		}
		err = hs.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ListenAndServe listens on Config.Addr and serves.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("s3: cannot listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ln)
}

// Shutdown stops accepting and waits for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	srvs := s.servers
	s.mu.Unlock()
	var first error
	for _, hs := range srvs {
		if err := hs.Shutdown(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close stops the server at once, closing open connections. The engine
// stays open: it belongs to the caller.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	srvs := s.servers
	s.mu.Unlock()
	var first error
	for _, hs := range srvs {
		if err := hs.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// serverHeader is the Server header of every response (shared: header
// values are never modified in place).
var serverHeader = []string{"gpucache"}

// serveHTTP authenticates, routes and answers one request, and counts it.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	var id [40]byte
	h["X-Amz-Request-Id"] = []string{string(strconv.AppendUint(append(id[:0], s.idBase...), s.nextID.Add(1), 16))}
	h["Server"] = serverHeader
	charge := s.bodyCharge(r)
	if !s.limit.acquire(charge) {
		// Overload: refused before any work (limiter.go). Counted under
		// Unknown: classifying costs what the limit is there to save.
		w.Header().Set("Retry-After", "1")
		s.writeError(w, r, nil, errSlowDown)
		s.stats.record(opUnknown, errSlowDown, time.Since(start))
		return
	}
	defer s.limit.release(charge)
	if r.Method == http.MethodPatch {
		err := s.serveAdmin(w, r)
		if err != nil {
			s.writeError(w, r, nil, err)
		}
		s.stats.record(opAdmin, err, time.Since(start))
		return
	}
	op := opUnknown
	req, err := s.route(r)
	if err == nil {
		req.w, req.r = w, r
		req.op, req.opErr = classify(req)
		op = req.op
		if s.cl != nil {
			var handled bool
			if handled, err = s.cl.route(s, req); handled {
				s.stats.record(op, nil, time.Since(start))
				return
			}
		}
		if err == nil {
			err = s.serve(req)
		}
	}
	if err != nil {
		s.writeError(w, r, req, err)
	}
	s.stats.record(op, err, time.Since(start))
}

// serve answers a routed request.
func (s *Server) serve(req *request) error {
	r := req.r
	if r.Method == http.MethodOptions {
		// CORS preflight: browsers send it without credentials.
		return s.preflight(req)
	}
	if err := s.checkShape(req); err != nil {
		return err
	}
	if req.opErr != nil {
		return req.opErr
	}
	s.corsResponseHeaders(req)
	if req.op == opPostObject && isPostObject(req) {
		// Authenticated by its form, not by a request signature.
		return s.postObject(req)
	}
	auth := &req.verified
	err := s.verifier.VerifyInto(r, auth)
	if errors.Is(err, sigv4.ErrMissingAuth) {
		auth, err = s.authorizeAnonymous(req)
	} else if err != nil && r.Header.Get("Authorization") == "" && (req.has("X-Amz-Algorithm") || req.has("X-Amz-Credential")) {
		err = presignedError(err)
	}
	if err != nil {
		return err
	}
	req.auth = auth
	if auth.AccessKey != "" && !s.privileged(req) {
		if err := s.authorizeAccount(req); err != nil {
			return err
		}
	}
	if err := s.checkRegion(req); err != nil {
		return err
	}
	if err := checkHonourable(req); err != nil {
		return err
	}
	if err := checkStreaming(req); err != nil {
		return err
	}
	if err := checkEmptyPayload(req); err != nil {
		return err
	}
	return s.dispatch(req)
}

// now is the server clock (for LastModified of new keyspaces and tests).
func (s *Server) now() time.Time { return s.cfg.Now() }
