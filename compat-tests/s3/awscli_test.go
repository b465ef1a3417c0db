package s3compat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// awsCLIs are the aws CLI versions under test: v1 (the one on PATH) and
// v2 (Debian's package at /usr/bin/aws).
var awsCLIs = []struct{ name, path string }{
	{"v1", "aws"},
	{"v2", "/usr/bin/aws"},
}

type awsRunner struct {
	t   *testing.T
	bin string
	tg  *target
	env []string
	// bucket replaces "cli" in arguments, so each CLI uses its own.
	bucket string
}

func newAWSRunner(t *testing.T, name, bin string, tg *target) *awsRunner {
	p := internal.RequireTool(t, bin)
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=" + accessKey, "AWS_SECRET_ACCESS_KEY=" + secretKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"), "AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true"}
	// NB: the machine image sets AWS_CA_BUNDLE globally; a TLS target
	// needs the test CA instead, plain http needs none.
	if tg.TLS {
		env = append(env, "AWS_CA_BUNDLE="+tg.CAFile)
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PYENV") || strings.HasPrefix(kv, "LANG=") || strings.HasPrefix(kv, "LC_") {
			env = append(env, kv)
		}
	}
	return &awsRunner{t: t, bin: p, tg: tg, env: env, bucket: "cli-" + name}
}

// run runs an aws command against the target and returns its output; a
// failure fails the test unless allowFail.
func (a *awsRunner) run(allowFail bool, args ...string) (string, error) {
	a.t.Helper()
	full := append([]string{"--endpoint-url", a.tg.URL()}, args...)
	for i, s := range full {
		full[i] = strings.ReplaceAll(s, "s3://cli", "s3://"+a.bucket)
		if s == "cli" {
			full[i] = a.bucket
		}
	}
	start := time.Now()
	defer func() { a.t.Logf("aws %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond)) }()
	return runCLI(a.t, 5*time.Minute, a.env, allowFail, a.bin, full...)
}

// runCLI runs a command-line client for at most timeout, with env (the
// whole environment) when set, and returns its output, stdout and stderr
// together; a failure fails the test unless allowFail.
func runCLI(t *testing.T, timeout time.Duration, env []string, allowFail bool, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil && !allowFail {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out.String())
	}
	return out.String(), err
}

func (a *awsRunner) must(args ...string) string {
	a.t.Helper()
	out, _ := a.run(false, args...)
	return out
}

func writeFile(t *testing.T, path string, size int, seed uint64) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const chunk = 4 << 20
	for off := 0; off < size; off += chunk {
		n := min(chunk, size-off)
		if _, err := f.Write(pattern(seed+uint64(off), n)); err != nil {
			t.Fatal(err)
		}
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

func TestAWSCLI(t *testing.T) {
	// NB: parallel: the CLI-driven suites are the longest tests of the
	// package, and mostly wait on client processes; they run together,
	// after the sequential (timing-sensitive) tests have finished.
	t.Parallel()
	for _, proto := range []string{"http", "https"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			tg := startTarget(t, proto == "https")
			for _, cli := range awsCLIs {
				t.Run(cli.name, func(t *testing.T) { testAWSCLI(t, newAWSRunner(t, cli.name, cli.path, tg), proto == "https") })
			}
		})
	}
}

// testAWSCLI runs one CLI through uploads, downloads, listings, syncs,
// server-side copies and deletes. Over TLS the 200 MB object is left out:
// what TLS adds is the transport, which the 20 MB multipart object already
// crosses both ways, and the CLI's own TLS makes the large one the longest
// step of the whole suite.
func testAWSCLI(t *testing.T, a *awsRunner, tls bool) {
	dir := t.TempDir()
	up, down := filepath.Join(dir, "up"), filepath.Join(dir, "down")
	sizes := map[string]int{"1k.bin": 1000, "20m.bin": 20 << 20, "200m.bin": 200 << 20}
	if testing.Short() || tls {
		delete(sizes, "200m.bin")
	}
	seed := uint64(0)
	for name, n := range sizes {
		seed++
		writeFile(t, filepath.Join(up, name), n, seed)
	}
	a.must("s3", "mb", "s3://cli")
	if out := a.must("s3", "ls"); !strings.Contains(out, "cli") {
		t.Fatalf("ls buckets: %s", out)
	}
	for name := range sizes {
		a.must("s3", "cp", filepath.Join(up, name), "s3://cli/files/"+name)
		a.must("s3", "cp", "s3://cli/files/"+name, filepath.Join(down, name))
		if fileSum(t, filepath.Join(up, name)) != fileSum(t, filepath.Join(down, name)) {
			t.Fatalf("%s: downloaded bytes differ", name)
		}
	}
	if out := a.must("s3", "ls", "s3://cli/"); !strings.Contains(out, "PRE files/") {
		t.Fatalf("ls: %s", out)
	}
	out := a.must("s3", "ls", "--recursive", "--page-size", "2", "s3://cli/")
	for name := range sizes {
		if !strings.Contains(out, "files/"+name) {
			t.Fatalf("ls --recursive --page-size 2 misses %s:\n%s", name, out)
		}
	}
	// sync twice: the second run copies nothing.
	syncDir := filepath.Join(dir, "sync")
	for i := range 5 {
		writeFile(t, filepath.Join(syncDir, "d", string(rune('a'+i))+".txt"), 100+i, uint64(i))
	}
	a.must("s3", "sync", syncDir, "s3://cli/sync/")
	if out := a.must("s3", "sync", syncDir, "s3://cli/sync/"); strings.TrimSpace(out) != "" {
		t.Fatalf("second sync copied again:\n%s", out)
	}
	syncDown := filepath.Join(dir, "syncdown")
	a.must("s3", "sync", "s3://cli/sync/", syncDown)
	if out := a.must("s3", "sync", "s3://cli/sync/", syncDown); strings.TrimSpace(out) != "" {
		t.Fatalf("second download sync copied again:\n%s", out)
	}
	// s3 -> s3 copies: small (CopyObject) and large (UploadPartCopy).
	a.must("s3", "cp", "s3://cli/files/1k.bin", "s3://cli/copy/1k.bin")
	a.must("s3", "cp", "s3://cli/files/20m.bin", "s3://cli/copy/20m.bin")
	a.must("s3", "cp", "s3://cli/copy/20m.bin", filepath.Join(down, "copy20m"))
	if fileSum(t, filepath.Join(up, "20m.bin")) != fileSum(t, filepath.Join(down, "copy20m")) {
		t.Fatal("s3->s3 copy differs")
	}
	a.must("s3api", "delete-objects", "--bucket", "cli", "--delete", `{"Objects":[{"Key":"copy/1k.bin"},{"Key":"copy/20m.bin"}]}`)
	if out, _ := a.run(true, "s3", "ls", "--recursive", "s3://cli/copy/"); strings.TrimSpace(out) != "" {
		t.Fatalf("delete-objects left: %s", out)
	}
	if _, err := a.run(true, "s3", "rb", "s3://cli"); err == nil {
		t.Fatal("rb of a non-empty bucket succeeded")
	}
	a.must("s3", "rm", "--recursive", "s3://cli")
	a.must("s3", "rb", "s3://cli")
	if out := a.must("s3", "ls"); strings.Contains(out, " "+a.bucket) {
		t.Fatalf("bucket still listed: %s", out)
	}
}
