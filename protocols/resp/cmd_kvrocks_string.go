package resp

import (
	"errors"
	"strconv"

	"github.com/gpucache/gpucache/engine"
	"github.com/zeebo/xxh3"
)

// The string commands KVRocks took from Redis 8.4 (DIGEST, DELEX, MSETEX)
// and its own KMETADATA, answered as KVRocks answers them; where KVRocks
// follows Redis, with Redis 8's replies and error texts.

const (
	errDigestLen      = "ERR must be exactly 16 hexadecimal characters"
	errNumKeysInvalid = "ERR invalid numkeys value"
	errKVPairs        = "ERR wrong number of key-value pairs"
	// errKeyNotFound is KVRocks's reply when KMETADATA finds no key: its
	// storage status "NotFound" behind ERR.
	errKeyNotFound = "ERR NotFound: "
	// digestLen is the length of a DIGEST: a 64-bit XXH3 hash in hex,
	// leading zeros kept.
	digestLen = 16
)

func kvrocksStringCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "digest", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdDigest},
		{name: "delex", arity: -2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdDelEx},
		// NB: the keys of MSETEX follow numkeys; COMMAND finds them by
		// its key spec (msetexKeySpec), as Redis does.
		{name: "msetex", arity: -4, flags: flagWrite, fn: (*conn).cmdMSetEx},
		{name: "kmetadata", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdKMetadata},
	}
}

// appendDigest appends the DIGEST of the value held by v: XXH3-64 (seed 0)
// of its bytes as 16 lower-case hex digits.
func appendDigest(b []byte, v *engine.Value) []byte {
	var h xxh3.Hasher
	for _, p := range v.Buffers() {
		h.Write(p)
	}
	return appendHex16(b, h.Sum64())
}

func appendHex16(b []byte, x uint64) []byte {
	const hex = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, hex[x>>uint(shift)&15])
	}
	return b
}

// digestEqual compares a DIGEST with a client's, case-insensitively (as
// Redis 8 and KVRocks do).
func digestEqual(d []byte, want []byte) bool {
	if len(d) != len(want) {
		return false
	}
	for i := range d {
		c := want[i]
		if 'A' <= c && c <= 'F' {
			c += 'a' - 'A'
		}
		if d[i] != c {
			return false
		}
	}
	return true
}

// DIGEST key: the XXH3 digest of a string's value as 16 hex digits; nil
// when the key does not exist, WRONGTYPE for other types.
func (c *conn) cmdDigest(cmd *Command) {
	v, err := c.eng.Get(c.ns, cmd.Args[1])
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.Null()
		return
	case err != nil:
		c.replyErr(err)
		return
	}
	defer v.Release()
	if v.Meta().Type != engine.TypeString {
		c.err(errWrongType)
		return
	}
	var d [digestLen]byte
	c.wr.Bulk(appendDigest(d[:0], v))
}

// delexCond is the condition of a DELEX.
type delexCond uint8

const (
	delexAlways delexCond = iota
	delexIfEq
	delexIfNe
	delexIfDigestEq
	delexIfDigestNe
)

// DELEX key [IFEQ value | IFNE value | IFDEQ digest | IFDNE digest]:
// deletes key when the condition holds (always without one), and answers
// 1 when it deleted it, 0 otherwise (no such key, or the condition is
// false). A condition needs a string value (WRONGTYPE otherwise); without
// one any type is deleted, as DEL does.
func (c *conn) cmdDelEx(cmd *Command) {
	args := cmd.Args
	cond := delexAlways
	var arg []byte
	switch {
	case len(args) == 2:
	case len(args) != 4:
		c.syntaxErr()
		return
	case eqFold(args[2], "ifeq"):
		cond = delexIfEq
	case eqFold(args[2], "ifne"):
		cond = delexIfNe
	case eqFold(args[2], "ifdeq"):
		cond = delexIfDigestEq
	case eqFold(args[2], "ifdne"):
		cond = delexIfDigestNe
	default:
		c.syntaxErr()
		return
	}
	if cond != delexAlways {
		arg = args[3]
	}
	if (cond == delexIfDigestEq || cond == delexIfDigestNe) && len(arg) != digestLen {
		c.err(errDigestLen)
		return
	}
	if cond == delexAlways {
		n, err := c.eng.Delete(c.ns, args[1:2])
		if err != nil {
			c.replyErr(err)
			return
		}
		if n > 0 {
			c.dirty = true
		}
		c.wr.Int(int64(n))
		return
	}
	// readModify answers WRONGTYPE for a value that is not a string.
	c.readModify(args[1], func(cur *engine.Value) (engine.Update, error) {
		if cur == nil {
			c.wr.Int(0)
			return engine.Update{Action: engine.UpdateKeep}, nil
		}
		var match bool
		switch cond {
		case delexIfEq, delexIfNe:
			match = valueEquals(cur, arg)
		default:
			var d [digestLen]byte
			match = digestEqual(appendDigest(d[:0], cur), arg)
		}
		if match == (cond == delexIfEq || cond == delexIfDigestEq) {
			c.wr.Int(1)
			return engine.Update{Action: engine.UpdateDelete}, nil
		}
		c.wr.Int(0)
		return engine.Update{Action: engine.UpdateKeep}, nil
	})
}

// MSETEX numkeys key value [key value ...] [NX | XX] [EX s | PX ms |
// EXAT ts | PXAT ms-ts | KEEPTTL]: sets the pairs, all with the one
// expiry (none without an option, as SET does; the keys' own with
// KEEPTTL), atomically: NX sets them only if none of the keys exists, XX
// only if all of them do. 1 when the pairs were set, 0 when not.
//
// The condition and the writes are one engine group, run alone (the
// exclusive work guard, as EXEC): no other client sees some of the pairs
// and not the others, nor writes a key between the check and the writes.
func (c *conn) cmdMSetEx(cmd *Command) {
	args := cmd.Args
	n, err := strconv.ParseInt(string(args[1]), 10, 64)
	if err != nil || n < 1 {
		c.err(errNumKeysInvalid)
		return
	}
	if n > int64(len(args)-2)/2 {
		c.err(errKVPairs)
		return
	}
	end := 2 + 2*int(n)
	var cond, ttl string
	opts := engine.PutOptions{}
	for i := end; i < len(args); i++ {
		a := args[i]
		switch {
		case (eqFold(a, "nx") || eqFold(a, "xx")) && flagFree(cond, string(lowerASCII(a))):
			cond = string(lowerASCII(a))
		case eqFold(a, "keepttl") && flagFree(ttl, "keepttl"):
			ttl, opts.KeepTTL = "keepttl", true
		case i+1 < len(args) && expireFlagFree(a, ttl):
			at, e := expireAt(a, args[i+1])
			if e != "" {
				c.err(e)
				return
			}
			ttl, opts.ExpireAt = expireUnitName(a), at
			i++
		default:
			c.syntaxErr()
			return
		}
	}
	keys := make([][]byte, 0, n)
	for i := 2; i < end; i += 2 {
		keys = append(keys, args[i])
	}
	c.runAlone(keys, func() {
		var stored bool
		err := c.eng.Group(func(g *engine.Engine) error {
			if cond != "" {
				// Distinct keys: EXISTS counts a key named twice twice.
				seen := make(map[string]bool, len(keys))
				want := 0
				for _, k := range keys {
					if !seen[string(k)] {
						seen[string(k)] = true
						want++
					}
				}
				have := 0
				for k := range seen {
					m, err := g.Exists(c.ns, [][]byte{[]byte(k)})
					if err != nil {
						return err
					}
					have += m
				}
				if cond == "nx" && have > 0 || cond == "xx" && have < want {
					return nil
				}
			}
			for i := 2; i < end; i += 2 {
				if _, err := g.PutBytes(c.ns, args[i], args[i+1], opts); err != nil {
					return err
				}
			}
			stored = true
			return nil
		})
		switch {
		case err != nil:
			c.replyErr(err)
		case stored:
			c.dirty = true
			c.wr.Int(1)
		default:
			c.wr.Int(0)
		}
	})
}

// lowerASCII returns a lower-case copy of a short option.
func lowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		out[i] = ch
	}
	return out
}

// runAlone runs fn with no other command of any client running: under the
// exclusive work guard. A command that runs inside EXEC or a script holds
// it already (and writes into their group); one that runs on its own
// trades its shared hold for the exclusive one and back.
//
// In cluster mode, keys (the command's, of one slot) are routed again
// once the exclusive guard is taken: a migration may have stopped the
// slot's writes in between.
func (c *conn) runAlone(keys [][]byte, fn func()) {
	if c.guard != guardShared || c.eng.InGroup() {
		fn()
		return
	}
	c.leaveGuard()
	c.enterGuard(guardExclusive)
	defer func() {
		c.leaveGuard()
		c.enterGuard(guardShared)
	}()
	if c.clusterRecheckWrite(keys) {
		fn()
	}
}

// KMETADATA key: the key's metadata record as KVRocks shows it: type,
// size (elements of a collection), ttl (the absolute expiry in Unix
// milliseconds, 0 for none), flags (KVRocks's metadata flags byte: the
// 64-bit encoding bit and the type) and version. Strings have no size
// and no version (they are single values). A missing key is an error, as
// in KVRocks.
func (c *conn) cmdKMetadata(cmd *Command) {
	m, err := c.eng.Stat(c.ns, cmd.Args[1])
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.err(errKeyNotFound)
		return
	case err != nil:
		c.replyErr(err)
		return
	}
	single := m.Type == engine.TypeString
	if single {
		c.wr.Map(3)
	} else {
		c.wr.Map(5)
	}
	c.wr.BulkString("type")
	c.wr.BulkString(m.Type.String())
	if !single {
		c.wr.BulkString("size")
		c.wr.Int(m.Size)
	}
	c.wr.BulkString("ttl")
	c.wr.Int(m.ExpireAt)
	c.wr.BulkString("flags")
	c.wr.Int(int64(metadata64BitEncoding | int(m.Type)))
	if !single {
		c.wr.BulkString("version")
		c.wr.Int(int64(m.Version))
	}
}

// metadata64BitEncoding is KVRocks's flag for metadata records with 64-bit
// size and expiry fields, which it writes by default.
const metadata64BitEncoding = 0x80
