package resp

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// DUMP and RESTORE: values as RDB payloads (rdb.go), so that a payload
// from Redis or KVRocks restores here and the reverse.

func dumpCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "dump", arity: 2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdDump},
		{name: "restore", arity: -4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdRestore},
	}
}

const (
	errBusyKey     = "BUSYKEY Target key name already exists."
	errDumpPayload = "ERR DUMP payload version or checksum are wrong"
	errBadData     = "ERR Bad data format"
)

// DUMP key
func (c *conn) cmdDump(cmd *Command) {
	key := cmd.Args[1]
	m, err := c.eng.Stat(c.ns, key)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.Null()
		return
	case err != nil:
		c.replyErr(err)
		return
	}
	switch m.Type {
	case engine.TypeString:
		c.dumpString(key)
		return
	case engine.TypeBitmap:
		// As KVRocks does: a bitmap dumps as the string GET returns.
		c.dumpBitmap(key)
		return
	}
	var p []byte
	retry := false
	err = c.eng.Txn(c.ns, [][]byte{key}, func(t *engine.Txn) error {
		m, ok, err := t.Meta(0)
		if err != nil || !ok {
			return err
		}
		if m.Type == engine.TypeString {
			retry = true
			return nil
		}
		p, err = dumpCollection(t, m)
		return err
	})
	switch {
	case err != nil:
		c.replyErr(err)
	case retry:
		c.dumpString(key)
	case p == nil:
		c.wr.Null()
	default:
		c.wr.Bulk(p)
	}
}

// dumpString answers a string's payload, its value sent by reference.
func (c *conn) dumpString(key []byte) {
	v, err := c.eng.Get(c.ns, key)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.Null()
		return
	case err != nil:
		c.replyErr(err)
		return
	}
	if v.Meta().Type != engine.TypeString {
		v.Release()
		c.cmdDump(&Command{Args: [][]byte{nil, key}})
		return
	}
	n := v.Len()
	if n <= 11 {
		// Small: maybe packed as an integer.
		s, err := v.AppendTo(make([]byte, 0, 11))
		v.Release()
		if err != nil {
			c.replyErr(err)
			return
		}
		b := rdbAppendString([]byte{rdbString}, s)
		b = append(b, rdbFooter(crc64Update(0, b))...)
		c.wr.Bulk(b)
		return
	}
	head := rdbStringHeader([]byte{rdbString}, n)
	crc := crc64Update(0, head)
	bufs := v.Buffers()
	for _, p := range bufs {
		crc = crc64Update(crc, p)
	}
	foot := rdbFooter(crc)
	pages := make([][]byte, 0, len(bufs)+2)
	pages = append(pages, head)
	pages = append(pages, bufs...)
	pages = append(pages, foot)
	// NB: only released, never sent as a value: the pages are more than it.
	c.wr.BulkPages(pages, int64(len(head))+n+int64(len(foot)), releaseOnly{v})
}

// dumpBitmap answers a bitmap's payload: a string of its bytes, as GET
// of the key reads them (up to max-bitmap-to-string-mb).
func (c *conn) dumpBitmap(key []byte) {
	b, err := c.eng.BitmapString(c.ns, key, c.s.live.Load().maxBitmapStr)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.Null()
		return
	case err != nil:
		c.bitsErr(err)
		return
	}
	p := rdbAppendString([]byte{rdbString}, b)
	c.wr.Bulk(append(p, rdbFooter(crc64Update(0, p))...))
}

// releaseOnly hides a value's SendRange from the writer.
type releaseOnly struct{ v *engine.Value }

func (r releaseOnly) Release() { r.v.Release() }

// dumpCollection serializes collection key 0 of t as KVRocks does.
func dumpCollection(t *engine.Txn, m engine.Meta) ([]byte, error) {
	b := make([]byte, 0, 64)
	var err error
	var n int64 // elements written
	switch m.Type {
	case engine.TypeHash:
		b = append(b, rdbHash)
		b = rdbAppendLen(b, uint64(m.Size))
		err = t.HashRange(0, nil, func(f, v []byte) bool {
			b = rdbAppendString(b, f)
			b = rdbAppendString(b, v)
			n++
			return true
		})
	case engine.TypeSet:
		b = append(b, rdbSet)
		b = rdbAppendLen(b, uint64(m.Size))
		err = t.SetRange(0, nil, func(mem []byte) bool {
			b = rdbAppendString(b, mem)
			n++
			return true
		})
	case engine.TypeList:
		b = append(b, rdbListQuicklist)
		b = rdbAppendLen(b, uint64(m.Size))
		err = t.ListRange(0, 0, m.Size-1, false, func(_ int64, v []byte) bool {
			b = rdbAppendZiplistOne(b, v)
			n++
			return true
		})
	case engine.TypeZSet:
		var members [][]byte
		var scores []float64
		err = t.ZSetByRank(0, 0, true, func(mem []byte, s float64) bool {
			members = append(members, append([]byte(nil), mem...))
			scores = append(scores, s)
			return true
		})
		if err != nil {
			return nil, err
		}
		sortZSetDump(members, scores)
		n = int64(len(members))
		b = append(b, rdbZSet2)
		b = rdbAppendLen(b, uint64(len(members)))
		for i, mem := range members {
			b = rdbAppendString(b, mem)
			b = rdbAppendBinaryDouble(b, scores[i])
		}
	default:
		return nil, engine.ErrWrongType
	}
	if err != nil {
		return nil, err
	}
	if n != m.Size {
		return nil, fmt.Errorf("%s of %d elements holds %d", m.Type, m.Size, n)
	}
	return append(b, rdbFooter(crc64Update(0, b))...), nil
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]
func (c *conn) cmdRestore(cmd *Command) {
	args := cmd.Args
	var replace, absTTL, idle, freq bool
	for i := 4; i < len(args); i++ {
		a := args[i]
		switch {
		case eqFold(a, "replace"):
			replace = true
		case eqFold(a, "absttl"):
			absTTL = true
		case eqFold(a, "idletime") && i+1 < len(args) && !freq:
			n, ok := parseArgInt(args[i+1])
			if !ok {
				c.err(errNotInteger)
				return
			}
			if n < 0 {
				c.err("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = true
			i++
		case eqFold(a, "freq") && i+1 < len(args) && !idle:
			n, ok := parseArgInt(args[i+1])
			if !ok {
				c.err(errNotInteger)
				return
			}
			if n < 0 || n > 255 {
				c.err("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = true
			i++
		default:
			c.syntaxErr()
			return
		}
	}
	key := args[1]
	if !replace {
		n, err := c.eng.Exists(c.ns, [][]byte{key})
		if err != nil {
			c.replyErr(err)
			return
		}
		if n > 0 {
			c.err(errBusyKey)
			return
		}
	}
	ttl, ok := parseArgInt(args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	if ttl < 0 {
		c.err("ERR Invalid TTL value, must be >= 0")
		return
	}
	p := args[3]
	if rdbVerify(p) != nil {
		c.err(errDumpPayload)
		return
	}
	// What decoding allocates beyond the payload is bounded by
	// proto-max-bulk-len: a hostile payload cannot make it unbounded.
	obj, err := rdbDecode(p, c.s.live.Load().limits.MaxBulkLen)
	switch {
	case errors.Is(err, errRDBBudget):
		c.err("ERR DUMP payload decodes to more than proto-max-bulk-len")
		return
	case err != nil:
		c.err(errBadData)
		return
	}
	var at int64
	if ttl > 0 {
		at = ttl
		if !absTTL {
			now := time.Now().UnixMilli()
			if ttl > math.MaxInt64-now {
				c.err("ERR Invalid TTL value, must be >= 0")
				return
			}
			at = now + ttl
		}
		if at <= time.Now().UnixMilli() {
			// Already expired: as Redis, the key goes (with REPLACE) and
			// nothing is stored.
			if replace {
				if _, err := c.eng.Delete(c.ns, [][]byte{key}); err != nil {
					c.replyErr(err)
					return
				}
				c.dirty = true
			}
			c.wr.OK()
			return
		}
	}
	if err := c.restoreObject(key, obj, at, replace); err != nil {
		c.replyErr(err)
		return
	}
	c.dirty = true
	c.wr.OK()
	if obj.kind == kindList || obj.kind == kindZSet {
		c.s.blocked.signal(c.ns, key) // clients blocked on the key
	}
}

var errBusy = replyError(errBusyKey)

// restoreObject stores obj under key with expiry at (Unix ms, 0 none);
// without replace an existing key is left alone and errBusy returned.
func (c *conn) restoreObject(key []byte, obj *rdbObject, at int64, replace bool) error {
	if obj.kind == kindString {
		opts := engine.PutOptions{ExpireAt: at}
		if !replace {
			opts.Cond = engine.IfAbsent
		}
		if int64(len(obj.str)) > c.s.live.Load().limits.MaxBulkLen {
			return replyError(errStringTooLong)
		}
		res, err := c.eng.PutBytes(c.ns, key, obj.str, opts)
		if err != nil {
			return err
		}
		if res.Old != nil {
			res.Old.Release()
		}
		if !res.Written {
			return errBusy
		}
		return nil
	}
	if len(obj.elems) == 0 {
		// Redis refuses empty collections in payloads.
		return replyError(errBadData)
	}
	typ := map[rdbKind]engine.Type{kindList: engine.TypeList, kindSet: engine.TypeSet, kindZSet: engine.TypeZSet, kindHash: engine.TypeHash}[obj.kind]
	return c.eng.Txn(c.ns, [][]byte{key}, func(t *engine.Txn) error {
		if _, exists, err := t.Meta(0); err != nil {
			return err
		} else if exists && !replace {
			return errBusy
		}
		if err := t.Replace(0, typ); err != nil {
			return err
		}
		if err := t.Fill(0, typ, obj.elems, obj.scores); err != nil {
			return err
		}
		t.SetExpire(0, at)
		return nil
	})
}
