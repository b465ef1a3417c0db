package resp

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/nvme"
)

// TestScriptPowerCut: a script's writes are one engine group, committed
// when it returns. A power cut while it runs (after its writes, before
// the commit) leaves none of them; one after EVAL was answered leaves all
// of them: strings small and large, a hash field, a deletion.
func TestScriptPowerCut(t *testing.T) {
	for _, after := range []bool{false, true} {
		name := "before-commit"
		if after {
			name = "after-reply"
		}
		t.Run(name, func(t *testing.T) { scriptPowerCut(t, after) })
	}
}

func scriptPowerCut(t *testing.T, after bool) {
	inner := nvme.NewMem("dev0", 1<<30)
	open := func(fs vfs.FS) *engine.Engine {
		e, err := engine.Open(engine.Options{
			Dir: "/db", Devices: []string{"dev0"}, ECData: 1, MetadataFS: fs,
			DRAMCacheSize: 64 << 20, SegmentSize: 4 << 20, MetadataCacheSize: 8 << 20,
			OpenDevice: func(string) (nvme.Device, error) { return inner, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	memFS := vfs.NewCrashableMem()
	eng := open(memFS)
	s := NewServer(eng, Config{})
	var crashed *vfs.MemFS
	clone := func() *vfs.MemFS {
		return memFS.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(1, 2))})
	}
	// The cut, as a command the script calls once it wrote: it runs
	// inside the script's group, before the commit.
	s.commands.m["test.powercut"] = &cmdSpec{name: "test.powercut", arity: 1, flags: flagReadonly,
		fn: func(c *conn, cmd *Command) { crashed = clone(); c.wr.OK() }}
	cl := newSyncConn(s)
	oldBig, newBig := strings.Repeat("o", 200<<10), strings.Repeat("n", 300<<10)
	for _, req := range [][]string{
		{"SET", "a", "old"}, {"SET", "big", oldBig}, {"SET", "gone", "here"}, {"HSET", "h", "f", "old"},
	} {
		if r := cl.run(encode(req...)); r[0] == '-' {
			t.Fatalf("%v: %q", req, r)
		}
	}
	if err := eng.Sync(); err != nil {
		t.Fatal(err)
	}
	cut := ""
	if !after {
		cut = "redis.call('test.powercut') "
	}
	script := "redis.call('set', 'a', 'new') redis.call('set', 'big', ARGV[1]) " +
		"redis.call('hset', 'h', 'f', 'new') redis.call('set', 'fresh', 'x') redis.call('del', 'gone') " + cut + "return 1"
	if r := cl.run(encode("EVAL", script, "0", newBig)); string(r) != ":1\r\n" {
		t.Fatalf("EVAL: %q", r)
	}
	if after {
		// The reply went out after the engine synced (conn.flush).
		crashed = clone()
	}
	s.Close()
	// NB: the devices are in memory and keep every write, as after a
	// kill -9; the metadata store is what the cut decides.
	eng.Close()
	e2 := open(crashed)
	defer e2.Close()
	s2 := NewServer(e2, Config{})
	defer s2.Close()
	cl2 := newSyncConn(s2)
	get := func(args ...string) string { return string(cl2.run(encode(args...))) }
	bulk := func(v string) string { return "$" + itoa(len(v)) + "\r\n" + v + "\r\n" }
	want := map[string]string{
		"GET a": bulk("old"), "HGET h f": bulk("old"), "EXISTS gone": ":1\r\n", "EXISTS fresh": ":0\r\n",
	}
	wantBig := oldBig
	if after {
		want = map[string]string{
			"GET a": bulk("new"), "HGET h f": bulk("new"), "EXISTS gone": ":0\r\n", "EXISTS fresh": ":1\r\n",
		}
		wantBig = newBig
	}
	for req, w := range want {
		if got := get(strings.Fields(req)...); got != w {
			t.Errorf("%s = %q, want %q", req, got, w)
		}
	}
	if got := get("GET", "big"); !bytes.Equal([]byte(got), []byte(bulk(wantBig))) {
		t.Errorf("GET big: %d bytes, not the expected value", len(got))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
