package resp

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/engine"
)

// Slot migration's subcommands (cluster/migrate.go, cluster/import.go):
//
//	CLUSTERX MIGRATE <slot|a-b> <target id> [ASYNC | SYNC [timeout s]]
//	CLUSTER IMPORT <slot|a-b> 0|1|2      the source's link to the target
//	CLUSTER IMPORTKEY <key> <image> [MORE]  one key, on that link only
//	                                     (MORE: a part; the rest follows)
//	CLUSTER COUNTKEYSINSLOT <slot>
//	CLUSTER GETKEYSINSLOT <slot> <count>

func init() {
	registerClusterSubcommand("clusterx", "migrate", (*conn).clusterMigrate)
	registerClusterSubcommand("cluster", "import", (*conn).clusterImport)
	registerClusterSubcommand("cluster", "importkey", (*conn).clusterImportKey)
	registerClusterSubcommand("cluster", "countkeysinslot", (*conn).clusterCountKeysInSlot)
	registerClusterSubcommand("cluster", "getkeysinslot", (*conn).clusterGetKeysInSlot)
	clusterSetups = append(clusterSetups, setupMigrator)
}

// setupMigrator gives a cluster-mode server its migrator.
func setupMigrator(s *Server) {
	s.migrator = cluster.NewMigrator(cluster.MigratorConfig{
		State:    s.cluster,
		Engine:   s.eng,
		Keyspace: "",
		Password: func() string { return s.live.Load().requirePass },
		Barrier: func(fn func()) {
			s.work.mu.Lock()
			defer s.work.mu.Unlock()
			fn()
		},
		Logf: s.logf,
	})
	s.cluster.SetHooks(s.migrator.Hooks())
}

// ClusterMigrator is the server's slot migrator, nil when cluster mode is
// off.
func (s *Server) ClusterMigrator() *cluster.Migrator { return s.migrator }

// closeImport ends the import a closing connection was the link of.
func (c *conn) closeImport() {
	if c.cl.importing && c.s.migrator != nil {
		c.s.migrator.LinkClosed(c.id)
	}
}

const (
	errMigrateArgs     = "ERR wrong number of arguments"
	errMigrateSyncFlag = "ERR Invalid sync flag"
	errMigrateAsyncTmo = "ERR Async migration does not support timeout"
	errMigrateTimeout  = "ERR timeout is not an integer or out of range"
	errMigrateTmoNeg   = "ERR timeout should not be negative"
	errInvalidSlot     = "ERR Invalid slot"
	errInvalidSlotKeys = "ERR Invalid slot or number of keys"
)

// CLUSTERX MIGRATE <slot> <target id> [ASYNC | SYNC [timeout]]: answers
// at once (ASYNC, the default) or when the migration ends (SYNC: +OK,
// the failure as an error, or a nil reply after timeout seconds).
func (c *conn) clusterMigrate(cmd *Command) {
	args := cmd.Args
	if len(args) < 4 || len(args) > 6 {
		c.err(errMigrateArgs)
		return
	}
	slots, ok := c.parseSlotsArg(args[2])
	if !ok {
		return
	}
	sync, timeout := false, int64(0)
	if len(args) >= 5 {
		switch strings.ToLower(string(args[4])) {
		case "async":
			if len(args) == 6 {
				c.err(errMigrateAsyncTmo)
				return
			}
		case "sync":
			sync = true
			if len(args) == 6 {
				n, ok := parseArgInt(args[5])
				if !ok || n > 1<<31-1 {
					c.err(errMigrateTimeout)
					return
				}
				if n < 0 {
					c.err(errMigrateTmoNeg)
					return
				}
				timeout = n
			}
		default:
			c.err(errMigrateSyncFlag)
			return
		}
	}
	if !c.clusterAllowed() {
		return
	}
	done, err := c.s.migrator.Migrate(slots, string(args[3]))
	if err != nil {
		c.err("ERR " + err.Error())
		return
	}
	if !sync {
		c.wr.OK()
		return
	}
	// Give the work guard back while waiting: the migration's last phase
	// needs every command to pause once.
	mode := c.leaveGuard()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-done:
		c.enterGuard(mode)
		if err := c.s.migrator.Result(); err != nil {
			c.err("ERR " + err.Error())
			return
		}
		c.wr.OK()
	case <-expired:
		c.enterGuard(mode)
		c.wr.Null()
	}
}

// CLUSTER IMPORT <slot> <state>: sent by a migration's source; this
// connection becomes the importing link.
func (c *conn) clusterImport(cmd *Command) {
	args := cmd.Args
	if len(args) != 4 {
		c.err(errMigrateArgs)
		return
	}
	slots, ok := c.parseSlotsArg(args[2])
	if !ok {
		return
	}
	state, ok := parseArgInt(args[3])
	if !ok || state < cluster.ImportStart || state > 3 {
		c.err("ERR " + cluster.ErrInvalidImportState.Error())
		return
	}
	if !c.clusterAllowed() {
		return
	}
	if err := c.s.migrator.Import(slots, int(state), c.id); err != nil {
		c.err("ERR " + err.Error())
		return
	}
	if state == cluster.ImportStart {
		c.cl.importing = true
	}
	c.wr.OK()
}

// CLUSTER IMPORTKEY <key> <image> [MORE]: one key from the source,
// replacing whatever the key held here, atomically. A large image comes in
// parts: each but the last says MORE and is kept on the connection until
// the last one arrives.
func (c *conn) clusterImportKey(cmd *Command) {
	args := cmd.Args
	more := len(args) == 5 && strings.EqualFold(string(args[4]), "more")
	if len(args) != 4 && !more {
		c.err(errMigrateArgs)
		return
	}
	if !c.clusterAllowed() {
		return
	}
	key, img := args[2], args[3]
	p := &c.cl.importPart
	if len(p.buf) > 0 && string(p.key) != string(key) {
		// The parts of another key never ended: that key's import failed.
		p.key, p.buf = p.key[:0], nil
		c.err(errBadData)
		return
	}
	if more || len(p.buf) > 0 {
		if !c.s.migrator.ImportsKey(c.id, key) {
			p.key, p.buf = p.key[:0], nil
			c.err("ERR " + cluster.ErrNotImportingKey.Error())
			return
		}
		if len(p.buf)+len(img) > cluster.ImportImageMax {
			p.key, p.buf = p.key[:0], nil
			c.err("ERR the key's image is over " + strconv.Itoa(cluster.ImportImageMax) + " bytes")
			return
		}
		p.key = append(p.key[:0], key...)
		p.buf = append(p.buf, img...)
		if more {
			c.wr.OK()
			return
		}
		img = p.buf
		p.key, p.buf = p.key[:0], nil
	}
	err := c.s.migrator.ImportKey(c.id, key, img)
	switch {
	case errors.Is(err, engine.ErrBadImage):
		c.err(errBadData)
	case errors.Is(err, cluster.ErrNotImportingKey):
		c.err("ERR " + err.Error())
	case err != nil:
		c.replyErr(err)
	default:
		c.dirty = true
		c.s.blocked.signal(c.ns, key) // clients blocked on the key
		c.wr.OK()
	}
}

// parseSlotsArg parses the slots of MIGRATE and IMPORT: a slot, or a
// range a-b as newer KVRocks and kvrocks-controller send; ok false
// answers the error. A number out of range is left for the command to
// refuse with its own error.
func (c *conn) parseSlotsArg(b []byte) (cluster.SlotRange, bool) {
	if n, ok := parseArgInt(b); ok {
		if n < 0 || n >= cluster.Slots {
			return cluster.SlotRange{Start: -1, End: -1}, true
		}
		return cluster.SlotRange{Start: int(n), End: int(n)}, true
	}
	if bytes.IndexByte(b, '-') > 0 {
		r, err := cluster.ParseSlotRange(string(b))
		if err != nil {
			c.err("ERR " + err.Error())
			return r, false
		}
		return r, true
	}
	c.err(errNotInteger)
	return cluster.SlotRange{}, false
}

// parseSlotArg parses a slot number; ok false answers the error.
func (c *conn) parseSlotArg(b []byte, bad string) (int, bool) {
	n, ok := parseArgInt(b)
	if !ok {
		c.err(errNotInteger)
		return 0, false
	}
	if n < 0 || n >= cluster.Slots {
		c.err(bad)
		return 0, false
	}
	return int(n), true
}

// CLUSTER COUNTKEYSINSLOT <slot>
func (c *conn) clusterCountKeysInSlot(cmd *Command) {
	args := cmd.Args
	if len(args) != 3 {
		c.err(errMigrateArgs)
		return
	}
	if !c.clusterAllowed() {
		return
	}
	slot, ok := c.parseSlotArg(args[2], errInvalidSlot)
	if !ok {
		return
	}
	n, err := c.eng.CountSlotKeys(c.ns, slot, slot, cluster.KeySlot)
	if err != nil {
		c.replyErr(err)
		return
	}
	c.wr.Int(n)
}

// CLUSTER GETKEYSINSLOT <slot> <count>
func (c *conn) clusterGetKeysInSlot(cmd *Command) {
	args := cmd.Args
	if len(args) != 4 {
		c.err(errMigrateArgs)
		return
	}
	if !c.clusterAllowed() {
		return
	}
	slot, ok := parseArgInt(args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	count, ok := parseArgInt(args[3])
	if !ok {
		c.err(errNotInteger)
		return
	}
	if count < 0 || slot < 0 || slot >= cluster.Slots {
		c.err(errInvalidSlotKeys)
		return
	}
	var keys [][]byte
	if count > 0 {
		_, err := c.eng.SlotKeys(c.ns, int(slot), int(slot), cluster.KeySlot, nil, func(k []byte, _ *engine.Meta) bool {
			keys = append(keys, append([]byte(nil), k...))
			return int64(len(keys)) < count
		})
		if err != nil {
			c.replyErr(err)
			return
		}
	}
	c.wr.Array(len(keys))
	for _, k := range keys {
		c.wr.Bulk(k)
	}
}
