package resp_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestSlowlog: SLOWLOG answers as KVRocks does, and the thresholds set by
// CONFIG SET decide what the dispatcher logs.
func TestSlowlog(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	c := dialRaw(t, srv.Addr())
	c.send("CLIENT", "SETNAME", "slowpoke")
	c.expect("+OK\r\n")
	// The default threshold (100 ms) logs nothing of these.
	c.send("SET", "k", "v")
	c.expect("+OK\r\n")
	c.send("SLOWLOG", "LEN")
	c.expect(":0\r\n")
	c.send("CONFIG", "SET", "slowlog-log-slower-than", "0")
	c.expect("+OK\r\n")
	long := strings.Repeat("x", 200)
	c.send("SET", "k2", long)
	c.expect("+OK\r\n")
	args := []string{"DEL"}
	for i := range 40 {
		args = append(args, "key"+string(rune('a'+i%26)))
	}
	c.send(args...)
	c.readLine()
	c.send("SLOWLOG", "GET", "2")
	r := c.readReply()
	if len(r.elems) != 2 {
		t.Fatalf("SLOWLOG GET 2: %s", r)
	}
	del, set := r.elems[0], r.elems[1]
	if len(del.elems) != 6 || len(set.elems) != 6 {
		t.Fatalf("entries not of 6 fields: %s", r)
	}
	if del.elems[0].str <= set.elems[0].str && len(del.elems[0].str) == len(set.elems[0].str) {
		t.Errorf("newest entry first: ids %s, %s", del.elems[0].str, set.elems[0].str)
	}
	if a := del.elems[3].elems; len(a) != 32 || a[31].str != "... (10 more arguments)" {
		t.Errorf("DEL of 40 keys logged as %s", del.elems[3])
	}
	if a := set.elems[3].elems; len(a) != 3 || a[2].str != strings.Repeat("x", 128)+"... (72 more bytes)" {
		t.Errorf("SET with a 200-byte value logged as %s", set.elems[3])
	}
	if set.elems[4].str != c.nc.LocalAddr().String() || set.elems[5].str != "slowpoke" {
		t.Errorf("client fields %s %s, want %s slowpoke", set.elems[4], set.elems[5], c.nc.LocalAddr())
	}
	// slowlog-max-len trims; -1 turns logging off; RESET empties.
	c.send("CONFIG", "SET", "slowlog-max-len", "1")
	c.expect("+OK\r\n")
	c.send("SLOWLOG", "LEN")
	c.expect(":1\r\n")
	c.send("CONFIG", "SET", "slowlog-log-slower-than", "-1")
	c.expect("+OK\r\n")
	c.send("SLOWLOG", "RESET")
	c.expect("+OK\r\n")
	c.send("PING")
	c.expect("+PONG\r\n")
	c.send("SLOWLOG", "LEN")
	c.expect(":0\r\n")
	c.send("SLOWLOG", "NOPE")
	c.expect("-ERR SLOWLOG subcommand must be one of RESET, LEN, GET\r\n")
}

// TestTimeoutAppliesToConnectedClients: CONFIG SET timeout closes a client
// that connected (and went idle) while there was no timeout.
func TestTimeoutAppliesToConnectedClients(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	idle := dialRaw(t, srv.Addr())
	idle.send("PING")
	idle.expect("+PONG\r\n")
	admin := dialRaw(t, srv.Addr())
	admin.send("CONFIG", "SET", "timeout", "1")
	admin.expect("+OK\r\n")
	start := time.Now()
	idle.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := idle.nc.Read(make([]byte, 64))
	if ne, ok := err.(net.Error); n > 0 || (ok && ne.Timeout()) || err == nil {
		t.Fatalf("client idle since before CONFIG SET timeout 1: read %d bytes, %v; want it closed", n, err)
	}
	t.Logf("closed %v after CONFIG SET timeout 1", time.Since(start).Round(time.Millisecond))
	// The idle admin connection went the same way; a new one turns it off.
	admin = dialRaw(t, srv.Addr())
	admin.send("CONFIG", "SET", "timeout", "0")
	admin.expect("+OK\r\n")
}

// TestLogLevelAtRunTime: CONFIG SET log-level warning silences the
// informational lines, info brings them back.
func TestLogLevelAtRunTime(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	c := dialRaw(t, srv.Addr())
	c.send("CONFIG", "SET", "log-level", "warning")
	c.expect("+OK\r\n")
	// A protocol error is logged at info level with the client's address.
	provoke := func() string {
		b := dialRaw(t, srv.Addr())
		b.write([]byte("*1\r\n$x\r\n"))
		b.readLine()
		addr := b.nc.LocalAddr().String()
		b.nc.Close()
		return addr
	}
	quiet := provoke()
	c.send("CONFIG", "SET", "log-level", "info")
	c.expect("+OK\r\n")
	loud := provoke()
	waitFor(t, 10*time.Second, "the protocol error logged at info", func() bool { return strings.Contains(srv.Log(), loud) })
	if strings.Contains(srv.Log(), quiet) {
		t.Errorf("a line at info level was logged with log-level warning:\n%s", srv.Log())
	}
	c.send("CONFIG", "SET", "log-level", "verbose")
	if line := c.readLine(); !strings.HasPrefix(line, "-ERR") {
		t.Errorf("CONFIG SET log-level verbose: %q", line)
	}
}

// TestSizeUnitsOneMeaning: 1m on the command line (as in the file) and in
// CONFIG SET are both 1 MiB, as KVRocks reads them.
func TestSizeUnitsOneMeaning(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--proto-max-bulk-len", "1m"}})
	c := dialRaw(t, srv.Addr())
	c.send("SET", "k", string(bytes.Repeat([]byte("a"), 1<<20)))
	c.expect("+OK\r\n")
	c.send("CONFIG", "SET", "proto-max-bulk-len", "2m")
	c.expect("+OK\r\n")
	c2 := dialRaw(t, srv.Addr())
	c2.send("SET", "k", string(bytes.Repeat([]byte("a"), 2<<20)))
	c2.expect("+OK\r\n")
}

// TestReplicationRefused: a replica's configuration does not start a
// writable master, and SLAVEOF/REPLICAOF host port are refused at run time.
func TestReplicationRefused(t *testing.T) {
	bin, err := internal.Binary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "replica.conf")
	os.WriteFile(conf, []byte("port 0\ns3-port 0\ndir "+dir+"\nslaveof 127.0.0.1 6379\n"), 0o644)
	for _, args := range [][]string{
		{"-c", conf},
		{"--replicaof", "127.0.0.1 6379", "--port", "0", "--s3-port", "0", "--dir", dir},
	} {
		// A server that starts anyway is stopped by the context.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), "replication is not supported") {
			t.Errorf("gpucache %v: %v\n%s\nwant a refusal naming replication", args, err, out)
		}
	}
	srv := internal.Start(t, internal.Options{})
	c := dialRaw(t, srv.Addr())
	for _, cmd := range []string{"SLAVEOF", "REPLICAOF"} {
		c.send(cmd, "127.0.0.1", "6379")
		if line := c.readLine(); !strings.Contains(line, "replication is not supported") {
			t.Errorf("%s host port: %q", cmd, line)
		}
		c.send(cmd, "no", "one")
		c.expect("+OK\r\n")
	}
	c.send("CONFIG", "SET", "slaveof", "127.0.0.1 6379")
	if line := c.readLine(); !strings.HasPrefix(line, "-ERR") {
		t.Errorf("CONFIG SET slaveof: %q", line)
	}
	c.send("CONFIG", "SET", "masterauth", "x")
	if line := c.readLine(); !strings.HasPrefix(line, "-ERR") {
		t.Errorf("CONFIG SET masterauth: %q", line)
	}
}

// TestConfigRewriteDuplicatesAndMode: a key on two lines and a 0600 file
// (it holds requirepass): after CONFIG SET and CONFIG REWRITE the file is
// still 0600 and a restart reads the new value.
func TestConfigRewriteDuplicatesAndMode(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "gpucache.conf")
	if err := os.WriteFile(conf, []byte("timeout 5\nrequirepass pw\ntimeout 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(conf, 0o600)
	srv := internal.Start(t, internal.Options{Password: "pw", Args: []string{"-c", conf}})
	c := dialRaw(t, srv.Addr())
	c.send("AUTH", "pw")
	c.expect("+OK\r\n")
	c.send("CONFIG", "SET", "timeout", "7")
	c.expect("+OK\r\n")
	c.send("CONFIG", "REWRITE")
	c.expect("+OK\r\n")
	if fi, err := os.Stat(conf); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file after REWRITE: %v %v, want mode 0600", fi.Mode(), err)
	}
	srv.Stop(t)
	srv.Restart(t)
	c = dialRaw(t, srv.Addr())
	c.send("AUTH", "pw")
	c.expect("+OK\r\n")
	c.send("CONFIG", "GET", "timeout")
	c.expect("*2\r\n$7\r\ntimeout\r\n$1\r\n7\r\n")
}
