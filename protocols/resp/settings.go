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
		l.limits.MaxQueryBuf = int(min(max(n, 1), 1<<30))
		return nil
	})
}

// SetOutputBufferLimit sets output-buffer-limit: a client whose queued
// replies exceed it is closed (0: no limit).
func (s *Server) SetOutputBufferLimit(n int64) {
	s.updateLive(func(l *live) error {
		l.maxOutputBuffer = max(n, 0)
		return nil
	})
}

// QueryBufferLimit and OutputBufferLimit return the limits in force.
func (s *Server) QueryBufferLimit() int64  { return int64(s.live.Load().limits.MaxQueryBuf) }
func (s *Server) OutputBufferLimit() int64 { return s.live.Load().maxOutputBuffer }
