package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// The write-back tier: plain small strings written without the metadata
// store on the request path.
//
// A small SET costs redis-server one hash-table insert; in the metadata
// store it is an insert into pebble's memtable, a skiplist whose random
// inserts miss the CPU cache at every level, and most of a SET's CPU. With
// sync no, writes of small strings that carry no expiry, over a key that
// is absent or such a string itself (SET, MSET, pipelined SET runs, INCR,
// APPEND ...), go here instead: the record is appended to a log file of
// its own and indexed in a hash map, and a background flush moves the
// map into the store as one sorted batch (pebble inserts sorted keys along
// a cached search path, and overwrites of a hot key between two flushes
// reach the store once).
//
// Invariants:
//   - Every metadata read looks here first (metaGet): a key in the tier
//     has its newest record here. Scans, which iterate the store, drain
//     the tier first (drain): everything written before the scan began
//     is then in the store.
//   - A write that commits a key through the store while the key is in
//     the tier first evicts it (evictFor): its record is committed to the
//     store together with an eviction mark (the log position it was
//     evicted at), in one batch. The newer write then commits over it, and
//     replay skips the key's records before the mark: the tier's older
//     value never comes back over it, whatever part of either log a power
//     cut keeps (the mark and the record it hands over are one batch of
//     the metadata log, which keeps its order).
//   - Each write appends one frame (its records and a CRC32C over them):
//     replay applies whole frames, so an MSET is all or nothing after a
//     crash too. Sync writes the frames to the log file (after the
//     metadata log): an acknowledged write survives kill -9.
//   - A log file is removed only after the flush of its frames committed
//     and the metadata log was synced (and the directory after the
//     removal): a power cut finds each flushed record in the store, and
//     no removed log comes back to replay an old value. The background
//     round syncs the live log files with the metadata log.
//   - Open replays the log files left by a crash (frames up to the first
//     torn one, oldest file first, skipping evicted records) into the
//     store, and clears the marks, before anything reads. A mark whose
//     generation is retired is deleted after it.
//
// Writes wait for a flush when the tier holds more than wbMaxBytes.
// sync yes does not use the tier: its writes are fdatasynced one batch at
// a time through the metadata log.

const (
	wbChunkSize  = 1 << 20
	wbFlushBytes = 32 << 20 // a flush starts at this much
	wbMaxBytes   = 4 * wbFlushBytes
	// wbMaxAge is the longest a record stays in the tier: the log is
	// synced with the metadata log (so the age costs no durability), and
	// a longer stay lets more overwrites of a key reach the store as one.
	wbMaxAge    = 30 * time.Second
	wbLogPrefix = "writeback-"
	wbLogSuffix = ".wblog"

	wbSet = 's'

	wbFrameHeader = 8 // CRC32C, payload length
)

type writeBack struct {
	fs      vfs.FS
	dir     string
	enabled bool
	// A flush starts at flushBytes or when the oldest record is maxAge
	// old; writers wait beyond maxBytes.
	flushBytes, maxBytes int
	maxAge               time.Duration

	mu     sync.Mutex
	cond   sync.Cond // signaled when a flush ends
	active *wbGen
	// flushing is the generation being written to the store (nil: none).
	flushing        *wbGen
	swaps, flushed  uint64
	kick            chan struct{}
	n               atomic.Int64 // entries in active and flushing
	spareChunks     [][]byte
	spareMaps       []map[string][]byte
	nextSeq         uint64
	flushes, evicts atomic.Int64
	// marked is the generation of each key's eviction mark, so marks
	// are deleted once their generation's log is gone.
	marked map[string]uint64

	logMu   sync.Mutex // file writes of both generations
	scratch [2][][]byte
	wbuf    []byte
	// fileMu keeps a generation's file open while syncFiles syncs it
	// (read-held there; held by retire, which closes it).
	fileMu sync.RWMutex
}

// wbGen is one generation of the tier: a log file and the map of the
// newest record of each key written to it.
type wbGen struct {
	seq    uint64
	file   vfs.File
	m      map[string][]byte // keys and records point into chunks
	chunks [][]byte
	bytes  int
	since  time.Time
	// written is how far the file holds the frames: whole chunks before
	// wChunk, and wOff bytes of chunk wChunk (under logMu).
	wChunk, wOff int
}

func wbLogName(seq uint64) string {
	return fmt.Sprintf("%s%06d%s", wbLogPrefix, seq, wbLogSuffix)
}

// wbLogSeq parses a log file name.
func wbLogSeq(name string) (uint64, bool) {
	if !strings.HasPrefix(name, wbLogPrefix) || !strings.HasSuffix(name, wbLogSuffix) {
		return 0, false
	}
	n, err := strconv.ParseUint(name[len(wbLogPrefix):len(name)-len(wbLogSuffix)], 10, 64)
	return n, err == nil
}

// openWriteBack replays the logs a crash left in dir into db (durably,
// then removes them) and returns the tier, its first log open.
func openWriteBack(db *pebble.DB, fs vfs.FS, dir string, enabled bool, syncMeta func() error, logf func(string, ...any)) (*writeBack, error) {
	w := &writeBack{fs: fs, dir: dir, enabled: enabled, kick: make(chan struct{}, 1),
		flushBytes: wbFlushBytes, maxBytes: wbMaxBytes, maxAge: wbMaxAge, marked: make(map[string]uint64)}
	w.cond.L = &w.mu
	names, err := fs.List(dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, name := range names {
		if seq, ok := wbLogSeq(name); ok {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	marks, err := wbLoadMarks(db)
	if err != nil {
		return nil, err
	}
	if len(seqs) > 0 || len(marks) > 0 {
		if err := w.replay(db, seqs, marks, syncMeta, logf); err != nil {
			return nil, err
		}
	}
	if len(seqs) > 0 {
		w.nextSeq = seqs[len(seqs)-1] + 1
	}
	g, err := w.newGen()
	if err != nil {
		return nil, err
	}
	w.active = g
	return w, w.syncDir()
}

// replay applies the frames of the logs named by seqs, oldest first, up
// to the first torn one and skipping evicted records, commits them to db
// as one batch that also clears the eviction marks, syncs it and removes
// the logs.
func (w *writeBack) replay(db *pebble.DB, seqs []uint64, marks map[string]wbPos, syncMeta func() error, logf func(string, ...any)) error {
	recs := make(map[string][]byte)
	frames, skipped := 0, 0
	torn := false
	for _, seq := range seqs {
		if torn {
			logf("write-back log %s follows a torn frame: its writes had not been synced and are dropped", wbLogName(seq))
			continue
		}
		data, err := w.readLog(seq)
		if err != nil {
			return err
		}
		off := 0
		for off < len(data) {
			payload, ok := wbFrameAt(data[off:])
			if !ok {
				logf("write-back log %s: torn frame at offset %d of %d: the writes from there on had not been synced (rocksdb.write_options.sync no) and are lost", wbLogName(seq), off, len(data))
				torn = true
				break
			}
			at := wbPos{seq, uint64(off)}
			off += wbFrameHeader + len(payload)
			frames++
			err := wbRecords(payload, func(kind byte, mk, rec []byte) {
				if m, ok := marks[string(mk)]; ok && at.before(m) {
					skipped++ // evicted: the store holds it or a later write
					return
				}
				recs[string(mk)] = rec
			})
			if err != nil {
				return fmt.Errorf("engine: write-back log %s: %w", wbLogName(seq), err)
			}
		}
	}
	if len(recs) > 0 || len(marks) > 0 {
		keys := make([]string, 0, len(recs))
		for k := range recs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b := db.NewBatch()
		for _, k := range keys {
			_ = b.Set([]byte(k), recs[k], nil)
		}
		_ = b.DeleteRange([]byte(wbMarkPrefix), prefixEnd([]byte(wbMarkPrefix)), nil)
		err := b.Commit(pebble.Sync)
		b.Close()
		if err == nil {
			err = syncMeta()
		}
		if err != nil {
			return err
		}
		if frames > 0 {
			logf("write-back log: %d writes of %d keys replayed into the metadata store (%d records skipped: evicted before the stop)", frames, len(recs), skipped)
		}
	}
	for _, seq := range seqs {
		if err := w.fs.Remove(w.fs.PathJoin(w.dir, wbLogName(seq))); err != nil {
			return err
		}
	}
	return w.syncDir()
}

func (w *writeBack) readLog(seq uint64) ([]byte, error) {
	f, err := w.fs.Open(w.fs.PathJoin(w.dir, wbLogName(seq)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func (w *writeBack) syncDir() error {
	d, err := w.fs.OpenDir(w.dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	d.Close()
	return err
}

// newGen creates the next log file and an empty generation around it.
func (w *writeBack) newGen() (*wbGen, error) {
	w.mu.Lock()
	seq := w.nextSeq
	w.nextSeq++
	var m map[string][]byte
	if n := len(w.spareMaps); n > 0 {
		m, w.spareMaps = w.spareMaps[n-1], w.spareMaps[:n-1]
	}
	w.mu.Unlock()
	f, err := w.fs.Create(w.fs.PathJoin(w.dir, wbLogName(seq)), vfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = make(map[string][]byte)
	}
	return &wbGen{seq: seq, file: f, m: m}, nil
}

// wbMarkPrefix prefixes the eviction marks in the metadata store: the mark
// of metadata key mk is wbMarkPrefix+mk -> wbPos.
const wbMarkPrefix = string(prefixState) + "w"

// wbPos is a position in the write-back log: a generation and a byte
// offset in its file.
type wbPos struct{ seq, off uint64 }

func (p wbPos) before(q wbPos) bool { return p.seq < q.seq || p.seq == q.seq && p.off < q.off }

func (p wbPos) append(b []byte) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(b, p.seq), p.off)
}

// wbLoadMarks reads every eviction mark.
func wbLoadMarks(db *pebble.DB) (map[string]wbPos, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(wbMarkPrefix), UpperBound: prefixEnd([]byte(wbMarkPrefix))})
	if err != nil {
		return nil, err
	}
	marks := make(map[string]wbPos)
	for valid := it.First(); valid; valid = it.Next() {
		v := it.Value()
		seq, n1 := binary.Uvarint(v)
		off, n2 := 0, 0
		if n1 > 0 {
			var o uint64
			o, n2 = binary.Uvarint(v[n1:])
			off = int(o)
		}
		if n1 <= 0 || n2 <= 0 {
			it.Close()
			return nil, fmt.Errorf("%w: write-back eviction mark", ErrCorrupt)
		}
		marks[string(it.Key()[len(wbMarkPrefix):])] = wbPos{seq, uint64(off)}
	}
	return marks, it.Close()
}

// wbFrame builds one write's frame.
type wbFrame struct{ buf []byte }

var wbFramePool = ptrPool(func() *wbFrame { return new(wbFrame) })

func (f *wbFrame) reset() { f.buf = append(f.buf[:0], make([]byte, wbFrameHeader)...) }

func (f *wbFrame) add(kind byte, mk, rec []byte) {
	f.buf = append(f.buf, kind)
	f.buf = binary.AppendUvarint(f.buf, uint64(len(mk)))
	f.buf = binary.AppendUvarint(f.buf, uint64(len(rec)))
	f.buf = append(f.buf, mk...)
	f.buf = append(f.buf, rec...)
}

// seal fills in the header.
func (f *wbFrame) seal() {
	p := f.buf[wbFrameHeader:]
	binary.LittleEndian.PutUint32(f.buf[0:], crc32.Checksum(p, castagnoli))
	binary.LittleEndian.PutUint32(f.buf[4:], uint32(len(p)))
}

// wbFrameAt returns the payload of the whole, intact frame at the start of
// data.
func wbFrameAt(data []byte) ([]byte, bool) {
	if len(data) < wbFrameHeader {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(data[4:])
	if n == 0 || int64(n) > int64(len(data)-wbFrameHeader) {
		return nil, false
	}
	p := data[wbFrameHeader : wbFrameHeader+int(n)]
	return p, crc32.Checksum(p, castagnoli) == binary.LittleEndian.Uint32(data)
}

// wbRecords calls fn for each record of a frame's payload.
func wbRecords(p []byte, fn func(kind byte, mk, rec []byte)) error {
	for len(p) > 0 {
		kind := p[0]
		kl, n1 := binary.Uvarint(p[1:])
		if n1 <= 0 {
			return fmt.Errorf("%w: write-back record", ErrCorrupt)
		}
		rl, n2 := binary.Uvarint(p[1+n1:])
		if n2 <= 0 || kind != wbSet {
			return fmt.Errorf("%w: write-back record", ErrCorrupt)
		}
		p = p[1+n1+n2:]
		if kl+rl > uint64(len(p)) {
			return fmt.Errorf("%w: write-back record", ErrCorrupt)
		}
		fn(kind, p[:kl:kl], p[kl:kl+rl:kl+rl])
		p = p[kl+rl:]
	}
	return nil
}

// append adds a frame to the active generation and indexes its records.
// The caller holds the stripes of the frame's keys.
func (w *writeBack) append(f *wbFrame) {
	w.mu.Lock()
	for w.flushing != nil && w.active.bytes >= w.maxBytes {
		w.cond.Wait() // backpressure: the flush is behind
	}
	full := w.appendLocked(f)
	w.mu.Unlock()
	if full {
		w.wake()
	}
}

// appendLocked is append under mu, without waiting; it reports whether the
// generation is due for a flush.
func (w *writeBack) appendLocked(f *wbFrame) bool {
	f.seal()
	g := w.active
	buf := w.chunkFor(g, len(f.buf))
	start := len(buf)
	buf = append(buf, f.buf...)
	g.chunks[len(g.chunks)-1] = buf
	if g.bytes == 0 {
		g.since = time.Now()
	}
	g.bytes += len(f.buf)
	_ = wbRecords(buf[start+wbFrameHeader:], func(kind byte, mk, rec []byte) {
		// NB: the key string points into the chunk, which lives as long
		// as the generation: indexing allocates nothing.
		k := unsafe.String(unsafe.SliceData(mk), len(mk))
		if _, ok := g.m[k]; !ok {
			w.n.Add(1)
		}
		g.m[k] = rec
	})
	return g.bytes >= w.flushBytes
}

// chunkFor returns the generation's last chunk with room for n bytes,
// starting a new one if needed. Under mu.
func (w *writeBack) chunkFor(g *wbGen, n int) []byte {
	if k := len(g.chunks); k > 0 && cap(g.chunks[k-1])-len(g.chunks[k-1]) >= n {
		return g.chunks[k-1]
	}
	var c []byte
	if k := len(w.spareChunks); k > 0 && n <= wbChunkSize {
		c, w.spareChunks = w.spareChunks[k-1], w.spareChunks[:k-1]
	} else {
		c = make([]byte, 0, max(n, wbChunkSize))
	}
	g.chunks = append(g.chunks, c)
	return c
}

func (w *writeBack) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// get copies the key's record into *into if the tier has it.
func (w *writeBack) get(mk []byte, into *[]byte) bool {
	if w.n.Load() == 0 {
		return false
	}
	w.mu.Lock()
	rec, ok := w.active.m[string(mk)]
	if !ok && w.flushing != nil {
		rec, ok = w.flushing.m[string(mk)]
	}
	if ok {
		*into = append((*into)[:0], rec...)
	}
	w.mu.Unlock()
	return ok
}

// wbRead is a record read from the tier, handed out as metaGet's value.
type wbRead struct{ b []byte }

var wbReadPool = ptrPool(func() *wbRead { return new(wbRead) })

func (r *wbRead) Close() error {
	wbReadPool.Put(r)
	return nil
}

// sync writes every frame appended before the call to the log files,
// after calling metaLog, which makes the metadata store's committed
// writes reach the operating system first.
func (w *writeBack) sync(metaLog func() error) error {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	w.mu.Lock()
	gens := [2]*wbGen{w.flushing, w.active}
	for i, g := range gens {
		// NB: chunk contents before their current length never change;
		// the slice headers are copied under mu (into scratch kept under
		// logMu: nothing is allocated).
		if g != nil {
			w.scratch[i] = append(w.scratch[i][:0], g.chunks...)
		}
	}
	w.mu.Unlock()
	if err := metaLog(); err != nil {
		return err
	}
	for i, g := range gens {
		if g == nil {
			continue
		}
		if err := g.writeTo(w.scratch[i], &w.wbuf); err != nil {
			return err
		}
	}
	return nil
}

// writeTo writes the part of chunks the file does not hold yet, through
// buf: a vfs.File may scribble over what it is given (pebble's in-memory
// file system does, to catch callers that rely on it), and the chunks are
// the tier's index. Under logMu.
func (g *wbGen) writeTo(chunks [][]byte, buf *[]byte) error {
	if g.file == nil {
		return nil // flushed: its frames are in the store
	}
	b := (*buf)[:0]
	at, off := g.wChunk, g.wOff
	for at < len(chunks) {
		c := chunks[at]
		b = append(b, c[off:]...)
		off = len(c)
		if at == len(chunks)-1 {
			break
		}
		at++
		off = 0
	}
	*buf = b
	if len(b) == 0 {
		return nil
	}
	if _, err := g.file.Write(b); err != nil {
		return err
	}
	g.wChunk, g.wOff = at, off
	return nil
}

// syncFiles makes the frames written to the live log files durable.
// NB: not under logMu: writes go on while the device syncs.
func (w *writeBack) syncFiles() error {
	w.fileMu.RLock()
	defer w.fileMu.RUnlock()
	w.mu.Lock()
	gens := [2]*wbGen{w.flushing, w.active}
	w.mu.Unlock()
	for _, g := range gens {
		if g != nil && g.file != nil {
			if err := g.file.Sync(); err != nil {
				return err
			}
		}
	}
	return nil
}

// due reports whether the active generation should be flushed now.
func (w *writeBack) due() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	g := w.active
	return g.bytes >= w.flushBytes || g.bytes > 0 && time.Since(g.since) >= w.maxAge
}

// writeBackLoop flushes the tier when it fills or ages.
func (e *Engine) writeBackLoop() {
	defer e.wg.Done()
	w := e.wb
	t := time.NewTicker(max(w.maxAge/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-w.kick:
		case <-t.C:
			if !w.due() {
				continue
			}
		}
		if err := e.flushWriteBack(); err != nil {
			e.opts.Logf("write-back flush failed (retried): %v", err)
		}
	}
}

// flushWriteBack moves the active generation into the metadata store:
// swap in a new generation, commit the old one's records as one sorted
// batch, sync the metadata log, remove the old log file. One runs at a
// time (the loop, or Close after the loop stopped).
func (e *Engine) flushWriteBack() error {
	w := e.wb
	w.mu.Lock()
	g := w.flushing // a failed flush is retried first
	empty := g == nil && w.active.bytes == 0
	w.mu.Unlock()
	if empty {
		return nil
	}
	if g == nil {
		next, err := w.newGen()
		if err != nil {
			return err
		}
		w.mu.Lock()
		g = w.active
		w.active, w.flushing = next, g
		w.swaps++
		w.mu.Unlock()
	}
	if err := e.commitWriteBack(g); err != nil {
		return err
	}
	// NB: until its log is gone the generation stays the one flushing
	// (its keys' writers wait): a log left behind would replay its
	// records over later writes at the next start.
	if err := w.retire(g); err != nil {
		return err
	}
	if err := e.clearMarks(g.seq); err != nil {
		return err
	}
	w.mu.Lock()
	w.n.Add(-int64(len(g.m)))
	clear(g.m)
	w.spareMaps = append(w.spareMaps, g.m)
	for _, c := range g.chunks {
		if cap(c) == wbChunkSize && len(w.spareChunks) < wbMaxBytes/wbChunkSize {
			w.spareChunks = append(w.spareChunks, c[:0])
		}
	}
	w.flushing = nil
	w.flushed++
	w.cond.Broadcast()
	w.mu.Unlock()
	w.flushes.Add(1)
	return nil
}

// commitWriteBack commits a generation's records to the store in key
// order and makes them durable.
func (e *Engine) commitWriteBack(g *wbGen) error {
	if len(g.m) > 0 {
		keys := make([]string, 0, len(g.m))
		for k := range g.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b := e.db.NewBatch()
		defer b.Close()
		for _, k := range keys {
			_ = b.Set(unsafe.Slice(unsafe.StringData(k), len(k)), g.m[k], nil)
		}
		if err := e.commitNoted(b, pebble.NoSync); err != nil {
			return err
		}
	}
	return e.syncMetadata()
}

// drain waits until everything written to the tier before the call is in
// the metadata store.
func (e *Engine) drain() {
	w := e.wb
	if w == nil || w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	target := w.swaps
	if w.active.bytes > 0 {
		target++
	}
	for w.flushed < target && !e.closed.Load() {
		w.wake()
		w.cond.Wait()
	}
	w.mu.Unlock()
}

// evictFor moves the tier's records of the metadata keys b writes into the
// store before b commits (see the invariants above). The caller holds the
// keys' stripes.
func (e *Engine) evictFor(b *pebble.Batch) error {
	w := e.wb
	if w == nil || w.n.Load() == 0 {
		return nil
	}
	var arr [16][]byte
	keys := arr[:0]
	r := b.Reader()
	for {
		kind, key, _, ok, err := r.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if len(key) == 0 || key[0] != prefixKey {
			continue
		}
		if kind == pebble.InternalKeyKindRangeDelete {
			// No metadata range is deleted by range today; were one, the
			// whole tier goes to the store first.
			e.drain()
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// A key of the generation being flushed waits for the flush, which
	// brings it to the store.
	for w.flushing != nil && anyIn(w.flushing.m, keys) {
		w.cond.Wait()
	}
	var ev *pebble.Batch
	var mark [binary.MaxVarintLen64 * 2]byte
	var mk []byte
	at := wbPos{w.active.seq, uint64(w.active.bytes)}
	for _, k := range keys {
		if rec, ok := w.active.m[string(k)]; ok {
			if ev == nil {
				ev = e.db.NewBatch()
			}
			_ = ev.Set(k, rec, nil)
			mk = append(append(mk[:0], wbMarkPrefix...), k...)
			_ = ev.Set(mk, at.append(mark[:0]), nil)
		}
	}
	if ev == nil {
		return nil
	}
	defer ev.Close()
	// NB: mu is held through the commit, so no flush takes the records
	// meanwhile. The batch carries the records and their marks: whichever
	// part of the metadata log survives a crash, each record is there with
	// its mark or neither is.
	if err := e.commitNoted(ev, pebble.NoSync); err != nil {
		return err
	}
	for _, k := range keys {
		if _, ok := w.active.m[string(k)]; ok {
			delete(w.active.m, string(k))
			w.n.Add(-1)
			w.marked[string(k)] = at.seq
		}
	}
	w.evicts.Add(int64(ev.Count() / 2))
	return nil
}

// clearMarks deletes the eviction marks of a retired generation: its log
// is gone, they skip nothing any more. Under mu, as evictFor writes marks:
// a key evicted again meanwhile keeps its newer mark.
func (e *Engine) clearMarks(seq uint64) error {
	w := e.wb
	w.mu.Lock()
	defer w.mu.Unlock()
	var b *pebble.Batch
	var mk []byte
	for k, s := range w.marked {
		if s != seq {
			continue
		}
		if b == nil {
			b = e.db.NewBatch()
		}
		mk = append(append(mk[:0], wbMarkPrefix...), k...)
		_ = b.Delete(mk, nil)
		delete(w.marked, k)
	}
	if b == nil {
		return nil
	}
	defer b.Close()
	return e.wrote(b.Commit(pebble.NoSync))
}

func anyIn(m map[string][]byte, keys [][]byte) bool {
	for _, k := range keys {
		if _, ok := m[string(k)]; ok {
			return true
		}
	}
	return false
}

// closeWriteBack flushes what is left (the loop has stopped) and closes
// the log.
func (e *Engine) closeWriteBack() error {
	w := e.wb
	if w == nil {
		return nil
	}
	err := e.flushWriteBack()
	w.mu.Lock()
	g := w.active
	w.mu.Unlock()
	if err == nil && g.bytes == 0 {
		err = w.retire(g)
	}
	return err
}

// retire closes and removes a generation's log, whose records are all in
// the store.
func (w *writeBack) retire(g *wbGen) error {
	w.logMu.Lock()
	w.fileMu.Lock()
	var err error
	if g.file != nil {
		err = g.file.Close()
		g.file = nil
	}
	w.fileMu.Unlock()
	w.logMu.Unlock()
	if err == nil {
		err = w.fs.Remove(w.fs.PathJoin(w.dir, wbLogName(g.seq)))
		if errors.Is(err, os.ErrNotExist) {
			err = nil // removed by an earlier try
		}
	}
	if err == nil {
		err = w.syncDir()
	}
	return err
}

// WriteBackStats are the write-back tier's figures.
type WriteBackStats struct {
	Enabled bool
	Keys    int64 // records indexed (a key written again during a flush counts twice)
	Flushes int64 // generations moved to the metadata store
	Evicts  int64 // records moved ahead of a write through the store
}

// WriteBack reports the write-back tier's state.
func (e *Engine) WriteBack() WriteBackStats {
	w := e.wb
	if w == nil {
		return WriteBackStats{}
	}
	return WriteBackStats{Enabled: w.enabled, Keys: w.n.Load(), Flushes: w.flushes.Load(), Evicts: w.evicts.Load()}
}
