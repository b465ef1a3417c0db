package s3

import (
	"crypto/md5"
	"hash"
	"sync"

	"github.com/gpucache/gpucache/internal/md5x"
)

// ETags are the MD5 of the body, and MD5 is the largest CPU cost of a PUT:
// one stream cannot be hashed in parallel, and crypto/md5 runs at about
// 0.7 GB/s per core. A large body read into engine memory (which stays put
// until the body is stored) is therefore hashed on md5x lanes instead: the
// reading goroutine only queues references to the pages it filled and goes
// on reading, and one lane goroutine advances up to sixteen bodies per pass
// of vector code, in place: 8.6 GB/s on one core with 16 bodies and
// AVX-512, 3 GB/s with 4 (crypto/md5: 0.7 GB/s per core; 1 body on a lane
// hashes about as fast, but off the reading goroutine). Small bodies,
// bodies read into transient buffers, and CPUs without a vector kernel use
// crypto/md5.
const md5LaneMinSize = 1 << 20 // smallest declared body worth a lane (unknown sizes count as large)

// md5Lanes hands out ETag hashers; the zero value is ready to use.
type md5Lanes struct {
	once  sync.Once
	lanes *md5x.Lanes // nil without a vector kernel
}

// lane returns a lane hasher, or nil when the CPU has no vector kernel.
func (l *md5Lanes) lane() *md5x.Hasher {
	l.once.Do(func() {
		if md5x.Available() {
			l.lanes = md5x.New()
		}
	})
	if l.lanes == nil {
		return nil
	}
	return l.lanes.NewHash()
}

// etagHash is one body's MD5: crypto/md5, or a lane once the body is
// known to be read into memory that stays unmodified (see inPlace).
type etagHash struct {
	hash.Hash
	lane *md5x.Hasher
}

func newETagHash() etagHash { return etagHash{Hash: md5.New()} }

// inPlace moves a body of the given size (-1: unknown) that has hashed
// nothing yet to a lane. From then on every slice written must stay
// unmodified until settle, Sum or release.
func (h *etagHash) inPlace(l *md5Lanes, size int64) {
	if h.lane != nil || size >= 0 && size < md5LaneMinSize {
		return
	}
	if lh := l.lane(); lh != nil {
		h.lane, h.Hash = lh, lh
	}
}

// settle waits for the lane to hash what was written, after which no
// written memory is referenced.
func (h *etagHash) settle() {
	if h.lane != nil {
		h.lane.Flush()
	}
}

// release abandons the lane (after Sum, or on an abandoned body); written
// memory is no longer referenced once it returns. It is idempotent.
func (h *etagHash) release() {
	if h.lane != nil {
		h.lane.Close()
		h.lane, h.Hash = nil, nil
	}
}
