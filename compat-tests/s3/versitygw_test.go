package s3compat

import (
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

// versitygwResult matches one result the suite prints: a coloured PASS or
// FAIL marker, the test's name and, for a failure, the first line of why.
// NB: the marker is searched anywhere, not at line starts: with --parallel
// a test's message printed without a newline can run into the next result.
var versitygwResult = regexp.MustCompile("\x1b\\[3[12]m(PASS|FAIL) \x1b\\[0m([^\n\x1b]*)")

// parseVersitygw returns the tests that passed and, for those that failed,
// why.
func parseVersitygw(out []byte) (pass map[string]bool, fail map[string]string) {
	pass, fail = map[string]bool{}, map[string]string{}
	for _, m := range versitygwResult.FindAllSubmatch(out, -1) {
		if string(m[1]) == "PASS" {
			pass[strings.TrimSpace(string(m[2]))] = true
			continue
		}
		name, why, _ := strings.Cut(string(m[2]), ": ")
		fail[strings.TrimSpace(name)] = why
	}
	return pass, fail
}

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
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") { // the suite's SDK must not pick up a CA bundle or profile
			env = append(env, kv)
		}
	}
	suite := func(what ...string) []byte {
		args := append([]string{"test", "-a", accessKey, "-s", secretKey, "-e", "http://127.0.0.1:" + strconv.Itoa(port)}, what...)
		cmd := exec.CommandContext(ctx, "./versitygw", args...)
		cmd.Dir, cmd.Env = dir, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		_ = cmd.Run() // non-zero whenever any test fails
		if ctx.Err() != nil {
			t.Fatalf("versitygw did not finish in time; output tail:\n%s", tailLines(ansiEscape.ReplaceAllString(out.String(), ""), 30))
		}
		return out.Bytes()
	}
	// --parallel: the suite's tests run concurrently (up to 100 at once),
	// in a third of the sequential run's time. A listed test that fails
	// there runs again alone, below.
	out := suite("full-flow", "--parallel")
	pass, fail := parseVersitygw(out)
	if len(pass)+len(fail) == 0 {
		t.Fatalf("no test results from versitygw; output tail:\n%s", tailLines(ansiEscape.ReplaceAllString(string(out), ""), 30))
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
	var again []string
	for n := range strings.FieldsSeq(string(want)) {
		listed[n] = true
		if !pass[n] {
			again = append(again, n)
		}
	}
	// A listed test that failed among a hundred concurrent ones runs again
	// alone; it must pass then. (The suite's lock tests clean up by setting
	// a retention a few seconds out; on a loaded host the request can
	// arrive after that date, and gpucache rightly refuses it.) More than a
	// few such failures is not load: they all count.
	const maxAgain = 5
	for _, n := range again {
		why, ok := fail[n]
		if !ok {
			why = "did not run"
		}
		if len(again) > maxAgain {
			t.Errorf("%s no longer passes: %s", n, why)
			continue
		}
		if p, f := parseVersitygw(suite(n)); !p[n] {
			t.Errorf("%s no longer passes: %s; alone: %s", n, why, f[n])
			continue
		}
		t.Logf("%s failed in the parallel run (%s) and passed alone", n, why)
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

// TestParseVersitygw reads results as the suite prints them with
// --parallel, one run into the end of another test's message.
func TestParseVersitygw(t *testing.T) {
	out := "\x1b[36mRUN  \x1b[0mA_ok\n\x1b[32mPASS \x1b[0mA_ok\n" +
		"\x1b[31mB_cleanup: failed to delete the bucket: AccessDenied.\x1b[32mPASS \x1b[0mC_ok\n" +
		"\x1b[31mFAIL \x1b[0mD_bad: expected 403: got 200\n<APIError/>\n"
	pass, fail := parseVersitygw([]byte(out))
	if len(pass) != 2 || !pass["A_ok"] || !pass["C_ok"] {
		t.Errorf("pass %v", pass)
	}
	if len(fail) != 1 || fail["D_bad"] != "expected 403: got 200" {
		t.Errorf("fail %q", fail)
	}
}
