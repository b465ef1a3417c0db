package gateway

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHealthzDoesNoIOPerProbe: probes read the background check's last
// result; the check runs on its own schedule, not once per probe.
func TestHealthzDoesNoIOPerProbe(t *testing.T) {
	var checks atomic.Int64
	var fail atomic.Bool
	h := newHealthMonitor(func() error {
		checks.Add(1)
		if fail.Load() {
			return errors.New("engine: sync failed")
		}
		return nil
	}, time.Hour)
	h.start()
	defer h.close()
	mux := adminMux(http.NotFoundHandler(), h, adminOptions{password: func() string { return "" }})
	probe := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
		return w
	}
	for range 1000 {
		if w := probe(); w.Code != 200 || !strings.HasPrefix(w.Body.String(), "ok") {
			t.Fatalf("healthz %d %q", w.Code, w.Body)
		}
	}
	if n := checks.Load(); n != 1 {
		t.Fatalf("1000 probes ran %d checks, want the one at start", n)
	}
	fail.Store(true)
	h.runOnce() // the next background round
	if w := probe(); w.Code != 503 || !strings.Contains(w.Body.String(), "sync failed") {
		t.Fatalf("after a failed check: %d %q", w.Code, w.Body)
	}
}

// TestHealthzReportsStalledCheck: a check that does not return (a sync
// hung on a dying device) turns /healthz 503 once it is overdue.
func TestHealthzReportsStalledCheck(t *testing.T) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	h := newHealthMonitor(func() error { <-release; return nil }, time.Second)
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	h.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	wg.Add(1)
	go func() { defer wg.Done(); h.runOnce() }()
	defer func() { close(release); wg.Wait() }()
	// Wait for the check to have begun (started is set).
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		begun := !h.started.IsZero()
		h.mu.Unlock()
		if begun {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("check did not start")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := h.state(); err != nil {
		t.Fatalf("fresh check in progress: %v", err)
	}
	mu.Lock()
	now = now.Add(4 * time.Second)
	mu.Unlock()
	if _, err := h.state(); !errors.Is(err, errHealthStalled) {
		t.Fatalf("check running for 4 intervals: %v, want stalled", err)
	}
}

// TestPprofOffByDefaultAndGuarded: no /debug/pprof unless enabled; when
// enabled, only with the admin password (basic auth or bearer token).
func TestPprofOffByDefaultAndGuarded(t *testing.T) {
	h := newHealthMonitor(func() error { return nil }, time.Hour)
	get := func(mux *http.ServeMux, set func(r *http.Request)) int {
		r := httptest.NewRequest("GET", "/debug/pprof/cmdline", nil)
		if set != nil {
			set(r)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	off := adminMux(http.NotFoundHandler(), h, adminOptions{password: func() string { return "pw" }})
	if c := get(off, nil); c != 404 {
		t.Fatalf("pprof off: %d, want 404", c)
	}
	on := adminMux(http.NotFoundHandler(), h, adminOptions{pprof: true, password: func() string { return "pw" }})
	for name, c := range map[string]struct {
		set  func(r *http.Request)
		want int
	}{
		"none":         {nil, 401},
		"wrong basic":  {func(r *http.Request) { r.SetBasicAuth("admin", "nope") }, 401},
		"basic":        {func(r *http.Request) { r.SetBasicAuth("", "pw") }, 200},
		"bearer":       {func(r *http.Request) { r.Header.Set("Authorization", "Bearer pw") }, 200},
		"wrong bearer": {func(r *http.Request) { r.Header.Set("Authorization", "Bearer pwx") }, 401},
	} {
		if got := get(on, c.set); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	empty := adminMux(http.NotFoundHandler(), h, adminOptions{pprof: true, password: func() string { return "" }})
	if c := get(empty, func(r *http.Request) { r.SetBasicAuth("", "") }); c != 401 {
		t.Errorf("empty password authorized: %d", c)
	}
}
