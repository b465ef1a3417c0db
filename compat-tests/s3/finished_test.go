package s3compat

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// finishedCounter reads from the binary's /metrics how many requests of
// one S3 operation the server has finished (answered, or given up on when
// the client went away): the event a test waits for before it checks what
// an aborted request left behind.
type finishedCounter struct {
	t     *testing.T
	admin int // admin port
}

// startCountedTarget is startTarget with an admin port whose /metrics
// counts finished requests.
func startCountedTarget(t *testing.T, useTLS bool) (*target, *finishedCounter) {
	t.Helper()
	admin := internal.FreePort(t)
	tg := startTarget(t, useTLS, "--admin-port", strconv.Itoa(admin))
	return tg, &finishedCounter{t: t, admin: admin}
}

// count returns the number of finished requests of operation op.
func (f *finishedCounter) count(op string) int {
	f.t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(f.admin) + "/metrics")
	if err != nil {
		f.t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?m)^gpucache_s3_request_duration_seconds_count\{operation="` + op + `"\} (\S+)$`).FindSubmatch(text)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// waitFor waits until the server has finished at least n requests of
// operation op (a deadline of a minute: a loaded machine is slow).
func (f *finishedCounter) waitFor(op string, n int) {
	f.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := f.count(op)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the server finished %d %s requests, want %d", got, op, n)
		}
		time.Sleep(10 * time.Millisecond) // poll interval of the condition above
	}
}
