package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// Slot migration, as KVRocks does it, driven by kvrocks-controller:
//
//	source: CLUSTERX MIGRATE <slot> <target id>   answers at once
//	        -> connects to the target's RESP port (AUTH with requirepass)
//	        -> CLUSTER IMPORT <slot> 0            target clears the slot, starts importing
//	        -> every key of the slot              (snapshot)
//	        -> the keys written meanwhile, again  (catch-up rounds)
//	        -> writes to the slot refused (TRYAGAIN), the last changed keys
//	        -> CLUSTER IMPORT <slot> 1            target serves the slot
//	        -> requests for the slot answer MOVED to the target
//	controller: polls CLUSTER INFO for migrating_state:success, then pushes
//	        the topology with the slot on the target; the source then
//	        deletes its copy of the slot.
//
// A failure anywhere sends CLUSTER IMPORT <slot> 2 when the link still
// works (the target drops what it received; it also does when the link
// breaks), and the source keeps serving the slot: migrating_state:fail.
//
// Keys travel as whole-key images (engine.ExportKey: a record and its
// sub-keys, any type) with CLUSTER IMPORTKEY, applied atomically on the
// target, so a reader there never sees half a key; strings held in blob
// segments travel as SET <key> <value> [PXAT <ms>], streamed from the
// source's NVMe tier or DRAM straight to the socket and on the target
// straight into its buffer, never whole in memory twice. A key deleted
// meanwhile is sent as DEL.
//
// What changed during the copy is known from an engine.SlotTracker, which
// hears every committed write of the slot. Catch-up rounds resend those
// keys until few remain; then writes to the slot are refused (under the
// node's work barrier, so no command is half-way), the last keys are sent,
// and twice more the barrier is passed and the tracker read; once more
// after the success, when the target already serves the slot. A write
// routed before the refusal that reaches the commit only after it (it
// waited for the work guard, or sat in a pipelined batch) is routed again
// by the RESP front end (State.Epoch) and refused, so nothing is written
// to the slot after the last read of the tracker.
//
// Limits: a collection travels as one image, so one larger than the
// target's proto-max-bulk-len fails the migration (the source keeps the
// slot). Keys of a type whose value lives whole in its record other than
// a string are refused by the target's import (the migration fails
// rather than lose them). A target killed mid-import keeps what it
// received until its next import of the slot clears it (as KVRocks); it
// never serves those keys, since it does not own the slot.

// MigratorConfig is what slot migration needs of its node.
type MigratorConfig struct {
	State  *State
	Engine *engine.Engine
	// Keyspace is the keyspace of the cluster's keys (the default
	// namespace, as KVRocks migrates).
	Keyspace string
	// Password returns the password the target requires (requirepass, the
	// same on every node, as KVRocks assumes); "" for none.
	Password func() string
	// Barrier runs fn while no command of the node runs (the RESP work
	// guard held exclusively). Nil: fn runs directly.
	Barrier func(fn func())
	// Logf logs a line; nil discards.
	Logf func(format string, args ...any)
	// Timeout bounds connecting to the target and each wait for its
	// replies (a reply must come within it). Default 30 s.
	Timeout time.Duration
}

// Errors of CLUSTERX MIGRATE, KVRocks's texts (sent after "ERR ").
var (
	ErrNoDestination     = errors.New("Can't find the destination node id")
	ErrSlotNotMine       = errors.New("Can't migrate slot which doesn't belong to me")
	ErrSlaveMigrate      = errors.New("Slave can't migrate slot")
	ErrMigrateToSlave    = errors.New("Can't migrate slot to a slave")
	ErrMigrateToMyself   = errors.New("Can't migrate slot to myself")
	ErrAlreadyMigrating  = errors.New("There is already a migrating slot")
	ErrSlotMigrated      = errors.New("Can't migrate slot which has been migrated")
	errMigrationCanceled = errors.New("key migration stopped due to a task cancellation")
)

type migState uint8

const (
	migNone migState = iota
	migStart
	migSuccess
	migFail
)

var migStateNames = [...]string{"none", "start", "success", "fail"}

// Migrator runs this node's slot migrations (the source side) and imports
// (the target side, import.go). One migration and one import at a time,
// as KVRocks.
type Migrator struct {
	cfg MigratorConfig

	mu      sync.Mutex
	closed  bool
	running bool
	rng     SlotRange // the last migration's slots
	dst     string
	state   migState
	done    chan struct{} // closed when the running migration ends
	result  error         // the last migration's outcome
	stop    chan struct{} // closed by Close

	imp importer

	// drops counts deletions of slots that left (mu); an import start
	// waits until none is pending, so that it never races a delete of its
	// slot. dropMu runs them one at a time.
	drops    int
	dropDone *sync.Cond
	dropMu   sync.Mutex
	wg       sync.WaitGroup

	stats MigrateStats
}

// MigrateStats are the last migration's figures.
type MigrateStats struct {
	Keys     int64 // keys sent in the snapshot
	Bytes    int64 // value bytes of large strings streamed
	Resent   int64 // keys sent again by catch-up rounds
	Rounds   int   // catch-up rounds
	Duration time.Duration
	Blocked  time.Duration // writes to the slot were refused this long
}

// NewMigrator returns the migrator of a node.
func NewMigrator(cfg MigratorConfig) *Migrator {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Barrier == nil {
		cfg.Barrier = func(fn func()) { fn() }
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Password == nil {
		cfg.Password = func() string { return "" }
	}
	m := &Migrator{cfg: cfg, stop: make(chan struct{})}
	m.dropDone = sync.NewCond(&m.mu)
	return m
}

// Hooks are the cluster.Hooks that plug m into its State.
func (m *Migrator) Hooks() Hooks {
	return Hooks{DropSlots: m.dropSlots, Info: m.appendInfo, NodesNote: m.appendNodesNote, Busy: m.busy}
}

// Close stops a running migration (it fails) and waits for background work.
func (m *Migrator) Close() {
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.stop)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// Stats returns the last migration's figures.
func (m *Migrator) Stats() MigrateStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Migrate is CLUSTERX MIGRATE <slots> <dstID>: it checks the request as
// KVRocks does and starts moving the slots (one, or a range, as newer
// KVRocks and kvrocks-controller send) in the background. The returned
// channel is closed when the migration ends; Result then tells how.
func (m *Migrator) Migrate(r SlotRange, dstID string) (<-chan struct{}, error) {
	v := m.cfg.State.View()
	var dst *Node
	if v.Topology != nil {
		dst = v.Topology.Node(dstID)
	}
	if dst == nil {
		return nil, ErrNoDestination
	}
	if !r.Valid() {
		return nil, ErrSlotOutOfRange
	}
	for slot := r.Start; slot <= r.End; slot++ {
		if v.Myself == nil || v.Topology.Owner(slot) != v.Myself {
			return nil, ErrSlotNotMine
		}
	}
	switch {
	case v.Myself.Role != Master:
		return nil, ErrSlaveMigrate
	case dst.Role != Master:
		return nil, ErrMigrateToSlave
	case dst == v.Myself:
		return nil, ErrMigrateToMyself
	}
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return nil, errMigrationCanceled
	case m.running:
		m.mu.Unlock()
		return nil, ErrAlreadyMigrating
	}
	for slot := r.Start; slot <= r.End; slot++ {
		if m.cfg.State.Status(slot).State == SlotMigrated {
			m.mu.Unlock()
			return nil, ErrSlotMigrated
		}
	}
	m.running, m.rng, m.dst, m.state, m.result = true, r, dstID, migStart, nil
	done := make(chan struct{})
	m.done = done
	m.wg.Add(1)
	m.mu.Unlock()
	// NB: State's lock is taken without m.mu: State calls the hooks, which
	// take m.mu, with its own lock held.
	if err := m.cfg.State.SetSlotState(r, SlotMigrating, dstID); err != nil {
		m.mu.Lock()
		m.running, m.state, m.result = false, migFail, err
		m.mu.Unlock()
		m.wg.Done()
		close(done)
		return nil, err
	}
	job := &migration{m: m, rng: r, dstID: dstID, addr: dst.Addr(), done: done}
	go job.run()
	return done, nil
}

// Result is the outcome of the last migration (nil while it runs or
// after a success).
func (m *Migrator) Result() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.result
}

// migration is one running migration.
type migration struct {
	m     *Migrator
	rng   SlotRange
	dstID string
	addr  string
	done  chan struct{}

	l       *link
	tr      *engine.SlotTracker
	img     []byte
	stats   MigrateStats
	started bool // CLUSTER IMPORT <slot> 0 answered
}

func (j *migration) run() {
	m := j.m
	defer m.wg.Done()
	begin := time.Now()
	m.cfg.Logf("migrate: slot %s to %s (%s)", j.rng, j.dstID, j.addr)
	// The tracker starts before the snapshot, so no write is missed: a
	// key written during the copy is sent again.
	j.tr = m.cfg.Engine.TrackSlot(m.cfg.Keyspace, j.rng.Start, j.rng.End, KeySlot)
	err := j.move()
	j.tr.Close()
	if err != nil && j.l != nil && j.started && j.l.failed() == nil {
		// Tell the target to drop what it received (best effort: a broken
		// link makes it drop the slot by itself).
		if j.l.send([]byte("CLUSTER"), []byte("IMPORT"), j.rng.AppendTo(nil), []byte("2")) == nil {
			_ = j.l.wait()
		}
	}
	if j.l != nil {
		j.l.close()
	}
	j.stats.Duration = time.Since(begin)
	m.mu.Lock()
	m.running = false
	m.stats = j.stats
	if err != nil {
		m.state, m.result = migFail, err
	} else {
		m.state = migSuccess
	}
	m.mu.Unlock()
	if err != nil {
		// The source keeps the slot and takes writes again.
		_ = m.cfg.State.SetSlotState(j.rng, SlotNormal, "")
		m.cfg.Logf("migrate: slot %s to %s failed: %v", j.rng, j.dstID, err)
	} else {
		m.cfg.Logf("migrate: slot %s to %s done: %d keys, %d resent in %d rounds, %d value bytes streamed, in %v (writes refused %v)",
			j.rng, j.dstID, j.stats.Keys, j.stats.Resent, j.stats.Rounds, j.stats.Bytes, j.stats.Duration, j.stats.Blocked)
	}
	close(j.done)
}

// catch-up rounds end when fewer keys than this changed during one
// (KVRocks: sequence-gap), or after maxRounds.
const (
	catchUpKeys = 128
	maxRounds   = 16
)

func (j *migration) move() error {
	m := j.m
	var err error
	if j.l, err = dialLink(j.addr, m.cfg.Timeout); err != nil {
		return fmt.Errorf("failed to connect to the destination node: %w", err)
	}
	if pass := m.cfg.Password(); pass != "" {
		if err := j.l.send([]byte("AUTH"), []byte(pass)); err != nil {
			return err
		}
		if err := j.l.wait(); err != nil {
			return fmt.Errorf("failed to authenticate on destination node: %w", err)
		}
	}
	slot := j.rng.AppendTo(nil)
	if err := j.l.send([]byte("CLUSTER"), []byte("IMPORT"), slot, []byte("0")); err != nil {
		return err
	}
	if err := j.l.wait(); err != nil {
		return fmt.Errorf("failed to set import status on destination node: %w", err)
	}
	j.started = true

	// Snapshot: every key of the slot, a batch of names at a time (no
	// iterator stays open while keys are sent).
	var cursor []byte
	for {
		var names [][]byte
		next, err := m.cfg.Engine.SlotKeys(m.cfg.Keyspace, j.rng.Start, j.rng.End, KeySlot, cursor, func(k []byte, _ *engine.Meta) bool {
			names = append(names, append([]byte(nil), k...))
			return len(names) < 1024
		})
		if err != nil {
			return err
		}
		for _, k := range names {
			if err := j.sendKey(k); err != nil {
				return err
			}
			j.stats.Keys++
		}
		if next == nil {
			break
		}
		cursor = next
	}
	if err := j.l.wait(); err != nil {
		return err
	}

	// Catch-up rounds while writes go on.
	for j.stats.Rounds < maxRounds {
		keys, err := j.tr.Take()
		if err != nil {
			return err
		}
		j.stats.Rounds++
		if err := j.sendKeys(keys); err != nil {
			return err
		}
		if len(keys) < catchUpKeys {
			break
		}
	}

	// Last phase: writes to the slot answer TRYAGAIN. The barrier makes
	// every command that was running finish first.
	forbidAt := time.Now()
	m.cfg.Barrier(func() {
		err = m.cfg.State.SetSlotState(j.rng, SlotWriteForbidden, j.dstID)
	})
	if err != nil {
		return err
	}
	for quiet := 0; quiet < 2; {
		// Pass the barrier again: a write admitted before the refusal
		// that was still on its way has committed (and been heard) once
		// the commands in flight at that point are done.
		m.cfg.Barrier(func() {})
		keys, err := j.tr.Take()
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			quiet++
			continue
		}
		quiet = 0
		if err := j.sendKeys(keys); err != nil {
			return err
		}
	}
	if err := j.l.wait(); err != nil {
		return err
	}
	select {
	case <-m.stop:
		return errMigrationCanceled
	default:
	}
	if err := j.l.send([]byte("CLUSTER"), []byte("IMPORT"), slot, []byte("1")); err != nil {
		return err
	}
	if err := j.l.wait(); err != nil {
		return fmt.Errorf("failed to set import status on destination node: %w", err)
	}
	m.cfg.Barrier(func() {
		err = m.cfg.State.SetSlotState(j.rng, SlotMigrated, j.dstID)
	})
	j.stats.Blocked = time.Since(forbidAt)
	if err != nil {
		return err
	}
	// Requests for the slot now answer MOVED. One more pass of the
	// barrier: a write admitted before the refusal that committed only
	// now still reaches the target (which serves the slot already).
	m.cfg.Barrier(func() {})
	keys, err := j.tr.Take()
	if err == nil && len(keys) > 0 {
		m.cfg.Logf("migrate: slot %s: %d keys written late, sent after the success", j.rng, len(keys))
		err = j.sendKeys(keys)
	}
	if err != nil {
		// Too late to fail: the target has the slot. Say so loudly.
		m.cfg.Logf("migrate: slot %s: sending late writes failed: %v", j.rng, err)
	}
	return nil
}

// sendKeys sends the current state of keys and waits for the target.
func (j *migration) sendKeys(keys [][]byte) error {
	for _, k := range keys {
		if err := j.sendKey(k); err != nil {
			return err
		}
		j.stats.Resent++
	}
	return j.l.wait()
}

// sendKey sends key as it is now: its image, a streamed SET, or DEL when
// it is gone.
func (j *migration) sendKey(key []byte) error {
	select {
	case <-j.m.stop:
		return errMigrationCanceled
	default:
	}
	img, large, err := j.m.cfg.Engine.ExportKey(j.m.cfg.Keyspace, key, j.img[:0])
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return j.l.send([]byte("DEL"), key)
	case err != nil:
		return err
	case large != nil:
		defer large.Release()
		return j.sendLarge(key, large)
	}
	j.img = img
	// A large collection's image goes in parts, each well under any
	// proto-max-bulk-len the target may have; the target applies the key
	// once the last part is in.
	for len(img) > ImportPartMax {
		if err := j.l.send([]byte("CLUSTER"), []byte("IMPORTKEY"), key, img[:ImportPartMax], []byte("MORE")); err != nil {
			return err
		}
		img = img[ImportPartMax:]
	}
	return j.l.send([]byte("CLUSTER"), []byte("IMPORTKEY"), key, img)
}

// ImportPartMax is the most a CLUSTER IMPORTKEY carries of a key's image:
// the smallest proto-max-bulk-len KVRocks accepts (1 MiB). A larger image
// goes in parts, each but the last marked MORE.
const ImportPartMax = 1 << 20

// ImportImageMax bounds a key's image put together from parts on the
// target (the store's largest batch is 4 GiB).
const ImportImageMax = 3 << 30

// sendLarge streams a large string as SET key value [PXAT ms].
func (j *migration) sendLarge(key []byte, v *engine.Value) error {
	l := j.l
	if err := l.begin(); err != nil {
		return err
	}
	at := v.Meta().ExpireAt
	n := 3
	if at != 0 {
		n = 5
	}
	l.header(n, []byte("SET"), key)
	l.bulkHead(v.Len())
	_ = l.c.SetWriteDeadline(time.Now().Add(l.timeout))
	if _, err := v.WriteRange(deadlineWriter{l}, 0, v.Len()); err != nil {
		l.fail(err)
		return err
	}
	l.w.WriteString("\r\n")
	if at != 0 {
		l.bulkHead(4)
		l.w.WriteString("PXAT\r\n")
		ms := strconv.AppendInt(nil, at, 10)
		l.bulkHead(int64(len(ms)))
		l.w.Write(ms)
		l.w.WriteString("\r\n")
	}
	l.count()
	j.stats.Bytes += v.Len()
	return nil
}

// deadlineWriter writes to the link's buffer, pushing the socket's write
// deadline forward as a large value goes out.
type deadlineWriter struct{ l *link }

func (w deadlineWriter) Write(p []byte) (int, error) {
	_ = w.l.c.SetWriteDeadline(time.Now().Add(w.l.timeout))
	return w.l.w.Write(p)
}

// appendInfo appends the migration and import fields of CLUSTER INFO, as
// KVRocks prints them.
func (m *Migrator) appendInfo(b []byte) []byte {
	m.mu.Lock()
	if m.state != migNone {
		b = append(b, "migrating_slot: "...)
		b = m.rng.AppendTo(b)
		b = append(b, "\r\ndestination_node: "...)
		b = append(b, m.dst...)
		b = append(b, "\r\nmigrating_state: "...)
		b = append(b, migStateNames[m.state]...)
		b = append(b, "\r\n"...)
	}
	m.mu.Unlock()
	return m.imp.appendInfo(b)
}

// appendNodesNote appends the CLUSTER NODES note of this node: the slot
// being migrated or imported.
func (m *Migrator) appendNodesNote(b []byte) []byte {
	m.mu.Lock()
	if m.running {
		b = append(b, " ["...)
		b = m.rng.AppendTo(b)
		b = append(b, "->-"...)
		b = append(b, m.dst...)
		b = append(b, ']')
	}
	m.mu.Unlock()
	if r, ok := m.imp.importing(); ok {
		src := ""
		if t := m.cfg.State.View().Topology; t != nil {
			if n := t.Owner(r.Start); n != nil {
				src = n.ID
			}
		}
		b = append(b, " ["...)
		b = r.AppendTo(b)
		b = append(b, "-<-"...)
		b = append(b, src...)
		b = append(b, ']')
	}
	return b
}

func (m *Migrator) busy() error {
	m.mu.Lock()
	running := m.running
	m.mu.Unlock()
	if running {
		return ErrResetWhileMigrating
	}
	if _, ok := m.imp.importing(); ok {
		return ErrResetWhileImporting
	}
	return nil
}

// dropSlots deletes this node's keys of slots that moved away, in the
// background (it is called with the State's lock held).
func (m *Migrator) dropSlots(slots []int) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	for _, s := range slots {
		if m.rng.Contains(s) && m.state == migSuccess && !m.running {
			// The topology now says what the migration did.
			m.state = migNone
		}
	}
	m.wg.Add(1)
	m.drops++
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		m.dropMu.Lock()
		defer func() {
			m.dropMu.Unlock()
			m.mu.Lock()
			m.drops--
			m.dropDone.Broadcast()
			m.mu.Unlock()
		}()
		// One pass over the keys per run of consecutive slots.
		for _, r := range slotRuns(slots) {
			n, err := m.cfg.Engine.DeleteSlotKeys(m.cfg.Keyspace, r.Start, r.End, KeySlot)
			if err != nil {
				m.cfg.Logf("migrate: deleting the keys of slot %s: %v", r, err)
				continue
			}
			m.cfg.Logf("migrate: slot %s left this node: %d keys deleted", r, n)
		}
	}()
}

// waitDrops waits until no deletion of a slot that left is pending.
func (m *Migrator) waitDrops() {
	m.mu.Lock()
	for m.drops > 0 {
		m.dropDone.Wait()
	}
	m.mu.Unlock()
}

// slotRuns groups slots into runs of consecutive slots.
func slotRuns(slots []int) []SlotRange {
	sorted := slices.Clone(slots)
	slices.Sort(sorted)
	var runs []SlotRange
	for _, s := range sorted {
		if n := len(runs); n > 0 && runs[n-1].End+1 >= s {
			runs[n-1].End = max(runs[n-1].End, s)
			continue
		}
		runs = append(runs, SlotRange{s, s})
	}
	return runs
}
