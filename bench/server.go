package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a server process started for a comparison.
type Server struct {
	Name string
	// Addr is the RESP address, S3Addr the S3 address when there is one.
	Addr   string
	S3Addr string

	cmd    *exec.Cmd
	dir    string
	logf   *os.File
	exited chan struct{}
	waitMu sync.Mutex
	err    error
}

// FreePort returns a TCP port on loopback that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// StartRedis starts redis-server on a free loopback port with persistence
// off, plus any extra arguments.
func StartRedis(ctx context.Context, bin string, extra []string) (*Server, error) {
	if bin == "" {
		bin = "redis-server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("cannot find redis-server (install Debian's redis-server, or pass its path): %w", err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gpucache-bench-redis-")
	if err != nil {
		return nil, err
	}
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, extra...)
	return startServer(ctx, "redis", path, args, dir, fmt.Sprintf("127.0.0.1:%d", port), "", pingRESP)
}

// StartMinio starts a single-drive MinIO server (bin, default minio on
// PATH) on free loopback ports with a fresh data directory under the
// system temporary directory, so that it writes to the same file system
// as a gpucache started by StartGpucache.
func StartMinio(ctx context.Context, bin, accessKey, secretKey string) (*Server, error) {
	if bin == "" {
		bin = "minio"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("cannot find the MinIO server binary (pass --minio-bin): %w", err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gpucache-bench-minio-")
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"server", "--quiet", "--address", addr, filepath.Join(dir, "data")}
	env := []string{"MINIO_ROOT_USER=" + accessKey, "MINIO_ROOT_PASSWORD=" + secretKey, "MINIO_BROWSER=off", "MINIO_UPDATE=off"}
	return startServerEnv(ctx, "minio", path, args, env, dir, addr, addr, pingHTTP)
}

// pingHTTP checks that an S3 server's liveness endpoint answers 200.
func pingHTTP(addr string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/minio/health/live")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("liveness check answered %s", resp.Status)
	}
	return nil
}

// GpucacheOptions configures the gpucache process of a comparison.
type GpucacheOptions struct {
	// Bin is the binary; empty means build ./cmd/gpucache with go build.
	Bin string
	// DRAMCacheSize is passed as --dram-cache-size (default "2gb").
	DRAMCacheSize string
	// S3 starts the S3 front end on a free port (--s3-port) with the given
	// credentials (when set); without it the front end is off (--s3-port 0).
	S3                       bool
	S3AccessKey, S3SecretKey string
	// Extra arguments appended to the command line.
	Extra []string
}

// BuildGpucache builds ./cmd/gpucache of the module in the working
// directory into dir and returns the binary's path.
func BuildGpucache(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "gpucache")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/gpucache")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cannot build ./cmd/gpucache (run from the module root, or pass --gpucache-bin): %w\n%s", err, tail(buf.String(), 2000))
	}
	return out, nil
}

// StartGpucache starts gpucache on free loopback ports with a fresh data
// directory, building it first when opts.Bin is empty.
func StartGpucache(ctx context.Context, opts GpucacheOptions) (*Server, error) {
	dir, err := os.MkdirTemp("", "gpucache-bench-gpucache-")
	if err != nil {
		return nil, err
	}
	bin := opts.Bin
	if bin == "" {
		if bin, err = BuildGpucache(ctx, dir); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dram := opts.DRAMCacheSize
	if dram == "" {
		dram = "2gb"
	}
	data := filepath.Join(dir, "data")
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", data, "--dram-cache-size", dram}
	s3Addr := ""
	if opts.S3 {
		s3Port, err := FreePort()
		if err != nil {
			return nil, err
		}
		args = append(args, "--s3-port", strconv.Itoa(s3Port), "--s3-bind", "127.0.0.1")
		if opts.S3AccessKey != "" {
			args = append(args, "--s3-access-key", opts.S3AccessKey, "--s3-secret-key", opts.S3SecretKey)
		}
		s3Addr = fmt.Sprintf("127.0.0.1:%d", s3Port)
	} else {
		args = append(args, "--s3-port", "0")
	}
	args = append(args, opts.Extra...)
	return startServer(ctx, "gpucache", bin, args, dir, fmt.Sprintf("127.0.0.1:%d", port), s3Addr, pingRESP)
}

// StartRawProcess starts the raw probe as its own process (for example
// "gpucache-bench raw-server"), so that it does not share this process's
// runtime and scheduler with the load generator, as no real server does.
// argv is the command; --listen and --max-size are appended.
func StartRawProcess(ctx context.Context, argv []string, maxSize int) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gpucache-bench-raw-")
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := append(argv[1:len(argv):len(argv)], "--listen", addr, "--max-size", strconv.Itoa(maxSize))
	return startServer(ctx, "raw", argv[0], args, dir, addr, "", pingRaw)
}

// pingRESP checks that a RESP server answers PING.
func pingRESP(addr string) error {
	c, err := DialRESP(addr, NewPayload(0), RESPOptions{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	reply, err := c.Command("PING")
	if err == nil && reply != "+PONG" {
		err = fmt.Errorf("PING answered %q", reply)
	}
	return err
}

// pingRaw checks that a raw probe answers a lookup.
func pingRaw(addr string) error {
	c, err := DialRaw(addr, NewPayload(0), VerifyNone, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Do([]Op{{Kind: OpExists, Size: 1}})
}

func startServer(ctx context.Context, name, bin string, args []string, dir, addr, s3Addr string, ping func(addr string) error) (*Server, error) {
	return startServerEnv(ctx, name, bin, args, nil, dir, addr, s3Addr, ping)
}

// startServerEnv is startServer with extra environment variables.
func startServerEnv(ctx context.Context, name, bin string, args, env []string, dir, addr, s3Addr string, ping func(addr string) error) (*Server, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	// Its own process group: a Ctrl-C aimed at the bench does not hit the
	// server mid-run; Stop ends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cannot start %s: %w", name, err)
	}
	s := &Server{Name: name, Addr: addr, S3Addr: s3Addr, cmd: cmd, dir: dir, logf: logf, exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		s.waitMu.Lock()
		s.err = err
		s.waitMu.Unlock()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, 60*time.Second, ping); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady waits until ping succeeds.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration, ping func(addr string) error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited during startup (%v); its log:\n%s", s.Name, s.exitErr(), s.LogTail())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if last = ping(s.Addr); last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer on %s within %v: %v; its log:\n%s", s.Name, s.Addr, timeout, last, s.LogTail())
}

func (s *Server) exitErr() error {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	return s.err
}

// PID returns the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// LogTail returns the end of the server's output.
func (s *Server) LogTail() string {
	b, _ := os.ReadFile(s.logf.Name())
	return tail(string(b), 4000)
}

// Stop ends the server (SIGTERM, then SIGKILL after 10s) and removes its
// directory.
func (s *Server) Stop() error {
	if !s.Exited() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	s.logf.Close()
	return os.RemoveAll(s.dir)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// ProcCPU reads the user + system CPU time of a process from
// /proc/PID/stat (fields 14 and 15, in USER_HZ ticks: 100 a second on
// every Linux architecture).
func ProcCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, errors.New("no process")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return time.Duration(utime+stime) * time.Second / 100, nil
}

// ProcMem reads VmRSS and VmHWM (peak RSS) of a process from
// /proc/PID/status, in bytes.
func ProcMem(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var dst *int64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &rss
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &hwm
		default:
			continue
		}
		fields := strings.Fields(line)
		if len(fields) >= 2 {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			*dst = kb << 10
		}
	}
	if rss == 0 && hwm == 0 {
		return 0, 0, errors.New("bench: no VmRSS in /proc status")
	}
	return rss, hwm, sc.Err()
}

// RSSSampler samples a process's resident set size in the background, so
// that the peak of each measured window can be reported (VmHWM alone only
// gives the peak since the process started).
type RSSSampler struct {
	pid  int
	mu   sync.Mutex
	peak int64
	on   bool
	stop chan struct{}
	done chan struct{}
}

// NewRSSSampler starts sampling pid every interval.
func NewRSSSampler(pid int, every time.Duration) *RSSSampler {
	s := &RSSSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *RSSSampler) sample() {
	rss, _, err := ProcMem(s.pid)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.on && rss > s.peak {
		s.peak = rss
	}
	s.mu.Unlock()
}

// Begin opens a measurement window.
func (s *RSSSampler) Begin() {
	s.mu.Lock()
	s.peak, s.on = 0, true
	s.mu.Unlock()
	s.sample()
}

// End closes the window and returns the largest RSS sampled in it.
func (s *RSSSampler) End() int64 {
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on = false
	return s.peak
}

// HWM returns the process's peak RSS since it started (VmHWM).
func (s *RSSSampler) HWM() int64 {
	_, hwm, _ := ProcMem(s.pid)
	return hwm
}

// Close stops sampling.
func (s *RSSSampler) Close() {
	close(s.stop)
	<-s.done
}
