package resp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// kvrocksProc is a gpucache process started exactly as KVRocks is:
// `gpucache -c kvrocks.conf`, nothing else on the command line.
type kvrocksProc struct {
	port int
	dir  string
	log  *bytes.Buffer
	cmd  *exec.Cmd
	done chan error
}

// startFromConf writes testdata/kvrocks.conf (KVRocks's example
// configuration) with its port and dir replaced, plus extra lines, and
// starts gpucache on it. It waits until the server answers PING.
func startFromConf(t *testing.T, extra string) *kvrocksProc {
	t.Helper()
	tmpl, err := os.ReadFile("testdata/kvrocks.conf")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := internal.Binary()
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		p := &kvrocksProc{port: internal.FreePort(t), dir: t.TempDir(), log: new(bytes.Buffer), done: make(chan error, 1)}
		conf := regexp.MustCompile(`(?m)^port .*$`).ReplaceAllString(string(tmpl), "port "+strconv.Itoa(p.port))
		conf = regexp.MustCompile(`(?m)^dir .*$`).ReplaceAllString(conf, "dir "+p.dir)
		conf += extra
		path := filepath.Join(t.TempDir(), "kvrocks.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		p.cmd = exec.Command(bin, "-c", path)
		p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.done <- p.cmd.Wait() }()
		err := p.waitReady()
		if err == nil {
			t.Cleanup(func() {
				p.cmd.Process.Signal(syscall.SIGKILL)
				<-p.done
				if t.Failed() {
					t.Logf("log of gpucache on port %d:\n%s", p.port, p.log)
				}
			})
			return p
		}
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		if attempt < 3 && strings.Contains(p.log.String(), "address already in use :"+strconv.Itoa(p.port)) {
			continue // the free port was taken meanwhile
		}
		t.Fatalf("gpucache -c %s did not start: %v\n%s", path, err, p.log)
	}
}

func (p *kvrocksProc) addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

func (p *kvrocksProc) waitReady() error {
	rdb := redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("exited: %v", err)
		default:
		}
		err := rdb.Ping(context.Background()).Err()
		if err == nil || strings.HasPrefix(err.Error(), "NOAUTH") {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("no answer to PING within 30s")
}

// TestDropInTwoInstances starts two servers from two copies of KVRocks's
// example kvrocks.conf that differ only in port and dir, as two KVRocks
// instances on one host are run. Both must start (no listener the files
// do not name, such as S3, may collide), keep their data apart, and
// answer redis-cli and go-redis with KVRocks's defaults.
func TestDropInTwoInstances(t *testing.T) {
	a := startFromConf(t, "")
	b := startFromConf(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for i, p := range []*kvrocksProc{a, b} {
		rdb := newGoRedis(t, p.addr(), 2, "")
		if err := rdb.Set(ctx, "who", i, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.log.String(), "S3 front end off") {
			t.Errorf("server %d: the log does not say S3 is off:\n%s", i, p.log)
		}
		// The values of kvrocks.conf apply.
		cfg, err := rdb.ConfigGet(ctx, "maxclients").Result()
		if err != nil || cfg["maxclients"] != "10000" {
			t.Errorf("server %d: CONFIG GET maxclients = %v, %v; want 10000 from the file", i, cfg, err)
		}
		info, err := rdb.Info(ctx, "server").Result()
		if err != nil || !strings.Contains(info, "tcp_port:"+strconv.Itoa(p.port)+"\r\n") {
			t.Errorf("server %d: INFO server has no tcp_port:%d: %v\n%s", i, p.port, err, info)
		}
	}
	// Each keeps its own data.
	for i, p := range []*kvrocksProc{a, b} {
		out, err := internal.Command(ctx, nil, internal.RequireTool(t, "redis-cli"), "-p", strconv.Itoa(p.port), "GET", "who")
		if err != nil || strings.TrimSpace(string(out)) != strconv.Itoa(i) {
			t.Errorf("redis-cli GET who on server %d = %q, %v; want %d", i, out, err, i)
		}
	}
	// HELLO 2 (go-redis with Protocol 2 sends none; ask directly): the
	// version field is the Redis version the commands follow.
	rdb := newGoRedis(t, a.addr(), 2, "")
	hello, err := rdb.Do(ctx, "HELLO", "2").Slice()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for i := 0; i+1 < len(hello); i += 2 {
		got[fmt.Sprint(hello[i])] = hello[i+1]
	}
	if got["server"] != "redis" || got["version"] != "7.0.0" || got["proto"] != int64(2) || got["mode"] != "standalone" || got["role"] != "master" {
		t.Errorf("HELLO 2 = %v", got)
	}
	// resp3-enabled is KVRocks's default (yes): HELLO 3 switches.
	r3 := newGoRedis(t, b.addr(), 3, "")
	if m, err := r3.Do(ctx, "HELLO", "3").Result(); err != nil {
		t.Fatal(err)
	} else if mm, ok := m.(map[any]any); !ok || mm["proto"] != int64(3) {
		t.Errorf("HELLO 3 = %#v", m)
	}
}

// TestDropInNamespaces: kvrocks.conf with requirepass and namespace
// tokens, as KVRocks documents them: AUTH with a token selects its
// namespace, the keys of one are invisible in another, and the admin
// password sees the default namespace.
func TestDropInNamespaces(t *testing.T) {
	p := startFromConf(t, "requirepass admin-pw\nnamespace.ns1 tok1\nnamespace.ns2 tok2\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	noauth := newGoRedis(t, p.addr(), 2, "")
	if err := noauth.Get(ctx, "k").Err(); err == nil || err.Error() != "NOAUTH Authentication required." {
		t.Errorf("GET without AUTH = %v", err)
	}
	for _, pw := range []string{"admin-pw", "tok1", "tok2"} {
		rdb := newGoRedis(t, p.addr(), 2, pw)
		if err := rdb.Set(ctx, "k", pw, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, pw := range []string{"admin-pw", "tok1", "tok2"} {
		rdb := newGoRedis(t, p.addr(), 2, pw)
		if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != pw {
			t.Errorf("AUTH %s: GET k = %q, %v", pw, v, err)
		}
	}
	ns, err := newGoRedis(t, p.addr(), 2, "tok1").Do(ctx, "NAMESPACE", "CURRENT").Result()
	if err == nil {
		t.Errorf("NAMESPACE CURRENT as a namespace user = %v, want an admin-only error", ns)
	}
	if ns, err := newGoRedis(t, p.addr(), 2, "admin-pw").Do(ctx, "NAMESPACE", "GET", "ns1").Result(); err != nil || ns != "tok1" {
		t.Errorf("NAMESPACE GET ns1 = %v, %v", ns, err)
	}
}

// TestDropInNamespaceNeedsRequirepass: namespaces without requirepass are
// refused at start-up, as KVRocks refuses them.
func TestDropInNamespaceNeedsRequirepass(t *testing.T) {
	bin, err := internal.Binary()
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "kvrocks.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("port %d\ndir %s\nnamespace.ns1 tok1\n", internal.FreePort(t), t.TempDir())), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-c", conf).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "requirepass") {
		t.Errorf("gpucache started with a namespace and no requirepass: %v\n%s", err, out)
	}
}
