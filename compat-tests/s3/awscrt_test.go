package s3compat

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestLMCacheAWSCRTClient runs lmcache_crt.py: awscrt.s3.S3Client, the
// client class of LMCache's s3:// connector (aws-c-s3 through the AWS
// CRT's Python binding, Debian's python3-awscrt), splitting 32 MiB KV
// chunks into 8 MiB multipart uploads and ranged GETs, over TLS with the
// bucket in the Host name. That client version connects to port 443
// whatever the Host header names, and resolves the bucket's host name, so
// the server listens on 127.0.0.1:443 and the client runs in a private
// mount namespace whose /etc/hosts names the bucket: both need root.
func TestLMCacheAWSCRTClient(t *testing.T) {
	const python = "/usr/bin/python3"
	unshare := internal.RequireTool(t, "unshare")
	if err := exec.Command(python, "-c", "import awscrt.s3").Run(); err != nil {
		internal.Missing(t, "python3-awscrt is not installed (run scripts/deps.sh)")
	}
	if os.Geteuid() != 0 {
		internal.Missing(t, "needs root: port 443 and a private /etc/hosts")
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:443"); err != nil {
		internal.Missing(t, "127.0.0.1:443 is taken: "+err.Error())
	} else {
		ln.Close()
	}
	tg := startTargetOn(t, 443, true)
	if !tg.Real {
		t.Skip("needs the gpucache binary")
	}
	host := "lmcache." + domain
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 "+host+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs("testdata/lmcache_crt.py")
	var res struct {
		Steps  []string
		Key    string
		SHA256 string
	}
	internal.RunClient(t, "", []string{"S3_HOST=" + host, "S3_PORT=443", "S3_CA_FILE=" + tg.CAFile,
		"S3_ACCESS_KEY=" + accessKey, "S3_SECRET_KEY=" + secretKey}, &res,
		unshare, "--mount", "sh", "-c", `mount --bind "$1" /etc/hosts && exec "$2" "$3"`, "sh", hosts, python, script)
	steps := []string{"create-bucket", "put-objects", "get-objects", "head-sizes", "evict", "bad-signature"}
	if !slices.Equal(res.Steps, steps) {
		t.Fatalf("steps %v, want %v", res.Steps, steps)
	}
	// Read back from Go what the CRT's multipart upload stored.
	readBack(t, tg, "lmcache", res.Key, res.SHA256)
}

// readBack GETs key (named as LMCache's clients name it, with '@') from
// bucket with a Go client and checks the body's SHA-256 against the hex
// sum the storing client reported.
func readBack(t *testing.T, tg *target, bucket, key, sha string) {
	t.Helper()
	c := &crtClient{t: t, tg: tg, c: tg.httpClient(), bucket: bucket}
	resp, body := c.do("GET", strings.ReplaceAll(key, "@", "%40"), "", nil)
	want(t, resp, body, 200)
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != sha {
		t.Fatalf("%s read back from Go: %d bytes, SHA-256 differs from what the client stored", key, len(body))
	}
}
