package resp

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/internal/bytesize"
	"github.com/gpucache/gpucache/protocols/fastpath"
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("resp: server closed")

// Config is the RESP front end's share of the server configuration, in
// KVRocks terms. The zero value of each field selects its default.
type Config struct {
	// RequirePass is requirepass: the admin password and the token of the
	// default namespace. Empty: no authentication.
	RequirePass string
	// Namespaces maps namespace name to token (namespace.<name> <token>).
	Namespaces map[string]string
	// MaxClients is maxclients. Default 10000.
	MaxClients int
	// Timeout closes a client idle this long (timeout, in seconds in the
	// config file). 0: never.
	Timeout time.Duration
	// Limits are the request limits (proto-max-bulk-len and friends).
	Limits Limits
	// OutputLimit is output-buffer-limit (client-output-buffer-limit
	// normal). Zero: no limit.
	OutputLimit OutputLimit
	// MaxClientMemory is maxmemory-clients: the bound on all client
	// buffers together. 0: no bound.
	MaxClientMemory int64
	// DisableRESP3 is resp3-enabled no: HELLO 3 then still answers RESP2.
	DisableRESP3 bool
	// ClusterEnabled is cluster-enabled: CLUSTER and CLUSTERX work and
	// keyed requests are routed by slot (cluster.go).
	ClusterEnabled bool
	// Bind are the listening addresses (bind), which find this node in a
	// cluster topology sent without CLUSTERX SETNODEID.
	Bind []string
	// ClusterNodesFile keeps the cluster topology across restarts (KVRocks's
	// nodes.conf); "" keeps it in memory only.
	ClusterNodesFile string
	// Version is the gpucache version for INFO.
	Version string
	// Port is the TCP port for INFO's tcp_port.
	Port int
	// Dir is the data directory, for INFO.
	Dir string
}

// ConfigStore is the process configuration behind CONFIG GET/SET/REWRITE,
// provided by the gateway. Implementations must be safe for concurrent use.
type ConfigStore interface {
	// Get returns the (key, value) pairs whose keys match the glob pattern.
	Get(pattern string) [][2]string
	// Set validates and applies one key. The server applies the keys it
	// owns (requirepass, timeout, maxclients, proto-max-bulk-len,
	// resp3-enabled, namespace.*) itself after Set succeeds.
	Set(key, value string) error
	// Rewrite writes the current configuration back to its file.
	Rewrite() error
}

// Option configures a Server.
type Option func(*Server)

// WithConfigStore sets the store behind CONFIG; without one CONFIG GET
// answers empty and CONFIG SET/REWRITE fail.
func WithConfigStore(cs ConfigStore) Option { return func(s *Server) { s.cs = cs } }

// WithLogf sets the operational log.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(s *Server) { s.logf = logf }
}

// live is the part of the configuration that CONFIG SET and NAMESPACE
// change at run time. It is replaced whole, never mutated.
type live struct {
	requirePass  string
	tokens       map[string]string // token -> namespace
	names        map[string]string // namespace -> token
	maxClients   int
	timeout      time.Duration
	limits       Limits
	output       OutputLimit
	disableRESP3 bool
	json         jsonSettings // cmd_json.go
	maxBitmapStr int64        // max-bitmap-to-string-mb, in bytes
}

// Server serves the Redis protocol over an engine.
type Server struct {
	eng   *engine.Engine
	cs    ConfigStore
	logf  func(format string, args ...any)
	cfg   Config
	live  atomic.Pointer[live]
	start time.Time

	mu        sync.Mutex // guards the fields below and live updates
	conns     map[uint64]*conn
	listeners map[net.Listener]struct{}
	closed    bool
	wg        sync.WaitGroup

	nextID   atomic.Uint64
	budget   clientBudget
	stats    serverStats
	xfer     transportBytes // per transport, of closed connections (metrics.go)
	cursors  cursorTable
	commands *commandTable
	slowlog  slowLog
	idle     idleReaper
	fast     *fastpath.Server // BLOB.* fabric forms (cmd_blob.go); nil: none
	rates    rateSampler
	blocked  blockRegistry     // clients in BLPOP & co.
	work     workGuard         // EXEC and scripts run alone (exclusive.go)
	ops      opsState          // BGSAVE, COMPACT, rename-command (cmd_server.go)
	pubsub   pubsubHub         // channels, patterns, monitors (pubsub.go)
	lua      scripting         // EVAL, FUNCTION and FCALL (script.go)
	cluster  *cluster.State    // nil unless cluster-enabled (cluster.go)
	shutdown shutdownState     // SHUTDOWN (cmd_kvrocks_shutdown.go)
	migrator *cluster.Migrator // slot migration, with cluster (cluster_migrate.go)
}

// serverStats are totals of closed connections plus server-wide counters;
// live connections keep their own and INFO adds them up.
type serverStats struct {
	received atomic.Int64 // connections accepted
	rejected atomic.Int64 // refused over maxclients
	cmds     atomic.Int64
	inBytes  atomic.Int64
	outBytes atomic.Int64
	hits     atomic.Int64
	misses   atomic.Int64
}

// NewServer returns a server of eng. Call Serve for each listener.
func NewServer(eng *engine.Engine, cfg Config, opts ...Option) *Server {
	s := &Server{
		eng:       eng,
		cfg:       cfg,
		logf:      func(string, ...any) {},
		start:     time.Now(),
		conns:     make(map[uint64]*conn),
		listeners: make(map[net.Listener]struct{}),
		commands:  newCommandTable(),
	}
	for _, o := range opts {
		o(s)
	}
	l := &live{
		requirePass:  cfg.RequirePass,
		tokens:       make(map[string]string),
		names:        make(map[string]string),
		maxClients:   cfg.MaxClients,
		timeout:      cfg.Timeout,
		limits:       cfg.Limits.withDefaults(),
		output:       cfg.OutputLimit,
		disableRESP3: cfg.DisableRESP3,
		maxBitmapStr: defaultMaxBitmapToString,
	}
	s.budget.setMax(cfg.MaxClientMemory)
	if l.maxClients <= 0 {
		l.maxClients = 10000
	}
	for name, token := range cfg.Namespaces {
		l.names[name] = token
		l.tokens[token] = name
	}
	l.json = loadJSONSettings(s.cs)
	s.live.Store(l)
	s.cursors.init(16 << 10)
	s.initCluster()
	return s
}

// Serve accepts connections on ln until Close; it returns ErrServerClosed
// then, or the listener's error. Each connection runs on its own goroutine.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			if retryableAccept(err) {
				// NB: out of descriptors or memory, the connections
				// already open go on; accept again once some left.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logf("resp: accept: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.ServeConn(nc)
	}
}

// retryableAccept reports whether an accept error is a passing shortage
// (descriptors, memory, a connection aborted while queued), after which
// the listener works again, rather than a broken listener.
func retryableAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// ServeConn serves one connection on a new goroutine (Serve calls it; tests
// and in-process transports may too).
func (s *Server) ServeConn(nc net.Conn) {
	s.stats.received.Add(1)
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		tc.SetKeepAlive(true)
		tc.SetKeepAlivePeriod(2 * time.Minute)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.live.Load().maxClients {
		s.mu.Unlock()
		s.stats.rejected.Add(1)
		go func() {
			// NB: a goroutine, so that a client that does not read
			// cannot stall the accept loop.
			nc.SetWriteDeadline(time.Now().Add(time.Second))
			nc.Write([]byte("-" + errMaxClients + "\r\n"))
			nc.Close()
		}()
		return
	}
	s.idle.start(s)
	c := newConn(s, nc, s.nextID.Add(1))
	s.conns[c.id] = c
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
		s.mu.Lock()
		delete(s.conns, c.id)
		s.mu.Unlock()
		c.retire()
	}()
}

// Close stops the listeners, closes every connection and waits for their
// goroutines. Replies already queued are not flushed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	for _, c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.lua.stop()
	s.idle.halt()
	s.ops.halt()
	s.wg.Wait()
	if s.migrator != nil {
		s.migrator.Close()
	}
	return nil
}

// NumClients is the number of connected clients.
func (s *Server) NumClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// maxOutputPending is the largest batch of replies a client has yet to
// take (a slow reader's), for INFO.
func (s *Server) maxOutputPending() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m int64
	for _, c := range s.conns {
		m = max(m, c.outPending.Load())
	}
	return m
}

// Namespaces returns the current namespace tokens (name -> token), for the
// gateway to persist.
func (s *Server) Namespaces() map[string]string {
	l := s.live.Load()
	m := make(map[string]string, len(l.names))
	for k, v := range l.names {
		m[k] = v
	}
	return m
}

// updateLive applies f to a copy of the live configuration.
func (s *Server) updateLive(f func(l *live) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.live.Load()
	next := *cur
	next.tokens = make(map[string]string, len(cur.tokens))
	next.names = make(map[string]string, len(cur.names))
	for k, v := range cur.tokens {
		next.tokens[k] = v
	}
	for k, v := range cur.names {
		next.names[k] = v
	}
	if err := f(&next); err != nil {
		return err
	}
	s.live.Store(&next)
	return nil
}

// applyConfig mirrors a successful CONFIG SET of a key the server owns.
func (s *Server) applyConfig(key, value string) error {
	key = strings.ToLower(key)
	return s.updateLive(func(l *live) error {
		switch key {
		case "requirepass":
			l.requirePass = value
		case "maxclients":
			if n, err := strconv.Atoi(value); err == nil && n > 0 {
				l.maxClients = n
			}
		case "timeout":
			if n, err := strconv.Atoi(value); err == nil && n >= 0 {
				l.timeout = time.Duration(n) * time.Second
			}
		case "proto-max-bulk-len":
			if n, err := parseSize(value); err == nil && n > 0 {
				l.limits.MaxBulkLen = n
			}
		case "resp3-enabled":
			l.disableRESP3 = value == "no"
		case "json-storage-format", "json-max-nesting-depth":
			l.json.apply(key, value)
		default:
			if name, ok := strings.CutPrefix(key, "namespace."); ok {
				if old, ok := l.names[name]; ok {
					delete(l.tokens, old)
				}
				if value == "" {
					delete(l.names, name)
				} else {
					l.names[name] = value
					l.tokens[value] = name
				}
			}
		}
		return nil
	})
}

// parseSize parses a byte count as the config file does (bytesize: one
// parser for the file, the command line and CONFIG SET).
func parseSize(s string) (int64, error) { return bytesize.Parse(s) }
