package bench

import (
	"bytes"
	"fmt"
	"io"
)

// replyReader is a buffered reader for replies. Unlike bufio.Reader it hands
// large reads straight to the connection, so a bulk value moves from the
// socket into the caller's buffer with one copy (the kernel's), and it
// exposes lines as slices of its own buffer without copying them.
type replyReader struct {
	r      io.Reader
	buf    []byte
	rp, wp int
}

func newReplyReader(r io.Reader, size int) replyReader {
	return replyReader{r: r, buf: make([]byte, size)}
}

// fill reads at least one more byte into the buffer, compacting it first.
func (rd *replyReader) fill() error {
	if rd.rp == rd.wp {
		rd.rp, rd.wp = 0, 0
	} else if rd.rp > 0 && rd.wp == len(rd.buf) {
		rd.wp = copy(rd.buf, rd.buf[rd.rp:rd.wp])
		rd.rp = 0
	}
	if rd.wp == len(rd.buf) {
		return fmt.Errorf("%w: reply line longer than %d bytes", ErrProtocol, len(rd.buf))
	}
	for i := 0; i < 100; i++ {
		n, err := rd.r.Read(rd.buf[rd.wp:])
		rd.wp += n
		if n > 0 {
			return nil
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return io.ErrNoProgress
}

// line returns the next CRLF-terminated line without its terminator. The
// slice is valid until the next call on rd.
func (rd *replyReader) line() ([]byte, error) {
	scanned := rd.rp
	for {
		if i := bytes.IndexByte(rd.buf[scanned:rd.wp], '\n'); i >= 0 {
			end := scanned + i + 1
			line := rd.buf[rd.rp:end]
			rd.rp = end
			if len(line) < 2 || line[len(line)-2] != '\r' {
				return nil, fmt.Errorf("%w: line not terminated by CRLF", ErrProtocol)
			}
			return line[:len(line)-2], nil
		}
		off := rd.wp - rd.rp
		if err := rd.fill(); err != nil {
			return nil, err
		}
		scanned = rd.rp + off
	}
}

// readFull fills dst. Whatever the buffer holds is copied; a large remainder
// is read from the connection directly into dst.
func (rd *replyReader) readFull(dst []byte) error {
	n := copy(dst, rd.buf[rd.rp:rd.wp])
	rd.rp += n
	dst = dst[n:]
	if len(dst) >= len(rd.buf)/2 {
		_, err := io.ReadFull(rd.r, dst)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	for len(dst) > 0 {
		if err := rd.fill(); err != nil {
			return err
		}
		n := copy(dst, rd.buf[rd.rp:rd.wp])
		rd.rp += n
		dst = dst[n:]
	}
	return nil
}

// readByte returns the next byte.
func (rd *replyReader) readByte() (byte, error) {
	if rd.rp == rd.wp {
		if err := rd.fill(); err != nil {
			return 0, err
		}
	}
	b := rd.buf[rd.rp]
	rd.rp++
	return b, nil
}

// discard skips n bytes.
func (rd *replyReader) discard(n int64) error {
	for n > 0 {
		if rd.rp == rd.wp {
			if err := rd.fill(); err != nil {
				return err
			}
		}
		k := min(int64(rd.wp-rd.rp), n)
		rd.rp += int(k)
		n -= k
	}
	return nil
}

// crlf consumes the CRLF that ends a bulk payload.
func (rd *replyReader) crlf() error {
	for rd.wp-rd.rp < 2 {
		if err := rd.fill(); err != nil {
			return err
		}
	}
	if rd.buf[rd.rp] != '\r' || rd.buf[rd.rp+1] != '\n' {
		return fmt.Errorf("%w: bulk payload not terminated by CRLF", ErrProtocol)
	}
	rd.rp += 2
	return nil
}

// parseInt parses a decimal int64 without allocating.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
		if n < 0 {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}
