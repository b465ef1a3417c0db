package client

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gpucache/gpucache/protocols/fastpath/fabric"
)

// Options configure Dial.
type Options struct {
	// Provider is the libfabric provider ("shm", "tcp;ofi_rxm", "tcp",
	// "verbs;ofi_rxm", "efa"); it must be the server's. Empty: TCP only.
	Provider string
	// Domain pins a fabric domain (tcp: an interface such as "lo").
	Domain string
	// Node is the local address the endpoint binds to (tcp: an IP of
	// Domain, e.g. "127.0.0.1").
	Node string
	// Password, if set, is sent with AUTH first.
	Password string
	// Timeout bounds dialing and each command. Default 60 s.
	Timeout time.Duration
	// VerifyCRC checks every fetched value against the CRC32C the server
	// answers with (fabric form) and fails with CRCError on a mismatch.
	VerifyCRC bool
}

// Client is one RESP connection with, when the fabric is up, a BLOB.HELLO
// session over it.
type Client struct {
	nc   net.Conn
	rd   *bufio.Reader
	wr   *bufio.Writer
	opts Options

	ep        *fabric.Endpoint
	transport string
	fallback  error
	servers   [][]byte
	args      [][]byte
}

// Dial connects to a gpucache (or any server of the BLOB.* protocol) at
// addr and negotiates the fast path with opts.Provider. A fabric that
// cannot be used leaves the client on TCP: Transport says "tcp" and
// FallbackReason why.
func Dial(addr string, opts Options) (*Client, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	nc, err := net.DialTimeout("tcp", addr, opts.Timeout)
	if err != nil {
		return nil, err
	}
	c := &Client{nc: nc, rd: bufio.NewReaderSize(nc, 64<<10), wr: bufio.NewWriterSize(nc, 64<<10),
		opts: opts, transport: "tcp"}
	if opts.Password != "" {
		if _, err := c.do(nil, []byte("AUTH"), []byte(opts.Password)); err != nil {
			nc.Close()
			return nil, err
		}
	}
	if opts.Provider == "" {
		c.fallback = errors.New("no fabric provider configured")
		return c, nil
	}
	if err := c.hello(); err != nil {
		var se *ServerError
		if !errors.As(err, &se) && !errors.Is(err, fabric.ErrUnavailable) && !isFabricError(err) {
			c.Close()
			return nil, err
		}
		c.fallback = err
	}
	return c, nil
}

func isFabricError(err error) bool {
	var fe *fabric.Error
	return errors.As(err, &fe)
}

// hello opens the endpoint and says BLOB.HELLO.
func (c *Client) hello() error {
	ep, err := fabric.Open(c.opts.Provider, c.opts.Domain, c.opts.Node)
	if err != nil {
		return err
	}
	rp, err := c.do(nil, []byte("BLOB.HELLO"), []byte(hex.EncodeToString(ep.Info().Addr)))
	if err != nil {
		ep.Close()
		return err
	}
	if rp.Kind != '*' || len(rp.Elems) == 0 {
		ep.Close()
		return &ProtocolError{"BLOB.HELLO: want an array of addresses"}
	}
	for _, e := range rp.Elems {
		a, err := hex.DecodeString(string(e.Str))
		if err != nil {
			ep.Close()
			return &ProtocolError{"BLOB.HELLO: bad address hex"}
		}
		// Some providers (efa) need the initiator's address before it
		// may reach us; the others accept it harmlessly.
		if _, err := ep.InsertPeer(a); err != nil {
			ep.Close()
			return err
		}
		c.servers = append(c.servers, a)
	}
	c.ep = ep
	c.transport = "fabric:" + ep.Info().Provider
	return nil
}

// Transport is "fabric:<provider>" once BLOB.HELLO succeeded, else "tcp".
func (c *Client) Transport() string { return c.transport }

// FallbackReason says why the client is on TCP (nil on the fabric).
func (c *Client) FallbackReason() error { return c.fallback }

// ServerAddresses are the server's fabric addresses from BLOB.HELLO.
func (c *Client) ServerAddresses() [][]byte { return c.servers }

// Close closes the connection (which ends the server's session) and the
// endpoint. Buffers must be freed first.
func (c *Client) Close() error {
	err := c.nc.Close()
	if c.ep != nil {
		c.ep.Close()
		c.ep = nil
	}
	return err
}

// Do sends any command and returns its reply as Go values: string, int64,
// nil, []any, or a *ServerError.
func (c *Client) Do(args ...string) (any, error) {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	rp, err := c.do(nil, bs...)
	if err != nil {
		return nil, err
	}
	return toAny(rp), nil
}

func toAny(rp reply) any {
	switch {
	case rp.Nil:
		return nil
	case rp.Kind == ':':
		return rp.Int
	case rp.Kind == '*':
		out := make([]any, len(rp.Elems))
		for i, e := range rp.Elems {
			out[i] = toAny(e)
		}
		return out
	}
	return string(rp.Str)
}

// do sends args and reads the reply (bulk replies into into when it
// fits); an error reply comes back as *ServerError.
func (c *Client) do(into []byte, args ...[]byte) (reply, error) {
	return c.doBulk(into, nil, args...)
}

func (c *Client) doBulk(into []byte, bulk [][]byte, args ...[]byte) (reply, error) {
	c.nc.SetDeadline(time.Now().Add(c.opts.Timeout))
	if err := writeCommand(c.wr, args, bulk); err != nil {
		return reply{}, err
	}
	rp, err := readReply(c.rd, into)
	if err != nil {
		return rp, err
	}
	if rp.Kind == '-' {
		return rp, &ServerError{Text: string(rp.Str)}
	}
	return rp, nil
}

// Buffer is memory registered with the client's endpoint for values to
// land in and leave from (or plain memory on TCP).
type Buffer struct {
	c   *Client
	mem []byte
	reg *fabric.Region
}

// Alloc maps n bytes outside the Go heap and registers them with the
// fabric (when the client is on it). Free it when done.
func (c *Client) Alloc(n int) (*Buffer, error) {
	mem, err := mapMem(n)
	if err != nil {
		return nil, err
	}
	b := &Buffer{c: c, mem: mem}
	if c.ep != nil {
		b.reg, err = c.ep.Register(addrOf(mem), uint64(n), fabric.AccessRemote)
		if err != nil {
			unmapMem(mem)
			return nil, err
		}
	}
	return b, nil
}

// Bytes is the buffer's memory.
func (b *Buffer) Bytes() []byte { return b.mem }

// Len is the buffer's size.
func (b *Buffer) Len() int { return len(b.mem) }

// Free deregisters and unmaps the buffer.
func (b *Buffer) Free() error {
	if b.reg != nil {
		b.reg.Close()
		b.reg = nil
	}
	if b.mem == nil {
		return nil
	}
	err := unmapMem(b.mem)
	b.mem = nil
	return err
}

// Segment is a piece of a Buffer: a value may be gathered from or
// scattered into several (one (rkey, addr, len) triple each).
type Segment struct {
	Buf      *Buffer
	Off, Len int
}

func (c *Client) check(segs []Segment) error {
	for _, s := range segs {
		if s.Buf == nil || s.Buf.c != c {
			return ErrForeignBuffer
		}
		if s.Off < 0 || s.Len < 0 || s.Off+s.Len > len(s.Buf.mem) {
			return ErrRange
		}
	}
	return nil
}

// appendTriples appends each segment's rkey, addr and len: addr is a
// virtual address or an offset in the region, as the provider's memory
// registration mode says.
func (c *Client) appendTriples(args [][]byte, segs []Segment) [][]byte {
	virt := c.ep.Info().VirtAddr
	for _, s := range segs {
		addr := uint64(s.Off)
		if virt {
			addr += uint64(addrOf(s.Buf.mem))
		}
		args = append(args,
			strconv.AppendUint(nil, s.Buf.reg.Key, 10),
			strconv.AppendUint(nil, addr, 10),
			strconv.AppendUint(nil, uint64(s.Len), 10))
	}
	return args
}

// Triples returns the (rkey, addr, len) arguments naming segs, for
// commands built by hand (Do). Nil on TCP.
func (c *Client) Triples(segs []Segment) ([]string, error) {
	if c.ep == nil {
		return nil, nil
	}
	if err := c.check(segs); err != nil {
		return nil, err
	}
	var out []string
	for _, a := range c.appendTriples(nil, segs) {
		out = append(out, string(a))
	}
	return out, nil
}

// Progress keeps the client's side of the fabric moving (its completion
// queue read) until stop is called: needed around commands built by hand
// (Do with Triples) that make the server transfer, since software
// providers progress a passive peer only while its queue is read.
func (c *Client) Progress() (stop func()) {
	if c.ep == nil {
		return func() {}
	}
	return c.ep.Progress()
}

// Set stores buf[off:off+n] under key.
func (c *Client) Set(key string, buf *Buffer, off, n int) error {
	return c.SetV(key, n, []Segment{{buf, off, n}})
}

// SetV stores n bytes gathered from segs in order under key: BLOB.SET
// key n (rkey addr len)+ on the fabric, BLOB.SET key <bytes> on TCP.
func (c *Client) SetV(key string, n int, segs []Segment) error {
	if err := c.check(segs); err != nil {
		return err
	}
	if c.ep == nil {
		var parts [][]byte
		left := n
		for _, s := range segs {
			if left == 0 {
				break
			}
			k := min(s.Len, left)
			parts = append(parts, s.Buf.mem[s.Off:s.Off+k])
			left -= k
		}
		if left > 0 {
			return &ServerError{Text: "ERR client address space smaller than object length"}
		}
		_, err := c.doBulk(nil, parts, []byte("BLOB.SET"), []byte(key))
		return err
	}
	args := append(c.args[:0], []byte("BLOB.SET"), []byte(key), strconv.AppendInt(nil, int64(n), 10))
	args = c.appendTriples(args, segs)
	c.args = args
	stop := c.ep.Progress()
	defer stop()
	_, err := c.do(nil, args...)
	return err
}

// Get fetches key into buf[off:off+n] and returns the value's length and
// CRC32C (computed here on TCP). ErrNotFound for a missing key.
func (c *Client) Get(key string, buf *Buffer, off, n int) (int, uint32, error) {
	return c.GetV(key, []Segment{{buf, off, n}})
}

// GetV fetches key scattered across segs in order: BLOB.GET key (rkey
// addr len)+ on the fabric, BLOB.GET key on TCP.
func (c *Client) GetV(key string, segs []Segment) (int, uint32, error) {
	if err := c.check(segs); err != nil {
		return 0, 0, err
	}
	if c.ep == nil {
		var into []byte
		if len(segs) == 1 {
			into = segs[0].Buf.mem[segs[0].Off : segs[0].Off+segs[0].Len]
		}
		rp, err := c.do(into, []byte("BLOB.GET"), []byte(key))
		if err != nil {
			return 0, 0, err
		}
		if rp.Nil {
			return 0, 0, ErrNotFound
		}
		if len(rp.Str) > 0 && (len(segs) != 1 || len(rp.Str) > segs[0].Len || &rp.Str[0] != &into[0]) {
			left := rp.Str
			for _, s := range segs {
				k := copy(s.Buf.mem[s.Off:s.Off+s.Len], left)
				left = left[k:]
			}
			if len(left) > 0 {
				return 0, 0, &ServerError{Text: "ERR client address space smaller than object length"}
			}
		}
		return len(rp.Str), crc32.Checksum(rp.Str, castagnoli), nil
	}
	args := append(c.args[:0], []byte("BLOB.GET"), []byte(key))
	args = c.appendTriples(args, segs)
	c.args = args
	stop := c.ep.Progress()
	rp, err := c.do(nil, args...)
	stop()
	if err != nil {
		return 0, 0, err
	}
	if rp.Nil {
		return 0, 0, ErrNotFound
	}
	if rp.Kind != '*' || len(rp.Elems) != 2 || rp.Elems[0].Kind != ':' || rp.Elems[1].Kind != ':' {
		return 0, 0, &ProtocolError{"BLOB.GET: want [length, crc32c]"}
	}
	n, crc := int(rp.Elems[0].Int), uint32(rp.Elems[1].Int)
	if c.opts.VerifyCRC {
		var got uint32
		left := n
		for _, s := range segs {
			k := min(left, s.Len)
			got = crc32.Update(got, castagnoli, s.Buf.mem[s.Off:s.Off+k])
			left -= k
		}
		if got != crc {
			return n, crc, &CRCError{Got: got, Want: crc}
		}
	}
	return n, crc, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// String describes the client's transport for logs.
func (c *Client) String() string {
	if c.fallback != nil {
		return fmt.Sprintf("%s (fabric unavailable: %v)", c.transport, c.fallback)
	}
	return c.transport
}

// IsUnavailable reports whether err is the server's "no fabric" answer.
func IsUnavailable(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && strings.Contains(se.Text, "unavailable")
}
