package client

import (
	"bufio"
	"io"
	"slices"
	"strconv"
)

// reply is one RESP2 reply. Bulk strings and arrays nest in Elems.
type reply struct {
	Kind  byte // '+', '-', ':', '$', '*'
	Str   []byte
	Int   int64
	Nil   bool
	Elems []reply
}

// writeCommand writes a command as an array of bulk strings; bulk is an
// optional last argument written from its own slices (a TCP-form value).
func writeCommand(w *bufio.Writer, args [][]byte, bulk [][]byte) error {
	n := len(args)
	var blen int
	if bulk != nil {
		n++
		for _, b := range bulk {
			blen += len(b)
		}
	}
	w.WriteByte('*')
	w.Write(strconv.AppendInt(nil, int64(n), 10))
	w.WriteString("\r\n")
	for _, a := range args {
		w.WriteByte('$')
		w.Write(strconv.AppendInt(nil, int64(len(a)), 10))
		w.WriteString("\r\n")
		w.Write(a)
		w.WriteString("\r\n")
	}
	if bulk != nil {
		w.WriteByte('$')
		w.Write(strconv.AppendInt(nil, int64(blen), 10))
		w.WriteString("\r\n")
		for _, b := range bulk {
			w.Write(b)
		}
		w.WriteString("\r\n")
	}
	return w.Flush()
}

// readLine reads one CRLF-terminated line without its CRLF.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, &ProtocolError{"line without CRLF"}
	}
	return line[:len(line)-2], nil
}

// maxBulk bounds a bulk reply read into new memory (a server's
// proto-max-bulk-len is 512 MiB by default; 1 GiB leaves room).
const maxBulk = 1 << 30

// bulkStep is how much memory a bulk reply without a destination gets
// ahead of its bytes: a peer that declares a huge length and sends little
// costs no more than it sent plus this.
const bulkStep = 1 << 20

// readBulk reads an n-byte bulk string into new memory that grows as the
// bytes arrive, never trusting the declared length for the allocation.
func readBulk(r *bufio.Reader, n int) ([]byte, error) {
	buf := make([]byte, min(n, bulkStep))
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	for len(buf) < n {
		have := len(buf)
		buf = slices.Grow(buf, min(n-have, have))
		buf = buf[:have+min(n-have, have)]
		if _, err := io.ReadFull(r, buf[have:]); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// readReply reads one reply. A bulk string goes to into when into is
// long enough (the TCP form of GET into a Buffer), else to a new slice.
func readReply(r *bufio.Reader, into []byte) (reply, error) {
	line, err := readLine(r)
	if err != nil {
		return reply{}, err
	}
	if len(line) == 0 {
		return reply{}, &ProtocolError{"empty line"}
	}
	rp := reply{Kind: line[0]}
	body := line[1:]
	switch rp.Kind {
	case '+', '-':
		rp.Str = append([]byte(nil), body...)
	case ':':
		if rp.Int, err = strconv.ParseInt(string(body), 10, 64); err != nil {
			return rp, &ProtocolError{"bad integer"}
		}
	case '$', '*':
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil {
			return rp, &ProtocolError{"bad length"}
		}
		if n < 0 {
			rp.Nil = true
			return rp, nil
		}
		if rp.Kind == '*' {
			for i := int64(0); i < n; i++ {
				e, err := readReply(r, nil)
				if err != nil {
					return rp, err
				}
				rp.Elems = append(rp.Elems, e)
			}
			return rp, nil
		}
		switch {
		case int64(len(into)) >= n:
			rp.Str = into[:n]
			if _, err := io.ReadFull(r, rp.Str); err != nil {
				return rp, err
			}
		case n > maxBulk:
			return rp, &ProtocolError{"bulk string of " + strconv.FormatInt(n, 10) + " bytes"}
		default:
			if rp.Str, err = readBulk(r, int(n)); err != nil {
				return rp, err
			}
		}
		if _, err := r.Discard(2); err != nil {
			return rp, err
		}
	default:
		return rp, &ProtocolError{"unknown reply type " + strconv.Quote(string(rp.Kind))}
	}
	return rp, nil
}
