package gateway

import (
	"testing"
	"time"
)

// TestDurabilityOptions: rocksdb.write_options.sync defaults to no, as in
// KVRocks, and with sync-interval-ms reaches the engine.
func TestDurabilityOptions(t *testing.T) {
	c := NewConfig(nil)
	o, err := engineOptions(c, nil)
	if err != nil || o.SyncWrites || o.SyncInterval != time.Second {
		t.Fatalf("defaults: sync %v, interval %v, %v", o.SyncWrites, o.SyncInterval, err)
	}
	c.Override("rocksdb.write_options.sync", "yes")
	c.Override("sync-interval-ms", "250")
	if o, err = engineOptions(c, nil); err != nil || !o.SyncWrites || o.SyncInterval != 250*time.Millisecond {
		t.Fatalf("overridden: sync %v, interval %v, %v", o.SyncWrites, o.SyncInterval, err)
	}
	for key, bad := range map[string]string{"rocksdb.write_options.sync": "maybe", "sync-interval-ms": "0", "dram-send-by-reference": "sometimes"} {
		if err := NewConfig(nil).Override(key, bad); err == nil {
			t.Errorf("%s %s accepted", key, bad)
		}
	}
	if err := NewConfig(nil).Override("dram-send-by-reference", "auto"); err != nil {
		t.Errorf("dram-send-by-reference auto: %v", err)
	}
}
