package resp

import (
	"errors"
	"math"

	"github.com/gpucache/gpucache/engine"
)

// Bloom filter commands as KVRocks implements them (scalable chains of
// block-split filters), with its replies and errors.
func bloomCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "bf.reserve", arity: -4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdBFReserve},
		{name: "bf.add", arity: 3, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdBFAdd},
		{name: "bf.madd", arity: -3, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdBFMAdd},
		{name: "bf.insert", arity: -4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdBFInsert},
		{name: "bf.exists", arity: 3, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdBFExists},
		{name: "bf.mexists", arity: -3, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdBFMExists},
		{name: "bf.info", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdBFInfo},
		{name: "bf.card", arity: 2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdBFCard},
	}
}

const (
	errBFBadErrorRate = "ERR Bad error rate"
	errBFBadCapacity  = "ERR Bad capacity"
	errBFBadExpansion = "ERR Bad expansion"
	errBFErrorRate    = "ERR error rate should be between 0 and 1"
	errBFCapacity     = "ERR capacity should be larger than 0"
	errBFExpansion    = "ERR expansion should be greater or equal to 1"
	errBFNonscaling   = "ERR nonscaling filters cannot expand"
	errBFFull         = "ERR nonscaling filter is full"
	errBFExists       = "ERR the key already exists"
	errBFNotFound     = "ERR key is not found"
	errBFInfoArg      = "ERR Invalid info argument"
	errBFNoItems      = "ERR num of items should be greater than 0"
	maxBloomExpansion = math.MaxUint16
	maxBloomCapacity  = math.MaxUint32
)

func defaultBloom() engine.BloomParams {
	return engine.BloomParams{Capacity: engine.BloomDefaultCapacity, ErrorRate: engine.BloomDefaultErrorRate, Expansion: engine.BloomDefaultExpansion}
}

func parseBloomErrorRate(b []byte) (float64, string) {
	f, ok := parseScore(b)
	if !ok {
		return 0, errBFBadErrorRate
	}
	if f >= 1 || f <= 0 {
		return 0, errBFErrorRate
	}
	return f, ""
}

func parseBloomCapacity(b []byte) (uint32, string) {
	n, ok := parseArgInt(b)
	if !ok || n < 0 || n > maxBloomCapacity {
		return 0, errBFBadCapacity
	}
	if n == 0 {
		return 0, errBFCapacity
	}
	return uint32(n), ""
}

func parseBloomExpansion(b []byte) (uint16, string) {
	n, ok := parseArgInt(b)
	if !ok || n < 0 || n > maxBloomExpansion {
		return 0, errBFBadExpansion
	}
	if n < 1 {
		return 0, errBFExpansion
	}
	return uint16(n), ""
}

// BF.RESERVE key error_rate capacity [EXPANSION expansion] [NONSCALING]
func (c *conn) cmdBFReserve(cmd *Command) {
	args := cmd.Args
	p := defaultBloom()
	var e string
	if p.ErrorRate, e = parseBloomErrorRate(args[2]); e != "" {
		c.err(e)
		return
	}
	if p.Capacity, e = parseBloomCapacity(args[3]); e != "" {
		c.err(e)
		return
	}
	nonscaling, hasExp := false, false
	for i := 4; i < len(args); i++ {
		switch {
		case eqFold(args[i], "nonscaling"):
			nonscaling, p.Expansion = true, 0
		case eqFold(args[i], "expansion"):
			hasExp = true
			if i+1 >= len(args) {
				c.err(errBFBadExpansion)
				return
			}
			if p.Expansion, e = parseBloomExpansion(args[i+1]); e != "" {
				c.err(e)
				return
			}
			i++
		default:
			c.syntaxErr()
			return
		}
	}
	if nonscaling && hasExp {
		c.err(errBFNonscaling)
		return
	}
	if err := c.eng.Txn(c.ns, args[1:2], func(t *engine.Txn) error { return t.BloomReserve(0, p) }); err != nil {
		c.bloomErr(err)
		return
	}
	c.dirty = true
	c.wr.OK()
}

func (c *conn) bloomErr(err error) {
	switch {
	case errors.Is(err, engine.ErrBloomExists):
		c.err(errBFExists)
	case errors.Is(err, engine.ErrNotFound):
		c.err(errBFNotFound)
	default:
		c.replyErr(err)
	}
}

// bloomAdd adds items and returns the results; false after replying an
// error.
func (c *conn) bloomAdd(key []byte, items [][]byte, p engine.BloomParams, create bool) ([]engine.BloomResult, bool) {
	var res []engine.BloomResult
	err := c.eng.Txn(c.ns, [][]byte{key}, func(t *engine.Txn) error {
		var err error
		res, err = t.BloomAdd(0, items, p, create)
		return err
	})
	if err != nil {
		c.bloomErr(err)
		return nil, false
	}
	c.dirty = true
	return res, true
}

func (c *conn) bloomResult(r engine.BloomResult) {
	switch r {
	case engine.BloomAdded:
		c.wr.Int(1)
	case engine.BloomExisted:
		c.wr.Int(0)
	default:
		c.err(errBFFull)
	}
}

func (c *conn) bloomResults(res []engine.BloomResult) {
	c.wr.Array(len(res))
	for _, r := range res {
		c.bloomResult(r)
	}
}

// BF.ADD key item
func (c *conn) cmdBFAdd(cmd *Command) {
	if res, ok := c.bloomAdd(cmd.Args[1], cmd.Args[2:3], defaultBloom(), true); ok {
		c.bloomResult(res[0])
	}
}

// BF.MADD key item [item ...]
func (c *conn) cmdBFMAdd(cmd *Command) {
	if res, ok := c.bloomAdd(cmd.Args[1], cmd.Args[2:], defaultBloom(), true); ok {
		c.bloomResults(res)
	}
}

// BF.INSERT key [CAPACITY capacity] [ERROR error] [EXPANSION expansion]
// [NOCREATE] [NONSCALING] ITEMS item [item ...]
func (c *conn) cmdBFInsert(cmd *Command) {
	args := cmd.Args
	p := defaultBloom()
	create, nonscaling, hasExp := true, false, false
	items := -1
	var e string
	for i := 2; i < len(args) && items < 0; i++ {
		a := args[i]
		switch {
		case eqFold(a, "capacity"):
			if i+1 >= len(args) {
				c.err(errBFBadCapacity)
				return
			}
			if p.Capacity, e = parseBloomCapacity(args[i+1]); e != "" {
				c.err(e)
				return
			}
			i++
		case eqFold(a, "error"):
			if i+1 >= len(args) {
				c.err(errBFBadErrorRate)
				return
			}
			if p.ErrorRate, e = parseBloomErrorRate(args[i+1]); e != "" {
				c.err(e)
				return
			}
			i++
		case eqFold(a, "nocreate"):
			create = false
		case eqFold(a, "nonscaling"):
			nonscaling, p.Expansion = true, 0
		case eqFold(a, "expansion"):
			hasExp = true
			if i+1 >= len(args) {
				c.err(errBFBadExpansion)
				return
			}
			if p.Expansion, e = parseBloomExpansion(args[i+1]); e != "" {
				c.err(e)
				return
			}
			i++
		case eqFold(a, "items"):
			items = i + 1
		default:
			c.syntaxErr()
			return
		}
	}
	switch {
	case nonscaling && hasExp:
		c.err(errBFNonscaling)
		return
	case items < 0:
		c.syntaxErr()
		return
	case items >= len(args):
		c.err(errBFNoItems)
		return
	}
	if res, ok := c.bloomAdd(args[1], args[items:], p, create); ok {
		c.bloomResults(res)
	}
}

func (c *conn) bloomExists(key []byte, items [][]byte) ([]bool, bool) {
	var out []bool
	return out, c.txn([][]byte{key}, false, func(t *engine.Txn) error {
		var err error
		out, err = t.BloomExists(0, items)
		return err
	})
}

// BF.EXISTS key item
func (c *conn) cmdBFExists(cmd *Command) {
	if out, ok := c.bloomExists(cmd.Args[1], cmd.Args[2:3]); ok {
		c.wr.Int(b2i(out[0]))
	}
}

// BF.MEXISTS key item [item ...]
func (c *conn) cmdBFMExists(cmd *Command) {
	if out, ok := c.bloomExists(cmd.Args[1], cmd.Args[2:]); ok {
		c.wr.Array(len(out))
		for _, b := range out {
			c.wr.Int(b2i(b))
		}
	}
}

// BF.INFO key [CAPACITY|SIZE|FILTERS|ITEMS|EXPANSION]
func (c *conn) cmdBFInfo(cmd *Command) {
	args := cmd.Args
	if len(args) > 3 {
		c.wrongArgs()
		return
	}
	what := ""
	if len(args) == 3 {
		for _, w := range []string{"capacity", "size", "filters", "items", "expansion"} {
			if eqFold(args[2], w) {
				what = w
			}
		}
		if what == "" {
			c.err(errBFInfoArg)
			return
		}
	}
	var info engine.BloomInfo
	var found bool
	if !c.txn(args[1:2], false, func(t *engine.Txn) error {
		var err error
		info, found, err = t.BloomInfo(0)
		return err
	}) {
		return
	}
	if !found {
		c.err(errBFNotFound)
		return
	}
	expansion := func() {
		if info.Expansion == 0 {
			c.wr.Null()
		} else {
			c.wr.Int(int64(info.Expansion))
		}
	}
	switch what {
	case "":
		c.wr.Array(10)
		c.wr.Simple("Capacity")
		c.wr.Int(int64(info.Capacity))
		c.wr.Simple("Size")
		c.wr.Int(int64(info.Bytes))
		c.wr.Simple("Number of filters")
		c.wr.Int(int64(info.Filters))
		c.wr.Simple("Number of items inserted")
		c.wr.Int(info.Items)
		c.wr.Simple("Expansion rate")
		expansion()
	case "capacity":
		c.wr.Int(int64(info.Capacity))
	case "size":
		c.wr.Int(int64(info.Bytes))
	case "filters":
		c.wr.Int(int64(info.Filters))
	case "items":
		c.wr.Int(info.Items)
	default:
		expansion()
	}
}

// BF.CARD key
func (c *conn) cmdBFCard(cmd *Command) {
	var info engine.BloomInfo
	if c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		var err error
		info, _, err = t.BloomInfo(0)
		return err
	}) {
		c.wr.Int(info.Items)
	}
}
