package bench

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"time"
)

// maxBulk bounds the bulk replies the client accepts (Redis's default
// proto-max-bulk-len).
const maxBulk = 512 << 20

// RESPOptions configures a RESPClient.
type RESPOptions struct {
	// User and Password are sent with AUTH on connect when Password is set
	// (AUTH pass, or AUTH user pass when User is set too).
	User, Password string
	// Hello3 sends HELLO 3 first, as redis-py 8 does; replies then follow
	// RESP3 (a missing key is "_"). Default is RESP2, as the native client.
	Hello3 bool
	// Timeout bounds each batch (write and all replies). Zero means 60s.
	Timeout time.Duration
	// Verify selects how GET replies are checked.
	Verify VerifyMode
}

// RESPClient is a minimal RESP client for load generation: SET, GET, EXISTS
// and DEL on one connection, pipelined in batches (see Client). It allocates
// nothing per operation in steady state: requests are built in a reused
// buffer with values spliced in by reference, and GET replies are read into
// one reused value buffer that grows to the largest value seen.
type RESPClient struct {
	conn    net.Conn
	rd      replyReader
	iov     iovecs
	payload *Payload
	opts    RESPOptions
	val     []byte
}

var _ Client = (*RESPClient)(nil)

// DialRESP connects to a RESP endpoint and authenticates.
func DialRESP(addr string, p *Payload, opts RESPOptions) (*RESPClient, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("cannot dial %s: %w (%w)", addr, err, ErrUnreachable)
	}
	c, err := NewRESPClient(conn, p, opts)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// NewRESPClient runs the connection handshake (HELLO, AUTH) on conn and
// returns a client that owns conn.
func NewRESPClient(conn net.Conn, p *Payload, opts RESPOptions) (*RESPClient, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c := &RESPClient{conn: conn, rd: newReplyReader(conn, 64<<10), payload: p, opts: opts}
	switch {
	case opts.Hello3 && opts.Password != "":
		user := opts.User
		if user == "" {
			user = "default"
		}
		if _, err := c.Command("HELLO", "3", "AUTH", user, opts.Password); err != nil {
			return nil, fmt.Errorf("cannot HELLO 3: %w", err)
		}
	case opts.Hello3:
		if _, err := c.Command("HELLO", "3"); err != nil {
			return nil, fmt.Errorf("cannot HELLO 3: %w", err)
		}
	case opts.Password != "" && opts.User != "":
		if _, err := c.Command("AUTH", opts.User, opts.Password); err != nil {
			return nil, fmt.Errorf("cannot AUTH: %w", err)
		}
	case opts.Password != "":
		if _, err := c.Command("AUTH", opts.Password); err != nil {
			return nil, fmt.Errorf("cannot AUTH: %w", err)
		}
	}
	return c, nil
}

// Close closes the connection.
func (c *RESPClient) Close() error { return c.conn.Close() }

// Command sends one command and returns the first line of its reply (for
// example "+PONG" or "$5"), skipping the rest of the reply. An error reply is
// returned as a *ReplyError. It is meant for setup, not the load path.
func (c *RESPClient) Command(args ...string) (string, error) {
	c.iov.reset()
	c.iov.small = appendArrayHeader(c.iov.small, len(args))
	for _, a := range args {
		c.iov.small = appendBulkString(c.iov.small, a)
	}
	if err := c.conn.SetDeadline(time.Now().Add(c.opts.Timeout)); err != nil {
		return "", err
	}
	if _, err := c.iov.writeTo(c.conn); err != nil {
		return "", err
	}
	line, err := c.readHeader()
	if err != nil {
		return "", err
	}
	first := string(line)
	if first[0] == '-' {
		return "", &ReplyError{Msg: first[1:]}
	}
	return first, c.skipRest(line)
}

// Do implements Client.
func (c *RESPClient) Do(ops []Op) error {
	c.iov.reset()
	for i := range ops {
		c.encode(&ops[i])
	}
	return exchange(c.conn, &c.iov, c.opts.Timeout, ops, c)
}

func appendArrayHeader(b []byte, n int) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

func appendBulkHeader(b []byte, n int) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

func appendBulk(b, v []byte) []byte {
	b = appendBulkHeader(b, len(v))
	b = append(b, v...)
	return append(b, '\r', '\n')
}

func appendBulkString(b []byte, v string) []byte {
	b = appendBulkHeader(b, len(v))
	b = append(b, v...)
	return append(b, '\r', '\n')
}

// encode appends op's request to the batch.
func (c *RESPClient) encode(op *Op) {
	v := &c.iov
	switch op.Kind {
	case OpSet:
		v.small = append(v.small, "*3\r\n$3\r\nSET\r\n"...)
		v.small = appendBulk(v.small, op.Key)
		if op.Literal != nil {
			v.small = appendBulk(v.small, op.Literal)
			return
		}
		v.small = appendBulkHeader(v.small, op.Size)
		v.small = AppendHead(v.small, op.Stamp)
		v.large(c.payload.Middle(op.Size))
		v.small = AppendTail(v.small, op.Stamp, op.Size)
		v.small = append(v.small, '\r', '\n')
	case OpGet:
		v.small = append(v.small, "*2\r\n$3\r\nGET\r\n"...)
		v.small = appendBulk(v.small, op.Key)
	case OpExists:
		v.small = append(v.small, "*2\r\n$6\r\nEXISTS\r\n"...)
		v.small = appendBulk(v.small, op.Key)
	case OpDel:
		v.small = append(v.small, "*2\r\n$3\r\nDEL\r\n"...)
		v.small = appendBulk(v.small, op.Key)
	}
}

// readHeader returns the first line of the next reply, skipping RESP3
// attributes and push messages, which arrive out of band.
func (c *RESPClient) readHeader() ([]byte, error) {
	for {
		line, err := c.rd.line()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			return nil, fmt.Errorf("%w: empty reply line", ErrProtocol)
		}
		if line[0] != '|' && line[0] != '>' {
			return line, nil
		}
		if err := c.skipRest(line); err != nil {
			return nil, err
		}
	}
}

// readReply reads the reply to op into op's result fields. It returns an
// error only when the stream cannot be followed any further.
func (c *RESPClient) readReply(op *Op) error {
	line, err := c.readHeader()
	if err != nil {
		return err
	}
	switch line[0] {
	case '-':
		op.Err = &ReplyError{Msg: string(line[1:])}
		return nil
	case '!':
		n, ok := parseInt(line[1:])
		if !ok || n < 0 || n > 1<<20 {
			return fmt.Errorf("%w: bad blob error length %q", ErrProtocol, line)
		}
		msg := make([]byte, n)
		if err := c.rd.readFull(msg); err != nil {
			return err
		}
		op.Err = &ReplyError{Msg: string(msg)}
		return c.rd.crlf()
	}
	switch op.Kind {
	case OpSet:
		if string(line) == "+OK" {
			return nil
		}
	case OpExists, OpDel:
		if line[0] == ':' {
			n, ok := parseInt(line[1:])
			if !ok {
				return fmt.Errorf("%w: bad integer reply %q", ErrProtocol, line)
			}
			op.Found = n > 0
			return nil
		}
	case OpGet:
		if line[0] == '_' || string(line) == "$-1" {
			return nil
		}
		if line[0] == '$' {
			return c.readValue(op, line)
		}
	}
	op.Err = fmt.Errorf("%w: reply %.40q to %s", ErrProtocol, line, op.Kind)
	return c.skipRest(line)
}

// readValue reads a bulk GET reply into the reused value buffer and checks it.
func (c *RESPClient) readValue(op *Op, line []byte) error {
	n, ok := parseInt(line[1:])
	if !ok || n < 0 || n > maxBulk {
		return fmt.Errorf("%w: bad bulk length %q", ErrProtocol, line)
	}
	if int(n) > cap(c.val) {
		c.val = make([]byte, n) // grows to the largest value once, then reused
	}
	val := c.val[:n]
	if err := c.rd.readFull(val); err != nil {
		return err
	}
	if err := c.rd.crlf(); err != nil {
		return err
	}
	op.Found = true
	if op.Literal != nil {
		if !bytes.Equal(val, op.Literal) {
			op.Err = fmt.Errorf("%w: literal value of %d bytes differs", ErrCorrupt, len(op.Literal))
		}
		return nil
	}
	op.Err = c.payload.Verify(val, op.Stamp, op.Size, c.opts.Verify)
	return nil
}

// skipRest consumes the remainder of a reply whose first line is line.
func (c *RESPClient) skipRest(line []byte) error {
	n, _ := parseInt(line[1:])
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		return c.rd.discard(n + 2)
	case '*', '~', '>':
		return c.skipValues(n)
	case '%', '|':
		return c.skipValues(2 * n)
	}
	return nil
}

func (c *RESPClient) skipValues(n int64) error {
	for ; n > 0; n-- {
		line, err := c.rd.line()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return fmt.Errorf("%w: empty reply line", ErrProtocol)
		}
		if err := c.skipRest(line); err != nil {
			return err
		}
	}
	return nil
}

// batchClient reads one reply into an Op (both clients implement it).
type batchClient interface{ readReply(op *Op) error }

// exchange writes the batch queued in iov as one vectored write, then reads
// one reply per op; each op's latency runs from the write to its reply.
func exchange(conn net.Conn, iov *iovecs, timeout time.Duration, ops []Op, rr batchClient) error {
	start := time.Now()
	if err := conn.SetDeadline(start.Add(timeout)); err != nil {
		return err
	}
	if _, err := iov.writeTo(conn); err != nil {
		return fmt.Errorf("cannot write batch: %w", err)
	}
	iov.reset()
	for i := range ops {
		op := &ops[i]
		op.Found, op.Err = false, nil
		if err := rr.readReply(op); err != nil {
			return fmt.Errorf("cannot read reply %d of %d: %w", i+1, len(ops), err)
		}
		op.Lat = time.Since(start)
	}
	return nil
}
