package s3compat

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// s3cmdRunner runs s3cmd (Debian's, 2.3.0: a SigV4 signer and multipart
// uploader of its own, in Python) against a target, path-style.
type s3cmdRunner struct {
	t    *testing.T
	bin  string
	args []string
}

func newS3cmd(t *testing.T, tg *target, secret string) *s3cmdRunner {
	bin := internal.RequireTool(t, "s3cmd")
	args := []string{"-c", os.DevNull, "--access_key=" + accessKey, "--secret_key=" + secret,
		"--host=" + tg.Host, "--host-bucket=" + tg.Host, "--region=us-east-1", "--no-progress"}
	if tg.TLS {
		args = append(args, "--ssl", "--ca-certs="+tg.CAFile, "--check-certificate")
	} else {
		args = append(args, "--no-ssl")
	}
	return &s3cmdRunner{t: t, bin: bin, args: args}
}

// run runs one s3cmd command; a failure fails the test unless allowFail.
func (s *s3cmdRunner) run(allowFail bool, args ...string) (string, error) {
	s.t.Helper()
	return runCLI(s.t, 2*time.Minute, append(os.Environ(), "HOME="+s.t.TempDir()), allowFail, s.bin,
		append(append([]string{}, s.args...), args...)...)
}

// TestS3cmd runs s3cmd's everyday commands over HTTP and HTTPS.
func TestS3cmd(t *testing.T) {
	// NB: parallel: the CLI-driven suites are the longest tests of the
	// package, and mostly wait on client processes; they run together,
	// after the sequential (timing-sensitive) tests have finished.
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[useTLS]
		t.Run(name, func(t *testing.T) {
			tg := startTarget(t, useTLS)
			s := newS3cmd(t, tg, secretKey)
			dir := t.TempDir()
			big, small := pattern(31, 20<<20), pattern(32, 1000)
			write := func(name string, b []byte) string {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			}
			bigFile, smallFile := write("big", big), write("small", small)

			s.run(false, "mb", "s3://cmd")
			// 20 MB in 5 MiB parts: a 4-part multipart upload.
			out, _ := s.run(false, "put", bigFile, "s3://cmd/dir/big", "--multipart-chunk-size-mb=5", "-d")
			if !strings.Contains(out, "MultiPart: Uploading") || !strings.Contains(out, "in 4 parts") {
				t.Fatalf("put of 20 MB did not go as a 4-part multipart upload:\n%s", tailLines(out, 20))
			}
			s.run(false, "put", smallFile, "s3://cmd/small")
			out, _ = s.run(false, "ls", "s3://cmd")
			if !strings.Contains(out, "DIR  s3://cmd/dir/") || !strings.Contains(out, "1000  s3://cmd/small") {
				t.Fatalf("ls:\n%s", out)
			}
			out, _ = s.run(false, "ls", "-r", "s3://cmd")
			if !strings.Contains(out, "20971520  s3://cmd/dir/big") {
				t.Fatalf("ls -r:\n%s", out)
			}
			got := filepath.Join(dir, "got")
			s.run(false, "get", "s3://cmd/dir/big", got)
			if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, big) {
				t.Fatalf("get: %v, %d bytes, differ from what was put", err, len(b))
			}
			sum := md5.Sum(big)
			out, _ = s.run(false, "info", "s3://cmd/dir/big")
			if !strings.Contains(out, "File size: 20971520") || !strings.Contains(out, hex.EncodeToString(sum[:])) {
				t.Fatalf("info:\n%s", out)
			}

			// sync twice: the second run uploads nothing.
			syncDir := filepath.Join(dir, "tree")
			write("tree/a", pattern(33, 3000))
			write("tree/sub/b", pattern(34, 70000))
			out, _ = s.run(false, "sync", syncDir+"/", "s3://cmd/tree/")
			if strings.Count(out, "upload:") != 2 {
				t.Fatalf("first sync:\n%s", out)
			}
			out, _ = s.run(false, "sync", syncDir+"/", "s3://cmd/tree/")
			if strings.Contains(out, "upload:") {
				t.Fatalf("second sync uploaded again:\n%s", out)
			}

			s.run(false, "cp", "s3://cmd/small", "s3://cmd/copy")
			s.run(false, "mv", "s3://cmd/copy", "s3://cmd/moved")
			s.run(false, "get", "s3://cmd/moved", got, "--force")
			if b, _ := os.ReadFile(got); !bytes.Equal(b, small) {
				t.Fatal("cp then mv: bytes differ")
			}
			if out, err := s.run(true, "info", "s3://cmd/copy"); err == nil {
				t.Fatalf("mv left its source:\n%s", out)
			}

			// The wrong secret is refused and stores nothing.
			bad := newS3cmd(t, tg, "not-the-secret")
			if out, err := bad.run(true, "put", smallFile, "s3://cmd/forged"); err == nil || !strings.Contains(out, "SignatureDoesNotMatch") {
				t.Fatalf("put with a wrong secret: %v\n%s", err, out)
			}
			if _, err := s.run(true, "info", "s3://cmd/forged"); err == nil {
				t.Fatal("a refused put stored the object")
			}

			if out, err := s.run(true, "rb", "s3://cmd"); err == nil || !strings.Contains(out, "BucketNotEmpty") {
				t.Fatalf("rb of a bucket with objects: %v\n%s", err, out)
			}
			s.run(false, "rm", "-r", "--force", "s3://cmd")
			out, _ = s.run(false, "ls", "-r", "s3://cmd")
			if strings.TrimSpace(out) != "" {
				t.Fatalf("objects left after rm -r:\n%s", out)
			}
			s.run(false, "rb", "s3://cmd")
		})
	}
}
