package bench

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// The raw probe moves the bytes of a workload over TCP with no protocol to
// speak of, which gives the ceiling a server could reach on the same host
// under the same client. Each request starts with a 17-byte header: an
// opcode, a little-endian uint64 length n and a uint64 stamp.
//
//	'S' n stamp <n bytes>  -> 1 byte 'K' (upload: the server reads and drops n bytes)
//	'G' n stamp            -> the n-byte value of stamp, or 1 byte 'M' when n is 0
//	'E' n stamp            -> 1 byte 'K' when n > 0, else 'M' (a lookup moving no data)
//
// The server cannot know which keys exist, so the client says so: an OpGet
// or OpExists with Size 0 expects a miss.
const rawHeaderSize = 17

const (
	rawSet    = 'S'
	rawGet    = 'G'
	rawExists = 'E'
	rawAck    = 'K'
	rawMiss   = 'M'
)

// RawServer is the sink/source end of the raw probe. Uploads are read into
// one reused 1 MiB buffer per connection and dropped; downloads are written
// from the shared Payload with one writev, exactly as the client sends them.
type RawServer struct {
	ln      net.Listener
	payload *Payload
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closed  bool
}

// StartRawServer listens on addr (for example "127.0.0.1:0") and serves the
// raw probe until Close.
func StartRawServer(addr string, p *Payload) (*RawServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	s := &RawServer{ln: ln, payload: p, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *RawServer) Addr() string { return s.ln.Addr().String() }

// Close stops the server, closes its connections and waits for them.
func (s *RawServer) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *RawServer) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_ = s.serve(conn)
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
			conn.Close()
		}()
	}
}

// serve runs one connection. Acks are buffered and flushed only when no
// further request is already buffered, as a server batches pipelined replies.
func (s *RawServer) serve(conn net.Conn) error {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	bw := bufio.NewWriterSize(conn, 64<<10)
	sink := make([]byte, 1<<20)
	var hdr [rawHeaderSize]byte
	var iov iovecs
	for {
		if br.Buffered() == 0 && bw.Buffered() > 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		n := binary.LittleEndian.Uint64(hdr[1:])
		stamp := binary.LittleEndian.Uint64(hdr[9:])
		switch hdr[0] {
		case rawSet:
			for left := n; left > 0; {
				k, err := br.Read(sink[:min(left, uint64(len(sink)))])
				if err != nil {
					return err
				}
				left -= uint64(k)
			}
			if err := bw.WriteByte(rawAck); err != nil {
				return err
			}
		case rawGet:
			if n == 0 {
				if err := bw.WriteByte(rawMiss); err != nil {
					return err
				}
				continue
			}
			if n < MinValueSize || n > uint64(s.payload.MaxSize()) {
				return fmt.Errorf("%w: raw GET of %d bytes", ErrProtocol, n)
			}
			if n <= inlineMax { // small values go out with the other buffered replies
				var st [8]byte
				bw.Write(AppendHead(st[:0], stamp))
				bw.Write(s.payload.Middle(int(n)))
				if _, err := bw.Write(AppendTail(st[:0], stamp, int(n))); err != nil {
					return err
				}
				continue
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			iov.reset()
			iov.small = AppendHead(iov.small, stamp)
			iov.large(s.payload.Middle(int(n)))
			iov.small = AppendTail(iov.small, stamp, int(n))
			if _, err := iov.writeTo(conn); err != nil {
				return err
			}
		case rawExists:
			ack := byte(rawAck)
			if n == 0 {
				ack = rawMiss
			}
			if err := bw.WriteByte(ack); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: raw opcode %q", ErrProtocol, hdr[0])
		}
	}
}

// RawClient is the client end of the raw probe. It builds and reads batches
// exactly as RESPClient does, minus the protocol.
type RawClient struct {
	conn    net.Conn
	rd      replyReader
	iov     iovecs
	payload *Payload
	verify  VerifyMode
	timeout time.Duration
	val     []byte
}

var _ Client = (*RawClient)(nil)

// DialRaw connects to a RawServer.
func DialRaw(addr string, p *Payload, verify VerifyMode, timeout time.Duration) (*RawClient, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("cannot dial %s: %w (%w)", addr, err, ErrUnreachable)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	return &RawClient{conn: conn, rd: newReplyReader(conn, 64<<10), payload: p, verify: verify, timeout: timeout}, nil
}

// Close closes the connection.
func (c *RawClient) Close() error { return c.conn.Close() }

func (c *RawClient) header(op byte, n int, stamp uint64) {
	c.iov.small = append(c.iov.small, op)
	c.iov.small = binary.LittleEndian.AppendUint64(c.iov.small, uint64(n))
	c.iov.small = binary.LittleEndian.AppendUint64(c.iov.small, stamp)
}

// Do implements Client. OpDel is sent as a lookup: it moves no data.
func (c *RawClient) Do(ops []Op) error {
	c.iov.reset()
	for i := range ops {
		op := &ops[i]
		switch op.Kind {
		case OpSet:
			c.header(rawSet, op.ValueSize(), op.Stamp)
			if op.Literal != nil {
				c.iov.small = append(c.iov.small, op.Literal...)
				break
			}
			c.iov.small = AppendHead(c.iov.small, op.Stamp)
			c.iov.large(c.payload.Middle(op.Size))
			c.iov.small = AppendTail(c.iov.small, op.Stamp, op.Size)
		case OpGet:
			c.header(rawGet, op.ValueSize(), op.Stamp)
		default:
			c.header(rawExists, op.ValueSize(), op.Stamp)
		}
	}
	return exchange(c.conn, &c.iov, c.timeout, ops, c)
}

func (c *RawClient) readReply(op *Op) error {
	n := op.ValueSize()
	if op.Kind == OpGet && n > 0 {
		if n > cap(c.val) {
			c.val = make([]byte, n)
		}
		val := c.val[:n]
		if err := c.rd.readFull(val); err != nil {
			return err
		}
		op.Found = true
		if op.Literal == nil {
			op.Err = c.payload.Verify(val, op.Stamp, n, c.verify)
		}
		return nil
	}
	b, err := c.rd.readByte()
	if err != nil {
		return err
	}
	switch {
	case b == rawAck:
		op.Found = op.Kind != OpSet
	case b == rawMiss && op.Kind != OpSet:
	default:
		return fmt.Errorf("%w: raw reply %q to %s", ErrProtocol, b, op.Kind)
	}
	return nil
}
