package internal

import (
	"bufio"
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// StartRedis runs the local redis-server on a free loopback port with
// persistence off, for tests that compare replies or speed with it, and
// stops it when the test ends. extra are more redis-server arguments.
// Without redis-server the test is skipped (failed with
// GPUCACHE_REQUIRE_TOOLS).
func StartRedis(tb testing.TB, extra ...string) string {
	tb.Helper()
	bin := RequireTool(tb, "redis-server")
	port := FreePort(tb)
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", tb.TempDir()}, extra...)
	cmd := exec.Command(bin, args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(20 * time.Second)
	for !redisAnswers(addr) {
		select {
		case <-exited:
			tb.Fatalf("redis-server on %s exited: %s", addr, tail(log.String(), 2000))
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redis-server on %s did not answer PING: %s", addr, tail(log.String(), 2000))
		}
		time.Sleep(20 * time.Millisecond) // polling the listener until it answers
	}
	return addr
}

// redisAnswers reports whether a PING on addr gets +PONG.
func redisAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}
