package s3compat

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// jsDir holds the JavaScript clients (package.json pins them; scripts/
// deps.sh installs them with npm ci) and the scripts that drive them.
const jsDir = "testdata/js"

// runJS runs one of the scripts in jsDir against tg and decodes the JSON
// line it prints on success.
func runJS(t *testing.T, tg *target, script string, out any, env ...string) {
	t.Helper()
	node := internal.RequireTool(t, "node")
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "aws-crt")); err != nil {
		internal.Missing(t, jsDir+"/node_modules is not installed (run scripts/deps.sh)")
	}
	_, port, _ := strings.Cut(tg.Host, ":")
	env = append([]string{"NODE_NO_WARNINGS=1", "S3_PORT=" + port, "S3_CA_FILE=" + tg.CAFile,
		"S3_DOMAIN=" + domain, "S3_ACCESS_KEY=" + accessKey, "S3_SECRET_KEY=" + secretKey}, env...)
	internal.RunClient(t, jsDir, env, out, node, script)
}

// crtResult is what crt.js reports.
type crtResult struct {
	Steps     []string
	Protocol  string
	BigKey    string
	BigSHA256 string
}

var crtSteps = []string{"create-bucket", "multipart-put-32MiB", "ranged-get-32MiB", "small-object",
	"empty-object", "checksums", "bad-signature", "delete"}

// TestCRTLibraries runs LMCache's S3 sequence through the AWS Common
// Runtime's own C code (aws-c-auth's signer, aws-c-http's client over
// TLS, aws-checksums) instead of a replay, with the ALPN lists and server
// settings of the cases below, and reads back from Go what the CRT-signed
// requests stored.
func TestCRTLibraries(t *testing.T) {
	cases := []struct {
		name, alpn string
		serverArgs []string
		want       string // protocol the connection must end up on
	}{
		{"h2", "h2;http/1.1", nil, "h2"},
		// The server offers only HTTP/1.1: the client's h2 preference
		// falls back.
		{"fallback-http1.1", "h2;http/1.1", []string{"--s3-tls-http2", "no"}, "http/1.1"},
		{"http1.1-only-client", "http/1.1", nil, "http/1.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tg := startTarget(t, true, tc.serverArgs...)
			var res crtResult
			runJS(t, tg, "crt.js", &res, "S3_BUCKET=lmcache", "S3_ALPN="+tc.alpn, "S3_KEY_PREFIX=run/")
			if !slices.Equal(res.Steps, crtSteps) {
				t.Fatalf("steps %v, want %v", res.Steps, crtSteps)
			}
			if res.Protocol != tc.want {
				t.Fatalf("protocol %s, want %s", res.Protocol, tc.want)
			}
			// What the CRT stored under its own quoting of the key is
			// what another client reads under the same name.
			readBack(t, tg, "lmcache", res.BigKey, res.BigSHA256)
		})
	}
}

// TestAWSSDKForJavaScript runs the AWS SDK for JavaScript v3 with its
// defaults (sdk.js) over HTTP/1.1 and HTTP/2 with TLS, and over plain
// HTTP, where it signs payloads instead of sending them unsigned.
func TestAWSSDKForJavaScript(t *testing.T) {
	tg, plain := startTarget(t, true), startTarget(t, false)
	steps := []string{"create-bucket", "put-get-crc32", "put-stream-trailer", "checksum-algorithms",
		"multipart-upload", "abort-multipart", "copy", "list", "presigned", "errors", "delete"}
	for _, proto := range []string{"h1", "h2", "http"} {
		t.Run(proto, func(t *testing.T) {
			tg := tg
			if proto == "http" {
				tg = plain
			}
			var res struct {
				Steps []string
				Proto string
			}
			runJS(t, tg, "sdk.js", &res, "S3_BUCKET=sdk-"+proto, "S3_PROTO="+proto)
			if !slices.Equal(res.Steps, steps) || res.Proto != proto {
				t.Fatalf("steps %v over %s, want %v over %s", res.Steps, res.Proto, steps, proto)
			}
		})
	}
}
