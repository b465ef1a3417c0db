package resp

import "strings"

// appendTransport adds CLIENT LIST's transport field: "tcp", or
// "fabric:<provider>" once BLOB.HELLO opened a session.
func appendTransport(b []byte, transport string) []byte {
	b = append(b, " transport="...)
	if transport == "" {
		return append(b, "tcp"...)
	}
	return append(b, transport...)
}

// infoFastpath writes the fast path's state and counters. The transfer
// counters carry the names of the reference module's largeobj_efa
// section, so tools written for it read them unchanged.
func (c *conn) infoFastpath(b []byte) []byte {
	fp := c.s.fast
	b = append(b, "# Fastpath\r\n"...)
	if !fp.Available() {
		b = appendField(b, "fastpath_enabled", 0)
		b = appendField(b, "fastpath_transport", "tcp")
		reason := "fabric not configured"
		if err := fp.Reason(); err != nil {
			reason = err.Error()
		}
		return appendField(b, "fastpath_unavailable_reason", strings.ReplaceAll(reason, "\r\n", " "))
	}
	st := fp.Stats()
	cfg := fp.Config()
	b = appendField(b, "fastpath_enabled", 1)
	b = appendField(b, "fastpath_transport", "fabric")
	b = appendField(b, "fastpath_provider", fp.Provider())
	b = appendField(b, "fastpath_domains", strings.Join(fp.Domains(), ","))
	b = appendField(b, "fastpath_max_sessions", cfg.MaxSessions)
	b = appendField(b, "fastpath_max_transfers", cfg.MaxTransfers)
	b = appendField(b, "fastpath_transfers_in_flight", st.TransfersNow.Load())
	b = appendField(b, "fastpath_transfer_waits", st.Waits.Load())
	b = appendField(b, "fastpath_transfer_timeouts", st.Timeouts.Load())
	b = appendField(b, "fastpath_held_bytes", st.HeldBytes.Load())
	b = appendField(b, "fastpath_arena_used_bytes", c.eng.Stats().DRAMUsed)
	b = appendField(b, "fastpath_sessions_total", st.SessionsTotal.Load())
	b = appendField(b, "fastpath_sessions_refused", st.RefusedHellos.Load())
	b = appendField(b, "largeobj_efa_sessions", st.Sessions.Load())
	b = appendField(b, "largeobj_efa_writes_total", st.Writes.Load())
	b = appendField(b, "largeobj_efa_write_bytes_total", st.WriteBytes.Load())
	b = appendField(b, "largeobj_efa_write_usec_total", st.WriteMicros.Load())
	b = appendField(b, "largeobj_efa_reads_total", st.Reads.Load())
	b = appendField(b, "largeobj_efa_read_bytes_total", st.ReadBytes.Load())
	b = appendField(b, "largeobj_efa_read_usec_total", st.ReadMicros.Load())
	b = appendField(b, "largeobj_efa_write_errors", st.WriteErrors.Load())
	return appendField(b, "largeobj_efa_read_errors", st.ReadErrors.Load())
}
