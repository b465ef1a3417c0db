package gateway

import (
	"errors"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gpucache/gpucache/protocols/resp"
)

// applyRuntime puts the mutable keys the gateway owns into effect now and
// on every CONFIG SET (Config.OnSet). The RESP front end applies the keys
// it owns itself (requirepass, maxclients, timeout, proto-max-bulk-len,
// resp3-enabled, namespace.*). Every other mutable key must be here: a
// CONFIG SET that is accepted takes effect.
func applyRuntime(cfg *Config, rs *resp.Server, lg *leveledLog) {
	setSlowlog := func(threshold, maxLen int64) {
		rs.SetSlowlog(time.Duration(threshold)*time.Microsecond, int(maxLen))
	}
	setSlowlog(cfg.Int("slowlog-log-slower-than"), cfg.Int("slowlog-max-len"))
	cfg.OnSet("slowlog-log-slower-than", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			setSlowlog(n, cfg.Int("slowlog-max-len"))
		}
		return err
	})
	cfg.OnSet("slowlog-max-len", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			setSlowlog(cfg.Int("slowlog-log-slower-than"), n)
		}
		return err
	})

	// lua-time-limit and busy-reply-threshold name one setting (Redis 7
	// renamed it): either one set applies.
	setScriptLimit := func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			rs.SetScriptTimeLimit(time.Duration(n) * time.Millisecond)
		}
		return err
	}
	rs.SetScriptTimeLimit(time.Duration(cfg.Int("lua-time-limit")) * time.Millisecond)
	if n := cfg.Int("busy-reply-threshold"); n != 5000 {
		rs.SetScriptTimeLimit(time.Duration(n) * time.Millisecond)
	}
	cfg.OnSet("lua-time-limit", setScriptLimit)
	cfg.OnSet("busy-reply-threshold", setScriptLimit)
	rs.SetScriptMemoryLimit(cfg.Bytes("lua-memory-limit"))
	cfg.OnSet("lua-memory-limit", func(v string) error {
		n, err := ParseBytes(v)
		if err == nil {
			rs.SetScriptMemoryLimit(n)
		}
		return err
	})

	rs.SetQueryBufferLimit(cfg.Bytes("query-buffer-limit"))
	cfg.OnSet("query-buffer-limit", func(v string) error {
		n, err := ParseBytes(v)
		if err == nil {
			rs.SetQueryBufferLimit(n)
		}
		return err
	})
	rs.SetOutputLimit(outputLimit(cfg.Get("output-buffer-limit")))
	cfg.OnSet("output-buffer-limit", func(v string) error {
		o, err := resp.ParseOutputLimit(v)
		if err == nil {
			rs.SetOutputLimit(o)
		}
		return err
	})
	rs.SetClientMemoryLimit(cfg.Bytes("maxmemory-clients"))
	cfg.OnSet("maxmemory-clients", func(v string) error {
		n, err := ParseBytes(v)
		if err == nil {
			rs.SetClientMemoryLimit(n)
		}
		return err
	})

	rs.SetMaxBitmapToString(cfg.Int("max-bitmap-to-string-mb") << 20)
	cfg.OnSet("max-bitmap-to-string-mb", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			rs.SetMaxBitmapToString(n << 20)
		}
		return err
	})

	cfg.OnSet("log-level", lg.setLevel)

	// PERFLOG's sampling: every profiling-sample-* key re-applies all four.
	setPerflog := func(key, v string) error {
		get := func(k string) string {
			if k == key {
				return v
			}
			return cfg.Get(k)
		}
		ratio, err1 := strconv.Atoi(get("profiling-sample-ratio"))
		ms, err2 := strconv.ParseInt(get("profiling-sample-record-threshold-ms"), 10, 64)
		maxLen, err3 := strconv.Atoi(get("profiling-sample-record-max-len"))
		if err := errors.Join(err1, err2, err3); err != nil {
			return err
		}
		rs.SetPerflog(ratio, get("profiling-sample-commands"), time.Duration(ms)*time.Millisecond, maxLen)
		return nil
	}
	setPerflog("", "")
	for _, key := range []string{"profiling-sample-ratio", "profiling-sample-commands", "profiling-sample-record-threshold-ms", "profiling-sample-record-max-len"} {
		cfg.OnSet(key, func(v string) error { return setPerflog(key, v) })
	}

	rs.SetBackupDir(backupDir(cfg.Get("backup-dir"), cfg.Get("dir")))
	cfg.OnSet("backup-dir", func(v string) error {
		rs.SetBackupDir(backupDir(v, cfg.Get("dir")))
		return nil
	})

	// Without tls-port the TLS keys have nothing to apply to; applyTLS
	// replaces these appliers when TLS is on.
	for _, key := range tlsKeys {
		cfg.OnSet(key, func(string) error {
			return errors.New("TLS is off (tls-port 0); set tls-port in the configuration and restart")
		})
	}
}

// backupDir is backup-dir, or <dir>/backup when it is empty (KVRocks's
// default).
func backupDir(v, dir string) string {
	if v == "" {
		return filepath.Join(dir, "backup")
	}
	return v
}
