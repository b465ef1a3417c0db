package gateway

import (
	"io"
	"log"
	"testing"

	"github.com/gpucache/gpucache/protocols/resp"
)

// respOwned are the mutable keys the RESP front end applies itself after
// CONFIG SET (resp.Server.applyConfig).
var respOwned = map[string]bool{
	"requirepass": true, "maxclients": true, "timeout": true,
	"proto-max-bulk-len": true, "resp3-enabled": true,
}

// TestEveryMutableKeyTakesEffect: a key that CONFIG SET accepts is applied
// by someone; none is accepted and ignored.
func TestEveryMutableKeyTakesEffect(t *testing.T) {
	cfg := NewConfig(nil)
	rs := resp.NewServer(nil, resp.Config{})
	defer rs.Close()
	applyRuntime(cfg, rs, newLeveledLog(log.New(io.Discard, "", 0), levelInfo))
	stopCron := startCron(cfg, rs, func(string, ...any) {})
	defer stopCron()
	for _, d := range keyDefs {
		if d.mutable && !respOwned[d.name] && cfg.appliers[d.name] == nil {
			t.Errorf("%s is mutable but nothing applies it", d.name)
		}
	}
	if err := cfg.SetRuntime("query-buffer-limit", "4k"); err != nil || rs.QueryBufferLimit() != 4096 {
		t.Errorf("query-buffer-limit 4k: %v, limit %d", err, rs.QueryBufferLimit())
	}
	if err := cfg.SetRuntime("output-buffer-limit", "2m"); err != nil || rs.OutputLimit().Hard != 2<<20 {
		t.Errorf("output-buffer-limit 2m: %v, limit %+v", err, rs.OutputLimit())
	}
	if err := cfg.SetRuntime("output-buffer-limit", "4m 1m 10"); err != nil || rs.OutputLimit().Hard != 4<<20 {
		t.Errorf("output-buffer-limit 4m 1m 10: %v, limit %+v", err, rs.OutputLimit())
	}
	if err := cfg.SetRuntime("log-level", "loud"); err == nil {
		t.Error("log-level loud accepted")
	}
}

// The largest slowlog-log-slower-than accepted does not overflow the
// threshold (microseconds as a time.Duration).
func TestSlowlogThresholdRange(t *testing.T) {
	cfg := NewConfig(nil)
	rs := resp.NewServer(nil, resp.Config{})
	defer rs.Close()
	applyRuntime(cfg, rs, newLeveledLog(log.New(io.Discard, "", 0), levelInfo))
	if err := cfg.SetRuntime("slowlog-log-slower-than", "2147483647"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.SetRuntime("slowlog-log-slower-than", "2147483648"); err == nil {
		t.Fatal("a threshold past KVRocks's INT_MAX accepted")
	}
}
