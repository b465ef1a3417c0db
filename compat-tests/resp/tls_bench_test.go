package resp_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// serverCPU returns the server's CPU time so far (INFO cpu).
func serverCPU(b *testing.B, srv *internal.Server) time.Duration {
	b.Helper()
	c := dialRaw(b, srv.Addr())
	defer c.nc.Close()
	c.send("INFO", "cpu")
	text := c.readBulk()
	var total float64
	for _, line := range strings.Split(string(text), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// getDiscard sends GET key on c and reads the bulk reply into io.Discard,
// so the client spends little CPU beyond the transport.
func getDiscard(b *testing.B, c net.Conn, r *bufio.Reader, key string) int64 {
	fmt.Fprintf(c, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
	line, err := r.ReadString('\n')
	if err != nil || len(line) < 2 || line[0] != '$' {
		b.Fatalf("GET reply %q, %v", line, err)
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(line[1:]), 10, 64)
	if _, err := io.CopyN(io.Discard, r, n+2); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkTLSGet32MiB measures what TLS costs a 32 MiB GET: one server,
// one resident value, GETs over plain TCP and over TLS (copied and
// encrypted) in alternation, one connection each. It reports each
// transport's GB/s and server CPU per GB, and their ratio; byref=yes sends
// plain-TCP values by reference (the default), byref=no copies them, which
// separates the cost of encryption from that of the copy.
//
//	go test ./compat-tests/resp -run '^$' -bench TLSGet32MiB -benchtime 64x
func BenchmarkTLSGet32MiB(b *testing.B) {
	for _, byRef := range []string{"yes", "no"} {
		b.Run("byref="+byRef, func(b *testing.B) { benchTLSGet(b, byRef) })
	}
}

func benchTLSGet(b *testing.B, byRef string) {
	const size = 32 << 20
	p := newTestPKI(b)
	port := internal.FreePort(b)
	srv := internal.Start(b, internal.Options{Args: []string{"--tls-port", strconv.Itoa(port),
		"--tls-cert-file", p.serverCert, "--tls-key-file", p.serverKey, "--tls-auth-clients", "no",
		"--dram-cache-size", "256mb", "--dram-send-by-reference", byRef}})
	c := dialRaw(b, srv.Addr())
	c.write(encodeStrings("SET", "v", strings.Repeat("x", size)))
	c.expect("+OK\r\n")
	plain, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	secure, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	defer secure.Close()
	type side struct {
		name  string
		c     net.Conn
		r     *bufio.Reader
		wall  time.Duration
		cpu   time.Duration
		bytes int64
	}
	sides := []*side{{name: "plain", c: plain, r: bufio.NewReaderSize(plain, 1<<20)}, {name: "tls", c: secure, r: bufio.NewReaderSize(secure, 1<<20)}}
	for _, s := range sides { // warm up: connection buffers, TLS session
		getDiscard(b, s.c, s.r, "v")
	}
	sent0 := srv.InfoInt(b, "dram_bytes_sent_by_ref")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range sides {
			cpu0, t0 := serverCPU(b, srv), time.Now()
			s.bytes += getDiscard(b, s.c, s.r, "v")
			s.wall += time.Since(t0)
			s.cpu += serverCPU(b, srv) - cpu0
		}
	}
	b.StopTimer()
	// The share of the plain-TCP bytes that went by reference (TLS sends
	// none: TestTLSGoRedisCopiesValues).
	b.ReportMetric(float64(srv.InfoInt(b, "dram_bytes_sent_by_ref")-sent0)/float64(sides[0].bytes), "plain-byref-share")
	for _, s := range sides {
		gb := float64(s.bytes) / 1e9
		b.ReportMetric(gb/s.wall.Seconds(), s.name+"-GB/s")
		b.ReportMetric(float64(s.cpu.Milliseconds())/gb, s.name+"-srv-cpu-ms/GB")
	}
	b.ReportMetric((float64(sides[0].bytes)/sides[0].wall.Seconds())/(float64(sides[1].bytes)/sides[1].wall.Seconds()), "plain/tls-speed")
}
