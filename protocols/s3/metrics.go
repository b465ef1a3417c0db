package s3

import (
	"net"
	"net/http"
	"sync/atomic"
)

// connCounter counts the HTTP connections open to the server (an
// http.Server ConnState hook).
type connCounter struct{ open atomic.Int64 }

func (c *connCounter) track(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		c.open.Add(1)
	case http.StateHijacked, http.StateClosed:
		c.open.Add(-1)
	}
}

// Connections returns the client connections open now.
func (s *Server) Connections() int64 { return s.conns.open.Load() }
