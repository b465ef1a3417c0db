// Package gateway wires a gpucache process together: it reads the
// configuration (KVRocks's file format and keys, plus gpucache's), opens the
// engine, starts the RESP and S3 listeners and the admin HTTP endpoint
// (/metrics, /healthz), and shuts everything down in order.
//
// # Basics
//
// Run is the whole server: cmd/gpucache parses the command line into a
// Config and calls it. With no configuration at all it serves RESP on
// 127.0.0.1:6379 over ./gpucache-data. S3 is served (on 127.0.0.1:9000 by
// default) only when the configuration names an s3-* key, so a kvrocks.conf
// opens exactly the ports it names and two instances started from two
// such files differing in port and dir do not collide.
//
// # Caveats
//
// Keys that KVRocks knows but gpucache gives no meaning (compaction and
// backup schedules, RocksDB tuning) are accepted silently so that an
// existing kvrocks.conf starts unchanged; replication keys with a value
// stop start-up instead; keys neither knows are reported with their line
// number and ignored.
package gateway
