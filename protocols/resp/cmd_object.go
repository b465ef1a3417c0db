package resp

import (
	"errors"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// Key commands that look at or copy a key of any type.
func objectCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "copy", arity: -3, flags: flagWrite, first: 1, last: 2, step: 1, fn: (*conn).cmdCopy},
		{name: "object", arity: -2, flags: flagReadonly, first: 2, last: 2, step: 1, fn: (*conn).cmdObject},
	}
}

// COPY source destination [DB destination-db] [REPLACE]
func (c *conn) cmdCopy(cmd *Command) {
	args := cmd.Args
	replace := false
	for i := 3; i < len(args); i++ {
		switch {
		case eqFold(args[i], "replace"):
			replace = true
		case eqFold(args[i], "db") && i+1 < len(args):
			// One database per namespace: only DB 0 exists.
			if db, ok := parseArgInt(args[i+1]); !ok || db != 0 {
				c.err("ERR DB index is out of range")
				return
			}
			i++
		default:
			c.syntaxErr()
			return
		}
	}
	if string(args[1]) == string(args[2]) {
		c.err("ERR source and destination objects are the same")
		return
	}
	copied, err := c.eng.Copy(c.ns, args[1], args[2], replace)
	c.replyChanged(copied, err)
	if copied {
		c.s.blocked.signal(c.ns, args[2])
	}
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Print this help.",
}

// OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP. Encodings are
// named as Redis names the representation of each type; IDLETIME counts
// from the key's last write.
func (c *conn) cmdObject(cmd *Command) {
	args := cmd.Args
	sub := args[1]
	if eqFold(sub, "help") && len(args) == 2 {
		c.wr.Array(len(objectHelp))
		for _, l := range objectHelp {
			c.wr.Simple(l)
		}
		return
	}
	known := eqFold(sub, "encoding") || eqFold(sub, "refcount") || eqFold(sub, "idletime") || eqFold(sub, "freq")
	if !known || len(args) != 3 {
		c.err("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try OBJECT HELP.")
		return
	}
	m, err := c.eng.Stat(c.ns, args[2])
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.Null()
		return
	case err != nil:
		c.replyErr(err)
		return
	}
	switch {
	case eqFold(sub, "encoding"):
		c.wr.BulkString(c.encoding(args[2], &m))
	case eqFold(sub, "refcount"):
		c.wr.Int(1)
	case eqFold(sub, "idletime"):
		c.wr.Int(int64(time.Since(time.Unix(0, m.ModTime)) / time.Second))
	default:
		c.err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	}
}

func (c *conn) encoding(key []byte, m *engine.Meta) string {
	switch m.Type {
	case engine.TypeHash, engine.TypeSet:
		return "hashtable"
	case engine.TypeList:
		return "quicklist"
	case engine.TypeZSet:
		return "skiplist"
	case engine.TypeBitmap, engine.TypeHyperLogLog, engine.TypeBloom, engine.TypeSortedInt:
		return "raw" // as Redis names the strings holding bitmaps and HLLs
	case engine.TypeStream:
		return "stream"
	case engine.TypeJSON:
		return "raw" // the document is one encoded value
	}
	if m.Size > 44 {
		return "raw"
	}
	if m.Size <= 20 {
		if v, err := c.eng.Get(c.ns, key); err == nil {
			_, isInt := parseStoredInt(v.Bytes())
			v.Release()
			if isInt {
				return "int"
			}
		}
	}
	return "embstr"
}
