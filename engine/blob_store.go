package engine

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/gpucache/gpucache/nvme"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// blobStore keeps large values in append-only segment files on the volume.
// A value is written once at a reserved, stripe-aligned offset of the active
// segment before its metadata commits; a durable write (sync yes, and every
// relocation) also waits for an fdatasync, grouped across concurrent
// writers, and the others are synced by the background round (syncAll).
// Segments are never rewritten in place: space comes back when no key
// references a segment any more (overwrite, delete, expiry, segment
// eviction in cache mode), and the whole file is removed once the metadata
// that stopped referencing it is durable (reap).
type blobStore struct {
	vol      volume
	segSize  int64
	width    int64 // stripe width: every write is padded to it
	capacity int64 // 0: unbounded
	policy   Policy
	zeros    []byte // aligned zero padding, len == width
	logf     func(string, ...any)

	inlineThreshold int
	jobs            chan streamJob // background chunk writes (blob_stream.go)
	writersWG       sync.WaitGroup

	// evict is set by the engine: it drops (or re-inserts, if hot) every key
	// referencing seg so the segment can go. Called without mu held.
	evict func(seg uint64)
	// metaDurable is set by the engine: it makes every committed metadata
	// change durable (a real log sync), so that a segment no committed
	// record references may be removed without a crash bringing back a
	// record that points into it.
	metaDurable func() error

	mu     sync.Mutex
	segs   map[uint64]*segment
	active *segment
	nextID uint64
	used   int64 // bytes of segment files
	// dying are segments nothing references any more, closed and removed
	// by reap once the metadata that dropped them is durable.
	dying []*segment
	// holds counts checkpoints in progress: while one runs, reap removes
	// no segment file (checkpoint.go).
	holds int
	// checkpointed, when set (tests), runs between a checkpoint's metadata
	// copy and its segment links.
	checkpointed func()
	// filesMu keeps reap from closing a dying segment's file while the
	// background round syncs it (shared: syncAll; exclusive: reap).
	filesMu sync.RWMutex

	bytesWritten, bytesRead  atomic.Int64
	writes, reads            atomic.Int64
	corrupt, segmentsEvicted atomic.Int64
	segmentsRemoved          atomic.Int64
	orphaned                 atomic.Int64 // bytes written for writes that did not commit
}

type segment struct {
	id        uint64
	f         volumeFile
	size      int64
	tail      int64 // next free offset (active segment only)
	sealed    bool
	keys      map[string]int // referencing metadata keys -> extent count
	live      int64
	pins      int
	doomed    bool // being evicted
	compacted bool // compaction already tried

	syncMu              sync.Mutex
	syncCond            *sync.Cond
	writeSeq, syncedSeq uint64
	syncing             bool
	inflight            int
}

func segmentName(id uint64) string { return fmt.Sprintf("seg-%016x", id) }

func parseSegmentName(name string) (uint64, bool) {
	var id uint64
	if len(name) != 20 {
		return 0, false
	}
	if _, err := fmt.Sscanf(name, "seg-%016x", &id); err != nil {
		return 0, false
	}
	return id, true
}

func newBlobStore(vol volume, segSize, capacity int64, policy Policy, logf func(string, ...any)) *blobStore {
	w := vol.StripeWidth()
	// NB: a bounded tier holds at least eight segments, so a tier smaller
	// than the configured segment size still stores values, and cache mode
	// always has sealed segments to evict while the active one fills.
	if capacity > 0 && segSize > capacity/8 {
		segSize = capacity / 8
	}
	if segSize < w {
		segSize = w
	}
	segSize = roundUp(segSize, w)
	return &blobStore{
		vol: vol, segSize: segSize, width: w, capacity: capacity, policy: policy,
		zeros: nvme.AlignedAlloc(int(w)), logf: logf,
		segs: make(map[uint64]*segment), nextID: 1,
	}
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// recover lists segment files; those in referenced are kept (sealed), the
// rest — blobs whose metadata never committed — are removed.
func (s *blobStore) recover(referenced map[uint64]bool) error {
	names, err := s.vol.List()
	if err != nil {
		return fmt.Errorf("engine: cannot list segments: %w", err)
	}
	for _, name := range names {
		id, ok := parseSegmentName(name)
		if !ok {
			continue
		}
		if id >= s.nextID {
			s.nextID = id + 1
		}
		if !referenced[id] {
			if err := s.vol.Remove(name); err != nil {
				return fmt.Errorf("engine: cannot remove unreferenced segment %s: %w", name, err)
			}
			s.logf("recovery: removed unreferenced segment %s", name)
			continue
		}
		f, err := s.vol.Open(name)
		if err != nil {
			return fmt.Errorf("engine: cannot open segment %s: %w", name, err)
		}
		seg := s.segment(id)
		seg.f, seg.size, seg.sealed = f, f.Size(), true
		s.used += seg.size
	}
	for id, seg := range s.segs {
		if seg.f == nil {
			s.logf("recovery: segment %s is referenced but missing", segmentName(id))
		}
	}
	return nil
}

// segment returns the record for id, creating an empty one (mu held or
// single-threaded recovery).
func (s *blobStore) segment(id uint64) *segment {
	seg := s.segs[id]
	if seg == nil {
		seg = &segment{id: id, keys: make(map[string]int)}
		seg.syncCond = sync.NewCond(&seg.syncMu)
		s.segs[id] = seg
	}
	return seg
}

// write stores buf's bytes and returns their extent, with its segment
// pinned: the caller unpins it once metadata references the extent (or it
// is abandoned). The bytes have reached the device (O_DIRECT) or the
// operating system; with durable they are also synced.
func (s *blobStore) write(buf *Buffer, durable bool) (Extent, error) {
	return s.writeBlob(buf, false, durable)
}

// writeBlob is write; force skips the capacity check (re-inserting hot
// values while a segment is being evicted, so eviction cannot recurse).
func (s *blobStore) writeBlob(buf *Buffer, force, durable bool) (Extent, error) {
	var iov [][]byte
	iov = buf.padded(iov, nvme.Align)
	n := int64(0)
	for _, b := range iov {
		n += int64(len(b))
	}
	if r := n % s.width; r != 0 {
		iov = append(iov, s.zeros[:s.width-r])
		n += s.width - r
	}
	seg, off, err := s.reserve(n, force)
	if err != nil {
		return Extent{}, err
	}
	crc := uint32(0)
	for _, p := range buf.pages {
		crc = crc32.Update(crc, castagnoli, p)
	}
	_, err = seg.f.WritevAt(iov, off)
	if err == nil {
		if seq := seg.noteWrite(); durable {
			err = seg.syncTo(seq)
		}
	}
	// NB: the write's hold on the segment becomes a pin in the same critical
	// section, so the segment cannot be removed before the caller's metadata
	// references the new extent.
	s.endWrite(seg, err == nil)
	if err != nil {
		return Extent{}, fmt.Errorf("engine: cannot write blob to segment %s: %w", segmentName(seg.id), err)
	}
	s.writes.Add(1)
	s.bytesWritten.Add(buf.size)
	return Extent{Segment: seg.id, Offset: off, Length: buf.size, CRC: crc}, nil
}

// reserve finds room for n bytes in the active segment, opening a new
// segment (and making space for it) when needed.
func (s *blobStore) reserve(n int64, force bool) (*segment, int64, error) {
	reaped := false
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		if a := s.active; a != nil && a.tail+n <= a.size {
			off := a.tail
			a.tail += n
			a.inflight++
			s.mu.Unlock()
			return a, off, nil
		}
		size := s.segSize
		if n > size {
			size = roundUp(n, s.width)
		}
		if s.capacity > 0 && s.used+size > s.capacity && !force {
			victim := s.victimLocked()
			s.mu.Unlock()
			if victim == 0 || attempt > 64 {
				return nil, 0, ErrNoSpace
			}
			s.evict(victim)
			continue
		}
		if len(s.dying) > 0 && !reaped {
			// A new segment is a good moment to give back dead ones.
			s.mu.Unlock()
			s.reap(false /* metadata not yet durable */)
			reaped = true
			continue
		}
		id := s.nextID
		s.nextID++
		s.used += size
		s.mu.Unlock()
		f, err := s.vol.Create(segmentName(id), size)
		s.mu.Lock()
		if err != nil {
			s.used -= size
			s.mu.Unlock()
			return nil, 0, fmt.Errorf("engine: cannot create segment: %w", err)
		}
		seg := s.segment(id)
		seg.f, seg.size = f, size
		if old := s.active; old != nil {
			old.sealed = true
			s.maybeRemoveLocked(old)
		}
		s.active = seg
		s.mu.Unlock()
	}
}

// victimLocked picks the oldest sealed segment to evict in cache mode.
func (s *blobStore) victimLocked() uint64 {
	if s.policy != EvictLRU {
		return 0
	}
	var best uint64
	for id, seg := range s.segs {
		if seg.sealed && !seg.doomed && seg.f != nil && (best == 0 || id < best) {
			best = id
		}
	}
	if best != 0 {
		s.segs[best].doomed = true
		s.segmentsEvicted.Add(1)
	}
	return best
}

func (seg *segment) noteWrite() uint64 {
	seg.syncMu.Lock()
	seg.writeSeq++
	n := seg.writeSeq
	seg.syncMu.Unlock()
	return n
}

// syncTo returns once every write up to seq is durable. Concurrent writers
// share one fdatasync: whoever finds no sync running starts one covering
// every write completed so far; the others wait for it.
func (seg *segment) syncTo(seq uint64) error {
	seg.syncMu.Lock()
	defer seg.syncMu.Unlock()
	for seg.syncedSeq < seq {
		if seg.syncing {
			seg.syncCond.Wait()
			continue
		}
		seg.syncing = true
		target := seg.writeSeq
		seg.syncMu.Unlock()
		err := seg.f.Sync()
		seg.syncMu.Lock()
		seg.syncing = false
		seg.syncCond.Broadcast()
		if err != nil {
			return err
		}
		seg.syncedSeq = target
	}
	return nil
}

// addRef records that metaKey's value uses the extents.
func (s *blobStore) addRef(metaKey string, ext []Extent) {
	if len(ext) == 0 {
		return
	}
	s.mu.Lock()
	for _, x := range ext {
		seg := s.segment(x.Segment)
		seg.keys[metaKey]++
		seg.live += x.Length
	}
	s.mu.Unlock()
}

// dropRef undoes addRef; segments nobody references any more are removed.
func (s *blobStore) dropRef(metaKey []byte, ext []Extent) {
	if len(ext) == 0 {
		return
	}
	s.mu.Lock()
	for _, x := range ext {
		seg := s.segs[x.Segment]
		if seg == nil {
			continue
		}
		if n := seg.keys[string(metaKey)]; n > 1 {
			seg.keys[string(metaKey)] = n - 1
		} else {
			delete(seg.keys, string(metaKey))
		}
		seg.live -= x.Length
		s.maybeRemoveLocked(seg)
	}
	s.mu.Unlock()
}

// keysOf returns the metadata keys referencing the segment.
func (s *blobStore) keysOf(id uint64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seg := s.segs[id]
	if seg == nil {
		return nil
	}
	keys := make([]string, 0, len(seg.keys))
	for k := range seg.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *blobStore) maybeRemoveLocked(seg *segment) {
	if !seg.sealed || len(seg.keys) > 0 || seg.pins > 0 || seg.inflight > 0 || seg == s.active {
		if seg.doomed && seg.f == nil {
			delete(s.segs, seg.id)
		}
		return
	}
	delete(s.segs, seg.id)
	if seg.f == nil {
		return
	}
	// NB: the record that stopped referencing the segment may still be
	// only in the operating system (or pebble's buffer); removing the file
	// now could let a crash bring that record back pointing at nothing.
	s.used -= seg.size
	s.dying = append(s.dying, seg)
}

// reap removes the dying segments. metaSynced says the caller has just
// made the metadata durable after they died; otherwise reap does.
func (s *blobStore) reap(metaSynced bool) {
	s.mu.Lock()
	if s.holds > 0 {
		s.mu.Unlock()
		return
	}
	dying := s.dying
	s.dying = nil
	s.mu.Unlock()
	if len(dying) == 0 {
		return
	}
	if !metaSynced && s.metaDurable != nil {
		if err := s.metaDurable(); err != nil {
			s.logf("cannot sync metadata, keeping %d dead segments for now: %v", len(dying), err)
			s.mu.Lock()
			s.dying = append(s.dying, dying...)
			s.mu.Unlock()
			return
		}
	}
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	for _, seg := range dying {
		_ = seg.f.Close()
		seg.f = nil
		if err := s.vol.Remove(segmentName(seg.id)); err != nil {
			s.logf("cannot remove segment %s: %v", segmentName(seg.id), err)
		}
		s.segmentsRemoved.Add(1)
	}
}

// syncAll makes every blob write completed before the call durable: one
// fdatasync per segment written since its last sync. It holds no pins, so
// a slow sync never keeps eviction from freeing a segment.
func (s *blobStore) syncAll() error {
	s.mu.Lock()
	var segs []*segment
	for _, seg := range s.segs {
		if seg.f != nil && seg.unsynced() {
			segs = append(segs, seg)
		}
	}
	s.mu.Unlock()
	s.filesMu.RLock()
	defer s.filesMu.RUnlock()
	var first error
	for _, seg := range segs {
		if seg.f == nil {
			continue // reaped since: nothing references it
		}
		seg.syncMu.Lock()
		target := seg.writeSeq
		seg.syncMu.Unlock()
		if err := seg.syncTo(target); err != nil && first == nil {
			first = fmt.Errorf("engine: cannot sync segment %s: %w", segmentName(seg.id), err)
		}
	}
	return first
}

func (seg *segment) unsynced() bool {
	seg.syncMu.Lock()
	defer seg.syncMu.Unlock()
	return seg.syncedSeq < seg.writeSeq
}

// pin keeps the extents' segments from being removed until unpin.
func (s *blobStore) pin(ext []Extent) {
	s.mu.Lock()
	for _, x := range ext {
		if seg := s.segs[x.Segment]; seg != nil {
			seg.pins++
		}
	}
	s.mu.Unlock()
}

func (s *blobStore) unpin(ext []Extent) {
	s.mu.Lock()
	for _, x := range ext {
		if seg := s.segs[x.Segment]; seg != nil {
			seg.pins--
			s.maybeRemoveLocked(seg)
		}
	}
	s.mu.Unlock()
}

func (s *blobStore) file(id uint64) (volumeFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seg := s.segs[id]
	if seg == nil || seg.f == nil {
		return nil, fmt.Errorf("engine: segment %s: %w", segmentName(id), errSegmentGone)
	}
	return seg.f, nil
}

var errSegmentGone = errors.New("segment is gone")

// readInto reads the extents back to back into buf (which is exactly their
// total length) and verifies each CRC. The caller has pinned the segments.
func (s *blobStore) readInto(ext []Extent, buf *Buffer) error {
	var at int64
	var iov [][]byte
	for _, x := range ext {
		f, err := s.file(x.Segment)
		if err != nil {
			return err
		}
		if at%nvme.Align == 0 {
			iov = sliceAligned(iov[:0], buf, at, roundUp(x.Length, nvme.Align))
			if _, err := f.ReadvAt(iov, x.Offset); err != nil {
				return fmt.Errorf("engine: cannot read segment %s: %w", segmentName(x.Segment), err)
			}
		} else {
			// A part that starts mid-page (composed values): bounce.
			tmp := nvme.AlignedAlloc(int(roundUp(x.Length, nvme.Align)))
			_, err := f.ReadvAt([][]byte{tmp}, x.Offset)
			if err == nil {
				copyIntoPages(buf, at, tmp[:x.Length])
			}
			nvme.AlignedFree(tmp)
			if err != nil {
				return fmt.Errorf("engine: cannot read segment %s: %w", segmentName(x.Segment), err)
			}
		}
		if crc := crcOfRange(buf, at, x.Length); crc != x.CRC {
			s.corrupt.Add(1)
			return fmt.Errorf("%w: segment %s offset %d: crc %08x, want %08x",
				ErrCorrupt, segmentName(x.Segment), x.Offset, crc, x.CRC)
		}
		at += x.Length
	}
	s.reads.Add(1)
	s.bytesRead.Add(at)
	return nil
}

// sliceAligned returns iovecs covering [at, at+n) of buf's pages, using the
// pages' spare capacity for the padding past the end.
func sliceAligned(dst [][]byte, buf *Buffer, at, n int64) [][]byte {
	for i, p := range buf.pages {
		if n <= 0 {
			break
		}
		if at >= pageSize {
			at -= pageSize
			continue
		}
		full := buf.a.page(buf.idx[i])
		seg := full[at:]
		if int64(len(seg)) > n {
			seg = seg[:n]
		}
		_ = p
		dst = append(dst, seg)
		n -= int64(len(seg))
		at = 0
	}
	return dst
}

func copyIntoPages(buf *Buffer, at int64, src []byte) {
	for _, p := range buf.pages {
		if at >= int64(len(p)) {
			at -= int64(len(p))
			continue
		}
		n := copy(p[at:], src)
		src = src[n:]
		at = 0
		if len(src) == 0 {
			return
		}
	}
}

func crcOfRange(buf *Buffer, at, n int64) uint32 {
	crc := uint32(0)
	for _, p := range buf.pages {
		if n <= 0 {
			break
		}
		if at >= int64(len(p)) {
			at -= int64(len(p))
			continue
		}
		b := p[at:]
		if int64(len(b)) > n {
			b = b[:n]
		}
		crc = crc32.Update(crc, castagnoli, b)
		n -= int64(len(b))
		at = 0
	}
	return crc
}

// readRange copies bytes [off, off+len(dst)) of the value made of ext into
// dst, verifying every extent it touches.
func (s *blobStore) readRange(a *arena, ext []Extent, dst []byte, off int64) (int, error) {
	var w sliceWriter
	w.b = dst[:0]
	n, err := s.streamRange(a, &w, ext, off, int64(len(dst)))
	return int(n), err
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// streamRange writes bytes [off, off+n) of the value made of ext to w, one
// verified extent at a time, so memory is bounded by the largest extent.
func (s *blobStore) streamRange(a *arena, w io.Writer, ext []Extent, off, n int64) (int64, error) {
	var total int64
	for _, x := range ext {
		if n <= 0 {
			break
		}
		if off >= x.Length {
			off -= x.Length
			continue
		}
		buf, err := newBuffer(a, x.Length, defaultMemoryWait)
		if err != nil {
			return total, err
		}
		if err := s.readInto([]Extent{x}, buf); err != nil {
			buf.Release()
			return total, err
		}
		want := x.Length - off
		if want > n {
			want = n
		}
		var v Value
		v.buf, v.meta.Size, v.meta.extents = buf, x.Length, []Extent{}
		m, err := v.WriteRange(w, off, want)
		buf.Release()
		total += m
		if err != nil {
			return total, err
		}
		n -= want
		off = 0
	}
	return total, nil
}

// stats returns segment count, bytes used and live bytes.
func (s *blobStore) stats() (segs int, used, live int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.segs {
		if seg.f != nil {
			segs++
		}
		live += seg.live
	}
	return segs, s.used, live
}

func (s *blobStore) close() error {
	s.stopWriters()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.dying {
		// Not removed: recovery removes unreferenced segments.
		_ = seg.f.Close()
	}
	s.dying = nil
	var first error
	for _, seg := range s.segs {
		if seg.f != nil {
			if err := seg.f.Close(); err != nil && first == nil {
				first = err
			}
			seg.f = nil
		}
	}
	nvme.AlignedFree(s.zeros)
	return first
}
