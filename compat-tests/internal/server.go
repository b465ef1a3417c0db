// Package internal runs real gpucache processes for the compatibility tests
// (compat-tests/resp, compat-tests/s3): it builds the binary once per test
// process, starts servers on free loopback ports, waits until they accept
// requests, and stops (SIGTERM), kills (SIGKILL) and restarts them.
//
// # Basics
//
//	func TestMain(m *testing.M) { internal.Main(m) }
//
//	func TestX(t *testing.T) {
//		srv := internal.Start(t, internal.Options{Args: []string{"--requirepass", "pw"}})
//		conn, _ := net.Dial("tcp", srv.Addr())
//		...
//		srv.Kill(t)    // SIGKILL, as a crash would
//		srv.Restart(t) // same dir, same ports
//	}
//
// Every server is killed when its test ends (t.Cleanup), and when the test
// process dies (Pdeathsig), so no process outlives a run. A test that
// fails prints the tail of the server's log. With a binary built with
// -race (make race-compat), a data race the server reports fails the test
// during which it happened.
//
// The whole API: Main and AtExit (TestMain and shared fixtures), Start and
// Options, Server (Addr, S3Addr, Dir, Log, Exited, Stop, Kill, Restart),
// Binary, FreePort, and for external client programs Command and
// RequireTool.
//
// # Caveats
//
// Set GPUCACHE_BIN to use an already built binary (the Makefile does);
// otherwise the first Start builds ./cmd/gpucache with `go build` into a
// temporary directory that Main removes at exit. Ports are picked by
// binding port 0 and closing it, so another process may take the port in
// between: Start retries on a new port when the server cannot listen.
//
// go test caches a package's result by its own sources, and the compat
// test packages do not import the server's: after changing the server,
// run them with -count=1 (make test does).
package internal

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts for process life-cycle steps. Generous: CI runs on two shared
// cores, and a server recovering a large directory takes a while.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

var build struct {
	once sync.Once
	dir  string // temporary build directory, removed by Main
	path string
	err  error
}

// atExit holds the functions registered with AtExit.
var atExit struct {
	mu  sync.Mutex
	fns []func()
}

// Main runs the tests of a package, then the functions registered with
// AtExit, and removes the binary built for them. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	atExit.mu.Lock()
	fns := atExit.fns
	atExit.fns = nil
	atExit.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// AtExit registers fn to run once after all the package's tests, for
// fixtures that several tests share (t.Cleanup would end with the first).
// Functions run in reverse order of registration.
func AtExit(fn func()) {
	atExit.mu.Lock()
	atExit.fns = append(atExit.fns, fn)
	atExit.mu.Unlock()
}

// Binary returns the path of the gpucache binary: $GPUCACHE_BIN if set,
// else one built from this module on first use.
func Binary() (string, error) {
	build.once.Do(func() {
		if p := os.Getenv("GPUCACHE_BIN"); p != "" {
			build.path, build.err = filepath.Abs(p)
			if build.err == nil {
				_, build.err = os.Stat(build.path)
			}
			return
		}
		build.dir, build.err = os.MkdirTemp("", "gpucache-bin-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "gpucache")
		cmd := exec.Command("go", "build", "-o", build.path, "github.com/gpucache/gpucache/cmd/gpucache")
		out, err := cmd.CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("cannot build gpucache: %v\n%s", err, out)
		}
	})
	return build.path, build.err
}

// Options configure a server.
type Options struct {
	// Dir is the data directory (--dir). Empty: a new t.TempDir().
	Dir string
	// Args are more command-line arguments, e.g. "--requirepass", "pw".
	// --port, --dir and --s3-port are set by Start and must not be given.
	Args []string
	// S3 enables the S3 front end on a free port (S3Addr). Off by
	// default (--s3-port 0).
	S3 bool
	// Password, when set, is sent with AUTH by the readiness probe. It
	// does not configure the server (use Args for requirepass).
	Password string
	// Bin is the binary to run instead of Binary()'s (e.g. one built
	// with -tags fabric).
	Bin string
}

// Server is one gpucache process. Its methods are not safe for concurrent
// use, except Addr, S3Addr, Dir, Exited and Log.
type Server struct {
	opts    Options
	port    int
	s3Port  int
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	exit   error         // the process's exit status, valid after done
	starts int
}

// Start starts a server and waits until it answers PING. It fails the test
// if the server does not come up.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s := &Server{opts: opts, logPath: filepath.Join(t.TempDir(), "gpucache.log")}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gpucache log (tail):\n%s", tail(s.Log(), 40))
		}
		s.kill()
		// A binary built with -race reports data races on stderr, into
		// the log, and goes on; a killed server never exits 66 for them.
		if log := s.Log(); strings.Contains(log, raceWarning) {
			i := strings.Index(log, raceWarning)
			t.Errorf("gpucache reported a data race:\n%s", head(log[i:], 80))
		}
	})
	s.start(t, true)
	return s
}

// raceWarning starts each report of a binary built with -race.
const raceWarning = "WARNING: DATA RACE"

// head returns the first n lines of s.
func head(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// Addr is the RESP address, host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// S3Addr is the S3 address (with Options.S3), else "".
func (s *Server) S3Addr() string {
	if s.s3Port == 0 {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.s3Port))
}

// Dir is the data directory.
func (s *Server) Dir() string { return s.opts.Dir }

// Log returns everything the server has written to stdout and stderr, over
// all its starts.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// Exited reports whether the process has exited, and its exit status.
func (s *Server) Exited() (bool, error) {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return true, nil
	}
	select {
	case <-done:
		return true, s.exit
	default:
		return false, nil
	}
}

// Stop sends SIGTERM and waits for a clean exit; a non-zero exit status or
// a server that does not exit in time fails the test.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		t.Fatalf("gpucache exited before Stop: %v", s.exit)
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		if s.exit != nil {
			t.Fatalf("gpucache exited with %v after SIGTERM", s.exit)
		}
	case <-time.After(stopTimeout):
		s.kill()
		t.Fatalf("gpucache did not exit within %v of SIGTERM", stopTimeout)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.kill()
}

func (s *Server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Restart starts the server again on the same directory and ports, after
// Stop or Kill (it kills a running process first).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.kill()
	s.start(t, false)
}

// start runs the process and waits for readiness. With newPorts it picks
// free ports, and picks again if the server could not listen.
func (s *Server) start(t testing.TB, newPorts bool) {
	t.Helper()
	bin, err := s.opts.Bin, error(nil)
	if bin == "" {
		bin, err = Binary()
	}
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		if newPorts {
			s.port = FreePort(t)
			if s.opts.S3 {
				s.s3Port = FreePort(t)
			}
		}
		err := s.spawn(bin)
		if err == nil {
			err = s.waitReady()
		}
		if err == nil {
			return
		}
		s.kill()
		if newPorts && attempt < 3 && strings.Contains(s.Log(), "address already in use") {
			continue
		}
		t.Fatalf("gpucache did not start: %v\nlog (tail):\n%s", err, tail(s.Log(), 40))
	}
}

func (s *Server) spawn(bin string) error {
	args := []string{"--port", strconv.Itoa(s.port), "--dir", s.opts.Dir, "--s3-port", strconv.Itoa(s.s3Port)}
	args = append(args, s.opts.Args...)
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.starts++
	fmt.Fprintf(logf, "=== start %d: gpucache %s\n", s.starts, strings.Join(args, " "))
	s.mu.Unlock()
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	// NB: Pdeathsig kills the server if the test process dies (a test
	// timeout panics and exits without running cleanups).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.done, s.exit = cmd, done, nil
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		s.mu.Lock()
		s.exit = err
		s.mu.Unlock()
		close(done)
	}()
	return nil
}

// waitReady polls until the server answers PING on RESP (and accepts on
// S3), or exits, or readyTimeout passes.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		if exited, err := s.Exited(); exited {
			return fmt.Errorf("gpucache exited during start: %v", err)
		}
		if last = s.ping(); last == nil {
			if s.s3Port == 0 {
				return nil
			}
			c, err := net.DialTimeout("tcp", s.S3Addr(), time.Second)
			if err == nil {
				c.Close()
				return nil
			}
			last = err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v: %v", readyTimeout, last)
}

func (s *Server) ping() error {
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	req := "*1\r\n$4\r\nPING\r\n"
	if s.opts.Password != "" {
		req = fmt.Sprintf("*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(s.opts.Password), s.opts.Password) + req
	}
	if _, err := c.Write([]byte(req)); err != nil {
		return err
	}
	buf := make([]byte, 256)
	var got []byte
	for !bytes.Contains(got, []byte("PONG\r\n")) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return fmt.Errorf("PING: %v (read %q)", err, got)
		}
		if bytes.HasPrefix(got, []byte("-NOAUTH")) {
			return nil // up, and wants a password the probe was not given
		}
		if bytes.HasPrefix(got, []byte("-")) && bytes.Contains(got, []byte("\r\n")) {
			return fmt.Errorf("PING: %q", got)
		}
	}
	return nil
}

// InfoInt reads an integer field of the server's INFO over RESP.
func (s *Server) InfoInt(t testing.TB, name string) int64 {
	t.Helper()
	v, err := s.Info(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Info is InfoInt returning its error: a connection that fails, or a
// field that is missing or not a number.
func (s *Server) Info(name string) (int64, error) {
	c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	req := "*1\r\n$4\r\nINFO\r\n"
	if s.opts.Password != "" {
		req = fmt.Sprintf("*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(s.opts.Password), s.opts.Password) + req
	}
	if _, err := io.WriteString(c, req); err != nil {
		return 0, err
	}
	br := bufio.NewReader(c)
	head, err := br.ReadString('\n')
	if s.opts.Password != "" && err == nil && head == "+OK\r\n" {
		head, err = br.ReadString('\n')
	}
	if err != nil || !strings.HasPrefix(head, "$") {
		return 0, fmt.Errorf("INFO: %q %w", head, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("INFO %s: %q", name, v)
			}
			return x, nil
		}
	}
	return 0, fmt.Errorf("INFO has no %s", name)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Command runs an external program (a client such as redis-cli or aws)
// with a timeout and returns its stdout; stderr is appended to the error.
func Command(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, tail(stderr.String(), 20))
	} else if ctx.Err() != nil {
		err = ctx.Err()
	}
	return stdout.Bytes(), err
}

// RequireTool skips the test when an external program is not installed
// (scripts/deps.sh installs them), unless GPUCACHE_REQUIRE_TOOLS is set, as
// in CI, where a missing tool fails the test.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	Missing(t, name+" not installed (run scripts/deps.sh)")
	return ""
}

// Missing ends a test that lacks something it needs (a tool, a package,
// root): a skip, unless GPUCACHE_REQUIRE_TOOLS is set, as in CI, where it
// fails the test.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("GPUCACHE_REQUIRE_TOOLS") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
