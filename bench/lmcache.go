package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// LMCache modes: which of LMCache's Redis clients the workload imitates.
const (
	// ModeNative is LMCache's native C++ RESP client: one key per chunk
	// (<model>@<rank %08x>@<hash>), RESP2, optionally pipelined batches.
	ModeNative = "native"
	// ModePython is LMCache's Python redis connector: two keys per chunk
	// (<key>kv_bytes and <key>metadata), RESP3 via HELLO 3, one request at a
	// time per connection, EXISTS lookups before reads.
	ModePython = "python"
)

// LMCacheConfig configures the lmcache workload.
type LMCacheConfig struct {
	// Mode is ModeNative or ModePython.
	Mode string
	// Batch is the number of chunks the native client pipelines: N complete
	// SETs (or GETs) written with one scatter-gather write before any reply
	// is read. 1 means one round trip per chunk. The Python mode ignores it.
	Batch int
	// Concurrency is the number of connections, one worker each.
	Concurrency int
	// WorkingSet is the number of value bytes stored per value size; the
	// number of chunks is WorkingSet/size, at least Concurrency.
	WorkingSet int64
	// GetPasses is the number of chunk reads in the get phase, as a multiple
	// of the number of stored chunks.
	GetPasses float64
	// PrefixChunks is the number of chunks a retrieval request asks for.
	PrefixChunks int
	// HitRatio is the expected fraction of a request's chunks that are
	// stored: each request reads a stored prefix followed by chunks that
	// were never written, as a prompt that shares a prefix with earlier ones.
	HitRatio float64
}

// ModeLabel names the mode in reports: "python", "native" or "native-b8".
func (cfg *LMCacheConfig) ModeLabel() string {
	if cfg.Mode == ModeNative && cfg.Batch > 1 {
		return fmt.Sprintf("native-b%d", cfg.Batch)
	}
	return cfg.Mode
}

func (cfg *LMCacheConfig) validate() error {
	if cfg.Mode != ModeNative && cfg.Mode != ModePython {
		return fmt.Errorf("cannot run lmcache mode %q: want %s or %s", cfg.Mode, ModeNative, ModePython)
	}
	if cfg.Mode == ModePython || cfg.Batch < 1 {
		cfg.Batch = 1
	}
	if cfg.Concurrency < 1 {
		return fmt.Errorf("cannot run lmcache with concurrency %d", cfg.Concurrency)
	}
	if cfg.PrefixChunks < 1 {
		cfg.PrefixChunks = 1
	}
	cfg.HitRatio = min(max(cfg.HitRatio, 0), 1)
	return nil
}

// chunkBase keeps the chunks of different value sizes apart.
func chunkBase(size int) uint64 { return uint64(size) << 24 }

// RunLMCache runs the lmcache workload for one value size against t: a set
// phase storing every chunk once, a get phase of prefix-reuse retrievals,
// then an untimed cleanup deleting what was stored.
func RunLMCache(ctx context.Context, env *Env, t *Target, cfg LMCacheConfig, size int) ([]*PhaseResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if size < MinValueSize || size > env.Payload.MaxSize() {
		return nil, fmt.Errorf("cannot run lmcache with value size %d: want %d..%d", size, MinValueSize, env.Payload.MaxSize())
	}
	python := cfg.Mode == ModePython
	clients, err := t.dialN(ctx, env, cfg.Concurrency, python)
	if err != nil {
		return nil, err
	}
	defer closeAll(clients)
	w := &lmWorkload{env: env, cfg: cfg, size: size, base: chunkBase(size), clients: clients,
		nkeys: max(int(cfg.WorkingSet/int64(size)), cfg.Concurrency), meta: PythonMeta(size)}

	label := fmt.Sprintf("%s lmcache/%s %s", t.Name, cfg.ModeLabel(), FormatSize(int64(size)))
	set := runPhase(ctx, env, label+" set", cfg.Concurrency, w.setWorker)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	get := runPhase(ctx, env, label+" get", cfg.Concurrency, w.getWorker)
	if t.Kind != TargetRaw {
		w.cleanup()
	}
	for i, r := range []*PhaseResult{set, get} {
		r.Workload, r.Mode, r.Phase, r.Size, r.Target = "lmcache", cfg.ModeLabel(), [...]string{"set", "get"}[i], size, t.Name
	}
	return []*PhaseResult{set, get}, ctx.Err()
}

type lmWorkload struct {
	env     *Env
	cfg     LMCacheConfig
	size    int
	base    uint64
	nkeys   int
	clients []Client
	meta    []byte
}

// appendKey appends the key of chunk idx: the native key, or the Python
// chunk key with suffix.
func (w *lmWorkload) appendKey(dst []byte, idx uint64, suffix string) []byte {
	if w.cfg.Mode == ModePython {
		return w.env.Keys.AppendPython(dst, idx, suffix)
	}
	return w.env.Keys.AppendNative(dst, idx)
}

// setWorker stores chunks in batches of consecutive chunks, as the chunks of
// one request are stored together; batch b goes to worker b % Concurrency.
func (w *lmWorkload) setWorker(ctx context.Context, wi int, rec *Recorder) error {
	c, ks, batch := w.clients[wi], w.env.Keys, w.cfg.Batch
	var kb keyBatch
	ops := make([]Op, 0, batch)
	for b := wi; b*batch < w.nkeys; b += w.cfg.Concurrency {
		if err := ctx.Err(); err != nil {
			return err
		}
		ops, kb.buf, kb.ends = ops[:0], kb.buf[:0], kb.ends[:0]
		for i := b * batch; i < min((b+1)*batch, w.nkeys); i++ {
			idx := w.base + uint64(i)
			kb.buf = w.appendKey(kb.buf, idx, suffixKV)
			kb.end()
			ops = append(ops, Op{Kind: OpSet, Size: w.size, Stamp: ks.Stamp(idx)})
		}
		for j := range ops {
			ops[j].Key = kb.key(j)
		}
		if err := c.Do(ops); err != nil {
			return err
		}
		if w.cfg.Mode == ModePython {
			// The connector awaits the kv_bytes SET, then SETs the metadata.
			kvLat := ops[0].Lat
			if ops[0].Err != nil {
				rec.Fail(ops[0].Err)
				continue
			}
			kb.buf = ks.AppendPython(kb.buf, w.base+uint64(b), suffixMeta) // batch is 1: chunk b
			ops[0] = Op{Kind: OpSet, Key: kb.key(kb.end()), Literal: w.meta}
			if err := c.Do(ops[:1]); err != nil {
				return err
			}
			ops[0].Lat += kvLat
		}
		for j := range ops {
			if ops[j].Err != nil {
				rec.Fail(ops[j].Err)
				continue
			}
			rec.Op(ops[j].Lat, w.size)
		}
	}
	return nil
}

// requests returns the number of retrieval requests of the get phase: enough
// for about GetPasses * nkeys chunk hits. Workers take requests round-robin;
// when there are fewer requests than workers, some workers idle, the same on
// every target.
func (w *lmWorkload) requests() int {
	perRequest := w.cfg.HitRatio * float64(w.cfg.PrefixChunks)
	if perRequest < 1 {
		perRequest = float64(w.cfg.PrefixChunks) // mostly misses: count lookups instead
	}
	return max(int(math.Ceil(w.cfg.GetPasses*float64(w.nkeys)/perRequest)), 1)
}

// request is one retrieval: chunks start, start+1, ... of which the first
// hits were stored and the rest never were.
type request struct {
	start, hits int
}

func (w *lmWorkload) nextRequest(rng *rand.Rand) request {
	c := w.cfg.PrefixChunks
	hits := int(w.cfg.HitRatio*float64(c) + rng.Float64()) // E[hits] = HitRatio * c
	return request{start: rng.IntN(w.nkeys), hits: min(hits, c)}
}

// chunk returns the index of chunk j of r and its stored size (0: never stored).
func (w *lmWorkload) chunk(rng *rand.Rand, r request, j int) (uint64, int) {
	if j < r.hits {
		return w.base + uint64((r.start+j)%w.nkeys), w.size
	}
	return MissIndex(w.base + uint64(rng.Uint32())), 0
}

func (w *lmWorkload) getWorker(ctx context.Context, wi int, rec *Recorder) error {
	total := w.requests()
	// The same seed for every target: each target sees the same requests.
	rng := rand.New(rand.NewPCG(w.env.Keys.seed^uint64(w.size), uint64(wi)))
	s := &lmGetState{ops: make([]Op, 0, w.cfg.Batch)}
	for r := wi; r < total; r += w.cfg.Concurrency {
		if err := ctx.Err(); err != nil {
			return err
		}
		req := w.nextRequest(rng)
		var err error
		if w.cfg.Mode == ModePython {
			err = w.getPython(w.clients[wi], rng, req, s, rec)
		} else {
			err = w.getNative(w.clients[wi], rng, req, s, rec)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type lmGetState struct {
	kb    keyBatch
	ops   []Op
	found []uint64
}

// getNative reads a request's chunks in pipelined batches of cfg.Batch.
func (w *lmWorkload) getNative(c Client, rng *rand.Rand, req request, s *lmGetState, rec *Recorder) error {
	ks := w.env.Keys
	for j := 0; j < w.cfg.PrefixChunks; {
		s.ops, s.kb.buf, s.kb.ends = s.ops[:0], s.kb.buf[:0], s.kb.ends[:0]
		for ; len(s.ops) < w.cfg.Batch && j < w.cfg.PrefixChunks; j++ {
			idx, size := w.chunk(rng, req, j)
			s.kb.buf = ks.AppendNative(s.kb.buf, idx)
			s.kb.end()
			s.ops = append(s.ops, Op{Kind: OpGet, Size: size, Stamp: ks.Stamp(idx)})
		}
		for i := range s.ops {
			s.ops[i].Key = s.kb.key(i)
		}
		if err := c.Do(s.ops); err != nil {
			return err
		}
		for i := range s.ops {
			w.account(&s.ops[i], rec)
		}
	}
	return nil
}

// account records the outcome of a GET whose Size says whether it should hit.
func (w *lmWorkload) account(op *Op, rec *Recorder) {
	switch {
	case op.Err != nil:
		rec.Fail(op.Err)
	case op.Size == 0 && !op.Found:
		rec.Miss()
	case op.Size == 0:
		rec.Fail(fmt.Errorf("%w: key never written was found: %s", ErrCorrupt, op.Key))
	case !op.Found:
		rec.Fail(fmt.Errorf("%w: %s", ErrLost, op.Key))
	default:
		rec.Hit()
		rec.Op(op.Lat, op.Size)
	}
}

// getPython looks chunks up one EXISTS at a time until the first miss, then
// reads each found chunk as GET <key>metadata, GET <key>kv_bytes, as the
// Python connector does.
func (w *lmWorkload) getPython(c Client, rng *rand.Rand, req request, s *lmGetState, rec *Recorder) error {
	ks := w.env.Keys
	s.found = s.found[:0]
	op := s.ops[:1]
	for j := 0; j < w.cfg.PrefixChunks; j++ {
		idx, size := w.chunk(rng, req, j)
		s.kb.reset()
		s.kb.buf = ks.AppendPython(s.kb.buf, idx, suffixMeta)
		op[0] = Op{Kind: OpExists, Key: s.kb.key(s.kb.end()), Size: size}
		if err := c.Do(op); err != nil {
			return err
		}
		if op[0].Err != nil {
			rec.Fail(op[0].Err)
			return nil
		}
		if !op[0].Found {
			if size != 0 {
				rec.Fail(fmt.Errorf("%w: %s", ErrLost, op[0].Key))
			} else {
				rec.Miss()
			}
			break
		}
		if size == 0 {
			rec.Fail(fmt.Errorf("%w: key never written exists: %s", ErrCorrupt, op[0].Key))
			break
		}
		s.found = append(s.found, idx)
	}
	for _, idx := range s.found {
		s.kb.reset()
		s.kb.buf = ks.AppendPython(s.kb.buf, idx, suffixMeta)
		op[0] = Op{Kind: OpGet, Key: s.kb.key(s.kb.end()), Literal: w.meta}
		if err := c.Do(op); err != nil {
			return err
		}
		metaLat := op[0].Lat
		if op[0].Err != nil || !op[0].Found {
			w.account(&op[0], rec)
			continue
		}
		s.kb.buf = ks.AppendPython(s.kb.buf, idx, suffixKV)
		op[0] = Op{Kind: OpGet, Key: s.kb.key(s.kb.end()), Size: w.size, Stamp: ks.Stamp(idx)}
		if err := c.Do(op); err != nil {
			return err
		}
		op[0].Lat += metaLat
		if op[0].Err == nil && !op[0].Found {
			// The connector drops the orphaned metadata.
			s.kb.buf = ks.AppendPython(s.kb.buf, idx, suffixMeta)
			del := []Op{{Kind: OpDel, Key: s.kb.key(s.kb.end())}}
			if err := c.Do(del); err != nil {
				return err
			}
		}
		w.account(&op[0], rec)
	}
	return nil
}

// cleanup deletes every stored chunk, untimed; failures are ignored (a
// target without DEL just keeps the keys).
func (w *lmWorkload) cleanup() {
	suffixes := []string{suffixKV}
	if w.cfg.Mode == ModePython {
		suffixes = append(suffixes, suffixMeta)
	}
	deleteKeys(w.clients, w.nkeys, func(dst []byte, i int, n int) []byte {
		return w.appendKey(dst, w.base+uint64(i), suffixes[n])
	}, len(suffixes))
}

// deleteKeys deletes keys 0..nkeys-1 (perKey keys each, built by appendKey)
// over the given connections in pipelined batches.
func deleteKeys(clients []Client, nkeys int, appendKey func(dst []byte, i, n int) []byte, perKey int) {
	done := make(chan struct{}, len(clients))
	for wi, c := range clients {
		go func() {
			defer func() { done <- struct{}{} }()
			var kb keyBatch
			ops := make([]Op, 0, 64)
			for i := wi; i < nkeys; {
				ops, kb.buf, kb.ends = ops[:0], kb.buf[:0], kb.ends[:0]
				for ; len(ops)+perKey <= 64 && i < nkeys; i += len(clients) {
					for n := 0; n < perKey; n++ {
						kb.buf = appendKey(kb.buf, i, n)
						kb.end()
						ops = append(ops, Op{Kind: OpDel})
					}
				}
				for j := range ops {
					ops[j].Key = kb.key(j)
				}
				if c.Do(ops) != nil {
					return
				}
			}
		}()
	}
	for range clients {
		<-done
	}
}
