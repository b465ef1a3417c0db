package s3

import (
	"crypto/md5"
	"hash"
	"sync"
	"sync/atomic"

	md5simd "github.com/minio/md5-simd"
)

// ETags are the MD5 of the body, and MD5 is the largest CPU cost of a PUT:
// one stream cannot be hashed in parallel, and crypto/md5 runs at about
// 0.75 GB/s per core. When several large bodies arrive at once (an LMCache
// or minio-go client uploads the 8 MiB parts of a chunk in parallel), their
// blocks instead go to a multi-lane hasher that advances up to 16 streams
// in one AVX-512 pass (8 with AVX2) on its own goroutine: on the 2-core
// host of the figures it hashes 4.6 GB/s with 16 streams against 1.5 GB/s
// for crypto/md5 on both cores. With one or two streams in flight a lane
// is slower than crypto/md5 (and the lanes take a copy of each block, the
// price of hashing asynchronously), so a body joins them only when
// md5LaneThreshold or more large bodies are being hashed. Without AVX2,
// and on other architectures, the lanes are plain crypto/md5.
const (
	// md5LaneThreshold is the number of large bodies in flight, this one
	// included, from which a new body is hashed on the lanes.
	md5LaneThreshold = 3
	// md5LaneMinSize is the smallest declared body (unknown sizes count
	// as large) worth a lane.
	md5LaneMinSize = 1 << 20
)

// md5Lanes hands out ETag hashers; the zero value is ready to use.
type md5Lanes struct {
	once     sync.Once
	srv      md5simd.Server
	inflight atomic.Int32 // large bodies being hashed
}

// etagHash is one body's MD5 and what to release when the body is done.
type etagHash struct {
	hash.Hash
	lanes *md5Lanes
	lane  md5simd.Hasher // non-nil when on the lanes
	large bool
}

// get returns the hasher of a body of the given size (-1: unknown).
func (l *md5Lanes) get(size int64) etagHash {
	if size >= 0 && size < md5LaneMinSize {
		return etagHash{Hash: md5.New()}
	}
	n := l.inflight.Add(1)
	h := etagHash{lanes: l, large: true}
	if n >= md5LaneThreshold {
		l.once.Do(func() { l.srv = md5simd.NewServer() })
		h.lane = l.srv.NewHash()
		h.Hash = h.lane
	} else {
		h.Hash = md5.New()
	}
	return h
}

// release frees the lane (after Sum, or on an abandoned body) and
// removes the body from the count. It is idempotent.
func (h *etagHash) release() {
	if h.lane != nil {
		h.lane.Close()
		h.lane = nil
	}
	if h.large {
		h.large = false
		h.lanes.inflight.Add(-1)
	}
}
