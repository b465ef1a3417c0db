package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// RunS3 runs the lmcache access pattern through an S3 endpoint with
// minio-go (cfg.Mode S3ModeMinio or empty) or the CRT-style client
// (S3ModeCRT): a put phase storing every chunk as an object (multipart above
// PartSize, payload unsigned as LMCache's CRT client sends it), a get phase
// of prefix-reuse retrievals where never-written objects must answer
// NoSuchKey, then an untimed cleanup. cfg.Batch is ignored.
//
// An endpoint that does not accept a TCP connection within two seconds
// yields an error wrapping ErrUnreachable, so callers can skip cleanly.
func RunS3(ctx context.Context, env *Env, t *Target, cfg LMCacheConfig, size int) ([]*PhaseResult, error) {
	mode := cfg.Mode
	switch mode {
	case "", ModeNative, S3ModeMinio:
		mode = S3ModeMinio
	case S3ModeCRT:
	default:
		return nil, fmt.Errorf("cannot run the s3 workload with client %q: want %s or %s", mode, S3ModeCRT, S3ModeMinio)
	}
	cfg.Mode, cfg.Batch = ModeNative, 1
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ep := t.S3
	if ep == nil {
		return nil, fmt.Errorf("cannot run s3 against %s: no S3 endpoint", t.Name)
	}
	conn, err := net.DialTimeout("tcp", ep.Endpoint, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("cannot reach S3 endpoint %s: %w (%w)", ep.Endpoint, err, ErrUnreachable)
	}
	conn.Close()
	partSize := ep.PartSize
	if partSize == 0 {
		partSize = 8 << 20
	}
	if partSize < 5<<20 {
		partSize = 5 << 20 // S3's smallest part but the last
	}
	label := fmt.Sprintf("%s s3 %s %s", t.Name, mode, FormatSize(int64(size)))
	if mode == S3ModeCRT {
		res, err := runS3CRT(ctx, env, ep, cfg, size, int64(partSize), label)
		for i, r := range res {
			r.Workload, r.Mode, r.Phase, r.Size, r.Target = "s3", mode, [...]string{"put", "get"}[i], size, t.Name
		}
		return res, err
	}
	mc, err := minio.New(ep.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(ep.AccessKey, ep.SecretKey, ""),
		Secure: ep.Secure,
		Region: ep.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot create S3 client: %w", err)
	}
	bucket := ep.Bucket
	ok, err := mc.BucketExists(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("cannot check bucket %s on %s: %w", bucket, ep.Endpoint, err)
	}
	if !ok {
		if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: ep.Region}); err != nil {
			return nil, fmt.Errorf("cannot create bucket %s: %w", bucket, err)
		}
	}
	res, err := runS3Phases(ctx, env, cfg, size, label, s3Client{
		put: func(_ int, name string, r *valueReader) error {
			_, err := mc.PutObject(ctx, bucket, name, r, int64(size), minio.PutObjectOptions{
				ContentType: "application/octet-stream", PartSize: partSize, DisableContentSha256: true,
			})
			if err != nil {
				return fmt.Errorf("cannot PUT %s: %w", name, err)
			}
			return nil
		},
		get: func(_ int, name string, val []byte) (bool, error) { return s3Get(ctx, mc, bucket, name, val) },
		remove: func(name string) {
			_ = mc.RemoveObject(ctx, bucket, name, minio.RemoveObjectOptions{})
		},
	})
	for i, r := range res {
		r.Workload, r.Mode, r.Phase, r.Size, r.Target = "s3", mode, [...]string{"put", "get"}[i], size, t.Name
	}
	return res, err
}

// s3Client is what the s3 workload needs of a client; wi is the worker.
type s3Client struct {
	put    func(wi int, name string, r *valueReader) error
	get    func(wi int, name string, val []byte) (bool, error) // false: a miss
	remove func(name string)
}

// runS3Phases runs the s3 workload's put phase, its get phase of
// prefix-reuse retrievals (values verified, misses expected where never
// written), then the untimed cleanup, with client c.
func runS3Phases(ctx context.Context, env *Env, cfg LMCacheConfig, size int, label string, c s3Client) ([]*PhaseResult, error) {
	nkeys := max(int(cfg.WorkingSet/int64(size)), cfg.Concurrency)
	base := chunkBase(size)
	name := func(idx uint64) string { return string(env.Keys.AppendObject(nil, idx)) }
	lw := &lmWorkload{env: env, cfg: cfg, size: size, base: base, nkeys: nkeys}
	put := runPhase(ctx, env, label+" put", cfg.Concurrency, func(ctx context.Context, wi int, rec *Recorder) error {
		for i := wi; i < nkeys; i += cfg.Concurrency {
			if err := ctx.Err(); err != nil {
				return err
			}
			idx := base + uint64(i)
			r := &valueReader{p: env.Payload, stamp: env.Keys.Stamp(idx), size: size}
			start := time.Now()
			if err := c.put(wi, name(idx), r); err != nil {
				rec.Fail(err)
				continue
			}
			rec.Op(time.Since(start), size)
		}
		return nil
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	get := runPhase(ctx, env, label+" get", cfg.Concurrency, func(ctx context.Context, wi int, rec *Recorder) error {
		total := lw.requests()
		rng := rand.New(rand.NewPCG(env.Keys.seed^uint64(size), uint64(wi)))
		val := make([]byte, size)
		for r := wi; r < total; r += cfg.Concurrency {
			req := lw.nextRequest(rng)
			for j := 0; j < cfg.PrefixChunks; j++ {
				if err := ctx.Err(); err != nil {
					return err
				}
				idx, want := lw.chunk(rng, req, j)
				start := time.Now()
				found, err := c.get(wi, name(idx), val)
				op := Op{Kind: OpGet, Key: []byte(name(idx)), Size: want, Found: found, Lat: time.Since(start), Err: err}
				if err == nil && found {
					op.Err = env.Payload.Verify(val[:size], env.Keys.Stamp(idx), want, env.Verify)
				}
				lw.account(&op, rec)
			}
		}
		return nil
	})
	for i := 0; i < nkeys; i++ {
		c.remove(name(base + uint64(i)))
	}
	return []*PhaseResult{put, get}, ctx.Err()
}

// s3Get reads an object into val, which must be exactly as large as the
// object is expected to be. A NoSuchKey answer is a miss, not an error.
func s3Get(ctx context.Context, mc *minio.Client, bucket, name string, val []byte) (bool, error) {
	obj, err := mc.GetObject(ctx, bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return false, err
	}
	defer obj.Close()
	n, err := io.ReadFull(obj, val)
	if err != nil && n == 0 {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return false, nil
		}
		return false, err
	}
	if err != nil {
		return true, fmt.Errorf("%w: object %s ended after %d of %d bytes: %w", ErrCorrupt, name, n, len(val), err)
	}
	var one [1]byte
	if k, _ := obj.Read(one[:]); k != 0 {
		return true, fmt.Errorf("%w: object %s is longer than %d bytes", ErrCorrupt, name, len(val))
	}
	return true, nil
}

// valueReader streams a Payload value (see Payload) without materializing
// it. It implements io.ReaderAt and io.Seeker so that multipart uploads can
// read parts in parallel and retries can rewind.
type valueReader struct {
	p     *Payload
	stamp uint64
	size  int
	off   int64
}

func (r *valueReader) ReadAt(b []byte, off int64) (int, error) {
	if off >= int64(r.size) {
		return 0, io.EOF
	}
	var stamps [16]byte
	AppendHead(stamps[:0], r.stamp)
	AppendTail(stamps[8:8], r.stamp, r.size)
	n := 0
	for n < len(b) && off < int64(r.size) {
		var k int
		switch {
		case off < 8:
			k = copy(b[n:], stamps[off:8])
		case off < int64(r.size-8):
			k = copy(b[n:], r.p.body[off:r.size-8])
		default:
			k = copy(b[n:], stamps[8+off-int64(r.size-8):])
		}
		n += k
		off += int64(k)
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (r *valueReader) Read(b []byte) (int, error) {
	n, err := r.ReadAt(b, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (r *valueReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += r.off
	case io.SeekEnd:
		off += int64(r.size)
	}
	if off < 0 {
		return 0, errors.New("bench: seek before start")
	}
	r.off = off
	return off, nil
}
