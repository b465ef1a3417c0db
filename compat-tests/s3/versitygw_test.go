package s3compat

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// versitygwPassFile lists the versitygw full-flow tests gpucache passes,
// one name per line: every one of them must keep passing.
const versitygwPassFile = "testdata/versitygw-pass.txt"

var updateVersitygw = flag.Bool("update-versitygw", false, "rewrite "+versitygwPassFile+" with the tests that pass now")

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// versitygwBin finds the versitygw binary (v1.8.0, installed by
// scripts/deps.sh into GOPATH/bin): $VERSITYGW_BIN, PATH, or GOPATH/bin.
func versitygwBin(t *testing.T) string {
	if p := os.Getenv("VERSITYGW_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return internal.RequireTool(t, "versitygw")
}

// TestVersitygwFullFlow runs the versitygw S3 conformance suite
// (full-flow) against a gpucache process. Tests listed in the pass file
// must pass; the count of the rest is logged.
func TestVersitygwFullFlow(t *testing.T) {
	// NB: parallel: the CLI-driven suites are the longest tests of the
	// package, and mostly wait on client processes; they run together,
	// after the sequential (timing-sensitive) tests have finished.
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: the suite takes minutes")
	}
	bin := versitygwBin(t)
	port := internal.FreePort(t)
	// NB: --s3-port after the helper's "--s3-port 0"; the last value wins.
	internal.Start(t, internal.Options{Args: []string{"--s3-access-key", accessKey, "--s3-secret-key", secretKey,
		"--dram-cache-size", "512mb", "--s3-port", strconv.Itoa(port)}})
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	// The suite's account tests run ./versitygw admin against the server
	// (the admin API, protocols/s3/admin.go).
	dir := t.TempDir()
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(dir, "versitygw")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "./versitygw", "test", "-a", accessKey, "-s", secretKey, "-e", "http://127.0.0.1:"+strconv.Itoa(port), "full-flow")
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") { // the suite's SDK must not pick up a CA bundle or profile
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // non-zero whenever any test fails
	if ctx.Err() != nil {
		t.Fatalf("versitygw did not finish in time; output tail:\n%s", tailLines(out.String(), 30))
	}
	pass, fail := map[string]bool{}, map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(ansiEscape.ReplaceAll(out.Bytes(), nil)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "PASS "):
			pass[strings.TrimSpace(line[5:])] = true
		case strings.HasPrefix(line, "FAIL "):
			name, why, _ := strings.Cut(line[5:], ": ")
			fail[strings.TrimSpace(name)] = why
		}
	}
	if len(pass)+len(fail) == 0 {
		t.Fatalf("no test results from versitygw; output tail:\n%s", tailLines(out.String(), 30))
	}
	t.Logf("versitygw v1.8.0 full-flow: %d of %d pass", len(pass), len(pass)+len(fail))
	if *updateVersitygw {
		names := make([]string, 0, len(pass))
		for n := range pass {
			names = append(names, n)
		}
		slices.Sort(names)
		if err := os.WriteFile(versitygwPassFile, []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(versitygwPassFile)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for n := range strings.FieldsSeq(string(want)) {
		listed[n] = true
		if !pass[n] {
			why, ok := fail[n]
			if !ok {
				why = "did not run"
			}
			t.Errorf("%s no longer passes: %s", n, why)
		}
	}
	var more []string
	for n := range pass {
		if !listed[n] {
			more = append(more, n)
		}
	}
	if len(more) > 0 {
		slices.Sort(more)
		t.Logf("%d tests pass that %s does not list (go test -run VersitygwFullFlow -args -update-versitygw): %s",
			len(more), versitygwPassFile, strings.Join(more, " "))
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
