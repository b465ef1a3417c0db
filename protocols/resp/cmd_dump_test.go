package resp

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

// bulkReply returns the bytes of a bulk-string reply.
func bulkReply(t *testing.T, out []byte) []byte {
	t.Helper()
	nl := bytes.Index(out, []byte("\r\n"))
	if len(out) == 0 || out[0] != '$' || nl < 0 {
		t.Fatalf("not a bulk reply: %.200q", out)
	}
	n, err := strconv.Atoi(string(out[1:nl]))
	if err != nil || len(out) != nl+2+n+2 {
		t.Fatalf("bad bulk reply: %.200q", out)
	}
	return out[nl+2 : nl+2+n]
}

// TestDumpRestoreRoundTrip DUMPs every type (small, large, with and
// without packed integers), checks the payload decodes to exactly the
// elements the key holds, RESTOREs it under another key and reads both
// back the same.
func TestDumpRestoreRoundTrip(t *testing.T) {
	srv := NewServer(openEngine(t), Config{})
	defer srv.Close()
	sc := newSyncConn(srv)
	do := func(args ...string) string { return string(sc.run(encode(args...))) }
	big := strings.Repeat("0123456789abcdef", 1<<14) // 256 KiB: a blob, sent by reference
	setup := [][]string{
		{"SET", "s:int", "-123456"}, {"SET", "s:lead0", "0123"}, {"SET", "s:empty", ""}, {"SET", "s:big", big},
		{"RPUSH", "l", "a", "", "1", big, "-2"},
		{"SADD", "set", "x", "1", "", "-7"},
		{"HSET", "h", "f", "1", "", "e", "big", big},
		{"ZADD", "z", "1", "a", "-inf", "b", "+inf", "c", "1", "d", "0.5", ""},
	}
	for _, c := range setup {
		if out := do(c...); strings.HasPrefix(out, "-") {
			t.Fatalf("%v: %s", c, out)
		}
	}
	reads := map[string][]string{
		"s:int": {"GET"}, "s:lead0": {"GET"}, "s:empty": {"GET"}, "s:big": {"GET"},
		"l": {"LRANGE", "", "0", "-1"}, "set": {"SMEMBERS"}, "h": {"HGETALL"}, "z": {"ZRANGE", "", "0", "-1", "WITHSCORES"},
	}
	read := func(op []string, key string) string {
		args := append([]string{op[0], key}, op[min(2, len(op)):]...)
		return do(args...)
	}
	for key, op := range reads {
		p := bulkReply(t, sc.run(encode("DUMP", key)))
		if err := rdbVerify(p); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if v := p[len(p)-10]; v != rdbDumpVersion {
			t.Fatalf("%s: version %d", key, v)
		}
		o, err := rdbDecode(p, 1<<30)
		if err != nil {
			t.Fatalf("%s: decode: %v", key, err)
		}
		if key == "set" && len(o.elems) != 4 || key == "l" && len(o.elems) != 5 || key == "z" && len(o.scores) != 5 {
			t.Fatalf("%s: payload holds %d elements", key, len(o.elems))
		}
		if out := do("RESTORE", key+":copy", "0", string(p)); out != "+OK\r\n" {
			t.Fatalf("RESTORE %s: %q", key, out)
		}
		want, got := read(op, key), read(op, key+":copy")
		if got != want {
			t.Fatalf("%s: restored %.200q, want %.200q", key, got, want)
		}
		if out := do("RESTORE", key, "0", string(p)); out != "-"+errBusyKey+"\r\n" {
			t.Fatalf("RESTORE onto %s: %q", key, out)
		}
	}
	// REPLACE over another type, and a TTL.
	p := bulkReply(t, sc.run(encode("DUMP", "z")))
	if out := do("RESTORE", "s:int", "100000", string(p), "REPLACE"); out != "+OK\r\n" {
		t.Fatalf("RESTORE REPLACE: %q", out)
	}
	if out := do("TYPE", "s:int"); out != "+zset\r\n" {
		t.Fatalf("TYPE after REPLACE: %q", out)
	}
	if out := do("TTL", "s:int"); out != ":100\r\n" {
		t.Fatalf("TTL after RESTORE: %q", out)
	}
}

// TestDumpKVRocksFormat pins DUMP's bytes: KVRocks's encodings (strings
// with small integers packed, "007" kept verbatim; a hash and a set as
// element lists in byte order; a list as a quicklist of one-entry
// ziplists; a sorted set with binary scores, highest first), RDB version
// 6 and the CRC64. redis-server 7.0 restores each of these (compat test).
func TestDumpKVRocksFormat(t *testing.T) {
	srv := NewServer(openEngine(t), Config{})
	defer srv.Close()
	sc := newSyncConn(srv)
	for _, c := range [][]string{{"SET", "s", "hello"}, {"SET", "n", "12345"}, {"SET", "n2", "-7"}, {"SET", "z", "007"},
		{"RPUSH", "dl", "a", "b", "c", "1", "2"}, {"HSET", "dh", "f1", "v1", "f2", "2"}, {"SADD", "ds", "x", "y", "3"},
		{"ZADD", "dz", "1", "a", "2.5", "b", "-inf", "c", "1", "d"}} {
		sc.run(encode(c...))
	}
	for key, want := range map[string]string{
		"s":  "000568656c6c6f0600f59fb7f690611c99",
		"n":  "00c1393006000b7982a766a9342a",
		"n2": "00c0f90600c8cbb9b022f77e38",
		"z":  "00033030370600e4b58afbb93c864a",
		"dl": "0e050e0e0000000a0000000100000161ff0e0e0000000a0000000100000162ff0e0e0000000a0000000100000163ff0e0e0000000a0000000100000131ff0e0e0000000a0000000100000132ff060072efbd9699f58a2b",
		"dh": "0402026631027631026632c00206002f5920e57d0178ba",
		"ds": "0203c003017801790600efb68d6b9543b559",
		"dz": "0504016200000000000004400164000000000000f03f0161000000000000f03f0163000000000000f0ff06006e6d30b95366a45d",
	} {
		if got := hex.EncodeToString(bulkReply(t, sc.run(encode("DUMP", key)))); got != want {
			t.Errorf("DUMP %s = %s, want %s", key, got, want)
		}
	}
}

// TestDumpBitmap: a bitmap dumps as the string GET reads (KVRocks's
// choice), and that payload restores as a string with the same bytes.
func TestDumpBitmap(t *testing.T) {
	srv := NewServer(openEngine(t), Config{})
	defer srv.Close()
	sc := newSyncConn(srv)
	do := func(args ...string) string { return string(sc.run(encode(args...))) }
	for _, off := range []string{"1", "9", "8191"} {
		if out := do("SETBIT", "bm", off, "1"); out != ":0\r\n" {
			t.Fatalf("SETBIT %s: %q", off, out)
		}
	}
	got := do("DUMP", "bm")
	r := bufio.NewReader(strings.NewReader(got))
	head, _ := r.ReadString('\n')
	if !strings.HasPrefix(head, "$") {
		t.Fatalf("DUMP of a bitmap: %q", got)
	}
	payload := got[len(head) : len(got)-2]
	if out := do("RESTORE", "s", "0", payload); out != "+OK\r\n" {
		t.Fatalf("RESTORE: %q", out)
	}
	if a, b := do("GET", "bm"), do("GET", "s"); a != b {
		t.Fatalf("GET of the restored string %q, of the bitmap %q", b, a)
	}
	if out := do("TYPE", "s"); out != "+string\r\n" {
		t.Fatalf("TYPE of the restored key: %q", out)
	}
}
