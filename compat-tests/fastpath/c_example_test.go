//go:build fabric

package fastpath

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestCExample builds client/c/blob_hello.c, a passive libfabric peer
// written in C from the protocol's description (not our Go client), and
// runs it against the server over each provider: it checks every byte
// and the CRC32C itself and exits non-zero otherwise.
func TestCExample(t *testing.T) {
	cc := internal.RequireTool(t, "gcc")
	bin := filepath.Join(t.TempDir(), "blob_hello")
	if out, err := exec.Command(cc, "-O2", "-Wall", "-Werror", "-o", bin, "../../client/c/blob_hello.c", "-lfabric").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			srv := start(t, p)
			host, port, _ := strings.Cut(srv.Addr(), ":")
			args := []string{host, port, p.name}
			if p.domain != "" {
				args = append(args, p.domain, p.node)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := internal.Command(ctx, nil, bin, args...)
			if err != nil || !strings.HasPrefix(string(out), "ok: ") {
				t.Fatalf("blob_hello: %v\n%s", err, out)
			}
			t.Logf("%s", strings.TrimSpace(string(out)))
			if got := srv.InfoInt(t, "largeobj_efa_read_bytes_total"); got != 4<<20 {
				t.Fatalf("server read %d bytes over the fabric, want %d", got, 4<<20)
			}
		})
	}
}
