package resp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// memConn is a net.Conn over in-memory buffers, for driving a connection
// synchronously: Read drains in (then io.EOF), Write appends to out.
type memConn struct {
	in  bytes.Reader
	mu  sync.Mutex // out: a subscriber's pushes are written by its queue's goroutine
	out bytes.Buffer
	// discard drops written bytes (benchmarks).
	discard bool
}

func (m *memConn) Read(p []byte) (int, error) { return m.in.Read(p) }
func (m *memConn) Write(p []byte) (int, error) {
	if m.discard {
		return len(p), nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out.Write(p)
}

// take returns what was written so far and forgets it.
func (m *memConn) take() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := append([]byte(nil), m.out.Bytes()...)
	m.out.Reset()
	return b
}
func (m *memConn) Close() error                       { return nil }
func (m *memConn) LocalAddr() net.Addr                { return memAddr{} }
func (m *memConn) RemoteAddr() net.Addr               { return memAddr{} }
func (m *memConn) SetDeadline(t time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(t time.Time) error { return nil }

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem:1" }

// openEngine opens an engine on a temporary directory.
func openEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	eng, err := engine.Open(engine.Options{Dir: tb.TempDir(), DRAMCacheSize: 256 << 20})
	if err != nil {
		tb.Fatalf("engine.Open: %v", err)
	}
	tb.Cleanup(func() { eng.Close() })
	return eng
}

// syncConn is a connection driven from the test goroutine.
type syncConn struct {
	c *conn
	m *memConn
}

func newSyncConn(s *Server) *syncConn {
	m := &memConn{}
	c := newConn(s, m, s.nextID.Add(1))
	s.mu.Lock()
	s.conns[c.id] = c
	s.mu.Unlock()
	return &syncConn{c: c, m: m}
}

// run feeds input and runs every request in it, returning the output.
// It returns early (with the output so far) on a protocol error. For a
// subscriber the output starts with the messages pushed to it since the
// last run.
func (sc *syncConn) run(input []byte) []byte {
	sc.m.in.Reset(input)
	if sc.c.ps == nil {
		sc.m.mu.Lock()
		sc.m.out.Reset()
		sc.m.mu.Unlock()
	}
	for {
		cmd, err := sc.c.rd.ReadCommand()
		if err != nil {
			if pe, ok := err.(*ProtocolError); ok {
				sc.c.wr.Error("ERR " + pe.Error())
			}
			break
		}
		sc.c.exec(cmd)
		if len(sc.c.monLines) > 0 {
			sc.c.feedMonitors()
		}
		cmd.Release()
		if sc.c.closeAfter {
			break
		}
	}
	sc.c.flush()
	if sc.c.ps != nil {
		sc.c.ps.q.waitIdle()
		return sc.m.take()
	}
	sc.m.mu.Lock()
	defer sc.m.mu.Unlock()
	return sc.m.out.Bytes()
}

// encode writes args as a RESP array of bulk strings.
func encode(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// readReply reads one whole RESP2/RESP3 reply and returns its bytes.
func readReply(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return line, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return line, fmt.Errorf("bad reply line %q", line)
	}
	out := line
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return out, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return out, err
		}
		if n < 0 {
			return out, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return out, err
		}
		return append(out, buf...), nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return out, err
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			sub, err := readReply(r)
			out = append(out, sub...)
			if err != nil {
				return out, err
			}
		}
		return out, nil
	}
	return out, fmt.Errorf("unknown reply type %q", line)
}
