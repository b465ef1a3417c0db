//go:build fabric

package fastpath

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gpucache/gpucache/client"
	"github.com/gpucache/gpucache/compat-tests/internal"
)

// fabricBin is a gpucache built with -tags fabric: $GPUCACHE_FABRIC_BIN,
// or one built here once.
var fabricBin struct {
	once sync.Once
	path string
	err  error
}

func binary(t *testing.T) string {
	t.Helper()
	fabricBin.once.Do(func() {
		if p := os.Getenv("GPUCACHE_FABRIC_BIN"); p != "" {
			fabricBin.path, fabricBin.err = filepath.Abs(p)
			return
		}
		dir, err := os.MkdirTemp("", "gpucache-fabric-")
		if err != nil {
			fabricBin.err = err
			return
		}
		internal.AtExit(func() { os.RemoveAll(dir) })
		fabricBin.path = filepath.Join(dir, "gpucache")
		out, err := exec.Command("go", "build", "-tags", "fabric", "-o", fabricBin.path,
			"github.com/gpucache/gpucache/cmd/gpucache").CombinedOutput()
		if err != nil {
			fabricBin.err = fmt.Errorf("go build -tags fabric: %v\n%s", err, out)
		}
	})
	if fabricBin.err != nil {
		t.Fatal(fabricBin.err)
	}
	return fabricBin.path
}

// provider is a libfabric provider that runs with no hardware, bound to
// loopback.
type provider struct{ name, domain, node string }

var providers = []provider{
	{"shm", "", ""},
	{"tcp;ofi_rxm", "lo", "127.0.0.1"},
}

func start(t *testing.T, p provider, args ...string) *internal.Server {
	t.Helper()
	a := append([]string{"--fabric-provider", p.name, "--dram-cache-size", "512mb"}, args...)
	return internal.Start(t, internal.Options{Bin: binary(t), Args: a})
}

func dial(t *testing.T, srv *internal.Server, p provider) *client.Client {
	t.Helper()
	c, err := client.Dial(srv.Addr(), client.Options{Provider: p.name, Domain: p.domain, Node: p.node, VerifyCRC: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if want := "fabric:" + p.name; c.Transport() != want {
		t.Fatalf("transport %s, want %s (fallback: %v)", c.Transport(), want, c.FallbackReason())
	}
	return c
}

func alloc(t *testing.T, c *client.Client, n int) *client.Buffer {
	t.Helper()
	b, err := c.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Free() })
	return b
}

// pattern fills b with bytes that differ by position and by seed, so a
// misplaced or stale piece shows.
func pattern(b []byte, seed int) {
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func TestBlobRoundTrip(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			admin := internal.FreePort(t)
			srv := start(t, p, "--admin-port", strconv.Itoa(admin))
			c := dial(t, srv, p)
			const max = 32<<20 + 4096
			src, dst := alloc(t, c, max), alloc(t, c, max)
			for i, n := range []int{1, 4000, 100 << 10, 4<<20 + 7, 32 << 20} {
				key := fmt.Sprintf("k%d", i)
				want := src.Bytes()[:n]
				pattern(want, i+1)
				if err := c.Set(key, src, 0, n); err != nil {
					t.Fatalf("BLOB.SET %d bytes: %v", n, err)
				}
				clear(dst.Bytes())
				got, crc, err := c.Get(key, dst, 0, dst.Len())
				if err != nil {
					t.Fatalf("BLOB.GET %d bytes: %v", n, err)
				}
				if got != n || crc != crc32.Checksum(want, castagnoli) {
					t.Fatalf("BLOB.GET: [%d %08x], want [%d %08x]", got, crc, n, crc32.Checksum(want, castagnoli))
				}
				if !bytes.Equal(dst.Bytes()[:n], want) {
					t.Fatalf("BLOB.GET %d bytes: bytes differ", n)
				}
				// The same value over plain TCP: GET, and BLOB.GET's TCP form.
				for _, cmd := range []string{"GET", "BLOB.GET"} {
					v, err := c.Do(cmd, key)
					if err != nil || v.(string) != string(want) {
						t.Fatalf("%s after BLOB.SET of %d bytes: differs (err %v)", cmd, n, err)
					}
				}
				info, err := c.Do("BLOB.INFO", key, "CRC")
				if err != nil || info.(int64) != int64(crc) {
					t.Fatalf("BLOB.INFO CRC: %v %v", info, err)
				}
			}
			// The older names: LO.GET key rkey addr, LO.SET key len rkey addr.
			tri, err := c.Triples([]client.Segment{{Buf: dst, Off: 0, Len: dst.Len()}})
			if err != nil {
				t.Fatal(err)
			}
			clear(dst.Bytes())
			stop := c.Progress()
			defer stop()
			lov, err := c.Do("LO.GET", "k4", tri[0], tri[1])
			if err != nil {
				t.Fatalf("LO.GET: %v", err)
			}
			if got := lov.([]any); got[0] != int64(32<<20) || !bytes.Equal(dst.Bytes()[:32<<20], src.Bytes()[:32<<20]) {
				t.Fatalf("LO.GET: %v", got)
			}
			if v, err := c.Do("LO.SET", "lo-copy", strconv.Itoa(32<<20), tri[0], tri[1]); err != nil || v != "OK" {
				t.Fatalf("LO.SET: %v %v", v, err)
			}
			if v, err := c.Do("GET", "lo-copy"); err != nil || v.(string) != string(src.Bytes()[:32<<20]) {
				t.Fatalf("GET after LO.SET differs: %v", err)
			}
			// The reverse: SET over TCP, BLOB.GET over the fabric.
			v := strings.Repeat("tcp->fabric ", 20000)
			if _, err := c.Do("SET", "plain", v); err != nil {
				t.Fatal(err)
			}
			n, _, err := c.Get("plain", dst, 0, dst.Len())
			if err != nil || string(dst.Bytes()[:n]) != v {
				t.Fatalf("BLOB.GET of a SET value: n %d err %v", n, err)
			}
			// CLIENT LIST and INFO name the transport.
			cl, err := c.Do("CLIENT", "LIST")
			if err != nil || !strings.Contains(cl.(string), "transport=fabric:"+p.name) {
				t.Fatalf("CLIENT LIST: %q %v", cl, err)
			}
			info, err := c.Do("INFO", "fastpath")
			if err != nil || !strings.Contains(info.(string), "fastpath_provider:"+p.name) {
				t.Fatalf("INFO fastpath: %q %v", info, err)
			}
			resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(admin) + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := `gpucache_fastpath_enabled{provider="` + p.name + `"} 1`; !strings.Contains(string(body), want) {
				t.Fatalf("/metrics lacks %s", want)
			}
		})
	}
}
