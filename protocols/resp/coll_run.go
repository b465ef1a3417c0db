package resp

import (
	"math/rand/v2"

	"github.com/gpucache/gpucache/engine"
)

// A run of pipelined LPUSH, RPUSH, LPOP, RPOP, SADD, SPOP, HSET, ZADD,
// ZPOPMIN and ZPOPMAX requests on one key, as queue producers and consumers and redis-benchmark send them,
// is applied in one engine Txn: the key's record is written and committed
// once for the run instead of once per request. The requests are copied as
// they arrive (their replies depend on the key's state, so none is written
// yet); the run is applied before any other command runs and before the
// batch's replies are flushed, and then each request's reply is written in
// order. Should any request of the run fail (a key of another type, say),
// nothing of the combined Txn is written and the requests run again one by
// one, each answered as it would have been alone. The run is atomic: other
// clients see none or all of it.

// collOp is a request a run takes.
type collOp byte

const (
	collLPush collOp = iota + 1
	collRPush
	collLPop
	collRPop
	collSAdd
	collHSet
	collZAdd
	collZPopMin
	collZPopMax
	collSPop
)

// pops reports whether the op pops one element (its plain form has no
// count).
func (op collOp) pops() bool {
	return op == collLPop || op == collRPop || op == collZPopMin || op == collZPopMax || op == collSPop
}

const (
	// collRunMax bounds a run's requests and bytes.
	collRunMax      = 512
	collRunBytesMax = 4 << 20
	// collArgMax is the largest argument a run copies.
	collArgMax = 16 << 10
)

// collRun holds the queued requests, copied (the Reader reuses its buffer
// for the next request).
type collRun struct {
	buf  []byte
	ends []int // each argument's end in buf
	reqs []collReq
	args [][]byte // scratch: one request's arguments
	// results of the combined Txn: per request a count or, for a pop, an
	// index into popped (-1: nil)
	res    []int64
	popped zentries
	zpop   zentries // one pop's scratch
	order  []int    // the order its members are answered in
	keys   [][]byte // the Txn's one key
	keyBuf []byte
	apply  func(*engine.Txn) error // conn.applyColl, made once
	// In cluster mode, as setRun.
	epoch             uint64
	asking, importing bool
}

type collReq struct {
	op   collOp
	spec *cmdSpec
	arg0 int // index in ends of its first argument (the command name)
	argc int
}

func (r *collRun) empty() bool { return len(r.reqs) == 0 }

// collOpOf reports which run op a request is, 0 if it cannot join a run:
// the commands above with their plain forms (LPOP/RPOP without a count),
// well-formed, every argument small.
func collOpOf(spec *cmdSpec, cmd *Command) collOp {
	a := cmd.Args
	if cmd.Err != nil || len(cmd.big) > 0 || !spec.arityOK(len(a)) {
		return 0
	}
	var op collOp
	switch spec.name {
	case "lpush":
		op = collLPush
	case "rpush":
		op = collRPush
	case "sadd":
		op = collSAdd
	case "hset":
		if len(a)%2 != 0 {
			return 0
		}
		op = collHSet
	case "lpop":
		op = collLPop
	case "rpop":
		op = collRPop
	case "zpopmin":
		op = collZPopMin
	case "zpopmax":
		op = collZPopMax
	case "spop":
		op = collSPop
	case "zadd":
		// Plain: score member pairs, every score valid, no flags.
		if len(a)%2 != 0 {
			return 0
		}
		for i := 2; i < len(a); i += 2 {
			if _, ok := parseScore(a[i]); !ok {
				return 0
			}
		}
		op = collZAdd
	default:
		return 0
	}
	if op.pops() && len(a) != 2 {
		return 0 // with a count
	}
	for _, x := range a {
		if len(x) > collArgMax {
			return 0
		}
	}
	return op
}

// args returns request q's arguments (valid until the next call).
func (r *collRun) argsOf(q *collReq) [][]byte {
	r.args = r.args[:0]
	start := 0
	if q.arg0 > 0 {
		start = r.ends[q.arg0-1]
	}
	for i := q.arg0; i < q.arg0+q.argc; i++ {
		r.args = append(r.args, r.buf[start:r.ends[i]])
		start = r.ends[i]
	}
	return r.args
}

// key is the run's key.
func (r *collRun) key() []byte { return r.argsOf(&r.reqs[0])[1] }

// joins reports whether a request on key can join the run.
func (r *collRun) joins(key []byte) bool {
	return r.empty() || string(r.key()) == string(key)
}

// queueColl adds a request to the run (committing the run first when the
// key differs or the run is full).
func (c *conn) queueColl(op collOp, spec *cmdSpec, cmd *Command) {
	r := &c.crun
	if !r.joins(cmd.Args[1]) && !c.commitColl() {
		return
	}
	if r.empty() {
		r.epoch, r.asking, r.importing = c.cl.epoch, c.cl.routedAsking, c.cl.importing
	}
	r.reqs = append(r.reqs, collReq{op: op, spec: spec, arg0: len(r.ends), argc: len(cmd.Args)})
	for _, a := range cmd.Args {
		r.buf = append(r.buf, a...)
		r.ends = append(r.ends, len(r.buf))
	}
	c.dirty = true
	if len(r.reqs) >= collRunMax || len(r.buf) >= collRunBytesMax {
		c.commitColl()
	}
}

// commitColl applies the queued requests and writes their replies. It
// reports false when the connection failed (it is then closed).
func (c *conn) commitColl() bool {
	r := &c.crun
	if r.empty() {
		return !c.failed
	}
	defer func() {
		r.buf, r.ends, r.reqs = r.buf[:0], r.ends[:0], r.reqs[:0]
	}()
	held := c.guard != guardNone
	if !held {
		c.enterGuard(guardShared)
		defer c.leaveGuard()
	}
	r.keyBuf = append(r.keyBuf[:0], r.key()...)
	key := r.keyBuf
	if cs := c.s.cluster; cs != nil && cs.Epoch() != r.epoch && !c.s.writableAt(r.epoch, key, r.asking, r.importing) {
		c.s.logf("resp: client id=%d addr=%s: pipelined writes failed, dropping unacknowledged replies: %v", c.id, c.addr, errRouteChanged)
		c.failed = true
		c.nc.Close()
		return false
	}
	r.keys = append(r.keys[:0], key)
	if r.apply == nil {
		r.apply = c.applyColl
	}
	err := c.eng.Txn(c.ns, r.keys, r.apply)
	if err != nil {
		// Each request alone, answered as it would have been.
		for i := range r.reqs {
			q := &r.reqs[i]
			q.spec.fn(c, &Command{Args: r.argsOf(q)})
		}
		return !c.failed
	}
	pushed := false
	for i, q := range r.reqs {
		switch q.op {
		case collLPop, collRPop, collSPop:
			if r.res[i] < 0 {
				c.wr.Null()
			} else {
				c.wr.Bulk(r.popped.member(int(r.res[i])))
			}
		case collZPopMin, collZPopMax:
			if r.res[i] < 0 {
				c.wr.Array(0)
			} else {
				c.wr.Array(2)
				c.wr.Bulk(r.popped.member(int(r.res[i])))
				c.score(r.popped.sc[r.res[i]])
			}
		case collLPush, collRPush, collZAdd:
			pushed = true
			c.wr.Int(r.res[i])
		default:
			c.wr.Int(r.res[i])
		}
	}
	if pushed {
		c.s.blocked.signal(c.ns, key)
	}
	return true
}

// applyColl is the run's Txn: every request in order, each result kept.
func (c *conn) applyColl(t *engine.Txn) error {
	r := &c.crun
	r.res = r.res[:0]
	r.popped.buf, r.popped.ends, r.popped.sc = r.popped.buf[:0], r.popped.ends[:0], r.popped.sc[:0]
	for i := 0; i < len(r.reqs); i++ {
		q := &r.reqs[i]
		args := r.argsOf(q)
		var n int64
		switch q.op {
		case collLPush, collRPush:
			if _, err := t.Open(0, engine.TypeList); err != nil {
				return err
			}
			for _, v := range args[2:] {
				if err := t.ListPush(0, v, q.op == collLPush); err != nil {
					return err
				}
			}
			n = t.Size(0)
		case collLPop, collRPop:
			n = -1
			exists, err := t.Open(0, engine.TypeList)
			if err != nil {
				return err
			}
			if exists {
				before := r.popped.len()
				if err := listPop(t, 0, q.op == collLPop, 1, &r.popped); err != nil {
					return err
				}
				if r.popped.len() > before {
					n = int64(before)
				}
			}
		case collSAdd:
			for _, m := range args[2:] {
				added, err := t.SetAdd(0, m)
				if err != nil {
					return err
				}
				n += b2i(added)
			}
		case collHSet:
			for j := 2; j < len(args); j += 2 {
				added, err := t.HashSet(0, args[j], args[j+1], false)
				if err != nil {
					return err
				}
				n += b2i(added)
			}
		case collZAdd:
			if _, err := t.Open(0, engine.TypeZSet); err != nil {
				return err
			}
			for j := 2; j < len(args); j += 2 {
				score, _ := parseScore(args[j])
				_, existed, err := t.ZSetAdd(0, args[j+1], score)
				if err != nil {
					return err
				}
				n += b2i(!existed)
			}
		case collSPop, collZPopMin, collZPopMax:
			// Consecutive pops of one kind pop together, as one counted
			// pop: one walk of the collection, not one per request.
			k := 1
			for i+k < len(r.reqs) && r.reqs[i+k].op == q.op {
				k++
			}
			z := &r.zpop
			z.buf, z.ends, z.sc = z.buf[:0], z.ends[:0], z.sc[:0]
			var err error
			if q.op == collSPop {
				_, err = setPop(t, 0, int64(k), z)
			} else {
				err = zpop(t, 0, int64(k), q.op == collZPopMax, z)
			}
			if err != nil {
				return err
			}
			r.order = r.order[:0]
			for j := 0; j < z.len(); j++ {
				r.order = append(r.order, j)
			}
			if q.op == collSPop && t.Size(0)+int64(z.len()) <= exactPickMax {
				// NB: a small set's random picks come in member order;
				// popped one by one they come in random order.
				rand.Shuffle(len(r.order), func(a, b int) { r.order[a], r.order[b] = r.order[b], r.order[a] })
			}
			for j := 0; j < k; j++ {
				n := int64(-1)
				if j < len(r.order) {
					n = int64(r.popped.len())
					r.popped.add(z.member(r.order[j]), z.sc[r.order[j]])
				}
				r.res = append(r.res, n)
			}
			i += k - 1
			continue
		}
		r.res = append(r.res, n)
	}
	return nil
}
