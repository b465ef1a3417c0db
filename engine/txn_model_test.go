package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
)

// model is the in-memory reference of the keyspace in TestCollectionsModel.
type model struct {
	typ    map[string]Type
	hashes map[string]map[string]string
	sets   map[string]map[string]bool
	zsets  map[string]map[string]float64
	lists  map[string][]string
	strs   map[string]string
}

func newModel() *model {
	return &model{typ: map[string]Type{}, hashes: map[string]map[string]string{}, sets: map[string]map[string]bool{},
		zsets: map[string]map[string]float64{}, lists: map[string][]string{}, strs: map[string]string{}}
}

func (m *model) del(k string) {
	delete(m.typ, k)
	delete(m.hashes, k)
	delete(m.sets, k)
	delete(m.zsets, k)
	delete(m.lists, k)
	delete(m.strs, k)
}

// TestCollectionsModel runs random operations of every type against the
// engine and a reference model, restarting the engine now and then, and
// compares everything the engine holds with the model. GPUCACHE_MODEL_OPS
// sets the number of operations (default 3000).
func TestCollectionsModel(t *testing.T) {
	ops := 3000
	if s := os.Getenv("GPUCACHE_MODEL_OPS"); s != "" {
		ops, _ = strconv.Atoi(s)
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	defer func() { e.Close() }()
	m := newModel()
	keys := []string{"k0", "k1", "k2", "k3", "k4", "k5"}
	field := func() string { return fmt.Sprint("f", r.IntN(12)) }
	for i := 0; i < ops; i++ {
		k := keys[r.IntN(len(keys))]
		op := r.IntN(18)
		err := e.Txn("", [][]byte{[]byte(k)}, func(tx *Txn) error {
			switch op {
			case 0, 1: // hash set
				f, v := field(), fmt.Sprint(r.IntN(100))
				if _, err := tx.HashSet(0, []byte(f), []byte(v), false); err != nil {
					return err
				}
				if m.typ[k] == TypeNone {
					m.typ[k], m.hashes[k] = TypeHash, map[string]string{}
				}
				m.hashes[k][f] = v
			case 2: // hash delete
				f := field()
				ok, err := tx.HashDelete(0, []byte(f))
				if err != nil {
					return err
				}
				if _, had := m.hashes[k][f]; had != ok {
					return fmt.Errorf("HashDelete %s %s = %v, model %v", k, f, ok, had)
				}
				delete(m.hashes[k], f)
				if len(m.hashes[k]) == 0 {
					m.del(k)
				}
			case 3, 4: // set add/remove
				f := field()
				if op == 3 {
					if _, err := tx.SetAdd(0, []byte(f)); err != nil {
						return err
					}
					if m.typ[k] == TypeNone {
						m.typ[k], m.sets[k] = TypeSet, map[string]bool{}
					}
					m.sets[k][f] = true
				} else {
					if _, err := tx.SetRemove(0, []byte(f)); err != nil {
						return err
					}
					delete(m.sets[k], f)
					if m.typ[k] == TypeSet && len(m.sets[k]) == 0 {
						m.del(k)
					}
				}
			case 5, 6: // zset add
				f, s := field(), float64(r.IntN(20)-10)/2
				if r.IntN(10) == 0 {
					s = math.Inf(1 - 2*r.IntN(2))
				}
				if _, _, err := tx.ZSetAdd(0, []byte(f), s); err != nil {
					return err
				}
				if m.typ[k] == TypeNone {
					m.typ[k], m.zsets[k] = TypeZSet, map[string]float64{}
				}
				m.zsets[k][f] = s
			case 7: // zset remove
				f := field()
				if _, err := tx.ZSetRemove(0, []byte(f)); err != nil {
					return err
				}
				delete(m.zsets[k], f)
				if m.typ[k] == TypeZSet && len(m.zsets[k]) == 0 {
					m.del(k)
				}
			case 8, 9: // list push
				v, left := fmt.Sprint(r.IntN(50)), r.IntN(2) == 0
				if err := tx.ListPush(0, []byte(v), left); err != nil {
					return err
				}
				if m.typ[k] == TypeNone {
					m.typ[k] = TypeList
				}
				if left {
					m.lists[k] = append([]string{v}, m.lists[k]...)
				} else {
					m.lists[k] = append(m.lists[k], v)
				}
			case 10: // list pop
				left := r.IntN(2) == 0
				v, ok, err := tx.ListPop(0, left, nil)
				if err != nil {
					return err
				}
				l := m.lists[k]
				if ok != (len(l) > 0) {
					return fmt.Errorf("ListPop %s ok=%v, model len %d", k, ok, len(l))
				}
				if ok {
					want := l[len(l)-1]
					if left {
						want = l[0]
						m.lists[k] = l[1:]
					} else {
						m.lists[k] = l[:len(l)-1]
					}
					if string(v) != want {
						return fmt.Errorf("ListPop %s = %q, model %q", k, v, want)
					}
					if len(m.lists[k]) == 0 {
						m.del(k)
					}
				}
			case 11: // list trim
				n, err := tx.ListLen(0)
				if err != nil || n == 0 {
					return err
				}
				a := r.Int64N(n)
				b := a + r.Int64N(n-a)
				tx.ListTrim(0, a, b)
				m.lists[k] = m.lists[k][a : b+1]
			case 12: // delete the key
				if err := tx.Delete(0); err != nil {
					return err
				}
				m.del(k)
			case 16: // pop the first member of a set (SPOP of a large set)
				if ok, err := tx.Open(0, TypeSet); err != nil || !ok {
					return err
				}
				var first []byte
				if err := tx.SetRange(0, nil, func(m []byte) bool { first = append([]byte(nil), m...); return false }); err != nil {
					return err
				}
				var want []string
				for x := range m.sets[k] {
					want = append(want, x)
				}
				sort.Strings(want)
				if len(want) == 0 || string(first) != want[0] {
					return fmt.Errorf("first member of %s = %q, model %v", k, first, want)
				}
				if _, err := tx.SetRemove(0, first); err != nil {
					return err
				}
				delete(m.sets[k], string(first))
				if len(m.sets[k]) == 0 {
					m.del(k)
				}
			case 17: // pop the lowest-scored member of a sorted set (ZPOPMIN)
				if ok, err := tx.Open(0, TypeZSet); err != nil || !ok {
					return err
				}
				var first []byte
				var score float64
				if err := tx.ZSetByRank(0, 0, false, func(mb []byte, s float64) bool {
					first, score = append([]byte(nil), mb...), s
					return false
				}); err != nil {
					return err
				}
				for x, s := range m.zsets[k] {
					if s < score || (s == score && x < string(first)) {
						return fmt.Errorf("ZPOPMIN of %s gave %s=%v but %s=%v is lower", k, first, score, x, s)
					}
				}
				if _, err := tx.ZSetRemove(0, first); err != nil {
					return err
				}
				delete(m.zsets[k], string(first))
				if len(m.zsets[k]) == 0 {
					m.del(k)
				}
			case 13: // replace with a fresh set of one member (STORE)
				if err := tx.Replace(0, TypeSet); err != nil {
					return err
				}
				if _, err := tx.SetAdd(0, []byte("only")); err != nil {
					return err
				}
				m.del(k)
				m.typ[k], m.sets[k] = TypeSet, map[string]bool{"only": true}
			}
			return nil
		})
		if err == ErrWrongType {
			continue
		}
		if err != nil {
			t.Fatalf("op %d (%d on %s): %v", i, op, k, err)
		}
		switch op {
		case 14: // a string overwrites whatever is there
			if _, err := e.PutBytes("", []byte(k), []byte("str"), PutOptions{}); err != nil {
				t.Fatal(err)
			}
			m.del(k)
			m.typ[k], m.strs[k] = TypeString, "str"
		case 15:
			if r.IntN(8) == 0 {
				if err := e.Sync(); err != nil {
					t.Fatal(err)
				}
				e.Close()
				e = openTest(t, dir, nil)
			}
		}
		if i%100 == 99 {
			checkModel(t, e, m, keys)
		}
	}
	e.Sync()
	e.Close()
	e = openTest(t, dir, nil)
	checkModel(t, e, m, keys)
	// Every sub-key belongs to a live collection.
	live := map[uint64]bool{}
	for _, k := range keys {
		if meta, err := e.Stat("", []byte(k)); err == nil {
			live[meta.Version] = true
		}
	}
	it, _ := e.db.NewIter(nil)
	for valid := it.SeekGE([]byte{prefixSub}); valid && it.Key()[0] == prefixSub; valid = it.Next() {
		v := uint64(0)
		for _, b := range it.Key()[1:9] {
			v = v<<8 | uint64(b)
		}
		if !live[v] {
			it.Close()
			t.Fatalf("sub-key %q of dead version %d", it.Key(), v)
		}
	}
	it.Close()
}

func checkModel(t *testing.T, e *Engine, m *model, keys []string) {
	t.Helper()
	if got := e.DBSize(""); got != int64(len(m.typ)) {
		t.Fatalf("DBSize %d, model %d", got, len(m.typ))
	}
	for _, k := range keys {
		meta, err := e.Stat("", []byte(k))
		want := m.typ[k]
		if want == TypeNone {
			if err != ErrNotFound {
				t.Fatalf("%s: Stat %+v %v, model has no key", k, meta, err)
			}
			continue
		}
		if err != nil || meta.Type != want {
			t.Fatalf("%s: Stat type %v err %v, model %v", k, meta.Type, err, want)
		}
		var got, exp string
		err = e.Txn("", [][]byte{[]byte(k)}, func(tx *Txn) error {
			switch want {
			case TypeHash:
				fs := map[string]string{}
				err := tx.HashRange(0, nil, func(f, v []byte) bool { fs[string(f)] = string(v); return true })
				got, exp = fmt.Sprint(fs, tx.Size(0)), fmt.Sprint(m.hashes[k], len(m.hashes[k]))
				return err
			case TypeSet:
				var ms []string
				err := tx.SetRange(0, nil, func(b []byte) bool { ms = append(ms, string(b)); return true })
				var em []string
				for x := range m.sets[k] {
					em = append(em, x)
				}
				sort.Strings(em)
				got, exp = fmt.Sprint(ms, tx.Size(0)), fmt.Sprint(em, len(em))
				return err
			case TypeZSet:
				var ms []string
				err := tx.ZSetByScore(0, math.Inf(-1), math.Inf(1), false, func(b []byte, s float64) bool {
					ms = append(ms, fmt.Sprint(string(b), "=", s))
					return true
				})
				type ent struct {
					m string
					s float64
				}
				var es []ent
				for x, s := range m.zsets[k] {
					es = append(es, ent{x, s})
				}
				sort.Slice(es, func(i, j int) bool {
					if es[i].s != es[j].s {
						return es[i].s < es[j].s
					}
					return es[i].m < es[j].m
				})
				var em []string
				for _, x := range es {
					em = append(em, fmt.Sprint(x.m, "=", x.s))
				}
				got, exp = fmt.Sprint(ms, tx.Size(0)), fmt.Sprint(em, len(em))
				return err
			case TypeList:
				var vs []string
				n, _ := tx.ListLen(0)
				err := tx.ListRange(0, 0, n-1, false, func(_ int64, v []byte) bool { vs = append(vs, string(v)); return true })
				got, exp = fmt.Sprint(vs), fmt.Sprint(m.lists[k])
				return err
			case TypeString:
				got, exp = "str", m.strs[k]
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if got != exp {
			t.Fatalf("%s (%v): engine %s\nmodel %s", k, want, got, exp)
		}
	}
}
