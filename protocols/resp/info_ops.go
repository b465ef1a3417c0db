package resp

import (
	"strconv"
	"syscall"
)

// infoRocksDB is KVRocks's "# RocksDB" section with the metadata store's
// (pebble's) figures under RocksDB's names, as kvrocks_exporter reads
// them. Fields RocksDB has and pebble does not measure are left out, not
// made up.
func (c *conn) infoRocksDB(b []byte) []byte {
	m := c.eng.MetadataStats()
	b = append(b, "# RocksDB\r\n"...)
	b = appendField(b, "block_cache_usage", m.BlockCacheUsage)
	b = appendField(b, "all_mem_tables", m.MemTableBytes)
	b = appendField(b, "cur_mem_tables", m.MemTableBytes)
	b = appendField(b, "snapshots", m.Snapshots)
	b = appendField(b, "num_immutable_tables", max(m.MemTables-1, 0))
	b = appendField(b, "num_running_flushes", m.FlushesRunning)
	b = appendField(b, "memtable_flush_pending", boolInt(m.MemTables > 1))
	b = appendField(b, "compaction_pending", boolInt(m.CompactionDebt > 0))
	b = appendField(b, "estimate_pending_compaction_bytes", m.CompactionDebt)
	b = appendField(b, "num_running_compactions", m.CompactionsRunning)
	b = appendField(b, "flush_count", m.Flushes)
	b = appendField(b, "compaction_count", m.Compactions)
	b = appendField(b, "total_sst_files_size", m.DiskBytes)
	b = appendField(b, "is_bgsaving", boolInt(c.s.ops.saving.Load()))
	return appendField(b, "is_compacting", boolInt(c.s.ops.compacting.Load()))
}

// appendDiskUsage adds KVRocks's keyspace disk fields: the file system
// holding the data directory, its size and what is used of it.
func (c *conn) appendDiskUsage(b []byte) []byte {
	var st syscall.Statfs_t
	if c.s.cfg.Dir == "" || syscall.Statfs(c.s.cfg.Dir, &st) != nil {
		return b
	}
	capacity := int64(st.Blocks) * int64(st.Bsize)
	used := capacity - int64(st.Bavail)*int64(st.Bsize)
	b = appendField(b, "disk_capacity", capacity)
	b = appendField(b, "used_disk_size", used)
	pct := 0.0
	if capacity > 0 {
		pct = 100 * float64(used) / float64(capacity)
	}
	b = append(b, "used_disk_percent: "...)
	b = strconv.AppendFloat(b, pct, 'f', 2, 64)
	return append(b, "%\r\n"...)
}

// totalSystemMemory is the host's RAM (total_system_memory), 0 if unknown.
func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
