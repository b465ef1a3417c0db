package resp

import "github.com/gpucache/gpucache/engine"

// HyperLogLog commands: Redis's algorithm and estimates, KVRocks's
// storage (a type of its own, registers in segments as sub-keys).
func hllCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "pfadd", arity: -2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdPFAdd},
		{name: "pfcount", arity: -2, flags: flagReadonly, first: 1, last: -1, step: 1, fn: (*conn).cmdPFCount},
		{name: "pfmerge", arity: -2, flags: flagWrite, first: 1, last: -1, step: 1, fn: (*conn).cmdPFMerge},
	}
}

// PFADD key [element ...]
func (c *conn) cmdPFAdd(cmd *Command) {
	var changed bool
	if c.txn(cmd.Args[1:2], true, func(t *engine.Txn) error {
		var err error
		changed, err = t.HLLAdd(0, cmd.Args[2:])
		return err
	}) {
		c.wr.Int(b2i(changed))
	}
}

// PFCOUNT key [key ...]: the estimated cardinality of the union.
func (c *conn) cmdPFCount(cmd *Command) {
	var n uint64
	if len(cmd.Args) == 2 {
		if c.txn(cmd.Args[1:], false, func(t *engine.Txn) error {
			var err error
			n, err = t.HLLCount(0)
			return err
		}) {
			c.wr.Int(int64(n))
		}
		return
	}
	if c.txn(cmd.Args[1:], false, func(t *engine.Txn) error {
		regs := new([engine.HLLRegisters]uint8)
		for i := range cmd.Args[1:] {
			if _, err := t.HLLRegisters(i, regs); err != nil {
				return err
			}
		}
		n = engine.HLLCount(regs)
		return nil
	}) {
		c.wr.Int(int64(n))
	}
}

// PFMERGE destkey [sourcekey ...]
func (c *conn) cmdPFMerge(cmd *Command) {
	if c.txn(cmd.Args[1:], true, func(t *engine.Txn) error {
		regs := new([engine.HLLRegisters]uint8)
		for i := range cmd.Args[1:] {
			if _, err := t.HLLRegisters(i, regs); err != nil {
				return err
			}
		}
		return t.HLLStore(0, regs)
	}) {
		c.wr.OK()
	}
}
