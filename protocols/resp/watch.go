package resp

// WATCH key [key ...] watches keys for the next EXEC of the connection: if
// any of them changes before EXEC (any write, by any client or front end,
// its deletion or expiry, FLUSHDB/FLUSHALL), EXEC runs nothing and answers
// a nil array. The watches end with EXEC, DISCARD, UNWATCH, RESET and the
// connection. Keys are watched in the connection's namespace, as it is
// when WATCH runs.
func (c *conn) cmdWatch(cmd *Command) {
	if c.inMulti() {
		// NB: Redis does not fail the transaction for it.
		c.err(errWatchInMulti)
		return
	}
	if c.tx == nil {
		c.tx = &txState{}
	}
	if c.tx.watch == nil {
		c.tx.watch = c.eng.NewWatch()
	}
	for _, k := range cmd.Args[1:] {
		if err := c.tx.watch.Add(c.ns, k); err != nil {
			c.replyErr(err)
			return
		}
	}
	c.wr.OK()
}

// UNWATCH forgets every watched key.
func (c *conn) cmdUnwatch(cmd *Command) {
	if c.tx != nil && c.tx.watch != nil {
		c.tx.watch.Close()
	}
	c.wr.OK()
}
