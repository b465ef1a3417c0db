package resp

import "time"

// infoDurability adds the durability mode (rocksdb.write_options.sync) and
// what it promises to INFO persistence: what an acknowledged write
// survives, and how much a power cut may lose.
func (c *conn) infoDurability(b []byte) []byte {
	d := c.eng.Durability()
	sync, survives, window := "no", "kill-9", d.SyncInterval.Milliseconds()
	if d.SyncWrites {
		sync, survives, window = "yes", "kill-9,power-loss", 0
	}
	b = appendField(b, "rocksdb_write_options_sync", sync)
	b = appendField(b, "acknowledged_writes_survive", survives)
	b = appendField(b, "power_cut_may_lose_ms", window)
	b = appendField(b, "sync_interval_ms", d.SyncInterval.Milliseconds())
	last := int64(-1)
	if !d.LastSync.IsZero() {
		last = time.Since(d.LastSync).Milliseconds()
	}
	b = appendField(b, "last_sync_ms_ago", last)
	b = appendField(b, "sync_rounds", d.SyncRounds)
	b = appendField(b, "sync_errors", d.SyncErrors)
	b = appendField(b, "recovery_checked_values", d.RecoveryChecked)
	b = appendField(b, "recovery_dropped_values", d.RecoveryDropped)
	// The write-back tier (engine/write_back.go): small strings logged
	// apart and moved to the metadata store in sorted batches.
	wb := c.eng.WriteBack()
	b = appendField(b, "writeback_enabled", boolInt(wb.Enabled))
	b = appendField(b, "writeback_keys", wb.Keys)
	b = appendField(b, "writeback_flushes", wb.Flushes)
	b = appendField(b, "writeback_evictions", wb.Evicts)
	return b
}
