package resp

import (
	"io"
	"math"
	"net"
	"strconv"

	"github.com/gpucache/gpucache/engine"
)

// Releaser is a borrowed value whose memory a queued reply references
// until the reply is flushed. *engine.Value is one.
type Releaser interface{ Release() }

// Sender is a borrowed value that can send itself, as *engine.Value does:
// given a destination that takes pages by reference (engine.SendWriter, as
// a TCP connection is), it goes out that way instead of by write.
type Sender interface {
	Releaser
	SendRange(w engine.SendWriter, off, n int64) (int64, error)
}

// copyMax is the largest external value copied into the reply buffer;
// larger ones are queued by reference (their pages) and written from there.
const copyMax = 16 << 10

// Writer encodes replies into a reused buffer and sends a batch of them on
// Flush. Large values are not copied into it: their pages are queued by
// reference, written (or sent by reference, see Sender) from where they
// are, and the Releaser is called after the write.
// Not safe for concurrent use.
type Writer struct {
	w     io.Writer
	sw    engine.SendWriter // w, when it takes pages by reference
	proto int

	buf  []byte
	segs []segment // borrowed pages to send after buf[:at]
	held []Releaser
	ext  int64 // bytes queued in segs

	iov net.Buffers // reused for the vectored write
	vec net.Buffers // the part of iov being consumed by WriteTo
	err error

	// Error replies written, and as of the last command counted
	// (commandstats.go tells failed and rejected calls by them).
	errs, errsCounted uint64
}

type segment struct {
	at    int
	pages [][]byte
	send  Sender // sends the pages itself when the destination allows
	n     int64
}

// NewWriter returns a Writer to w with a buffer of size bytes, speaking RESP2.
func NewWriter(w io.Writer, size int) *Writer {
	sw, _ := w.(engine.SendWriter)
	return &Writer{w: w, sw: sw, proto: 2, buf: make([]byte, 0, size)}
}

// SetProto selects RESP2 or RESP3 encoding for the replies that follow.
func (w *Writer) SetProto(p int) { w.proto = p }

// Proto is the protocol version in use.
func (w *Writer) Proto() int { return w.proto }

// Shrink replaces the reply buffer by one of size bytes when nothing is
// queued and it has grown past keep, and reports the buffer's capacity.
func (w *Writer) Shrink(keep, size int) int {
	if len(w.buf) == 0 && len(w.segs) == 0 && cap(w.buf) > keep {
		w.buf = make([]byte, 0, size)
	}
	return cap(w.buf)
}

// Pending is the number of bytes queued and not yet flushed.
func (w *Writer) Pending() int64 { return int64(len(w.buf)) + w.ext }

// Mark returns a position to roll back to with Reset (used when a command
// fails after it began its reply). Only valid while nothing was queued by
// reference since.
func (w *Writer) Mark() int { return len(w.buf) }

// Reset drops the replies encoded since mark.
func (w *Writer) Reset(mark int) {
	if mark <= len(w.buf) && (len(w.segs) == 0 || w.segs[len(w.segs)-1].at <= mark) {
		w.buf = w.buf[:mark]
	}
}

// Flush sends everything queued and releases the borrowed values. After a
// write error every later Flush fails with it.
func (w *Writer) Flush() error {
	if w.err != nil {
		w.drop()
		return w.err
	}
	if len(w.segs) == 0 {
		if len(w.buf) > 0 {
			_, w.err = w.w.Write(w.buf)
		}
		w.drop()
		return w.err
	}
	iov := w.iov[:0]
	last := 0
	for _, s := range w.segs {
		if s.at > last {
			iov = append(iov, w.buf[last:s.at])
		}
		last = s.at
		if s.send == nil || w.sw == nil {
			iov = append(iov, s.pages...)
			continue
		}
		// What is queued goes first, then the value sends itself.
		if w.err = w.writev(iov); w.err != nil {
			break
		}
		iov = w.iov[:0]
		if _, w.err = s.send.SendRange(w.sw, 0, s.n); w.err != nil {
			break
		}
	}
	if w.err == nil {
		if last < len(w.buf) {
			iov = append(iov, w.buf[last:])
		}
		w.err = w.writev(iov)
	}
	w.drop()
	return w.err
}

// writev writes iov (a prefix of w.iov's array) as net.Buffers: one
// vectored write to a net.Conn, a write per slice to other writers (the
// server's connection writer, which bounds each write by the timeout).
func (w *Writer) writev(iov net.Buffers) error {
	if len(iov) == 0 {
		return nil
	}
	w.iov = iov
	// NB: WriteTo consumes the slice it is called on; keep it in the
	// Writer so that taking its address does not allocate.
	w.vec = iov
	_, err := w.vec.WriteTo(w.w)
	clear(w.iov[:cap(w.iov)])
	return err
}

// drop forgets queued replies and releases borrowed values.
func (w *Writer) drop() {
	w.buf = w.buf[:0]
	for i := range w.segs {
		w.segs[i] = segment{}
	}
	w.segs = w.segs[:0]
	for i, h := range w.held {
		h.Release()
		w.held[i] = nil
	}
	w.held = w.held[:0]
	w.ext = 0
}

func (w *Writer) crlf() { w.buf = append(w.buf, '\r', '\n') }

func (w *Writer) header(c byte, n int64) {
	w.buf = append(w.buf, c)
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.crlf()
}

// Raw appends bytes that are already encoded.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// Simple writes a simple string: +s.
func (w *Writer) Simple(s string) {
	w.buf = append(w.buf, '+')
	w.buf = append(w.buf, s...)
	w.crlf()
}

// OK writes +OK.
func (w *Writer) OK() { w.buf = append(w.buf, "+OK\r\n"...) }

// Error writes an error reply; s carries its prefix ("ERR ...", "WRONGTYPE ...").
func (w *Writer) Error(s string) {
	w.errs++
	w.buf = append(w.buf, '-')
	for i := 0; i < len(s); i++ {
		// An error line must not break the framing.
		if c := s[i]; c == '\r' || c == '\n' {
			w.buf = append(w.buf, ' ')
		} else {
			w.buf = append(w.buf, c)
		}
	}
	w.crlf()
}

// Int writes an integer.
func (w *Writer) Int(n int64) { w.header(':', n) }

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) {
	w.header('$', int64(len(b)))
	w.buf = append(w.buf, b...)
	w.crlf()
}

// BulkString writes a bulk string.
func (w *Writer) BulkString(s string) {
	w.header('$', int64(len(s)))
	w.buf = append(w.buf, s...)
	w.crlf()
}

// BulkInt writes an integer as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [20]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// BulkPages writes a bulk string of n bytes held in pages borrowed from
// rel. Small values are copied and rel released at once; large ones go out
// by reference on the next Flush, after which rel is released.
func (w *Writer) BulkPages(pages [][]byte, n int64, rel Releaser) {
	w.header('$', n)
	if n <= copyMax {
		for _, p := range pages {
			w.buf = append(w.buf, p...)
		}
		if rel != nil {
			rel.Release()
		}
	} else {
		seg := segment{at: len(w.buf), pages: pages}
		if s, ok := rel.(Sender); ok {
			seg.send, seg.n = s, n
		}
		w.segs = append(w.segs, seg)
		if rel != nil {
			w.held = append(w.held, rel)
		}
		w.ext += n
	}
	w.crlf()
}

// Null writes the null reply: $-1 under RESP2, _ under RESP3.
func (w *Writer) Null() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
	} else {
		w.buf = append(w.buf, "$-1\r\n"...)
	}
}

// NullArray writes a null array: *-1 under RESP2, _ under RESP3.
func (w *Writer) NullArray() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
	} else {
		w.buf = append(w.buf, "*-1\r\n"...)
	}
}

// Array writes an array header of n elements.
func (w *Writer) Array(n int) { w.header('*', int64(n)) }

// Map writes a map header of n pairs (a flat array of 2n under RESP2).
func (w *Writer) Map(n int) {
	if w.proto == 3 {
		w.header('%', int64(n))
	} else {
		w.header('*', 2*int64(n))
	}
}

// Set writes a set header (an array under RESP2).
func (w *Writer) Set(n int) {
	if w.proto == 3 {
		w.header('~', int64(n))
	} else {
		w.header('*', int64(n))
	}
}

// Push writes a push header (an array under RESP2).
func (w *Writer) Push(n int) {
	if w.proto == 3 {
		w.header('>', int64(n))
	} else {
		w.header('*', int64(n))
	}
}

// Bool writes a boolean (the integer 1 or 0 under RESP2).
func (w *Writer) Bool(b bool) {
	switch {
	case w.proto == 3 && b:
		w.buf = append(w.buf, "#t\r\n"...)
	case w.proto == 3:
		w.buf = append(w.buf, "#f\r\n"...)
	case b:
		w.buf = append(w.buf, ":1\r\n"...)
	default:
		w.buf = append(w.buf, ":0\r\n"...)
	}
}

// Double writes a double (a bulk string under RESP2).
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	b := appendFloat(tmp[:0], f)
	if w.proto == 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, b...)
		w.crlf()
		return
	}
	w.Bulk(b)
}

// Verbatim writes a verbatim string with a three-letter format (a bulk
// string under RESP2).
func (w *Writer) Verbatim(format string, text []byte) {
	if w.proto != 3 {
		w.Bulk(text)
		return
	}
	w.header('=', int64(len(text)+4))
	w.buf = append(w.buf, format...)
	w.buf = append(w.buf, ':')
	w.buf = append(w.buf, text...)
	w.crlf()
}

// appendFloat formats a double reply: as appendScore, with nan spelled
// out.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) {
		return append(b, "nan"...)
	}
	return appendScore(b, f)
}
