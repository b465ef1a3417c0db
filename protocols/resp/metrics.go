package resp

import (
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"
)

// Transports a RESP connection comes over, for the byte counters.
const (
	transportTCP = iota
	transportTLS
	transportUnix
	numTransports
)

var transportNames = [numTransports]string{"tcp", "tls", "unix"}

// transportOf classifies a connection (a test's in-memory one counts as
// tcp).
func transportOf(nc net.Conn) int {
	switch nc.(type) {
	case *tls.Conn:
		return transportTLS
	case *net.UnixConn:
		return transportUnix
	}
	return transportTCP
}

// transportBytes are the bytes of closed connections, per transport; the
// live ones' are added at read time.
type transportBytes struct {
	in, out [numTransports]atomic.Int64
}

// retire folds a closing connection's byte counts in.
func (t *transportBytes) retire(c *conn) {
	i := transportOf(c.nc)
	t.in[i].Add(c.inBytes.Load())
	t.out[i].Add(c.outBytes.Load())
}

// TransportStat are the bytes read from and written to clients over one
// transport.
type TransportStat struct {
	Transport string // "tcp", "tls" or "unix"
	In, Out   int64
}

// TransportBytes returns the bytes clients sent and were sent since the
// start, per transport (the fast path's own transfers are counted by the
// fast path). Safe for concurrent use.
func (s *Server) TransportBytes() []TransportStat {
	out := make([]TransportStat, numTransports)
	for i := range out {
		out[i] = TransportStat{Transport: transportNames[i], In: s.xfer.in[i].Load(), Out: s.xfer.out[i].Load()}
	}
	s.mu.Lock()
	for _, c := range s.conns {
		i := transportOf(c.nc)
		out[i].In += c.inBytes.Load()
		out[i].Out += c.outBytes.Load()
	}
	s.mu.Unlock()
	return out
}

// BlockedClients returns the clients blocked in BLPOP and the like.
func (s *Server) BlockedClients() int64 { return s.blocked.waiting.Load() }

// ConnectionCounts returns the connections accepted since the start and
// those refused over maxclients.
func (s *Server) ConnectionCounts() (received, rejected int64) {
	return s.stats.received.Load(), s.stats.rejected.Load()
}

// ClientMemoryWaits returns how often a request waited for client buffer
// memory (maxmemory-clients), the time those waits took in all, and how
// many ended refused.
func (s *Server) ClientMemoryWaits() (waits int64, waited time.Duration, refused int64) {
	b := &s.budget
	return b.waits.Load(), time.Duration(b.waitNanos.Load()), b.refused.Load()
}
