package resp

// Typed setters for the settings the gateway applies at start and on
// CONFIG SET, for keys whose values it parses (sizes with units, the one
// parser of the config file). Safe for concurrent use; a change applies to
// the connections already open from their next request.

// SetQueryBufferLimit sets query-buffer-limit: the bytes of one request a
// client may have buffered (Limits.MaxQueryBuf). Values above 1 GiB are
// capped there, as Redis caps client-query-buffer-limit.
func (s *Server) SetQueryBufferLimit(n int64) {
	s.updateLive(func(l *live) error {
		l.limits.MaxQueryBuf = int(min(max(n, 1), DefaultMaxQueryBuf))
		return nil
	})
}

// SetOutputLimit sets output-buffer-limit: a client whose queued replies
// exceed the hard limit, or stay over the soft one too long, is closed.
func (s *Server) SetOutputLimit(o OutputLimit) {
	s.updateLive(func(l *live) error {
		l.output = o
		return nil
	})
}

// SetClientMemoryLimit sets maxmemory-clients: the bound on all client
// buffers together (0: none).
func (s *Server) SetClientMemoryLimit(n int64) { s.budget.setMax(max(n, 0)) }

// SetMaxBitmapToString sets max-bitmap-to-string-mb (given in bytes): the
// largest bitmap GET and DUMP return as a string; a larger one answers
// errBitmapTooLarge, as KVRocks does.
func (s *Server) SetMaxBitmapToString(n int64) {
	s.updateLive(func(l *live) error {
		l.maxBitmapStr = max(n, 0)
		return nil
	})
}

// QueryBufferLimit and OutputLimit return the limits in force.
func (s *Server) QueryBufferLimit() int64  { return int64(s.live.Load().limits.MaxQueryBuf) }
func (s *Server) OutputLimit() OutputLimit { return s.live.Load().output }
