package resp

import (
	"encoding/hex"
	"errors"
	"hash/crc32"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/internal/crcmath"
	"github.com/gpucache/gpucache/protocols/fastpath"
)

// The BLOB.* fast path (clients/FASTPATH.md): BLOB.HELLO registers the
// client's fabric address on the connection; BLOB.GET and BLOB.SET with
// (rkey, addr, len) triples move the value between the client's
// registered memory and the DRAM tier by RMA, the server initiating
// (protocols/fastpath). Without the triples they are plain TCP commands.
// Values are ordinary strings: GET, SET, DEL, EXPIRE and S3 see them.

// WithFastPath enables the BLOB.* fabric forms on fp (nil or unavailable:
// BLOB.HELLO answers that the fabric is unavailable; the TCP forms work).
func WithFastPath(fp *fastpath.Server) Option { return func(s *Server) { s.fast = fp } }

// maxBlobRegions bounds the triples of one command, as the reference does.
const maxBlobRegions = 256

func blobCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "blob.hello", arity: -2, flags: flagFast, fn: (*conn).cmdBlobHello},
		{name: "blob.get", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdBlobGet},
		{name: "blob.set", arity: -3, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdBlobSet, valueArg: isValueArg(2)},
		{name: "blob.info", arity: -2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdBlobInfo},
		{name: "lo.hello", arity: -2, flags: flagFast, fn: (*conn).cmdBlobHello},
		{name: "lo.get", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdLoGet},
		{name: "lo.set", arity: -3, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdLoSet, valueArg: isValueArg(2)},
	}
}

// BLOB.HELLO <client fabric address, hex>
func (c *conn) cmdBlobHello(cmd *Command) {
	fp := c.s.fast
	if !fp.Available() {
		c.err(errBlobUnavailable)
		return
	}
	if c.fast != nil {
		c.err(errBlobSessionExists)
		return
	}
	arg := cmd.Args[1]
	if len(arg) == 0 {
		c.err(errBlobEmptyAddr)
		return
	}
	addr := make([]byte, hex.DecodedLen(len(arg)))
	if _, err := hex.Decode(addr, arg); err != nil || len(arg)%2 != 0 {
		c.err(errBlobBadHex)
		return
	}
	x, err := fp.Hello(addr)
	switch {
	case errors.Is(err, fastpath.ErrTooManySessions):
		c.err(errBlobTooManySessions)
		return
	case err != nil:
		c.err(errBlobSession + ": " + err.Error())
		return
	}
	c.fast = x
	c.mu.Lock()
	c.transport = "fabric:" + fp.Provider()
	c.mu.Unlock()
	addrs := fp.Addresses()
	c.wr.Array(len(addrs))
	for _, a := range addrs {
		c.wr.BulkString(hex.EncodeToString(a))
	}
}

// closeFast ends the connection's fabric session, if any.
func (c *conn) closeFast() {
	if c.fast != nil {
		c.fast.Close()
		c.fast = nil
	}
}

// parseRegions parses the (rkey, addr, len) triples of a fabric form.
func parseRegions(args [][]byte) ([]fastpath.Region, string) {
	if len(args)%3 != 0 {
		return nil, errBlobTriples
	}
	if len(args)/3 > maxBlobRegions {
		return nil, errBlobTooMany
	}
	regions := make([]fastpath.Region, 0, len(args)/3)
	for i := 0; i < len(args); i += 3 {
		var r fastpath.Region
		var err error
		if r.RKey, err = strconv.ParseUint(string(args[i]), 10, 64); err != nil {
			return nil, errBlobRKey
		}
		if r.Addr, err = strconv.ParseUint(string(args[i+1]), 10, 64); err != nil {
			return nil, errBlobRemoteAddr
		}
		if r.Len, err = strconv.ParseUint(string(args[i+2]), 10, 64); err != nil {
			return nil, errBlobAddrLen
		}
		regions = append(regions, r)
	}
	return regions, ""
}

// blobError answers a failed fabric transfer or session step.
func (c *conn) blobError(err error) {
	var te *fastpath.TransferError
	switch {
	case errors.As(err, &te) && te.Write:
		c.err(errBlobWrite + ": " + te.Err.Error())
	case errors.As(err, &te):
		c.err(errBlobRead + ": " + te.Err.Error())
	case errors.Is(err, fastpath.ErrShort):
		c.err(errBlobShort)
	case errors.Is(err, fastpath.ErrBusy):
		c.err(errBlobBusy)
	case errors.Is(err, fastpath.ErrSessionClosed):
		c.err(errBlobNoSession)
	default:
		c.replyErr(err)
	}
}

// BLOB.GET key                          (TCP: bulk string or nil)
// BLOB.GET key rkey addr len [...]      (fabric: [length, crc32c] or nil)
func (c *conn) cmdBlobGet(cmd *Command) {
	args := cmd.Args
	if len(args) == 2 {
		c.cmdGet(cmd)
		return
	}
	if len(args) < 5 {
		c.err(blobWrongArgs("BLOB.GET"))
		return
	}
	regions, bad := parseRegions(args[2:])
	if bad != "" {
		c.err(bad)
		return
	}
	c.blobGetFabric(args[1], regions)
}

// blobGetFabric writes key's value into the client's regions and answers
// [length, crc32c], or nil.
func (c *conn) blobGetFabric(key []byte, regions []fastpath.Region) {
	if c.fast == nil {
		c.err(errBlobNoSession)
		return
	}
	v, err := c.eng.Get(c.ns, key)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.misses.Add(1)
		c.wr.Null()
		return
	case err != nil:
		c.replyErr(err)
		return
	case v.Meta().Type != engine.TypeString:
		v.Release()
		c.err(errWrongType)
		return
	}
	n, crc := v.Len(), valueCRC(v)
	if !fastpath.Covers(regions, n) {
		v.Release()
		c.err(errBlobShort)
		return
	}
	c.hits.Add(1)
	gone, stop := c.watchGone()
	err = c.fast.Get(v, regions, gone) // releases v
	stop()
	if err != nil {
		c.blobError(err)
		return
	}
	c.wr.Array(2)
	c.wr.Int(n)
	c.wr.Int(int64(crc))
}

// BLOB.SET key value                            (TCP)
// BLOB.SET key total_len rkey addr len [...]    (fabric)
func (c *conn) cmdBlobSet(cmd *Command) {
	args := cmd.Args
	if len(args) == 3 {
		if args[2] != nil && len(args[2]) == 0 {
			c.err(errBlobZero)
			return
		}
		if _, err := c.put(cmd, args[1], 2, engine.PutOptions{}); err != nil {
			c.replyErr(err)
			return
		}
		c.dirty = true
		c.wr.OK()
		return
	}
	if len(args) < 6 {
		c.err(blobWrongArgs("BLOB.SET"))
		return
	}
	n, err := strconv.ParseInt(string(args[2]), 10, 64)
	if err != nil || n < 0 {
		c.err(errBlobLen)
		return
	}
	if n == 0 {
		c.err(errBlobZero)
		return
	}
	regions, bad := parseRegions(args[3:])
	if bad != "" {
		c.err(bad)
		return
	}
	c.blobSetFabric(args[1], n, regions)
}

// blobSetFabric reads an n-byte value for key from the client's regions,
// stores it, and answers +OK once it is as durable as any SET.
func (c *conn) blobSetFabric(key []byte, n int64, regions []fastpath.Region) {
	if n > c.s.live.Load().limits.MaxBulkLen {
		c.err(errBlobMaxSize)
		return
	}
	if c.fast == nil {
		c.err(errBlobNoSession)
		return
	}
	if !fastpath.Covers(regions, n) {
		c.err(errBlobShort)
		return
	}
	gone, stop := c.watchGone()
	buf, err := c.fast.Set(n, regions, gone)
	stop()
	if err != nil {
		c.blobError(err)
		return
	}
	if _, err := c.eng.Put(c.ns, key, buf, engine.PutOptions{}); err != nil {
		c.replyErr(err)
		return
	}
	// NB: the reply waits for the batch's Sync, as any SET's does.
	c.dirty = true
	c.wr.OK()
}

// The older names of the family (LO.*): one region per command, without
// its length (LO.GET key rkey addr; LO.SET key len rkey addr).

// LO.GET key | LO.GET key rkey addr
func (c *conn) cmdLoGet(cmd *Command) {
	args := cmd.Args
	switch len(args) {
	case 2:
		c.cmdGet(cmd)
	case 4:
		regions, bad := parseRegions([][]byte{args[2], args[3], []byte("18446744073709551615")})
		if bad != "" {
			c.err(bad)
			return
		}
		c.blobGetFabric(args[1], regions)
	default:
		c.err(blobWrongArgs("LO.GET"))
	}
}

// LO.SET key value | LO.SET key len rkey addr
func (c *conn) cmdLoSet(cmd *Command) {
	args := cmd.Args
	switch len(args) {
	case 3:
		c.cmdBlobSet(cmd)
	case 5:
		n, err := strconv.ParseInt(string(args[2]), 10, 64)
		if err != nil || n < 0 {
			c.err(errBlobLen)
			return
		}
		if n == 0 {
			c.err(errBlobZero)
			return
		}
		regions, bad := parseRegions([][]byte{args[3], args[4], args[2]})
		if bad != "" {
			c.err(bad)
			return
		}
		c.blobSetFabric(args[1], n, regions)
	default:
		c.err(blobWrongArgs("LO.SET"))
	}
}

// BLOB.INFO key [LEN|CRC|TIER]
func (c *conn) cmdBlobInfo(cmd *Command) {
	args := cmd.Args
	if len(args) > 3 {
		c.err(blobWrongArgs("BLOB.INFO"))
		return
	}
	field := ""
	if len(args) == 3 {
		switch {
		case eqFold(args[2], "len"), eqFold(args[2], "crc"), eqFold(args[2], "tier"):
			field = string(args[2])
		default:
			c.err(errBlobInfoField)
			return
		}
	}
	m, err := c.eng.Stat(c.ns, args[1])
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.err(errBlobNotFound)
		return
	case err != nil:
		c.replyErr(err)
		return
	case m.Type != engine.TypeString:
		c.err(errWrongType)
		return
	}
	var crc uint32
	tier := "nvme" // every large value is durable there; DRAM caches it
	if m.Inline() {
		tier = "inline"
		v, err := c.eng.Get(c.ns, args[1])
		if err != nil {
			c.replyErr(err)
			return
		}
		crc = valueCRC(v)
		v.Release()
	} else {
		crc = extentsCRC(m.Extents())
	}
	switch {
	case field == "":
		c.wr.Array(6)
		c.wr.Simple("len")
		c.wr.Int(m.Size)
		c.wr.Simple("crc")
		c.wr.Int(int64(crc))
		c.wr.Simple("tier")
		c.wr.Simple(tier)
	case eqFold(args[2], "len"):
		c.wr.Int(m.Size)
	case eqFold(args[2], "crc"):
		c.wr.Int(int64(crc))
	default:
		c.wr.Simple(tier)
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// valueCRC is the CRC32C of the whole value: from its extents' checksums
// (computed as it was stored) or, for a small inline value, its bytes.
func valueCRC(v *engine.Value) uint32 {
	if !v.Meta().Inline() {
		return extentsCRC(v.Meta().Extents())
	}
	var crc uint32
	for _, p := range v.Buffers() {
		crc = crc32.Update(crc, castagnoli, p)
	}
	return crc
}

func extentsCRC(xs []engine.Extent) uint32 {
	var crc uint64
	for _, x := range xs {
		crc = crcmath.CRC32C.Combine(crc, uint64(x.CRC), x.Length)
	}
	return uint32(crc)
}

// goneEvery is how often a connection busy with a fabric transfer checks
// whether its client closed it.
const goneEvery = 50 * time.Millisecond

// watchGone watches the connection while a fabric transfer runs: the
// returned channel closes once the client has closed its end (the
// provider may never fail a transfer to a vanished peer, and the session
// would otherwise outlive it until the transfer timeout). Call stop when
// the transfer is over. It peeks at the socket; pipelined commands stay
// where they are.
func (c *conn) watchGone() (gone <-chan struct{}, stop func()) {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return nil, func() {}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, func() {}
	}
	g, done := make(chan struct{}), make(chan struct{})
	go func() {
		t := time.NewTicker(goneEvery)
		defer t.Stop()
		var b [1]byte
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			closed := false
			raw.Control(func(fd uintptr) {
				n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
				closed = (n == 0 && err == nil) || (err != nil && err != unix.EAGAIN && err != unix.EINTR)
			})
			if closed {
				close(g)
				return
			}
		}
	}()
	return g, func() { close(done) }
}

// FastPath is the fast path the server was given (nil: none).
func (s *Server) FastPath() *fastpath.Server { return s.fast }
