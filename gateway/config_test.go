package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStockKVRocksConfLoadsWithoutWarnings(t *testing.T) {
	var warnings []string
	c := NewConfig(func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) })
	if err := c.Load("testdata/kvrocks.conf"); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Fatalf("warnings: %v", warnings)
	}
	if c.Int("port") != 6666 || c.Get("dir") != "/tmp/kvrocks" || c.Namespaces()["test"] != "change.me" {
		t.Fatalf("port=%d dir=%s ns=%v", c.Int("port"), c.Get("dir"), c.Namespaces())
	}
}

func TestUnknownKeyWarnsWithLine(t *testing.T) {
	f := filepath.Join(t.TempDir(), "g.conf")
	os.WriteFile(f, []byte("# comment\nport 7000\nno-such-key 1\n"), 0o644)
	var warnings []string
	c := NewConfig(func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) })
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "line 3") || !strings.Contains(warnings[0], `"no-such-key"`) {
		t.Fatalf("warnings: %v", warnings)
	}
	if c.Int("port") != 7000 {
		t.Fatal("port not read")
	}
}

func TestInvalidValuesAreErrors(t *testing.T) {
	for _, kv := range [][2]string{
		{"port", "99999"}, {"dram-cache-size", "lots"}, {"maxmemory-policy", "sometimes"},
		{"ec", "4-2"}, {"resp3-enabled", "maybe"}, {"maxclients", "-1"},
		{"slaveof", "127.0.0.1 6379"}, {"replicaof", "10.0.0.1 6666"}, {"cluster-enabled", "maybe"},
		{"redis-cursor-compatible", "no"}, {"log-level", "verbose"}, {"tls-auth-clients", "maybe"},
		{"tls-prefer-server-ciphers", "no"}, {"tls-session-cache-size", "100"}, {"tls-replication", "yes"},
	} {
		if err := NewConfig(nil).Override(kv[0], kv[1]); err == nil {
			t.Errorf("--%s %s accepted", kv[0], kv[1])
		}
	}
	if err := NewConfig(nil).Override("no-such-key", "1"); err == nil {
		t.Error("unknown override accepted")
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1024": 1024, "1k": 1024, "1kb": 1024, "2mb": 2 << 20, "1GB": 1 << 30, "3g": 3 << 30, "512m": 512 << 20,
	} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "1zb", "99999999999gb"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) accepted", in)
		}
	}
}

func TestConfigSetAndRewrite(t *testing.T) {
	f := filepath.Join(t.TempDir(), "g.conf")
	os.WriteFile(f, []byte("# keep me\nport 7001\ntimeout 5\nrocksdb.compression snappy\n"), 0o644)
	c := NewConfig(nil)
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRuntime("timeout", "30"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRuntime("port", "7002"); err == nil {
		t.Fatal("CONFIG SET of an immutable key succeeded")
	}
	if err := c.SetRuntime("requirepass", "s3cret pass"); err != nil {
		t.Fatal(err)
	}
	if got := c.Match("time*"); len(got) != 1 || got[0] != [2]string{"timeout", "30"} {
		t.Fatalf("Match = %v", got)
	}
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f)
	want := "# keep me\nport 7001\ntimeout 30\nrocksdb.compression snappy\nrequirepass \"s3cret pass\"\n"
	if string(b) != want {
		t.Fatalf("rewritten file:\n%s\nwant:\n%s", b, want)
	}
	// The rewritten file loads back to the same values.
	c2 := NewConfig(nil)
	if err := c2.Load(f); err != nil || c2.Get("requirepass") != "s3cret pass" || c2.Int("timeout") != 30 {
		t.Fatalf("reload: %v %q", err, c2.Get("requirepass"))
	}
}

func TestEngineOptionsValidation(t *testing.T) {
	c := NewConfig(nil)
	c.Override("ec", "4+2")
	c.Override("devices", "/a,/b,/c")
	if _, err := engineOptions(c, nil); err == nil {
		t.Fatal("ec 4+2 over 3 devices accepted")
	}
	c.Override("devices", "/a,/b,/c,/d,/e,/f")
	o, err := engineOptions(c, nil)
	if err != nil || o.ECData != 4 || o.ECParity != 2 || len(o.Devices) != 6 {
		t.Fatalf("%+v %v", o, err)
	}
	if o.ScrubInterval != 86400*time.Second || o.RebuildRate != 256<<20 {
		t.Fatalf("default scrub interval %v, rebuild rate %d", o.ScrubInterval, o.RebuildRate)
	}
	c.Override("ec-scrub-interval", "1")
	c.Override("ec-rebuild-rate", "16mb")
	if o, _ = engineOptions(c, nil); o.ScrubInterval != time.Second || o.RebuildRate != 16<<20 {
		t.Fatalf("scrub interval %v, rebuild rate %d", o.ScrubInterval, o.RebuildRate)
	}
}
