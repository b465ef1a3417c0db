package fastpath

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/fastpath/fabric"
)

// Server owns the fabric endpoints (one per domain) with the DRAM arena
// registered on each, and the sessions of BLOB.HELLO.
type Server struct {
	eng  *engine.Engine
	cfg  Config
	eps  []*domain
	why  error // why the fabric is unavailable; nil when it is up
	slot chan struct{}

	arenaBase uintptr
	arenaLen  uintptr

	mu       sync.Mutex
	sessions map[*Session]struct{}
	closed   bool

	stats Stats
}

// domain is one endpoint with the arena registered on it.
type domain struct {
	ep    *fabric.Endpoint
	arena *fabric.Region
	busy  atomic.Int64 // transfers in flight
}

// Stats are the fast path's counters, named after the reference's INFO
// fields (largeobj_efa_*): a GET writes to the client, a SET reads from
// it; failed transfers count in totals and time, not bytes.
type Stats struct {
	Sessions      atomic.Int64
	SessionsTotal atomic.Int64
	Writes        atomic.Int64 // fi_write operations
	WriteBytes    atomic.Int64
	WriteMicros   atomic.Int64
	WriteErrors   atomic.Int64
	Reads         atomic.Int64 // fi_read operations
	ReadBytes     atomic.Int64
	ReadMicros    atomic.Int64
	ReadErrors    atomic.Int64
	Timeouts      atomic.Int64
	Waits         atomic.Int64 // transfers that waited for a slot
	HeldBytes     atomic.Int64 // arena bytes held by timed-out transfers until they complete
	TransfersNow  atomic.Int64
	RefusedHellos atomic.Int64
}

// New opens the fabric as cfg says. It always returns a Server: when the
// fabric cannot be used, Available is false and Reason says why (the
// caller logs it; BLOB.HELLO answers that the fabric is unavailable).
func New(eng *engine.Engine, cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{eng: eng, cfg: cfg, sessions: make(map[*Session]struct{}),
		slot: make(chan struct{}, cfg.MaxTransfers)}
	switch {
	case !fabric.Available:
		s.why = fabric.ErrUnavailable
		return s
	case cfg.Provider == "":
		s.why = fmt.Errorf("fabric-provider not set")
		return s
	}
	mem := eng.ArenaMemory()
	s.arenaBase, s.arenaLen = uintptr(unsafe.Pointer(unsafe.SliceData(mem))), uintptr(len(mem))
	doms := cfg.Interfaces
	if len(doms) == 0 {
		doms = []string{""}
	}
	for _, d := range doms {
		ep, err := openEndpoint(cfg.Provider, d, cfg.Node)
		if err != nil {
			s.why = fmt.Errorf("provider %q domain %q: %w", cfg.Provider, d, err)
			s.Close()
			return s
		}
		r, err := ep.Register(s.arenaBase, uint64(s.arenaLen), fabric.AccessLocal)
		if err != nil {
			ep.Close()
			s.why = fmt.Errorf("provider %q domain %q: registering the DRAM arena: %w", cfg.Provider, d, err)
			s.Close()
			return s
		}
		s.eps = append(s.eps, &domain{ep: ep, arena: r})
	}
	return s
}

// openEndpoint opens provider on domain d. "tcp" falls back to
// "tcp;ofi_rxm" where the core provider has no RDM endpoints of its own
// (libfabric before 1.18); the provider actually opened is what Info,
// INFO and CLIENT LIST report.
func openEndpoint(provider, d, node string) (*fabric.Endpoint, error) {
	ep, err := fabric.Open(provider, d, node)
	if err != nil && provider == "tcp" {
		if ep2, err2 := fabric.Open("tcp;ofi_rxm", d, node); err2 == nil {
			return ep2, nil
		}
	}
	return ep, err
}

// Available reports whether BLOB.HELLO can open sessions.
func (s *Server) Available() bool { return s != nil && s.why == nil && len(s.eps) > 0 }

// Reason says why the fabric is unavailable (nil when it is available).
func (s *Server) Reason() error {
	if s == nil {
		return fabric.ErrUnavailable
	}
	return s.why
}

// Provider is the provider the endpoints opened ("" when unavailable).
func (s *Server) Provider() string {
	if !s.Available() {
		return ""
	}
	return s.eps[0].ep.Info().Provider
}

// Domains names the endpoints' fabric domains.
func (s *Server) Domains() []string {
	var d []string
	if s.Available() {
		for _, e := range s.eps {
			d = append(d, e.ep.Info().Domain)
		}
	}
	return d
}

// Addresses are the endpoints' fabric addresses, one per domain: what
// BLOB.HELLO answers.
func (s *Server) Addresses() [][]byte {
	var a [][]byte
	for _, e := range s.eps {
		a = append(a, e.ep.Info().Addr)
	}
	return a
}

// Describe is a one-line account for the log.
func (s *Server) Describe() string {
	if !s.Available() {
		return "fabric unavailable: " + s.why.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fabric provider %s, %d domain(s):", s.Provider(), len(s.eps))
	for _, e := range s.eps {
		in := e.ep.Info()
		fmt.Fprintf(&b, " %s (fabric %s, address %x)", in.Domain, in.Fabric, in.Addr)
	}
	fmt.Fprintf(&b, "; DRAM arena of %d MiB registered", s.arenaLen>>20)
	return b.String()
}

// Stats returns the counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Config returns the configuration in effect.
func (s *Server) Config() Config { return s.cfg }

// Close ends every session and closes the endpoints.
func (s *Server) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.closed = true
	ss := make([]*Session, 0, len(s.sessions))
	for x := range s.sessions {
		ss = append(ss, x)
	}
	s.mu.Unlock()
	for _, x := range ss {
		x.Close()
	}
	for _, d := range s.eps {
		d.ep.Close() // NB: closes the arena registration with it
	}
	s.eps = nil
}

// inArena reports whether p lies wholly inside the registered arena.
func (s *Server) inArena(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	a := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return a >= s.arenaBase && a+uintptr(len(p)) <= s.arenaBase+s.arenaLen
}
