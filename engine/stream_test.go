package engine

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
)

// streamModel is the reference of one stream in TestStreamModel.
type streamModel struct {
	ids          []StreamID // sorted
	vals         map[StreamID][]string
	lastID       StreamID
	maxDeleted   StreamID
	entriesAdded uint64
	groups       map[string]map[StreamID]string // group -> PEL id -> consumer
}

func (s *streamModel) first() StreamID {
	if len(s.ids) == 0 {
		return StreamID{}
	}
	return s.ids[0]
}

func (s *streamModel) remove(id StreamID) {
	i, ok := slices.BinarySearchFunc(s.ids, id, StreamID.Compare)
	if ok {
		s.ids = slices.Delete(s.ids, i, i+1)
		delete(s.vals, id)
	}
}

// TestStreamModel runs random stream operations (adds, deletes, trims,
// groups and their PELs, DEL of the key) against the engine and a model,
// restarting the engine now and then, and compares metadata, entries in
// both directions, sub-ranges, groups and PELs. GPUCACHE_MODEL_OPS sets
// the number of operations (default 3000).
func TestStreamModel(t *testing.T) {
	ops := 3000
	if s := os.Getenv("GPUCACHE_MODEL_OPS"); s != "" {
		ops, _ = strconv.Atoi(s)
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	defer func() { e.Close() }()
	models := map[string]*streamModel{}
	keys := []string{"s0", "s1", "s2"}
	groupName := func() string { return fmt.Sprint("g", r.IntN(3)) }
	for i := 0; i < ops; i++ {
		k := keys[r.IntN(len(keys))]
		m := models[k]
		op := r.IntN(12)
		err := e.Txn("", [][]byte{[]byte(k)}, func(tx *Txn) error {
			exists, err := tx.Open(0, TypeStream)
			if err != nil {
				return err
			}
			if exists != (m != nil) {
				return fmt.Errorf("%s exists %v, model %v", k, exists, m != nil)
			}
			switch op {
			case 0, 1, 2, 3: // add
				if err := tx.Create(0, TypeStream); err != nil {
					return err
				}
				if m == nil {
					m = &streamModel{vals: map[StreamID][]string{}, groups: map[string]map[StreamID]string{}}
					models[k] = m
				}
				id := StreamID{m.lastID.Ms + uint64(r.IntN(3)), uint64(r.IntN(4))}
				if !m.lastID.Less(id) {
					id, _ = m.lastID.Next()
				}
				vals := []string{"f", fmt.Sprint(i)}
				tx.StreamAdd(0, id, [][]byte{[]byte(vals[0]), []byte(vals[1])})
				m.ids = append(m.ids, id)
				m.vals[id] = vals
				m.lastID = id
				m.entriesAdded++
			case 4: // delete an entry (or a missing ID)
				if m == nil {
					return nil
				}
				id := StreamID{uint64(r.IntN(int(m.lastID.Ms) + 2)), uint64(r.IntN(4))}
				if len(m.ids) > 0 && r.IntN(2) == 0 {
					id = m.ids[r.IntN(len(m.ids))]
				}
				ok, err := tx.StreamDelete(0, id)
				if err != nil {
					return err
				}
				_, had := m.vals[id]
				if ok != had {
					return fmt.Errorf("StreamDelete %s %v = %v, model %v", k, id, ok, had)
				}
				if had {
					m.remove(id)
					if m.maxDeleted.Less(id) {
						m.maxDeleted = id
					}
				}
			case 5: // trim to a length
				if m == nil {
					return nil
				}
				maxLen := int64(r.IntN(6))
				n, err := tx.StreamTrim(0, 0, func(_ StreamID, length int64) bool { return length > maxLen })
				if err != nil {
					return err
				}
				want := max(int64(len(m.ids))-maxLen, 0)
				if n != want {
					return fmt.Errorf("trim %s to %d removed %d, model %d", k, maxLen, n, want)
				}
				for _, id := range slices.Clone(m.ids[:want]) {
					m.remove(id)
				}
			case 6: // trim below an ID, at most limit entries
				if m == nil {
					return nil
				}
				min := StreamID{uint64(r.IntN(int(m.lastID.Ms) + 2)), 0}
				limit := int64(r.IntN(3))
				n, err := tx.StreamTrim(0, limit, func(id StreamID, _ int64) bool { return id.Less(min) })
				if err != nil {
					return err
				}
				var want int64
				for _, id := range m.ids {
					if id.Less(min) && (limit == 0 || want < limit) {
						want++
					}
				}
				if n != want {
					return fmt.Errorf("trim %s below %v limit %d removed %d, model %d", k, min, limit, n, want)
				}
				for _, id := range slices.Clone(m.ids[:want]) {
					m.remove(id)
				}
			case 7: // create a group
				if m == nil {
					return nil
				}
				g := groupName()
				_, had, err := tx.StreamGetGroup(0, []byte(g))
				if err != nil {
					return err
				}
				if _, want := m.groups[g]; had != want {
					return fmt.Errorf("group %s/%s exists %v, model %v", k, g, had, want)
				}
				if !had {
					tx.StreamPutGroup(0, []byte(g), StreamGroup{EntriesRead: -1}, true)
					tx.StreamPutConsumer(0, []byte(g), []byte("c"), StreamConsumer{SeenTime: 1, ActiveTime: -1})
					m.groups[g] = map[StreamID]string{}
				}
			case 8: // pend an entry in a group
				if m == nil || len(m.ids) == 0 {
					return nil
				}
				g := groupName()
				if m.groups[g] == nil {
					return nil
				}
				id := m.ids[r.IntN(len(m.ids))]
				c := fmt.Sprint("c", r.IntN(3))
				tx.StreamPutPending(0, []byte(g), id, StreamPending{DeliveryTime: 5, DeliveryCount: 1, Consumer: []byte(c)})
				m.groups[g][id] = c
			case 9: // ack
				if m == nil {
					return nil
				}
				g := groupName()
				for id := range m.groups[g] {
					tx.StreamDelPending(0, []byte(g), id)
					delete(m.groups[g], id)
					break
				}
			case 10: // destroy a group
				if m == nil {
					return nil
				}
				g := groupName()
				ok, err := tx.StreamDestroyGroup(0, []byte(g))
				if err != nil {
					return err
				}
				if _, had := m.groups[g]; ok != had {
					return fmt.Errorf("destroy %s/%s = %v, model %v", k, g, ok, had)
				}
				delete(m.groups, g)
			case 11: // delete the key
				if r.IntN(3) != 0 {
					return nil
				}
				delete(models, k)
				return tx.Delete(0)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("op %d (%d) on %s: %v", i, op, k, err)
		}
		if i%500 == 499 {
			checkStreams(t, e, models, keys, r)
			e.Close()
			e = openTest(t, dir, nil)
		}
	}
	checkStreams(t, e, models, keys, r)
}

func checkStreams(t *testing.T, e *Engine, models map[string]*streamModel, keys []string, r *rand.Rand) {
	t.Helper()
	for _, k := range keys {
		m := models[k]
		err := e.Txn("", [][]byte{[]byte(k)}, func(tx *Txn) error {
			exists, err := tx.Open(0, TypeStream)
			if err != nil {
				return err
			}
			if exists != (m != nil) {
				return fmt.Errorf("exists %v, model %v", exists, m != nil)
			}
			if m == nil {
				return nil
			}
			info := tx.StreamInfo(0)
			want := StreamInfo{Length: int64(len(m.ids)), LastID: m.lastID, MaxDeleted: m.maxDeleted, FirstID: m.first(),
				EntriesAdded: m.entriesAdded, Groups: uint64(len(m.groups))}
			if len(m.ids) > 0 {
				want.LastEntry = m.ids[len(m.ids)-1]
			}
			if info != want {
				return fmt.Errorf("info %+v, model %+v", info, want)
			}
			for _, rev := range []bool{false, true} {
				var got []StreamID
				err := tx.StreamRange(0, StreamID{}, MaxStreamID, rev, func(id StreamID, f [][]byte) bool {
					if len(f) != 2 || string(f[1]) != m.vals[id][1] {
						got = append(got, StreamID{}) // reported below as a mismatch
					}
					got = append(got, id)
					return true
				})
				if err != nil {
					return err
				}
				exp := slices.Clone(m.ids)
				if rev {
					slices.Reverse(exp)
				}
				if !slices.Equal(got, exp) {
					return fmt.Errorf("range rev=%v: %v, model %v", rev, got, exp)
				}
			}
			if len(m.ids) > 0 {
				lo, hi := m.ids[r.IntN(len(m.ids))], m.ids[r.IntN(len(m.ids))]
				var got []StreamID
				if err := tx.StreamRange(0, lo, hi, false, func(id StreamID, _ [][]byte) bool { got = append(got, id); return true }); err != nil {
					return err
				}
				var exp []StreamID
				for _, id := range m.ids {
					if !id.Less(lo) && !hi.Less(id) {
						exp = append(exp, id)
					}
				}
				if !slices.Equal(got, exp) {
					return fmt.Errorf("range [%v, %v]: %v, model %v", lo, hi, got, exp)
				}
			}
			var names []string
			if err := tx.StreamGroups(0, func(name []byte, _ StreamGroup) bool { names = append(names, string(name)); return true }); err != nil {
				return err
			}
			var expNames []string
			for g := range m.groups {
				expNames = append(expNames, g)
			}
			slices.Sort(expNames)
			if !slices.Equal(names, expNames) {
				return fmt.Errorf("groups %v, model %v", names, expNames)
			}
			for g, pel := range m.groups {
				got := map[StreamID]string{}
				err := tx.StreamPendingRange(0, []byte(g), StreamID{}, MaxStreamID, func(id StreamID, p StreamPending) bool {
					got[id] = string(p.Consumer)
					return true
				})
				if err != nil {
					return err
				}
				if fmt.Sprint(got) != fmt.Sprint(pel) {
					return fmt.Errorf("PEL of %s: %v, model %v", g, got, pel)
				}
				var cs []string
				if err := tx.StreamConsumers(0, []byte(g), func(name []byte, _ StreamConsumer) bool { cs = append(cs, string(name)); return true }); err != nil {
					return err
				}
				if !slices.Equal(cs, []string{"c"}) {
					return fmt.Errorf("consumers of %s: %v", g, cs)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("stream %s: %v", k, err)
		}
	}
}

// TestStreamRecord: a stream's metadata survives its record's encoding,
// and a corrupt one is refused.
func TestStreamRecord(t *testing.T) {
	m := Meta{Type: TypeStream, Size: 3, Version: 9, stream: &streamMeta{
		lastID: StreamID{5, 1}, maxDeleted: StreamID{2, 0}, firstID: StreamID{3, 0}, lastEntry: StreamID{5, 1},
		entriesAdded: 7, groups: 2}}
	rec := appendRecord(nil, &m)
	var got Meta
	if err := decodeRecord(rec, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != TypeStream || got.Size != 3 || *got.stream != *m.stream {
		t.Fatalf("decoded %+v %+v", got, got.stream)
	}
	for n := 0; n < len(rec); n++ {
		if err := decodeRecord(rec[:n], &got); err == nil {
			t.Fatalf("a record cut to %d bytes decoded", n)
		}
	}
	var c Meta
	cloneMeta(&c, &m)
	c.stream.groups++
	if m.stream.groups != 2 {
		t.Fatal("cloneMeta shares the stream metadata")
	}
}

// TestStreamTrimChunks: a trim longer than one chunk of its walk removes
// exactly what it should.
func TestStreamTrimChunks(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	key := [][]byte{[]byte("s")}
	err := e.Txn("", key, func(tx *Txn) error {
		if err := tx.Create(0, TypeStream); err != nil {
			return err
		}
		for i := 1; i <= 5000; i++ {
			tx.StreamAdd(0, StreamID{uint64(i), 0}, [][]byte{[]byte("f"), []byte("v")})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ limit, keep, want int64 }{{0, 4000, 1000}, {1500, 100, 1500}, {0, 100, 2400}, {0, 0, 100}} {
		var n int64
		err := e.Txn("", key, func(tx *Txn) error {
			if _, err := tx.Open(0, TypeStream); err != nil {
				return err
			}
			var err error
			n, err = tx.StreamTrim(0, tc.limit, func(_ StreamID, length int64) bool { return length > tc.keep })
			return err
		})
		if err != nil || n != tc.want {
			t.Fatalf("trim to %d limit %d: %d, %v; want %d", tc.keep, tc.limit, n, err, tc.want)
		}
	}
	err = e.Txn("", key, func(tx *Txn) error {
		if _, err := tx.Open(0, TypeStream); err != nil {
			return err
		}
		info := tx.StreamInfo(0)
		if info.Length != 0 || info.FirstID != (StreamID{}) || info.LastID != (StreamID{5000, 0}) {
			return fmt.Errorf("after the trims: %+v", info)
		}
		found := 0
		err := tx.StreamRange(0, StreamID{}, MaxStreamID, false, func(StreamID, [][]byte) bool { found++; return true })
		if found != 0 {
			return fmt.Errorf("%d entries left", found)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStreamDestroyLargeGroup: destroying a group whose PEL spans several
// chunks leaves none of it behind.
func TestStreamDestroyLargeGroup(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	key := [][]byte{[]byte("s")}
	g := []byte("g")
	step := func(fn func(tx *Txn) error) {
		t.Helper()
		err := e.Txn("", key, func(tx *Txn) error {
			if err := tx.Create(0, TypeStream); err != nil {
				return err
			}
			return fn(tx)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	step(func(tx *Txn) error {
		tx.StreamAdd(0, StreamID{1, 0}, [][]byte{[]byte("f"), []byte("v")})
		tx.StreamPutGroup(0, g, StreamGroup{EntriesRead: -1}, true)
		for i := 1; i <= 3000; i++ {
			tx.StreamPutPending(0, g, StreamID{uint64(i), 0}, StreamPending{DeliveryCount: 1, Consumer: []byte("c")})
		}
		return nil
	})
	step(func(tx *Txn) error {
		ok, err := tx.StreamDestroyGroup(0, g)
		if !ok || err != nil {
			return fmt.Errorf("destroy = %v, %v", ok, err)
		}
		return nil
	})
	step(func(tx *Txn) error {
		tx.StreamPutGroup(0, g, StreamGroup{EntriesRead: -1}, true)
		n := 0
		err := tx.StreamPendingRange(0, g, StreamID{}, MaxStreamID, func(StreamID, StreamPending) bool { n++; return true })
		if n != 0 || err != nil {
			return fmt.Errorf("%d pending entries outlived their group (%v)", n, err)
		}
		if info := tx.StreamInfo(0); info.Groups != 1 {
			return fmt.Errorf("groups = %d", info.Groups)
		}
		return nil
	})
}
