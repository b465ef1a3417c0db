package resp

import (
	"sort"
	"strings"
)

// defaultNamespace is the name KVRocks gives the default namespace
// (keyspace "" here).
const defaultNamespace = "__namespace"

func serverCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "info", arity: -1, flags: flagLoading, fn: (*conn).cmdInfo},
		{name: "config", arity: -2, flags: flagAdmin | flagLoading, fn: (*conn).cmdConfig},
		{name: "dbsize", arity: -1, flags: flagReadonly | flagFast, fn: (*conn).cmdDBSize},
		{name: "flushdb", arity: -1, flags: flagWrite, fn: (*conn).cmdFlushDB},
		{name: "flushall", arity: -1, flags: flagWrite | flagAdmin, fn: (*conn).cmdFlushAll},
		{name: "command", arity: -1, flags: flagLoading, fn: (*conn).cmdCommand},
		{name: "namespace", arity: -2, flags: flagAdmin, fn: (*conn).cmdNamespace},
		{name: "role", arity: 1, flags: flagFast | flagLoading, fn: (*conn).cmdRole},
		{name: "slowlog", arity: -2, flags: flagAdmin | flagLoading, fn: (*conn).cmdSlowlog},
		{name: "slaveof", arity: 3, flags: flagAdmin, fn: (*conn).cmdReplicaOf},
		{name: "replicaof", arity: 3, flags: flagAdmin, fn: (*conn).cmdReplicaOf},
	}
}

// CONFIG GET pattern | SET key value | REWRITE
func (c *conn) cmdConfig(cmd *Command) {
	args := cmd.Args
	sub := args[1]
	cs := c.s.cs
	switch {
	case eqFold(sub, "get") && len(args) == 3:
		var pairs [][2]string
		if cs != nil {
			pairs = cs.Get(string(args[2]))
		}
		c.wr.Map(len(pairs))
		for _, p := range pairs {
			c.wr.BulkString(p[0])
			c.wr.BulkString(p[1])
		}
	case eqFold(sub, "set") && len(args) == 4:
		key, val := string(args[2]), string(args[3])
		if cs == nil {
			c.err("ERR CONFIG SET '" + key + "' error: configuration is read-only")
			return
		}
		if err := cs.Set(key, val); err != nil {
			c.err("ERR CONFIG SET '" + key + "' error: " + err.Error())
			return
		}
		c.s.applyConfig(key, val)
		c.wr.OK()
	case eqFold(sub, "rewrite") && len(args) == 2:
		if cs == nil {
			c.err("ERR The server is running without a config file")
			return
		}
		if err := cs.Rewrite(); err != nil {
			c.err("ERR " + err.Error())
			return
		}
		c.wr.OK()
	case eqFold(sub, "resetstat") && len(args) == 2:
		c.s.ResetStats() // commandstats.go
		c.wr.OK()
	case eqFold(sub, "get"), eqFold(sub, "set"), eqFold(sub, "rewrite"), eqFold(sub, "resetstat"):
		c.wrongArgs()
	default:
		c.err("ERR CONFIG subcommand must be one of GET, SET, REWRITE")
	}
}

// DBSIZE [SCAN]: the engine counts keys exactly, so SCAN has nothing to do.
func (c *conn) cmdDBSize(cmd *Command) {
	switch {
	case len(cmd.Args) == 1:
		c.wr.Int(c.eng.DBSize(c.keyspace()))
	case len(cmd.Args) == 2 && eqFold(cmd.Args[1], "scan"):
		c.wr.OK()
	default:
		c.err("ERR DBSIZE subcommand only supports scan")
	}
}

// FLUSHDB [ASYNC|SYNC] empties the connection's namespace.
func (c *conn) cmdFlushDB(cmd *Command) {
	if !flushModeOK(cmd.Args) {
		c.syntaxErr()
		return
	}
	if err := c.eng.Flush(c.keyspace()); err != nil {
		c.replyErr(err)
		return
	}
	c.dirty = true
	c.wr.OK()
}

// FLUSHALL [ASYNC|SYNC] empties every namespace.
func (c *conn) cmdFlushAll(cmd *Command) {
	if !flushModeOK(cmd.Args) {
		c.syntaxErr()
		return
	}
	if err := c.eng.FlushAll(); err != nil {
		c.replyErr(err)
		return
	}
	c.dirty = true
	c.wr.OK()
}

func flushModeOK(args [][]byte) bool {
	return len(args) == 1 || (len(args) == 2 && (eqFold(args[1], "async") || eqFold(args[1], "sync")))
}

// SLAVEOF|REPLICAOF NO ONE: already a master, OK. Any other form is
// refused: there is no replication, and accepting it would leave a
// writable master where a replica was asked for.
func (c *conn) cmdReplicaOf(cmd *Command) {
	if eqFold(cmd.Args[1], "no") && eqFold(cmd.Args[2], "one") {
		c.wr.OK()
		return
	}
	c.err(errNoReplication)
}

// ROLE: a standalone master.
func (c *conn) cmdRole(cmd *Command) {
	c.wr.Array(3)
	c.wr.BulkString("master")
	c.wr.Int(0)
	c.wr.Array(0)
}

// COMMAND [COUNT | INFO name... | DOCS [name...] | GETKEYS cmd args... | LIST]
func (c *conn) cmdCommand(cmd *Command) {
	args := cmd.Args
	t := c.s.commands
	if len(args) == 1 {
		c.wr.Array(len(t.list))
		for _, s := range t.list {
			c.commandInfo(s)
		}
		return
	}
	sub := args[1]
	switch {
	case eqFold(sub, "count") && len(args) == 2:
		c.wr.Int(int64(len(t.list)))
	case eqFold(sub, "info") && len(args) >= 2:
		if len(args) == 2 {
			c.wr.Array(len(t.list))
			for _, s := range t.list {
				c.commandInfo(s)
			}
			return
		}
		c.wr.Array(len(args) - 2)
		for _, name := range args[2:] {
			if s := t.lookup(name); s != nil {
				c.commandInfo(s)
			} else {
				c.wr.NullArray()
			}
		}
	case eqFold(sub, "docs"):
		// No documentation is served; clients fall back gracefully.
		c.wr.Map(0)
	case eqFold(sub, "list") && len(args) == 2:
		c.wr.Array(len(t.list))
		for _, s := range t.list {
			c.wr.BulkString(s.name)
		}
	case eqFold(sub, "getkeys") && len(args) >= 3:
		s := t.lookup(args[2])
		if s == nil {
			c.err("ERR Invalid command specified")
			return
		}
		rest := args[2:]
		if !s.arityOK(len(rest)) {
			c.err("ERR Invalid number of arguments specified for command")
			return
		}
		var idx [16]int
		keys := s.keyIndexes(idx[:0], len(rest))
		if len(keys) == 0 {
			c.err("ERR Invalid arguments specified for command")
			return
		}
		c.wr.Array(len(keys))
		for _, i := range keys {
			c.wr.Bulk(rest[i])
		}
	case eqFold(sub, "count"), eqFold(sub, "getkeys"), eqFold(sub, "list"):
		c.wrongArgs()
	default:
		c.err("ERR Command subcommand must be one of COUNT, GETKEYS, INFO")
	}
}

// commandInfo writes a command's COMMAND INFO entry.
func (c *conn) commandInfo(s *cmdSpec) {
	w := c.wr
	w.Array(6)
	w.BulkString(s.name)
	w.Int(int64(s.arity))
	n := 0
	for _, f := range flagNames {
		if s.flags&f.f != 0 {
			n++
		}
	}
	w.Set(n)
	for _, f := range flagNames {
		if s.flags&f.f != 0 {
			w.Simple(f.name)
		}
	}
	w.Int(int64(s.first))
	w.Int(int64(s.last))
	w.Int(int64(s.step))
}

// NAMESPACE GET name|* | SET name token | ADD name token | DEL name | CURRENT
func (c *conn) cmdNamespace(cmd *Command) {
	args := cmd.Args
	sub := args[1]
	s := c.s
	switch {
	case eqFold(sub, "get") && len(args) == 3:
		l := s.live.Load()
		if string(args[2]) == "*" {
			names := make([]string, 0, len(l.names))
			for name := range l.names {
				names = append(names, name)
			}
			sort.Strings(names)
			c.wr.Array(2*len(names) + 2)
			for _, name := range names {
				c.wr.BulkString(name)
				c.wr.BulkString(l.names[name])
			}
			c.wr.BulkString(defaultNamespace)
			c.wr.BulkString(l.requirePass)
			return
		}
		if token, ok := l.names[string(args[2])]; ok {
			c.wr.BulkString(token)
		} else {
			c.wr.Null()
		}
	case (eqFold(sub, "set") || eqFold(sub, "add")) && len(args) == 4:
		name, token := string(args[2]), string(args[3])
		if eqFold(sub, "add") {
			l := s.live.Load()
			if old, ok := l.names[name]; ok {
				if old == token {
					c.wr.OK()
					return
				}
				c.err("ERR the namespace already exists")
				return
			}
			if _, ok := l.tokens[token]; ok {
				c.err("ERR the token already exists")
				return
			}
		}
		if err := s.setNamespace(name, token); err != nil {
			c.replyErr(err)
			return
		}
		c.wr.OK()
	case eqFold(sub, "del") && len(args) == 3:
		if err := s.setNamespace(string(args[2]), ""); err != nil {
			c.replyErr(err)
			return
		}
		c.wr.OK()
	case eqFold(sub, "current") && len(args) == 2:
		ns := c.keyspace()
		if ns == "" {
			ns = defaultNamespace
		}
		c.wr.BulkString(ns)
	default:
		c.err("ERR NAMESPACE subcommand must be one of GET, SET, DEL, ADD")
	}
}

// setNamespace sets a namespace's token (empty token: deletes it) with
// KVRocks's rules, records it in the config store and rewrites the config
// file, as KVRocks does.
func (s *Server) setNamespace(name, token string) error {
	l := s.live.Load()
	switch {
	case token == "" && name == defaultNamespace:
		return replyError("ERR forbidden to delete the default namespace")
	case s.cs == nil:
		return replyError("ERR modify namespace requires the server is running with a configuration file or enabled namespace replication")
	case token == "":
		if _, ok := l.names[name]; !ok {
			return replyError("ERR the namespace was not found")
		}
	case l.requirePass == "":
		return replyError("ERR forbidden to add namespace when requirepass was empty")
	case s.cfg.ClusterEnabled:
		return replyError("ERR forbidden to add namespace when cluster mode was enabled")
	case name == defaultNamespace:
		return replyError("ERR forbidden to add the default namespace")
	case token == l.requirePass:
		return replyError("ERR the token is duplicated with requirepass or masterauth")
	case len(name) > 255:
		return replyError("ERR size exceed limit 255")
	}
	if other, ok := l.tokens[token]; ok && token != "" {
		if other == name {
			return nil
		}
		return replyError("ERR the token already exists")
	}
	key := "namespace." + name
	if err := s.cs.Set(key, token); err != nil {
		return replyError("ERR " + strings.TrimSpace(err.Error()))
	}
	if err := s.applyConfig(key, token); err != nil {
		return err
	}
	if err := s.cs.Rewrite(); err != nil {
		return replyError("ERR " + strings.TrimSpace(err.Error()))
	}
	return nil
}
