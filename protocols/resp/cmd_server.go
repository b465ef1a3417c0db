package resp

import (
	"context"
	"errors"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpucache/gpucache/engine"
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
		{name: "bgsave", arity: 1, flags: flagAdmin, fn: (*conn).cmdBGSave},
		{name: "lastsave", arity: -1, flags: flagAdmin, fn: (*conn).cmdLastSave},
		{name: "flushbackup", arity: 1, flags: flagAdmin, fn: (*conn).cmdFlushBackup},
		{name: "compact", arity: 1, fn: (*conn).cmdCompact},
		{name: "flushmemtable", arity: -1, flags: flagAdmin, fn: (*conn).cmdFlushMemTable},
		{name: "disk", arity: 3, flags: flagReadonly, first: 2, last: 2, step: 1, fn: (*conn).cmdDisk},
		{name: "memory", arity: 3, flags: flagReadonly, first: 2, last: 2, step: 1, fn: (*conn).cmdDisk},
		{name: "debug", arity: -2, fn: (*conn).cmdDebug},
		{name: "perflog", arity: -2, flags: flagReadonly, fn: (*conn).cmdPerflog},
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

// COMMAND [COUNT | INFO [name...] | DOCS [name...] | GETKEYS cmd args... |
// GETKEYSANDFLAGS cmd args... | LIST [FILTERBY MODULE m|ACLCAT c|PATTERN p]]
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
	case eqFold(sub, "info"):
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
		specs := t.list
		if len(args) > 2 {
			specs = nil
			for _, name := range args[2:] {
				if s := t.lookup(name); s != nil {
					specs = append(specs, s)
				}
			}
		}
		c.wr.Map(len(specs))
		for _, s := range specs {
			c.wr.BulkString(s.name)
			c.writeDocs(s)
		}
	case eqFold(sub, "list"):
		var by, arg string
		switch {
		case len(args) == 2:
		case len(args) == 5 && eqFold(args[2], "filterby") &&
			(eqFold(args[3], "module") || eqFold(args[3], "aclcat") || eqFold(args[3], "pattern")):
			by, arg = strings.ToLower(string(args[3])), string(args[4])
		default:
			c.syntaxErr()
			return
		}
		var names []string
		for _, s := range t.list {
			if by == "" || commandListed(s, by, arg) {
				names = append(names, s.name)
			}
		}
		c.wr.Array(len(names))
		for _, n := range names {
			c.wr.BulkString(n)
		}
	case (eqFold(sub, "getkeys") || eqFold(sub, "getkeysandflags")) && len(args) >= 3:
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
		keys, flags, ok := commandKeys(s, rest)
		if !ok || len(keys) == 0 {
			c.err("ERR Invalid arguments specified for command")
			return
		}
		withFlags := eqFold(sub, "getkeysandflags")
		c.wr.Array(len(keys))
		for n, i := range keys {
			if !withFlags {
				c.wr.Bulk(rest[i])
				continue
			}
			c.wr.Array(2)
			c.wr.Bulk(rest[i])
			c.wr.Set(len(flags[n]))
			for _, f := range flags[n] {
				c.wr.Simple(f)
			}
		}
	case eqFold(sub, "count"), eqFold(sub, "getkeys"), eqFold(sub, "getkeysandflags"):
		c.wrongArgs()
	default:
		c.err("ERR Command subcommand must be one of COUNT, DOCS, GETKEYS, GETKEYSANDFLAGS, INFO, LIST")
	}
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

// opsState is what the operators' commands keep between calls. The zero
// value has no backup directory (BGSAVE refuses).
type opsState struct {
	backupDir atomic.Pointer[string]

	saveMu      sync.Mutex // one BGSAVE or FLUSHBACKUP at a time
	saving      atomic.Bool
	lastSave    atomic.Int64 // unix seconds of the last successful BGSAVE; 0: none
	lastSaveErr atomic.Bool  // the last BGSAVE failed
	lastSaveSec atomic.Int64 // seconds the last BGSAVE took; -1: none yet
	compacting  atomic.Bool

	// halted is canceled by Server.Close: a running COMPACT stops early,
	// and Close waits for it and for a running BGSAVE (Server.wg).
	haltOnce sync.Once
	halted   context.Context
	cancel   context.CancelFunc
}

func (o *opsState) init() {
	o.haltOnce.Do(func() { o.halted, o.cancel = context.WithCancel(context.Background()) })
}

func (o *opsState) halt() {
	o.init()
	o.cancel()
}

// background runs fn as server work that Close waits for; false when the
// server is closing.
func (s *Server) background(fn func(ctx context.Context)) bool {
	s.ops.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.ops.halted)
	}()
	return true
}

// SetBackupDir sets backup-dir, where BGSAVE writes its copy of the store
// (a data directory gpucache starts on). Safe for concurrent use; a
// BGSAVE already running finishes in the old directory.
func (s *Server) SetBackupDir(dir string) {
	s.ops.backupDir.Store(&dir)
}

func (s *Server) backupDir() string {
	if p := s.ops.backupDir.Load(); p != nil {
		return *p
	}
	return ""
}

// BGSAVE: a consistent copy of the store in backup-dir, taken in the
// background; +OK once it has started, as KVRocks answers. Keys whose
// writes were acknowledged before the reply are in the copy.
// bgsave_in_progress and last_bgsave_* in INFO persistence follow it.
func (c *conn) cmdBGSave(cmd *Command) {
	if err := c.s.BGSave(); err != nil {
		c.err("ERR " + err.Error())
		return
	}
	c.wr.OK()
}

// BGSave starts a BGSAVE (bgsave-cron calls it): a consistent copy of the
// store in backup-dir, taken in the background. It fails when one is
// running, backup-dir is unset or the server is closing.
func (s *Server) BGSave() error {
	dir := s.backupDir()
	if dir == "" {
		return errors.New("backup-dir is not set")
	}
	if s.eng.CheckpointSupported() != nil {
		// Refused now rather than failing in the background (checkpoint.go).
		return errors.New("BGSAVE cannot copy an erasure-coded store (--ec over several devices): copy its device directories while the server is stopped")
	}
	if !s.ops.saving.CompareAndSwap(false, true) {
		return errors.New("BGSAVE in-progress")
	}
	// NB: the checkpoint starts after the request was read, so every
	// write acknowledged before it is in the copy whether or not the
	// reply goes out first.
	if !s.background(func(context.Context) { s.bgsave(dir) }) {
		s.ops.saving.Store(false)
		return errors.New("the server is shutting down")
	}
	return nil
}

func (s *Server) bgsave(dir string) {
	defer s.ops.saving.Store(false)
	s.ops.saveMu.Lock()
	defer s.ops.saveMu.Unlock()
	start := time.Now()
	err := s.eng.Checkpoint(dir)
	s.ops.lastSaveSec.Store(int64(time.Since(start).Round(time.Second) / time.Second))
	s.ops.lastSaveErr.Store(err != nil)
	if err != nil {
		s.logf("BGSAVE to %s failed: %v", dir, err)
		return
	}
	s.ops.lastSave.Store(time.Now().Unix())
	s.logf("BGSAVE to %s done in %v", dir, time.Since(start).Round(time.Millisecond))
}

// lastSaveTime is LASTSAVE: the last successful BGSAVE, or the start of
// the server when there was none (as Redis and KVRocks answer).
func (s *Server) lastSaveTime() int64 {
	if t := s.ops.lastSave.Load(); t != 0 {
		return t
	}
	return s.start.Unix()
}

// LASTSAVE [ISO8601]
func (c *conn) cmdLastSave(cmd *Command) {
	t := c.s.lastSaveTime()
	switch {
	case len(cmd.Args) > 2:
		c.err("ERR unknown extra arguments")
	case len(cmd.Args) == 2 && !eqFold(cmd.Args[1], "iso8601"):
		c.err("ERR unknown arguments")
	case len(cmd.Args) == 2:
		c.wr.BulkString(time.Unix(t, 0).Format("2006-01-02T15:04:05-0700"))
	default:
		c.wr.Int(t)
	}
}

// FLUSHBACKUP removes the backup BGSAVE left in backup-dir.
func (c *conn) cmdFlushBackup(cmd *Command) {
	s := c.s
	dir := s.backupDir()
	if dir == "" {
		c.wr.OK()
		return
	}
	if s.ops.saving.Load() {
		c.err("ERR BGSAVE in-progress")
		return
	}
	s.ops.saveMu.Lock()
	err := os.RemoveAll(dir)
	s.ops.saveMu.Unlock()
	if err != nil {
		c.err("ERR " + err.Error())
		return
	}
	s.logf("FLUSHBACKUP removed %s", dir)
	c.wr.OK()
}

// COMPACT compacts the metadata store in the background (KVRocks compacts
// RocksDB); +OK once started.
// FLUSHMEMTABLE [ASYNC]: the metadata store's memtables (and the
// write-back tier before them) are written to its sstables, as KVRocks
// flushes RocksDB's; with ASYNC the reply does not wait for the flush.
func (c *conn) cmdFlushMemTable(cmd *Command) {
	args := cmd.Args
	wait := true
	switch {
	case len(args) == 2 && strings.EqualFold(string(args[1]), "async"):
		wait = false
	case len(args) > 1:
		c.syntaxErr()
		return
	}
	if err := c.eng.FlushMemTables(wait); err != nil {
		c.err("ERR " + err.Error())
		return
	}
	c.wr.OK()
}

func (c *conn) cmdCompact(cmd *Command) {
	if err := c.s.Compact(); err != nil {
		c.err("ERR " + err.Error())
		return
	}
	c.wr.OK()
}

// Compact starts a compaction of the metadata store in the background
// (COMPACT; compact-cron calls it). It fails when one is running or the
// server is closing.
func (s *Server) Compact() error {
	if !s.ops.compacting.CompareAndSwap(false, true) {
		return errors.New("compact in-progress")
	}
	ok := s.background(func(ctx context.Context) {
		defer s.ops.compacting.Store(false)
		start := time.Now()
		if err := s.eng.CompactMetadata(ctx); err != nil {
			s.logf("COMPACT stopped: %v", err)
			return
		}
		s.logf("COMPACT done in %v", time.Since(start).Round(time.Millisecond))
	})
	if !ok {
		s.ops.compacting.Store(false)
		return errors.New("the server is shutting down")
	}
	return nil
}

// DISK USAGE key and MEMORY USAGE key: the bytes the key takes in
// storage, nil when it does not exist. KVRocks answers both with the
// on-disk size.
func (c *conn) cmdDisk(cmd *Command) {
	if !eqFold(cmd.Args[1], "usage") {
		c.err("ERR Unknown operation")
		return
	}
	n, err := c.eng.DiskUsage(c.keyspace(), cmd.Args[2])
	if errors.Is(err, engine.ErrNotFound) {
		c.wr.Null()
		return
	}
	if err != nil {
		c.replyErr(err)
		return
	}
	c.wr.Int(n)
}

// RenameCommand is rename-command: the command named from answers to to
// instead, or to nothing when to is "" (or `""`, as the file spells it).
// Call it before Serve. Errors are KVRocks's.
func (s *Server) RenameCommand(from, to string) error {
	t := s.commands
	from = strings.ToLower(from)
	spec, ok := t.m[from]
	if !ok {
		return errors.New("No such command in rename-command")
	}
	if to == `""` {
		to = ""
	}
	if to != "" {
		to = strings.ToLower(to)
		if _, ok := t.m[to]; ok {
			return errors.New("Target command name already exists")
		}
		t.m[to] = spec
	}
	delete(t.m, from)
	return nil
}
