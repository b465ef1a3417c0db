package ec

import "runtime"

// Option configures a Volume.
type Option func(*options)

type options struct {
	workers     int
	encoders    int
	writeQuorum int // 0: k
	batch       int // stripes per I/O batch
	maxBuffers  int
}

func defaultOptions(n int) options {
	return options{
		workers:    max(4*n, 16),
		encoders:   runtime.GOMAXPROCS(0),
		batch:      256,
		maxBuffers: 64,
	}
}

// WithWorkers sets the number of goroutines doing shard I/O for the volume
// (default 4×(k+m), at least 16). It bounds the shard operations in flight;
// each device additionally bounds its own queue depth.
func WithWorkers(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.workers = n
		}
	}
}

// WithEncoders sets how many stripe groups of one write are encoded in
// parallel (default GOMAXPROCS). Shards are one nvme.Align unit per stripe,
// too small for the reedsolomon package to split, so parallelism is across
// stripes instead.
func WithEncoders(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.encoders = n
		}
	}
}

// WithWriteQuorum sets how many of the k+m shards a write and sync must
// reach to be acknowledged (default k: a write survives as long as the
// shards it reached do; writes go on while up to m devices are down). Use
// k+m to refuse writes that would start out degraded.
func WithWriteQuorum(q int) Option {
	return func(o *options) { o.writeQuorum = q }
}

// WithBatchStripes sets how many stripes are encoded and written per round
// (default 256: one 1 MiB vectored write per shard). Larger batches mean
// fewer system calls and more scratch memory per request.
func WithBatchStripes(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.batch = n
		}
	}
}
