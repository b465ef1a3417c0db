package s3compat

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAccountsWithRealClients manages accounts with the versitygw admin
// tool and uses them with the aws CLI: a tenant's bucket is invisible and
// unreadable to another tenant, a user-role account cannot create
// buckets, and the accounts survive a SIGKILL of the server.
func TestAccountsWithRealClients(t *testing.T) {
	// NB: parallel: the CLI-driven suites are the longest tests of the
	// package, and mostly wait on client processes; they run together,
	// after the sequential (timing-sensitive) tests have finished.
	t.Parallel()
	tg := startTarget(t, false)
	if !tg.Real {
		t.Skip("accounts are kept by the gpucache binary's users file")
	}
	vgw := versitygwBin(t)
	admin := func(allowFail bool, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, vgw, append([]string{"admin", "-a", accessKey, "-s", secretKey, "-er", tg.URL()}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil && !allowFail {
			t.Fatalf("versitygw admin %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	admin(false, "create-user", "-a", "tenant1", "-s", "tenant1secret", "-r", "userplus")
	admin(false, "create-user", "-a", "tenant2", "-s", "tenant2secret", "-r", "user")
	if out := admin(true, "create-user", "-a", "tenant2", "-s", "x", "-r", "user"); !strings.Contains(out, "XAdminUserExists") {
		t.Fatalf("second create-user of tenant2: %s", out)
	}

	as := func(key, secret string) *awsRunner {
		a := newAWSRunner(t, "v1", awsCLIs[0].path, tg)
		for i, kv := range a.env {
			switch {
			case strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID="):
				a.env[i] = "AWS_ACCESS_KEY_ID=" + key
			case strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY="):
				a.env[i] = "AWS_SECRET_ACCESS_KEY=" + secret
			}
		}
		return a
	}
	t1, t2 := as("tenant1", "tenant1secret"), as("tenant2", "tenant2secret")
	dir := t.TempDir()
	src := filepath.Join(dir, "kv.bin")
	writeFile(t, src, 3<<20, 7)

	t1.must("s3", "mb", "s3://tenant1-kv")
	t1.must("s3", "cp", src, "s3://tenant1-kv/layer0/chunk")
	if out := t1.must("s3", "ls"); !strings.Contains(out, "tenant1-kv") {
		t.Fatalf("tenant1 does not list its bucket: %s", out)
	}
	if out := t2.must("s3", "ls"); strings.Contains(out, "tenant1-kv") {
		t.Fatalf("tenant2 lists tenant1's bucket: %s", out)
	}
	for _, args := range [][]string{
		{"s3", "cp", "s3://tenant1-kv/layer0/chunk", filepath.Join(dir, "stolen")},
		{"s3", "ls", "s3://tenant1-kv/"},
		{"s3", "cp", src, "s3://tenant1-kv/planted"},
		{"s3", "rm", "s3://tenant1-kv/layer0/chunk"},
		{"s3", "mb", "s3://tenant2-kv"},
	} {
		out, err := t2.run(true, args...)
		if err == nil || !strings.Contains(out, "403") && !strings.Contains(out, "AccessDenied") && !strings.Contains(out, "Forbidden") {
			t.Fatalf("tenant2: aws %s: want access denied, got %v: %s", strings.Join(args, " "), err, out)
		}
	}
	if out := admin(false, "list-buckets"); !strings.Contains(out, "tenant1-kv") || !strings.Contains(out, "tenant1") {
		t.Fatalf("admin list-buckets: %s", out)
	}

	// Accounts and ownership outlive the process.
	tg.process.Restart(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", tg.Host, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("S3 port not back after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	back := filepath.Join(dir, "back.bin")
	t1.must("s3", "cp", "s3://tenant1-kv/layer0/chunk", back)
	if fileSum(t, back) != fileSum(t, src) {
		t.Fatal("tenant1's object changed across the restart")
	}
	if out, err := t2.run(true, "s3", "cp", "s3://tenant1-kv/layer0/chunk", filepath.Join(dir, "stolen")); err == nil {
		t.Fatalf("tenant2 reads tenant1's object after the restart: %s", out)
	}
	admin(false, "delete-user", "-a", "tenant2")
	if out, err := t2.run(true, "s3", "ls"); err == nil || !strings.Contains(out, "InvalidAccessKeyId") {
		t.Fatalf("deleted account still signs: %v %s", err, out)
	}
}
