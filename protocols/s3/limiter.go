package s3

import (
	"net/http"
	"strconv"
	"sync/atomic"
)

// Overload. The server admits at most Config.MaxRequests requests at a
// time, and request bodies totalling at most Config.MaxBodyBytes (each
// charged what it may hold in the engine at once: its length, at most
// PieceSize; PieceSize when unknown). A request beyond either limit is
// answered 503 SlowDown at once, before authentication and without
// reading its body, instead of queueing: S3 clients back off and retry on
// SlowDown, and nothing grows with the load. Requests without a body
// (GETs included) are charged no body bytes; a body larger than the whole
// budget is charged the budget, so it is admitted when it is alone.

// inflight counts admitted requests and body bytes. Safe for concurrent
// use; the zero value with zero limits admits everything.
type inflight struct {
	maxReqs, maxBytes int64 // 0: no limit
	reqs, bytes       atomic.Int64
}

// acquire admits a request charged body bytes, or reports false (and
// takes nothing).
func (l *inflight) acquire(body int64) bool {
	if n := l.reqs.Add(1); l.maxReqs > 0 && n > l.maxReqs {
		l.reqs.Add(-1)
		return false
	}
	if body > 0 {
		if n := l.bytes.Add(body); l.maxBytes > 0 && n > l.maxBytes {
			l.bytes.Add(-body)
			l.reqs.Add(-1)
			return false
		}
	}
	return true
}

// release returns what acquire took.
func (l *inflight) release(body int64) {
	if body > 0 {
		l.bytes.Add(-body)
	}
	l.reqs.Add(-1)
}

// bodyCharge is what a request's body is charged against MaxBodyBytes.
func (s *Server) bodyCharge(r *http.Request) int64 {
	n := r.ContentLength
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		if d, err := strconv.ParseInt(v, 10, 64); err == nil && d >= 0 {
			n = d
		}
	}
	if n < 0 || n > s.cfg.PieceSize {
		n = s.cfg.PieceSize
	}
	if m := s.limit.maxBytes; m > 0 && n > m {
		n = m // admitted alone, never refused for good
	}
	return n
}

// InFlight reports the requests and charged body bytes admitted now.
func (s *Server) InFlight() (requests, bodyBytes int64) {
	return s.limit.reqs.Load(), s.limit.bytes.Load()
}
