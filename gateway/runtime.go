package gateway

import (
	"errors"
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

	cfg.OnSet("log-level", lg.setLevel)

	// Without tls-port the TLS keys have nothing to apply to; applyTLS
	// replaces these appliers when TLS is on.
	for _, key := range tlsKeys {
		cfg.OnSet(key, func(string) error {
			return errors.New("TLS is off (tls-port 0); set tls-port in the configuration and restart")
		})
	}
}
