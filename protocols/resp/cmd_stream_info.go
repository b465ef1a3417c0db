package resp

import (
	"github.com/gpucache/gpucache/engine"
)

// XINFO STREAM key [FULL [COUNT count]] | GROUPS key | CONSUMERS key group | HELP
func (c *conn) cmdXInfo(cmd *Command) {
	args := cmd.Args
	sub := args[1]
	switch {
	case eqFold(sub, "help"):
		if len(args) != 2 {
			c.err(subcommandArity("xinfo", sub))
			return
		}
		c.streamHelp("XINFO", xinfoHelp)
		return
	case eqFold(sub, "stream"):
		if len(args) < 3 {
			c.err(subcommandArity("xinfo", sub))
			return
		}
	case eqFold(sub, "groups"):
		if len(args) != 3 {
			c.err(subcommandArity("xinfo", sub))
			return
		}
	case eqFold(sub, "consumers"):
		if len(args) != 4 {
			c.err(subcommandArity("xinfo", sub))
			return
		}
	default:
		c.err(subcommandErr("XINFO", sub))
		return
	}
	key := args[2]
	mark := c.wr.Mark()
	err := c.eng.Txn(c.ns, args[2:3], func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeStream)
		if err != nil {
			return err
		}
		if !exists {
			return replyError(errNoSuchKey)
		}
		switch {
		case eqFold(sub, "consumers"):
			return c.xinfoConsumers(t, key, args[3])
		case eqFold(sub, "groups"):
			return c.xinfoGroups(t)
		}
		full, count := false, int64(10)
		if len(args) > 3 {
			if !eqFold(args[3], "full") {
				return replyError("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try XINFO HELP.")
			}
			full = true
			switch {
			case len(args) == 6 && eqFold(args[4], "count"):
				n, ok := parseStrictInt(args[5])
				if !ok {
					return replyError(errNotInteger)
				}
				if n < 0 {
					n = 10
				}
				count = n
			case len(args) != 4:
				return replyError("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try XINFO HELP.")
			}
		}
		return c.xinfoStream(t, full, count)
	})
	if err != nil {
		c.wr.Reset(mark)
		c.replyErr(err)
	}
}

// radixEstimate stands in for Redis's radix-tree-keys and -nodes, which
// describe its in-memory layout (a node per 100 entries): the figures a
// stream of that length built by XADD would show.
func radixEstimate(length int64) (keys, nodes int64) {
	keys = (length + 99) / 100
	return keys, keys + 1
}

func (c *conn) xinfoStream(t *engine.Txn, full bool, count int64) error {
	info := t.StreamInfo(0)
	var first, last streamEntries
	var all streamEntries
	if full {
		err := t.StreamRange(0, engine.StreamID{}, engine.MaxStreamID, false, func(id engine.StreamID, fields [][]byte) bool {
			all.add(id, fields)
			return count == 0 || int64(all.len()) < count
		})
		if err != nil {
			return err
		}
	} else if info.Length > 0 {
		for _, x := range []struct {
			id  engine.StreamID
			out *streamEntries
		}{{info.FirstID, &first}, {info.LastEntry, &last}} {
			err := t.StreamRange(0, x.id, x.id, false, func(id engine.StreamID, fields [][]byte) bool {
				x.out.add(id, fields)
				return false
			})
			if err != nil {
				return err
			}
		}
	}
	rk, rn := radixEstimate(info.Length)
	if full {
		c.wr.Map(9)
	} else {
		c.wr.Map(10)
	}
	c.wr.BulkString("length")
	c.wr.Int(info.Length)
	c.wr.BulkString("radix-tree-keys")
	c.wr.Int(rk)
	c.wr.BulkString("radix-tree-nodes")
	c.wr.Int(rn)
	c.wr.BulkString("last-generated-id")
	c.streamID(info.LastID)
	c.wr.BulkString("max-deleted-entry-id")
	c.streamID(info.MaxDeleted)
	c.wr.BulkString("entries-added")
	c.wr.Int(int64(info.EntriesAdded))
	c.wr.BulkString("recorded-first-entry-id")
	c.streamID(info.FirstID)
	if !full {
		c.wr.BulkString("groups")
		c.wr.Int(int64(info.Groups))
		c.wr.BulkString("first-entry")
		c.writeFirst(&first)
		c.wr.BulkString("last-entry")
		c.writeFirst(&last)
		return nil
	}
	c.wr.BulkString("entries")
	c.writeEntries(&all)
	c.wr.BulkString("groups")
	type gi struct {
		name []byte
		g    engine.StreamGroup
	}
	var groups []gi
	err := t.StreamGroups(0, func(name []byte, g engine.StreamGroup) bool {
		groups = append(groups, gi{append([]byte(nil), name...), g})
		return true
	})
	if err != nil {
		return err
	}
	c.wr.Array(len(groups))
	for _, x := range groups {
		c.wr.Map(7)
		c.wr.BulkString("name")
		c.wr.Bulk(x.name)
		c.wr.BulkString("last-delivered-id")
		c.streamID(x.g.LastID)
		c.wr.BulkString("entries-read")
		if x.g.EntriesRead == -1 {
			c.wr.Null()
		} else {
			c.wr.Int(x.g.EntriesRead)
		}
		c.wr.BulkString("lag")
		if lag, ok := groupLag(&info, &x.g); ok {
			c.wr.Int(lag)
		} else {
			c.wr.Null()
		}
		c.wr.BulkString("pel-count")
		c.wr.Int(x.g.Pending)
		type pe struct {
			id engine.StreamID
			p  engine.StreamPending
		}
		var pel []pe
		perConsumer := map[string][]int{}
		err := t.StreamPendingRange(0, x.name, engine.StreamID{}, engine.MaxStreamID, func(id engine.StreamID, p engine.StreamPending) bool {
			p.Consumer = append([]byte(nil), p.Consumer...)
			perConsumer[string(p.Consumer)] = append(perConsumer[string(p.Consumer)], len(pel))
			pel = append(pel, pe{id, p})
			return true
		})
		if err != nil {
			return err
		}
		c.wr.BulkString("pending")
		n := len(pel)
		if count > 0 && int64(n) > count {
			n = int(count)
		}
		c.wr.Array(n)
		for _, e := range pel[:n] {
			c.wr.Array(4)
			c.streamID(e.id)
			c.wr.Bulk(e.p.Consumer)
			c.wr.Int(e.p.DeliveryTime)
			c.wr.Int(e.p.DeliveryCount)
		}
		type ci struct {
			name []byte
			c    engine.StreamConsumer
		}
		var cs []ci
		err = t.StreamConsumers(0, x.name, func(name []byte, sc engine.StreamConsumer) bool {
			cs = append(cs, ci{append([]byte(nil), name...), sc})
			return true
		})
		if err != nil {
			return err
		}
		c.wr.BulkString("consumers")
		c.wr.Array(len(cs))
		for _, cc := range cs {
			mine := perConsumer[string(cc.name)]
			c.wr.Map(4)
			c.wr.BulkString("name")
			c.wr.Bulk(cc.name)
			c.wr.BulkString("seen-time")
			c.wr.Int(cc.c.SeenTime)
			c.wr.BulkString("pel-count")
			c.wr.Int(int64(len(mine)))
			c.wr.BulkString("pending")
			m := len(mine)
			if count > 0 && int64(m) > count {
				m = int(count)
			}
			c.wr.Array(m)
			for _, k := range mine[:m] {
				c.wr.Array(3)
				c.streamID(pel[k].id)
				c.wr.Int(pel[k].p.DeliveryTime)
				c.wr.Int(pel[k].p.DeliveryCount)
			}
		}
	}
	return nil
}

// writeFirst writes XINFO STREAM's first-entry/last-entry: the entry, or
// nil.
func (c *conn) writeFirst(s *streamEntries) {
	if s.len() == 0 {
		c.wr.Null()
		return
	}
	c.wr.Array(2)
	c.streamID(s.ids[0])
	c.wr.Array(s.nf[0])
	off := 0
	for j := 0; j < s.nf[0]; j++ {
		c.wr.Bulk(s.buf[off:s.ends[j]])
		off = s.ends[j]
	}
}

func (c *conn) xinfoGroups(t *engine.Txn) error {
	info := t.StreamInfo(0)
	type gi struct {
		name []byte
		g    engine.StreamGroup
	}
	var groups []gi
	err := t.StreamGroups(0, func(name []byte, g engine.StreamGroup) bool {
		groups = append(groups, gi{append([]byte(nil), name...), g})
		return true
	})
	if err != nil {
		return err
	}
	c.wr.Array(len(groups))
	for _, x := range groups {
		c.wr.Map(6)
		c.wr.BulkString("name")
		c.wr.Bulk(x.name)
		c.wr.BulkString("consumers")
		c.wr.Int(x.g.Consumers)
		c.wr.BulkString("pending")
		c.wr.Int(x.g.Pending)
		c.wr.BulkString("last-delivered-id")
		c.streamID(x.g.LastID)
		c.wr.BulkString("entries-read")
		if x.g.EntriesRead == -1 {
			c.wr.Null()
		} else {
			c.wr.Int(x.g.EntriesRead)
		}
		c.wr.BulkString("lag")
		if lag, ok := groupLag(&info, &x.g); ok {
			c.wr.Int(lag)
		} else {
			c.wr.Null()
		}
	}
	return nil
}

func (c *conn) xinfoConsumers(t *engine.Txn, key, group []byte) error {
	_, ok, err := t.StreamGetGroup(0, group)
	if err != nil {
		return err
	}
	if !ok {
		return errNoGroupFor(key, group)
	}
	counts := map[string]int64{}
	err = t.StreamPendingRange(0, group, engine.StreamID{}, engine.MaxStreamID, func(_ engine.StreamID, p engine.StreamPending) bool {
		counts[string(p.Consumer)]++
		return true
	})
	if err != nil {
		return err
	}
	type ci struct {
		name []byte
		c    engine.StreamConsumer
	}
	var cs []ci
	err = t.StreamConsumers(0, group, func(name []byte, sc engine.StreamConsumer) bool {
		cs = append(cs, ci{append([]byte(nil), name...), sc})
		return true
	})
	if err != nil {
		return err
	}
	now := nowMillis()
	c.wr.Array(len(cs))
	for _, x := range cs {
		c.wr.Map(3)
		c.wr.BulkString("name")
		c.wr.Bulk(x.name)
		c.wr.BulkString("pending")
		c.wr.Int(counts[string(x.name)])
		c.wr.BulkString("idle")
		c.wr.Int(max(now-x.c.SeenTime, 0))
	}
	return nil
}
