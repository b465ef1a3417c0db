package gateway

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/resp"
)

func openTestEngine(t *testing.T) *engine.Engine {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: t.TempDir(), DRAMCacheSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// TestAdminDefaultPortTaken: on the default port a listener that cannot
// bind costs a warning and the start goes on; on a configured port it is
// an error.
func TestAdminDefaultPortTaken(t *testing.T) {
	eng := openTestEngine(t)
	rs := resp.NewServer(eng, resp.Config{})
	defer rs.Close()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	var logged []string
	logf := func(f string, a ...any) { logged = append(logged, f) }
	errc := make(chan error, 1)
	pw := func() string { return "" }

	stop, err := startAdmin(addr, eng, rs, nil, adminOptions{password: pw, optional: true}, logf, errc)
	if err != nil || stop == nil {
		t.Fatalf("default port taken: %v", err)
	}
	stop()
	if len(logged) != 1 || !strings.HasPrefix(logged[0], "warning:") {
		t.Errorf("logged %q, want one warning", logged)
	}
	if _, err := startAdmin(addr, eng, rs, nil, adminOptions{password: pw}, logf, errc); err == nil {
		t.Fatal("configured port taken: no error")
	}

	// The default binds loopback whatever host the address names.
	_, port, _ := net.SplitHostPort(freeAddr(t))
	stop, err = startAdmin(net.JoinHostPort("0.0.0.0", port), eng, rs, nil, adminOptions{password: pw, optional: true}, logf, errc)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	res, err := http.Get("http://127.0.0.1:" + port + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "gpucache_cache_hits_total") {
		t.Errorf("/metrics lacks gpucache_cache_hits_total")
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestCacheCollector: the tier and command series move by what was done.
func TestCacheCollector(t *testing.T) {
	eng := openTestEngine(t)
	rs := resp.NewServer(eng, resp.Config{})
	defer rs.Close()
	c := cacheCollector{eng: eng, rs: rs}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("inconsistent metrics: %v", err)
	}
	hits := func(tier string) float64 {
		return series(t, c, "gpucache_cache_hits_total")[`gpucache_cache_hits_total{tier="`+tier+`"}`]
	}
	misses := func(tier string) float64 {
		return series(t, c, "gpucache_cache_misses_total")[`gpucache_cache_misses_total{tier="`+tier+`"}`]
	}
	h0, m0, n0 := hits("dram"), misses("dram"), misses("nvme")
	for range 10 {
		if _, err := eng.Get("", []byte("missing")); err == nil {
			t.Fatal("found missing")
		}
	}
	if _, err := eng.PutBytes("", []byte("k"), []byte("v"), engine.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	v, err := eng.Get("", []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	v.Release()
	if d := misses("nvme") - n0; d != 10 {
		t.Errorf("nvme misses +%v, want +10", d)
	}
	if d := misses("dram") - m0; d != 10 {
		t.Errorf("dram misses +%v, want +10", d)
	}
	if d := hits("dram") - h0; d != 1 {
		t.Errorf("dram hits +%v, want +1", d)
	}

	// RESP commands through a connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go rs.Serve(ln)
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	br := bufio.NewReader(cl)
	const getMissing = "*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n"
	for range 3 {
		io.WriteString(cl, getMissing)
		if line, _ := br.ReadString('\n'); line != "$-1\r\n" {
			t.Fatalf("GET: %q", line)
		}
	}
	if n := series(t, c, "gpucache_resp_commands_total")[`gpucache_resp_commands_total{command="get"}`]; n != 3 {
		t.Errorf("get calls %v, want 3", n)
	}
	if n := series(t, c, "gpucache_resp_command_duration_seconds")[`gpucache_resp_command_duration_seconds_count{command="get"}`]; n != 3 {
		t.Errorf("get duration count %v, want 3", n)
	}
	if n := series(t, c, "gpucache_network_bytes_total")[`gpucache_network_bytes_total{direction="in",frontend="resp",transport="tcp"}`]; n != 3*float64(len(getMissing)) {
		t.Errorf("resp tcp bytes in %v, want %d", n, 3*len(getMissing))
	}
}

// series collects c's metrics named name, as "name{labels}" -> value.
func series(t *testing.T, c prometheus.Collector, name string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	m := map[string]float64{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		m[k] = f
	}
	return m
}

// TestAdminPortDefault: admin-port defaults to DefaultAdminPort, and only a
// port named in the file or on the command line counts as given.
func TestAdminPortDefault(t *testing.T) {
	c := NewConfig(nil)
	if c.Int("admin-port") != DefaultAdminPort || c.Given("admin-port") {
		t.Fatalf("default admin-port %d (given %v)", c.Int("admin-port"), c.Given("admin-port"))
	}
	if err := c.Override("admin-port", strconv.Itoa(DefaultAdminPort)); err != nil {
		t.Fatal(err)
	}
	if !c.Given("admin-port") {
		t.Fatal("--admin-port with the default value is not given")
	}
}
