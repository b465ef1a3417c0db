package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

const (
	defaultDRAMCacheSize   = 1 << 30
	defaultInlineThreshold = 64 << 10
	defaultSegmentSize     = 256 << 20
	defaultMemoryWait      = 30 * time.Second
	defaultExpireInterval  = 100 * time.Millisecond
	defaultCompactInterval = 10 * time.Second
	defaultRebuildRate     = 256 << 20
)

// Engine is the keyspace store shared by every protocol front end. All
// methods are safe for concurrent use.
//
// An Engine is a handle on the store: Group hands its function another
// handle on the same store whose writes join one batch (group.go).
type Engine struct {
	*store
	grp *group // nil: every call commits on its own
}

// store is the engine's state, shared by its handles.
type store struct {
	opts  Options
	db    *pebble.DB
	arena *arena
	cache *dramCache
	small *smallCache
	// absent proves new keys absent without a metadata read (put_absent.go).
	absent *absentFilter
	// subs knows the sub-keys of collections created here (subcache.go).
	subs  subCache
	blobs *blobStore
	vol   volume
	locks *lockTable

	versions versionAlloc
	closed   atomic.Bool
	reclaim  reclaimer
	hints    lowHints

	countsMu sync.RWMutex
	counts   map[string]*atomic.Int64

	stop   chan struct{}
	wg     sync.WaitGroup
	repair repairState

	expired, keyEvictions atomic.Int64
	lookups               lookupCounters // Get's outcomes by tier (stats.go)
	compactions           atomic.Int64

	// Durability (durability.go).
	wal                    *walFS // nil with SyncWrites: log syncs are real
	roundMu                sync.Mutex
	durableVersion         uint64 // under roundMu
	lastSync               atomic.Int64
	syncRounds, syncErrors atomic.Int64
	recoveryChecked        int64 // set by Open
	recoveryDropped        int64
	relocatedFromDRAM      atomic.Int64 // compaction moves written from the DRAM tier
	noSpaceErrors          atomic.Int64
	free                   freeSpace  // the devices' free space, for Stats
	watches                watchTable // WATCH (watch.go)
	groupMu                sync.Mutex // one Group at a time (group.go)
	// wb is the write-back tier of small strings (write_back.go).
	wb *writeBack
	// metaWrites counts commits to the metadata store, metaLogged the
	// count the last Sync's log write covered.
	metaWrites, metaLogged atomic.Uint64
}

// Open opens (creating if needed) the engine rooted at opts.Dir, recovering
// its state: the metadata store replays its log, blob segments that no
// committed metadata references are removed.
func Open(opts Options) (*Engine, error) {
	if opts.Dir == "" {
		return nil, errors.New("engine: Options.Dir is required")
	}
	if opts.DRAMCacheSize <= 0 {
		opts.DRAMCacheSize = defaultDRAMCacheSize
	}
	if opts.SmallCacheSize == 0 {
		opts.SmallCacheSize = 256 << 20
	}
	if opts.MetadataCacheSize <= 0 {
		opts.MetadataCacheSize = 256 << 20
	}
	if opts.InlineThreshold <= 0 {
		opts.InlineThreshold = defaultInlineThreshold
	}
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = defaultSegmentSize
	}
	if opts.MemoryWait <= 0 {
		opts.MemoryWait = defaultMemoryWait
	}
	if opts.CompactInterval <= 0 {
		opts.CompactInterval = defaultCompactInterval
	}
	if opts.RebuildRate <= 0 {
		opts.RebuildRate = defaultRebuildRate
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = defaultSyncInterval
	}
	if opts.ExpireInterval <= 0 {
		opts.ExpireInterval = defaultExpireInterval
	}
	if opts.SendProbe != nil {
		opts.SendByReference = opts.SendProbe.ByReference()
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if len(opts.Devices) == 0 {
		opts.Devices = []string{filepath.Join(opts.Dir, "blobs")}
	}
	mkdir := os.MkdirAll
	if opts.MetadataFS != nil {
		mkdir = opts.MetadataFS.MkdirAll
	}
	if err := mkdir(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("engine: cannot create %s: %w", opts.Dir, err)
	}
	vol, err := openVolume(opts)
	if err != nil {
		return nil, err
	}
	e := &Engine{store: &store{opts: opts, vol: vol, locks: newLockTable(), counts: make(map[string]*atomic.Int64), stop: make(chan struct{})}}
	e.reclaim.wake = make(chan struct{}, 1)
	if e.arena, err = newArena(opts.DRAMCacheSize, opts.SendByReference); err != nil {
		vol.Close()
		return nil, err
	}
	e.cache = newDRAMCache(e.arena.pages)
	e.small = newSmallCache(opts.SmallCacheSize)
	e.absent = newAbsentFilter()
	e.arena.reclaim = e.cache.evict
	e.cache.admitted = e.arena.wakeWaiters
	e.blobs = newBlobStore(vol, opts.SegmentSize, opts.NVMeCapacity, opts.Policy, opts.Logf)
	e.blobs.evict = e.evictSegment
	e.blobs.metaDurable = e.syncMetadata
	e.blobs.inlineThreshold = opts.InlineThreshold
	e.blobs.startWriters(4)

	metaDir, popts, err := e.metadataPlacement()
	if err != nil {
		e.arena.close()
		vol.Close()
		return nil, err
	}
	baseFS := popts.FS
	if !opts.SyncWrites {
		e.wal = newWALFS(popts.FS)
		popts.FS = e.wal
	}
	db, err := pebble.Open(metaDir, popts)
	if err != nil && e.wal != nil && pebble.IsCorruptionError(err) {
		// An unclean stop in sync-no mode: see wal_repair.go.
		if what, rerr := repairLogTail(e.wal.FS, metaDir); rerr != nil {
			e.opts.Logf("metadata log repair failed: %v", rerr)
		} else if what != "" {
			e.opts.Logf("metadata store refused its log after an unclean stop (%v); %s: the writes after that point had not been synced (rocksdb.write_options.sync no) and are lost", err, what)
			db, err = pebble.Open(metaDir, popts)
		}
	}
	if err != nil {
		e.arena.close()
		vol.Close()
		return nil, fmt.Errorf("engine: cannot open metadata store: %w", err)
	}
	e.db = db
	if err := syncDirs(popts.FS, opts.Dir); err != nil {
		e.Close()
		return nil, err
	}
	e.wb, err = openWriteBack(db, baseFS, metaDir, !opts.SyncWrites && !opts.NoWriteBack, e.syncMetadata, e.opts.Logf)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("engine: write-back log: %w", err)
	}
	if opts.writeBackFlush > 0 {
		e.wb.flushBytes, e.wb.maxBytes = opts.writeBackFlush, 4*opts.writeBackFlush
	}
	if err := e.recover(); err != nil {
		e.Close()
		return nil, err
	}
	e.wg.Add(7)
	go e.writeBackLoop()
	go e.absentLoop()
	go e.reclaimLoop()
	go e.syncLoop()
	go e.expireLoop()
	go e.compactLoop()
	go e.repairLoop()
	return e, nil
}

// metadataOptions tunes pebble for this workload: point lookups on every
// read and write (bloom filters on every level, so a lookup touches one
// sstable, not every L0 file), and small records. The memtable is small
// (8 MiB): each insert into its skiplist walks about thirty nodes, and in a
// 64 MiB memtable nearly every one is a cache miss. Under pipelined HSET
// on one key that search was 30-40% of the server's CPU; at 8 MiB HSET ran
// 1.3-1.5x and ZADD 1.05-1.4x faster, for a flush about every 8 MiB (a
// sequential write) and more, smaller L0 files that bloom filters keep
// cheap to read. (MemTableStopWritesThreshold stays at its default of 2:
// pebble keeps that many plus one old log files for reuse, disk space that
// a larger threshold would hold for good.)
func metadataOptions(cacheSize int64, logf func(string, ...any)) *pebble.Options {
	o := &pebble.Options{
		// NB: the plain file system, not EnsureDefaults' disk-health
		// wrapper, which forbids the background log sync (walFS) from
		// running beside a log write.
		FS:                    vfs.Default,
		CacheSize:             cacheSize,
		Logger:                quietLogger{logf: logf},
		FormatMajorVersion:    pebble.FormatNewest,
		MemTableSize:          8 << 20,
		L0CompactionThreshold: 4,
		L0StopWritesThreshold: 32,
	}
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		o.Levels[i].BlockSize = 16 << 10
	}
	o.EnsureDefaults()
	return o
}

// metadataPlacement decides where the metadata store lives. Without parity
// it is Dir/meta. With m parity devices it is mirrored on m+1 devices (as
// <device>/meta), so losing any m devices loses neither blobs nor metadata.
func (e *Engine) metadataPlacement() (string, *pebble.Options, error) {
	popts := metadataOptions(e.opts.MetadataCacheSize, e.opts.Logf)
	if e.opts.MetadataFS != nil {
		popts.FS = e.opts.MetadataFS
		return filepath.Join(e.opts.Dir, "meta"), popts, nil
	}
	m := e.opts.ECParity
	if m <= 0 {
		return filepath.Join(e.opts.Dir, "meta"), popts, nil
	}
	var roots, candidates []string
	for i, d := range e.opts.Devices {
		if i <= m {
			roots = append(roots, filepath.Join(d, "meta"))
		} else {
			candidates = append(candidates, filepath.Join(d, "meta"))
		}
	}
	candidates = append(candidates, filepath.Join(e.opts.Dir, "meta"))
	names, err := e.vol.List()
	if err != nil {
		return "", nil, err
	}
	mfs, err := syncMirrors(roots, candidates, len(names) > 0, e.opts.Logf)
	if err != nil {
		return "", nil, err
	}
	popts.FS = mfs
	return roots[0], popts, nil
}

// syncDirs makes the directory entries of dir and its parent durable, so
// a store created moments before a power cut is still found: pebble syncs
// the directory it lives in, not the ones it had to create above it.
func syncDirs(fs vfs.FS, dir string) error {
	for _, d := range []string{filepath.Dir(dir), dir} {
		f, err := fs.OpenDir(d)
		if err != nil {
			return fmt.Errorf("engine: cannot open %s: %w", d, err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("engine: cannot sync %s: %w", d, err)
		}
	}
	return nil
}

// recover scans every metadata record once: key counts, the highest
// version, and which blob segments are referenced; values written after
// the last completed background sync are checked (durability.go).
func (e *Engine) recover() error {
	durable, err := e.loadDurableVersion()
	if err != nil {
		return err
	}
	var suspects []suspect
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixKey}, UpperBound: []byte{prefixKey + 1}})
	if err != nil {
		return err
	}
	referenced := make(map[uint64]bool)
	var m Meta
	var maxVersion uint64
	for valid := it.First(); valid; valid = it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		if err := decodeRecord(val, &m); err != nil {
			it.Close()
			return fmt.Errorf("engine: key %q: %w", it.Key(), err)
		}
		ks, _, _ := splitMetaKey(it.Key())
		e.counter(string(ks)).Add(1)
		e.absent.note(it.Key())
		if m.Version > maxVersion {
			maxVersion = m.Version
		}
		if m.extents != nil {
			e.blobs.addRef(string(it.Key()), m.extents)
			for _, x := range m.extents {
				referenced[x.Segment] = true
			}
			if m.Version > durable {
				s := suspect{mk: append([]byte(nil), it.Key()...)}
				cloneMeta(&s.meta, &m)
				suspects = append(suspects, s)
			}
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	// NB: versions up to the durable one may have been handed out and lost
	// with their records; reusing them would exempt new writes from the
	// check after the next crash (the persisted ceiling covers them too).
	if err := e.loadVersions(max(maxVersion, durable)); err != nil {
		return err
	}
	e.durableVersion = durable
	if err := e.blobs.recover(referenced); err != nil {
		return err
	}
	return e.checkSuspects(suspects)
}

// Close stops background work and closes the stores. Values still borrowed
// must be released first.
func (e *Engine) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	close(e.stop)
	e.wg.Wait()
	var errs []error
	if e.db != nil {
		// A clean shutdown leaves nothing for recovery to check.
		errs = append(errs, e.closeWriteBack(), e.syncRound(), e.db.Close())
	}
	errs = append(errs, e.blobs.close(), e.vol.Close(), e.arena.close())
	return errors.Join(errs...)
}

// Sync acknowledges every mutation that returned before the call, with one
// metadata log write for all of them. With SyncWrites it is durable (the log
// is fdatasynced; blob bytes were synced before Put returned); without, it
// has reached the operating system and survives a crash of the process,
// and the background round makes it durable within SyncInterval.
func (e *Engine) Sync() error {
	if e.closed.Load() {
		return ErrClosed
	}
	if e.wb != nil && e.wb.enabled {
		return e.wb.sync(e.logMeta)
	}
	return e.db.LogData(nil, pebble.Sync)
}

// wrote counts a successful direct write to the metadata store, for
// logMeta.
func (e *Engine) wrote(err error) error {
	if err == nil {
		e.metaWrites.Add(1)
	}
	return err
}

// logMeta makes the metadata store's committed writes reach the operating
// system: one log write, skipped when nothing committed since the last.
func (e *Engine) logMeta() error {
	n := e.metaWrites.Load()
	if n == e.metaLogged.Load() {
		return nil
	}
	if err := e.db.LogData(nil, pebble.Sync); err != nil {
		return err
	}
	e.metaLogged.Store(n)
	return nil
}

func (e *Engine) counter(ks string) *atomic.Int64 {
	e.countsMu.RLock()
	c := e.counts[ks]
	e.countsMu.RUnlock()
	if c != nil {
		return c
	}
	e.countsMu.Lock()
	defer e.countsMu.Unlock()
	if c = e.counts[ks]; c == nil {
		c = new(atomic.Int64)
		e.counts[ks] = c
	}
	return c
}

// DBSize is the number of keys in the keyspace (including keys that have
// expired but not yet been swept).
func (e *Engine) DBSize(ks string) int64 { return e.counter(ks).Load() }

func nowMs() int64 { return time.Now().UnixMilli() }

type quietLogger struct{ logf func(string, ...any) }

func (l quietLogger) Infof(string, ...any)         {}
func (l quietLogger) Errorf(f string, args ...any) { l.logf("metadata store: "+f, args...) }
func (l quietLogger) Fatalf(f string, args ...any) { panic(fmt.Sprintf("metadata store: "+f, args...)) }
