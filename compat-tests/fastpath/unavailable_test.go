package fastpath

import (
	"context"
	"crypto/rand"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/client"
	"github.com/gpucache/gpucache/compat-tests/internal"
)

// peerAddr is a tcp provider address (sockaddr_in of 127.0.0.1:1) as the
// reference's tests use: well formed, never reached.
const peerAddr = "020000017f0000010000000000000000"

// expectErr runs a command and checks its error reply, verbatim.
func expectErr(t *testing.T, c *client.Client, want string, args ...string) {
	t.Helper()
	_, err := c.Do(args...)
	var se *client.ServerError
	if !errors.As(err, &se) || se.Text != want {
		t.Fatalf("%s: got %v, want error %q", strings.Join(args, " "), err, want)
	}
}

// TestBlobWithoutFabric runs a server with no fabric (the default build,
// or no fabric-provider): BLOB.HELLO says the fabric is unavailable, the
// client falls back to the TCP forms and says so, and the TCP forms,
// arity rules and error texts are the reference's.
func TestBlobWithoutFabric(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	c, err := client.Dial(srv.Addr(), client.Options{Provider: "shm"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Transport() != "tcp" || c.FallbackReason() == nil {
		t.Fatalf("transport %s, fallback %v: want tcp and a reason", c.Transport(), c.FallbackReason())
	}
	t.Logf("fallback: %v", c.FallbackReason())
	expectErr(t, c, "ERR EFA unavailable on this instance", "BLOB.HELLO", peerAddr)

	// The TCP forms, through the client's fallback.
	buf, err := c.Alloc(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Free()
	rand.Read(buf.Bytes())
	want := append([]byte(nil), buf.Bytes()...)
	if err := c.Set("k", buf, 0, len(want)); err != nil {
		t.Fatal(err)
	}
	clear(buf.Bytes())
	n, crc, err := c.Get("k", buf, 0, buf.Len())
	if err != nil || n != len(want) || string(buf.Bytes()) != string(want) {
		t.Fatalf("TCP BLOB.GET: n %d err %v", n, err)
	}
	wantCRC := crc32.Checksum(want, crc32.MakeTable(crc32.Castagnoli))
	if crc != wantCRC {
		t.Fatalf("crc %08x, want %08x", crc, wantCRC)
	}
	info, err := c.Do("BLOB.INFO", "k")
	if got, ok := info.([]any); err != nil || !ok || len(got) != 6 || got[0] != "len" || got[1] != int64(len(want)) ||
		got[2] != "crc" || got[3] != int64(wantCRC) || got[4] != "tier" {
		t.Fatalf("BLOB.INFO: %v %v", info, err)
	}
	if v, err := c.Do("BLOB.INFO", "k", "len"); err != nil || v != int64(len(want)) {
		t.Fatalf("BLOB.INFO LEN: %v %v", v, err)
	}
	if v, err := c.Do("BLOB.GET", "nokey"); err != nil || v != nil {
		t.Fatalf("BLOB.GET of a missing key: %v %v", v, err)
	}

	for _, e := range []struct {
		want string
		args []string
	}{
		{"ERR wrong number of arguments for 'BLOB.GET' command", []string{"BLOB.GET", "k", "999"}},
		{"ERR wrong number of arguments for 'BLOB.GET' command", []string{"BLOB.GET", "k", "999", "0"}},
		{"ERR wrong number of arguments for 'BLOB.SET' command", []string{"BLOB.SET", "k", "4096", "999"}},
		{"ERR wrong number of arguments for 'BLOB.SET' command", []string{"BLOB.SET", "k", "4096", "999", "0"}},
		{"ERR address args must be rkey, addr, len triples", []string{"BLOB.GET", "k", "999", "0", "4096", "7"}},
		{"ERR address args must be rkey, addr, len triples", []string{"BLOB.SET", "k", "10", "999", "0", "4096", "7"}},
		{"ERR no DMA session (call BLOB.HELLO first)", []string{"BLOB.GET", "k", "999", "0", "4096"}},
		{"ERR no DMA session (call BLOB.HELLO first)", []string{"BLOB.SET", "k", "10", "999", "0", "4096"}},
		{"ERR invalid rkey", []string{"BLOB.GET", "k", "x", "0", "4096"}},
		{"ERR invalid remote_addr", []string{"BLOB.GET", "k", "1", "-1", "4096"}},
		{"ERR invalid addr len", []string{"BLOB.GET", "k", "1", "0", "z"}},
		{"ERR invalid len", []string{"BLOB.SET", "k", "x", "1", "0", "4096"}},
		{"ERR object length must be > 0", []string{"BLOB.SET", "k", "0", "1", "0", "4096"}},
		{"ERR object length must be > 0", []string{"BLOB.SET", "k", ""}},
		{"ERR not found", []string{"BLOB.INFO", "nokey"}},
		{"ERR invalid information value", []string{"BLOB.INFO", "k", "color"}},
	} {
		expectErr(t, c, e.want, e.args...)
	}
	// The failed commands stored nothing.
	if v, err := c.Do("BLOB.INFO", "k", "LEN"); err != nil || v != int64(len(want)) {
		t.Fatalf("k after refused commands: %v %v", v, err)
	}

	// The family's older names.
	expectErr(t, c, "ERR EFA unavailable on this instance", "LO.HELLO", peerAddr)
	if v, err := c.Do("LO.SET", "old", "value"); err != nil || v != "OK" {
		t.Fatalf("LO.SET: %v %v", v, err)
	}
	if v, err := c.Do("LO.GET", "old"); err != nil || v != "value" {
		t.Fatalf("LO.GET: %v %v", v, err)
	}
	expectErr(t, c, "ERR no DMA session (call BLOB.HELLO first)", "LO.GET", "old", "1", "0")
	expectErr(t, c, "ERR wrong number of arguments for 'LO.GET' command", "LO.GET", "old", "1")

	cl, err := c.Do("CLIENT", "INFO")
	if err != nil || !strings.Contains(cl.(string), "transport=tcp") {
		t.Fatalf("CLIENT INFO: %q %v", cl, err)
	}
	inf, err := c.Do("INFO", "fastpath")
	if err != nil || !strings.Contains(inf.(string), "fastpath_enabled:0") {
		t.Fatalf("INFO fastpath: %q %v", inf, err)
	}

	// redis-cli, a client that knows nothing of BLOB.*, sees the same.
	cli := internal.RequireTool(t, "redis-cli")
	host, port, _ := strings.Cut(srv.Addr(), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := internal.Command(ctx, nil, cli, "-h", host, "-p", port, "BLOB.HELLO", peerAddr)
	if err != nil || !strings.Contains(string(out), "EFA unavailable on this instance") {
		t.Fatalf("redis-cli BLOB.HELLO: %q %v", out, err)
	}
	out, err = internal.Command(ctx, nil, cli, "-h", host, "-p", port, "BLOB.SET", "hello", "world")
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Fatalf("redis-cli BLOB.SET: %q %v", out, err)
	}
	out, err = internal.Command(ctx, nil, cli, "-h", host, "-p", port, "GET", "hello")
	if err != nil || strings.TrimSpace(string(out)) != "world" {
		t.Fatalf("redis-cli GET: %q %v", out, err)
	}
}
