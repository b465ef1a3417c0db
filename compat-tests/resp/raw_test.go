package resp_test

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
)

// rawTimeout bounds every read or write of a raw connection.
const rawTimeout = 30 * time.Second

// rawConn is a RESP connection driven byte by byte, for checks of the exact
// reply bytes that clients such as LMCache's C++ connector compare.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, r: bufio.NewReaderSize(nc, 64<<10)}
}

// encode appends a RESP array of bulk strings.
func encode(b []byte, args ...[]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

func encodeStrings(args ...string) []byte {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return encode(nil, bs...)
}

func (c *rawConn) write(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(rawTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send writes one command.
func (c *rawConn) send(args ...string) { c.t.Helper(); c.write(encodeStrings(args...)) }

// expect reads exactly len(want) bytes and fails unless they are want.
func (c *rawConn) expect(want string) {
	c.t.Helper()
	c.expectBytes([]byte(want))
}

func (c *rawConn) expectBytes(want []byte) {
	c.t.Helper()
	got := c.readN(len(want))
	if !bytes.Equal(got, want) {
		c.t.Fatalf("reply bytes: got %s, want %s", quoteShort(got), quoteShort(want))
	}
}

func (c *rawConn) readN(n int) []byte {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(rawTimeout))
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		c.t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

func (c *rawConn) readLine() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(rawTimeout))
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read line: %v (got %q)", err, line)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		c.t.Fatalf("reply line not ended by CRLF: %q", line)
	}
	return line[:len(line)-2]
}

// readBulk reads a RESP2 bulk string; nil for $-1.
func (c *rawConn) readBulk() []byte {
	c.t.Helper()
	line := c.readLine()
	if line == "$-1" {
		return nil
	}
	if len(line) < 2 || line[0] != '$' {
		c.t.Fatalf("want a bulk string, got %q", line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		c.t.Fatalf("bad bulk header %q", line)
	}
	b := c.readN(n + 2)
	if string(b[n:]) != "\r\n" {
		c.t.Fatalf("bulk of %d not followed by CRLF: %q", n, b[n:])
	}
	return b[:n]
}

// reply is a parsed RESP2/RESP3 reply.
type reply struct {
	kind  byte // the type byte: + - : $ * % _ # , ( = ~ >
	str   string
	elems []reply // arrays, sets, pushes; maps as key, value, key, value
}

func (r reply) String() string {
	switch r.kind {
	case '*', '%', '~', '>':
		s := string(r.kind) + "["
		for i, e := range r.elems {
			if i > 0 {
				s += " "
			}
			s += e.String()
		}
		return s + "]"
	case '_':
		return "_"
	}
	return string(r.kind) + strconv.Quote(r.str)
}

// readReply parses one reply of any type.
func (c *rawConn) readReply() reply {
	c.t.Helper()
	line := c.readLine()
	if line == "" {
		c.t.Fatalf("empty reply line")
	}
	r := reply{kind: line[0], str: line[1:]}
	switch r.kind {
	case '+', '-', ':', '_', '#', ',', '(':
	case '$', '=', '!':
		n, err := strconv.Atoi(r.str)
		if err != nil {
			c.t.Fatalf("bad length in %q", line)
		}
		if n < 0 {
			r.kind = '_'
			break
		}
		b := c.readN(n + 2)
		r.str = string(b[:n])
	case '*', '%', '~', '>', '|':
		n, err := strconv.Atoi(r.str)
		if err != nil {
			c.t.Fatalf("bad count in %q", line)
		}
		if n < 0 {
			r.kind = '_'
			break
		}
		if r.kind == '%' || r.kind == '|' {
			n *= 2
		}
		for range n {
			r.elems = append(r.elems, c.readReply())
		}
	default:
		c.t.Fatalf("unknown reply type in %q", line)
	}
	return r
}

// mapGet returns the value of a map (or flattened RESP2 array) entry.
func (r reply) mapGet(key string) (reply, bool) {
	for i := 0; i+1 < len(r.elems); i += 2 {
		if r.elems[i].str == key {
			return r.elems[i+1], true
		}
	}
	return reply{}, false
}

func quoteShort(b []byte) string {
	if len(b) <= 80 {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("%q...(%d bytes)", b[:80], len(b))
}

// goTB stands in for testing.TB on goroutines other than the test's, where
// t.Fatal must not be called: Fatal panics with the message, and
// rawConn.run recovers it. Only Helper, Fatal and Fatalf may be used.
type goTB struct{ testing.TB }

type goFatal string

func (goTB) Helper()                           {}
func (goTB) Fatal(args ...any)                 { panic(goFatal(fmt.Sprint(args...))) }
func (goTB) Fatalf(format string, args ...any) { panic(goFatal(fmt.Sprintf(format, args...))) }

// dialRawErr dials a rawConn for use on another goroutine with run; nil if
// the dial fails.
func dialRawErr(addr string) *rawConn {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil
	}
	return &rawConn{t: goTB{}, nc: nc, r: bufio.NewReaderSize(nc, 64<<10)}
}

// goRaw runs fn on a connection of its own to addr, in a goroutine counted
// by wg; a failed dial or fn's first failure goes to errs, after who.
func goRaw(wg *sync.WaitGroup, addr string, errs chan<- string, who string, fn func(c *rawConn)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := dialRawErr(addr)
		if c == nil {
			errs <- who + ": dial failed"
			return
		}
		defer c.nc.Close()
		if msg := c.run(fn); msg != "" {
			errs <- who + ": " + msg
		}
	}()
}

// run calls fn and returns the message of its first failure, or "".
func (c *rawConn) run(fn func(c *rawConn)) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(goFatal)
			if !ok {
				panic(r)
			}
			msg = string(f)
		}
	}()
	fn(c)
	return ""
}
