package bench

import (
	"bytes"
	"io"
	"net"
	"time"
)

// fakeConn is a net.Conn whose writes are captured and whose reads are
// served from a script, optionally looped (for benchmarks) or one byte at a
// time (to exercise buffer boundaries).
type fakeConn struct {
	written bytes.Buffer
	discard bool // drop writes instead of capturing them
	script  []byte
	pos     int
	loop    bool
	chunk   int // max bytes per Read; 0 means unlimited
}

func (f *fakeConn) Read(p []byte) (int, error) {
	if f.pos == len(f.script) {
		if !f.loop || len(f.script) == 0 {
			return 0, io.EOF
		}
		f.pos = 0
	}
	if f.chunk > 0 && len(p) > f.chunk {
		p = p[:f.chunk]
	}
	n := copy(p, f.script[f.pos:])
	f.pos += n
	return n, nil
}

func (f *fakeConn) Write(p []byte) (int, error) {
	if !f.discard {
		f.written.Write(p)
	}
	return len(p), nil
}

func (f *fakeConn) Close() error                       { return nil }
func (f *fakeConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (f *fakeConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (f *fakeConn) SetDeadline(t time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(t time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(t time.Time) error { return nil }
