package resp

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/ec"
	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/nvme"
)

func TestAppendDevices(t *testing.T) {
	st := &ec.Status{
		ID: "00ff", K: 4, M: 2, Degraded: true,
		Devices: []ec.DeviceStatus{
			{Slot: 0, Name: "/d0", State: ec.DeviceOK, Health: nvme.HealthStats{Reads: 3, Writes: 4, ReadErrors: 1, BytesRead: 4096, BytesWritten: 8192}},
			{Slot: 1, State: ec.DeviceMissing},
			{Slot: 2, Name: "/d2", State: ec.DeviceFailed, Health: nvme.HealthStats{WriteErrors: 7}},
			{Slot: 3, Name: "/d\n3", State: ec.DeviceRebuilding},
		},
		ReadErrors: 1, WriteErrors: 7, ChecksumErrors: 2, Reconstructed: 5, Unrecoverable: 1, ReadRepaired: 2,
		Scrub:   ec.Progress{Files: 10, FilesDone: 10, Bytes: 1 << 20, Repaired: 3, Lost: 1, Started: time.Unix(100, 0), Ended: time.Unix(160, 0)},
		Rebuild: ec.Progress{Running: true, Slot: 3, Files: 8, FilesDone: 2, Bytes: 4096, Err: "ec: line one\nline two"},
	}
	got := string(appendDevices(nil, st))
	want := strings.Join([]string{
		"ec_enabled:1",
		"ec_layout:4+2",
		"ec_data_shards:4",
		"ec_parity_shards:2",
		"ec_volume_id:00ff",
		"ec_degraded:yes",
		"ec_devices:4",
		"ec_devices_ok:1",
		"device0:name=/d0,state=ok,reads=3,writes=4,read_errors=1,write_errors=0,bytes_read=4096,bytes_written=8192",
		"device1:name=,state=missing,reads=0,writes=0,read_errors=0,write_errors=0,bytes_read=0,bytes_written=0",
		"device2:name=/d2,state=failed,reads=0,writes=0,read_errors=0,write_errors=7,bytes_read=0,bytes_written=0",
		"device3:name=/d 3,state=rebuilding,reads=0,writes=0,read_errors=0,write_errors=0,bytes_read=0,bytes_written=0",
		"ec_read_errors:1",
		"ec_write_errors:7",
		"ec_checksum_errors:2",
		"ec_reconstructed:5",
		"ec_unrecoverable:1",
		"ec_read_repaired:2",
		"scrub_running:0",
		"scrub_files:10",
		"scrub_files_done:10",
		"scrub_bytes:1048576",
		"scrub_repaired:3",
		"scrub_lost:1",
		"scrub_started:100",
		"scrub_ended:160",
		"scrub_last_error:",
		"rebuild_running:1",
		"rebuild_slot:3",
		"rebuild_files:8",
		"rebuild_files_done:2",
		"rebuild_bytes:4096",
		"rebuild_repaired:0",
		"rebuild_lost:0",
		"rebuild_started:0",
		"rebuild_ended:0",
		"rebuild_last_error:ec: line one line two",
	}, "\r\n") + "\r\n"
	if got != want {
		t.Fatalf("devices section:\n%s\nwant:\n%s", got, want)
	}
	st.Scrub.Err = strings.Repeat("EOF\n", 10000)
	got = string(appendDevices(nil, st))
	if i := strings.Index(got, "scrub_last_error:"); !strings.HasPrefix(got[i:], "scrub_last_error:"+strings.Repeat("EOF ", 128)+"...\r\nrebuild_running:") {
		t.Fatalf("long scrub error not cut short: %.700s", got[i:])
	}
}

// TestInfoDevicesSection runs INFO on an engine with a 4+2 volume over six
// directories, healthy and then with two of them gone.
func TestInfoDevicesSection(t *testing.T) {
	dir := t.TempDir()
	var devs []string
	for i := range 6 {
		devs = append(devs, filepath.Join(dir, fmt.Sprintf("d%d", i)))
	}
	open := func(devs []string) (*engine.Engine, *syncConn) {
		eng, err := engine.Open(engine.Options{Dir: dir, Devices: devs, ECData: 4, ECParity: 2, DRAMCacheSize: 64 << 20})
		if err != nil {
			t.Fatalf("engine.Open: %v", err)
		}
		return eng, newSyncConn(NewServer(eng, Config{}))
	}
	eng, sc := open(devs)
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB: a blob
	out := sc.run(append(encode("SET", "big", string(big)), encode("SET", "small", "v")...))
	if string(out) != "+OK\r\n+OK\r\n" {
		t.Fatalf("SET: %q", out)
	}
	info := string(sc.run(encode("INFO", "devices")))
	for _, want := range []string{"# Devices\r\n", "ec_enabled:1\r\n", "ec_layout:4+2\r\n", "ec_degraded:no\r\n", "ec_devices:6\r\n", "ec_devices_ok:6\r\n",
		"device0:name=" + devs[0] + ",state=ok,", "device5:name=" + devs[5] + ",state=ok,", "scrub_running:", "rebuild_running:"} {
		if !strings.Contains(info, want) {
			t.Fatalf("INFO devices lacks %q:\n%s", want, info)
		}
	}
	if strings.Contains(info, "# Server") {
		t.Fatalf("INFO devices returned other sections:\n%s", info)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}

	// Slots 1 and 2 vanish; the others come back in another order.
	eng, sc = open([]string{devs[5], devs[3], devs[0], devs[4]})
	defer eng.Close()
	out = sc.run(encode("GET", "big"))
	if !bytes.Contains(out, big) {
		t.Fatalf("degraded GET: %d bytes, %.80q", len(out), out)
	}
	info = string(sc.run(encode("INFO")))
	for _, want := range []string{"# Tiers\r\n", "# Devices\r\n", "ec_degraded:yes\r\n", "ec_devices_ok:4\r\n",
		"device1:name=,state=missing,", "device2:name=,state=missing,", "device3:name=" + devs[3] + ",state=ok,"} {
		if !strings.Contains(info, want) {
			t.Fatalf("INFO lacks %q:\n%s", want, info)
		}
	}
	if !strings.Contains(info, "ec_reconstructed:") || strings.Contains(info, "ec_reconstructed:0\r\n") {
		t.Fatalf("INFO after a degraded read shows no reconstructed stripes:\n%s", info)
	}
}

// TestInfoTiersSmallAndSequence checks that the tiers section carries the
// small-value DRAM tier and the write sequence.
func TestInfoTiersSmallAndSequence(t *testing.T) {
	s := NewServer(openEngine(t), Config{})
	sc := newSyncConn(s)
	sc.run(append(append(encode("SET", "a", "1"), encode("SET", "b", "2")...), encode("GET", "a")...))
	sc.run(encode("GET", "nope"))
	info := string(sc.run(encode("INFO", "tiers")))
	for _, want := range []string{"# Tiers\r\n", "small_entries:2\r\n", "small_bytes:", "small_hits:1\r\n", "small_misses:", "sequence:2\r\n"} {
		if !strings.Contains(info, want) {
			t.Fatalf("INFO tiers lacks %q:\n%s", want, info)
		}
	}
}
