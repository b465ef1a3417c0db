package engine

import (
	"hash/crc32"
	"sync"

	"github.com/gpucache/gpucache/nvme"
)

// A large value arriving from a socket can go to the NVMe tier while it is
// still arriving: the front end reports each filled page (Buffer.Filled),
// and whole chunks of pages are written by the blob store's writers at an
// extent reserved on the first report. Put then writes only the tail, waits
// for the chunks and syncs once, so a SET costs about max(receive, write)
// instead of their sum. The CRC is computed page by page as pages fill.

// streamChunkTarget is the size of one background write. A value under
// four of them is written in quarters, down to streamChunkMin, so that
// most of a 2-16 MiB value too is on its way while the rest arrives.
const (
	streamChunkTarget = 4 << 20
	streamChunkMin    = 1 << 20
)

// blobStream is a Buffer's streaming write, embedded in it (no allocation).
type blobStream struct {
	active   bool
	disabled bool // reserve failed, or not worth it: Put takes the plain path
	seg      *segment
	off      int64 // extent offset
	padded   int64 // reserved bytes
	next     int   // pages handed to writers
	chunk    int   // pages per write
	crc      uint32
	crcPages int

	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

// streamJob is one chunk write.
type streamJob struct {
	f   volumeFile
	iov [][]byte
	off int64
	st  *blobStream
}

// startWriters runs the blob store's background chunk writers.
func (s *blobStore) startWriters(n int) {
	s.jobs = make(chan streamJob, 64)
	for i := 0; i < n; i++ {
		s.writersWG.Add(1)
		go func() {
			defer s.writersWG.Done()
			for j := range s.jobs {
				_, err := j.f.WritevAt(j.iov, j.off)
				if err != nil {
					j.st.mu.Lock()
					if j.st.err == nil {
						j.st.err = err
					}
					j.st.mu.Unlock()
				}
				j.st.wg.Done()
			}
		}()
	}
}

func (s *blobStore) stopWriters() {
	if s.jobs != nil {
		close(s.jobs)
		s.writersWG.Wait()
		s.jobs = nil
	}
}

// chunkPages is the number of whole pages per chunk write for a value of
// size bytes: a multiple of the stripe width, near a quarter of the value
// within [streamChunkMin, streamChunkTarget].
func (s *blobStore) chunkPages(size int64) int {
	target := min(streamChunkTarget, max(streamChunkMin, size/4))
	unit := 1
	for int64(unit)*pageSize%s.width != 0 {
		unit++
	}
	n := unit
	for int64(n)*pageSize < target {
		n += unit
	}
	return n
}

// Filled tells the buffer that its first n pages (Pages()[:n]) hold their
// final bytes. A front end receiving a value calls it as pages fill, in
// order; the engine then writes whole chunks to the NVMe tier in the
// background. Calling it is optional. Not safe for concurrent use with
// other methods of the Buffer.
func (b *Buffer) Filled(n int) {
	st := &b.stream
	if st.disabled || b.store == nil {
		return
	}
	if n > len(b.pages) {
		n = len(b.pages)
	}
	for ; st.crcPages < n; st.crcPages++ {
		st.crc = crc32.Update(st.crc, castagnoli, b.pages[st.crcPages])
	}
	if !st.active {
		s := b.store
		if b.size <= int64(s.inlineThreshold) || b.size < 2*streamChunkMin {
			st.disabled = true
			return
		}
		padded := roundUp(roundUp(b.size, nvme.Align), s.width)
		seg, off, err := s.reserve(padded, false)
		if err != nil {
			st.disabled = true // Put takes the plain path and reports it
			return
		}
		st.active, st.seg, st.off, st.padded, st.chunk = true, seg, off, padded, s.chunkPages(b.size)
	}
	if n == len(b.pages) && len(b.pages[n-1]) != pageSize {
		n-- // a short last page goes with the tail, padded, in finishStream
	}
	for n-st.next >= st.chunk {
		st.wg.Add(1)
		b.store.jobs <- streamJob{
			f:   st.seg.f,
			iov: b.pages[st.next : st.next+st.chunk : st.next+st.chunk],
			off: st.off + int64(st.next)*pageSize,
			st:  st,
		}
		st.next += st.chunk
	}
}

// Streaming reports whether the buffer's pages are already on their way to
// the NVMe tier (its extent is reserved, so a Put of it cannot fail for
// lack of space).
func (b *Buffer) Streaming() bool { return b.stream.active }

// finishStream writes what remains of a streamed value, waits for every
// chunk and, with durable, syncs: the same contract as blobStore.write (the
// extent's segment comes back pinned).
func (s *blobStore) finishStream(b *Buffer, durable bool) (Extent, error) {
	st := &b.stream
	b.Filled(len(b.pages)) // the CRC covers every page
	var iov [][]byte
	for i := st.next; i < len(b.pages); i++ {
		iov = append(iov, b.pages[i])
	}
	var tail int64
	if len(iov) > 0 {
		iov[len(iov)-1] = padTail(iov[len(iov)-1], nvme.Align)
		for _, p := range iov {
			tail += int64(len(p))
		}
	}
	start := st.off + int64(st.next)*pageSize
	if pad := st.padded - (start - st.off) - tail; pad > 0 {
		iov = append(iov, s.zeros[:pad])
		tail += pad
	}
	var err error
	if tail > 0 {
		_, err = st.seg.f.WritevAt(iov, start)
	}
	st.wg.Wait()
	st.mu.Lock()
	if err == nil {
		err = st.err
	}
	st.mu.Unlock()
	seg := st.seg
	if err == nil {
		if seq := seg.noteWrite(); durable {
			err = seg.syncTo(seq)
		}
	}
	s.endWrite(seg, err == nil)
	st.active = false
	if err != nil {
		return Extent{}, err
	}
	s.writes.Add(1)
	s.bytesWritten.Add(b.size)
	return Extent{Segment: seg.id, Offset: st.off, Length: b.size, CRC: st.crc}, nil
}

// abandonStream waits for a streamed value's chunk writes (their pages are
// about to be freed) and gives up its reservation.
func (s *blobStore) abandonStream(b *Buffer) {
	st := &b.stream
	st.wg.Wait()
	s.endWrite(st.seg, false)
	s.orphaned.Add(b.size)
}

// endWrite ends a reservation's in-flight hold; a successful write keeps the
// segment pinned for the caller (see write).
func (s *blobStore) endWrite(seg *segment, pin bool) {
	s.mu.Lock()
	seg.inflight--
	if pin {
		seg.pins++
	}
	s.maybeRemoveLocked(seg)
	s.mu.Unlock()
}
