package resp_test

import (
	"bytes"
	"context"
	"flag"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

var (
	rewrite = flag.Bool("rewrite", false, "rewrite the expected output of exact blocks in testdata scripts")
	against = flag.String("against", "", "run the redis-cli script against this host:port (e.g. a redis-server) instead of a gpucache")
)

// TestRedisCLI replays testdata/rediscli.txt through redis-cli (Debian's
// redis-tools), one redis-cli process per block, and compares its output.
// The expectations were checked against redis-server 7.0.15 with
// -against; where KVRocks answers differently the script says so.
func TestRedisCLI(t *testing.T) {
	cli := internal.RequireTool(t, "redis-cli")
	addr := *against
	if addr == "" {
		srv := internal.Start(t, internal.Options{Args: []string{"--maxclients", "500", "--timeout", "0"}})
		addr = srv.Addr()
	}
	host, port, _ := net.SplitHostPort(addr)
	path := filepath.Join("testdata", "rediscli.txt")
	blocks := parseScript(t, path)
	actual := make(map[int][]string)
	for _, b := range blocks {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := internal.Command(ctx, []byte(strings.Join(b.cmds, "\n")+"\n"), cli, "-h", host, "-p", port, "--no-raw")
		cancel()
		if err != nil {
			t.Errorf("%s:%d: %v", path, b.line, err)
			continue
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		for i := range got {
			got[i] = strings.TrimSuffix(got[i], "\r") // INFO's lines end in CRLF
		}
		if len(out) == 0 {
			got = nil
		}
		if *rewrite && !b.hasPatterns() {
			actual[b.line] = got
			continue
		}
		if diff := b.check(got); diff != "" {
			t.Errorf("%s:%d: %s\ncommands:\n  %s\noutput:\n  %s", path, b.line, diff,
				strings.Join(b.cmds, "\n  "), strings.Join(got, "\n  "))
		}
	}
	if *rewrite {
		rewriteScript(t, path, actual)
	}
}

// TestRedisCLIPipeLargeValue pipes a 32 MiB binary value into
// `redis-cli -x SET` and reads it back with redis-cli and over raw RESP.
func TestRedisCLIPipeLargeValue(t *testing.T) {
	cli := internal.RequireTool(t, "redis-cli")
	srv := internal.Start(t, internal.Options{})
	host, port, _ := net.SplitHostPort(srv.Addr())
	val := make([]byte, 32<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(val); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			val[i+j] = byte(v >> (8 * j))
		}
	}
	file := filepath.Join(t.TempDir(), "value.bin")
	if err := os.WriteFile(file, val, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	run := func(stdin []byte, args ...string) []byte {
		t.Helper()
		out, err := internal.Command(ctx, stdin, cli, append([]string{"-h", host, "-p", port}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	in, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if out := run(in, "-x", "SET", "big:value"); string(out) != "OK\n" {
		t.Fatalf("redis-cli -x SET: %q", out)
	}
	if out := run(nil, "STRLEN", "big:value"); string(out) != "33554432\n" {
		t.Fatalf("STRLEN: %q", out)
	}
	// --raw prints the bulk as is, followed by a newline.
	out := run(nil, "--raw", "GET", "big:value")
	if len(out) != len(val)+1 || !bytes.Equal(out[:len(val)], val) || out[len(val)] != '\n' {
		t.Fatalf("GET via redis-cli: %d bytes back, want %d + newline; equal prefix: %v",
			len(out), len(val), bytes.Equal(out[:min(len(out), len(val))], val[:min(len(out), len(val))]))
	}
	rc := dialRaw(t, srv.Addr())
	rc.send("GET", "big:value")
	if got := rc.readBulk(); !bytes.Equal(got, val) {
		t.Fatalf("GET over RESP: %d bytes, want the %d piped in", len(got), len(val))
	}
}
