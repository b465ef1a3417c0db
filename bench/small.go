package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// SmallConfig configures the small workload: many clients, small values,
// pipelined GET/SET.
type SmallConfig struct {
	// Clients is the number of connections, one worker each.
	Clients int
	// Depth is the pipelining depth: commands written per batch before any
	// reply is read.
	Depth int
	// Keys is the number of distinct keys; all are written in the load phase.
	Keys int
	// Ops is the number of operations in the mix phase, over all clients.
	Ops int
	// SetRatio is the fraction of SETs in the mix phase.
	SetRatio float64
	// MinSize and MaxSize bound the value sizes, drawn log-uniformly per key.
	MinSize, MaxSize int
}

func (cfg *SmallConfig) validate() error {
	if cfg.Clients < 1 || cfg.Depth < 1 || cfg.Keys < 1 {
		return fmt.Errorf("cannot run small with %d clients, depth %d, %d keys", cfg.Clients, cfg.Depth, cfg.Keys)
	}
	if cfg.MinSize < MinValueSize || cfg.MaxSize < cfg.MinSize {
		return fmt.Errorf("cannot run small with sizes %d..%d (minimum %d)", cfg.MinSize, cfg.MaxSize, MinValueSize)
	}
	cfg.SetRatio = min(max(cfg.SetRatio, 0), 1)
	return nil
}

// SizeLabel names the size range in reports.
func (cfg *SmallConfig) SizeLabel() string {
	return FormatSize(int64(cfg.MinSize)) + "-" + FormatSize(int64(cfg.MaxSize))
}

// smallIndex keeps small keys apart from chunk indexes.
const smallIndex = 1 << 61

// sizeOf returns the value size of key k: log-uniform in [MinSize, MaxSize],
// fixed per key so every SET of a key writes the same value.
func (cfg *SmallConfig) sizeOf(ks *KeySpace, k int) int {
	u := float64(ks.ChunkHash(smallIndex+uint64(k))>>11) / (1 << 53)
	return int(float64(cfg.MinSize) * math.Pow(float64(cfg.MaxSize)/float64(cfg.MinSize), u))
}

// RunSmall runs the small workload against t: a load phase writing every
// key once, then a mix phase of random GETs and SETs, both pipelined at
// cfg.Depth; then an untimed cleanup.
func RunSmall(ctx context.Context, env *Env, t *Target, cfg SmallConfig) ([]*PhaseResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.MaxSize > env.Payload.MaxSize() {
		return nil, fmt.Errorf("cannot run small with values of %d bytes: payload holds %d", cfg.MaxSize, env.Payload.MaxSize())
	}
	clients, err := t.dialN(ctx, env, cfg.Clients, false)
	if err != nil {
		return nil, err
	}
	defer closeAll(clients)
	ks := env.Keys
	op := func(kind OpKind, k int, kb *keyBatch) Op {
		kb.buf = ks.AppendSmall(kb.buf, uint64(k))
		kb.end()
		return Op{Kind: kind, Size: cfg.sizeOf(ks, k), Stamp: ks.Stamp(smallIndex + uint64(k))}
	}
	run := func(c Client, ops []Op, kb *keyBatch, rec *Recorder) error {
		for j := range ops {
			ops[j].Key = kb.key(j)
		}
		if err := c.Do(ops); err != nil {
			return err
		}
		for j := range ops {
			switch o := &ops[j]; {
			case o.Err != nil:
				rec.Fail(o.Err)
			case o.Kind == OpGet && !o.Found:
				rec.Fail(fmt.Errorf("%w: %s", ErrLost, o.Key))
			default:
				if o.Kind == OpGet {
					rec.Hit()
				}
				rec.Op(o.Lat, o.Size)
			}
		}
		return nil
	}

	label := fmt.Sprintf("%s small %s", t.Name, cfg.SizeLabel())
	load := runPhase(ctx, env, label+" load", cfg.Clients, func(ctx context.Context, wi int, rec *Recorder) error {
		var kb keyBatch
		ops := make([]Op, 0, cfg.Depth)
		for k := wi; k < cfg.Keys; {
			if err := ctx.Err(); err != nil {
				return err
			}
			ops, kb.buf, kb.ends = ops[:0], kb.buf[:0], kb.ends[:0]
			for ; len(ops) < cfg.Depth && k < cfg.Keys; k += cfg.Clients {
				ops = append(ops, op(OpSet, k, &kb))
			}
			if err := run(clients[wi], ops, &kb, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	perClient := (cfg.Ops + cfg.Clients - 1) / cfg.Clients
	mix := runPhase(ctx, env, label+" mix", cfg.Clients, func(ctx context.Context, wi int, rec *Recorder) error {
		rng := rand.New(rand.NewPCG(ks.seed, uint64(wi)+1<<32))
		var kb keyBatch
		ops := make([]Op, 0, cfg.Depth)
		for n := 0; n < perClient; {
			if err := ctx.Err(); err != nil {
				return err
			}
			ops, kb.buf, kb.ends = ops[:0], kb.buf[:0], kb.ends[:0]
			for ; len(ops) < cfg.Depth && n < perClient; n++ {
				kind := OpGet
				if rng.Float64() < cfg.SetRatio {
					kind = OpSet
				}
				ops = append(ops, op(kind, rng.IntN(cfg.Keys), &kb))
			}
			if err := run(clients[wi], ops, &kb, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if t.Kind != TargetRaw {
		deleteKeys(clients, cfg.Keys, func(dst []byte, i, _ int) []byte { return ks.AppendSmall(dst, uint64(i)) }, 1)
	}
	for i, r := range []*PhaseResult{load, mix} {
		r.Workload, r.Mode, r.Phase, r.Size, r.Target = "small", fmt.Sprintf("d%d", cfg.Depth), [...]string{"set", "mix"}[i], 0, t.Name
	}
	return []*PhaseResult{load, mix}, ctx.Err()
}
