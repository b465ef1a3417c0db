package resp_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// monitorLine is a MONITOR line as Redis prints it.
var monitorLine = regexp.MustCompile(`^\+?(\d{10}\.\d{6}) \[(\S+) (127\.0\.0\.1:\d+)\] (.*)$`)

// TestMonitorRedisCLI runs `redis-cli monitor` and checks what it prints
// for commands go-redis sends: every command in Redis's format, the
// password redacted.
func TestMonitorRedisCLI(t *testing.T) {
	cli := internal.RequireTool(t, "redis-cli")
	srv := internal.Start(t, internal.Options{Args: []string{"--requirepass", "secret"}, Password: "secret"})
	host, port, _ := net.SplitHostPort(srv.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "-h", host, "-p", port, "-a", "secret", "--no-auth-warning", "monitor")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cancel()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "OK" {
		t.Fatalf("redis-cli monitor printed %q first, %v", sc.Text(), sc.Err())
	}
	// go-redis: HELLO with AUTH.
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "secret", Protocol: 3})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, srv.Addr())
	c.send("AUTH", "secret")
	c.expect("+OK\r\n")
	c.send("SET", "greeting", "hello \"world\"\n\x00")
	c.expect("+OK\r\n")
	c.send("GET", "greeting")
	c.readBulk()
	want := []string{
		`"hello" "3" "auth" "(redacted)" "(redacted)"`,
		`"ping"`,
		`"AUTH" "(redacted)"`,
		`"SET" "greeting" "hello \"world\"\n\x00"`,
		`"GET" "greeting"`,
	}
	var got []string
	for len(got) < len(want) && sc.Scan() {
		m := monitorLine.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("line %q is not a MONITOR line", sc.Text())
		}
		if m[2] != "0" {
			t.Fatalf("line %q: database %s", sc.Text(), m[2])
		}
		if strings.HasPrefix(m[4], `"client" `) {
			continue // go-redis's connection set-up
		}
		got = append(got, m[4])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("redis-cli monitor printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestMonitorGoRedis uses go-redis's Monitor.
//
// NB: go-redis (v9.17) reads a monitor's lines on a goroutine of its own
// while it puts the connection back in its pool; when the server's +OK is
// already buffered at that moment, the pool closes the connection as one
// with unread data ("Conn has unread data") and the monitor goes quiet
// with a read error. That client-side race gets one more try; a monitor
// whose connection is alive and shows no line fails at once.
func TestMonitorGoRedis(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 3})
	defer rdb.Close()
	for attempt := 1; ; attempt++ {
		mon := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
		lines := make(chan string, 100)
		mc := mon.Monitor(ctx, lines)
		mc.Start()
		seen, err := monitorSees(t, lines, mc, func() { rdb.Incr(ctx, "counter") }, `"incr" "counter"`)
		// NB: no mc.Stop(): it waits for the reader's blocked Peek (up
		// to the read timeout); closing the client ends the reader.
		mon.Close()
		if seen {
			return
		}
		if err == nil || attempt == 3 {
			t.Fatalf("no MONITOR line for INCR (monitor's read error: %v)", err)
		}
		t.Logf("go-redis closed its monitor's connection (%v); again", err)
	}
}

// monitorSees runs do and reports whether the monitor printed want within
// 10 s; when not, it returns the monitor's read error, if any.
func monitorSees(t *testing.T, lines chan string, mc *redis.MonitorCmd, do func(), want string) (bool, error) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	select {
	case l := <-lines:
		if l != "OK" {
			t.Fatalf("MONITOR: %q", l)
		}
	case <-deadline:
		return false, mc.Err()
	}
	do()
	for {
		select {
		case l := <-lines:
			if m := monitorLine.FindStringSubmatch(l); m != nil && m[4] == want {
				return true, nil
			}
		case <-deadline:
			return false, mc.Err()
		}
	}
}

// TestMonitorSlow: a monitor that stops reading is disconnected once over
// the pubsub output limit; the clients it watches are not slowed and the
// server's memory stays bounded.
func TestMonitorSlow(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--output-buffer-limit", "normal 0 0 0 pubsub 4mb 0 0"}})
	pid := int(srv.InfoInt(t, "process_id"))
	rssStart := procStatus(t, pid, "VmRSS")
	mon := dialRaw(t, srv.Addr())
	mon.send("MONITOR")
	mon.expect("+OK\r\n")

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	value := strings.Repeat("v", 3000) // shown whole: 3000 bytes a line
	start := time.Now()
	sets := 30000 // 90 MB of lines in all
	if testing.Short() {
		sets = 6000 // make race-compat: the RSS bound is not checked
	}
	for i := 0; i < sets; i++ {
		if err := rdb.Set(ctx, "k", value, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	hwm := procStatus(t, pid, "VmHWM")
	t.Logf("%d SETs watched by a stalled monitor in %v; RSS %d MiB at start, peak %d MiB", sets, time.Since(start), rssStart>>20, hwm>>20)
	// NB: -short (make race-compat) runs a server built with -race, whose
	// memory the detector multiplies: the bound holds for a real build.
	if hwm-rssStart > 128<<20 && !testing.Short() {
		t.Fatalf("RSS peak grew by %d MiB for one stalled monitor", (hwm-rssStart)>>20)
	}
	mon.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.Copy(io.Discard, mon.nc); err != nil {
		t.Fatalf("stalled monitor: %v, want EOF", err)
	}
	if !strings.Contains(srv.Log(), "pubsub output buffer hard limit") {
		t.Fatalf("no log line for the disconnection:\n%s", srv.Log())
	}
}
