package nvme

// Option configures a directory device.
type Option func(*options)

type options struct {
	queueDepth int
	direct     bool
	failAfter  int64
}

func defaultOptions() options {
	return options{queueDepth: 32, direct: true, failAfter: 8}
}

// WithQueueDepth bounds the number of I/O operations in flight on the
// device at once (default 32). Callers beyond the bound wait, so one busy
// device cannot absorb every OS thread of the process and a burst queues
// in Go rather than in the kernel.
func WithQueueDepth(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.queueDepth = n
		}
	}
}

// WithDirect selects O_DIRECT I/O (the default). With false, or when the
// file system refuses O_DIRECT (tmpfs, some overlay and FUSE file systems),
// files use buffered I/O; Direct reports which one is in effect. Alignment
// is checked either way, so code tested on tmpfs is correct on NVMe.
func WithDirect(on bool) Option {
	return func(o *options) { o.direct = on }
}

// WithFailAfter sets how many consecutive I/O errors mark the device failed
// (default 8). After that every operation returns ErrFailed.
func WithFailAfter(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.failAfter = n
		}
	}
}
