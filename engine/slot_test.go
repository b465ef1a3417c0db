package engine

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"
	"slices"
	"testing"

	"github.com/gpucache/gpucache/internal/jsonpath"
)

// testSlot is a stand-in for cluster.KeySlot (engine does not import the
// cluster package): 16384 slots, hash tags ignored.
func testSlot(key []byte) int { return int(crc32.ChecksumIEEE(key) % 16384) }

// keyInSlot returns a key named prefix... whose slot is slot.
func keyInSlot(prefix string, slot int) []byte {
	for i := 0; ; i++ {
		k := []byte(fmt.Sprintf("%s%d", prefix, i))
		if testSlot(k) == slot {
			return k
		}
	}
}

// fillEveryType writes one key of every type into slot and returns them.
func fillEveryType(t *testing.T, e *Engine, slot int, expireAt int64) map[string]Type {
	t.Helper()
	keys := map[string]Type{}
	put := func(typ Type, fn func(t *Txn) error) {
		k := keyInSlot(typ.String()+":", slot)
		keys[string(k)] = typ
		if err := e.Txn("", [][]byte{k}, fn); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	put(TypeHash, func(t *Txn) error {
		for i := range 50 {
			if _, err := t.HashSet(0, fmt.Appendf(nil, "f%d", i), fmt.Appendf(nil, "v%d", i), false); err != nil {
				return err
			}
		}
		return nil
	})
	// A hash whose fields expire: its expiry index moves with it.
	hk := keyInSlot("hashttl:", slot)
	keys[string(hk)] = TypeHash
	if err := e.Txn("", [][]byte{hk}, func(t *Txn) error {
		for i := range 20 {
			f := fmt.Appendf(nil, "f%d", i)
			if _, err := t.HashSet(0, f, fmt.Appendf(nil, "v%d", i), false); err != nil {
				return err
			}
			if i%2 == 0 {
				if _, err := t.HashExpireField(0, f, nowMs()+int64(i+1)*60_000, ExpireAlways); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	doc, err := jsonpath.Parse([]byte(`{"a":[1,2.5,"x"],"b":{"c":null,"d":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	put(TypeJSON, func(t *Txn) error { return t.JSONPut(0, doc, JSONCBOR) })
	put(TypeList, func(t *Txn) error {
		for i := range 30 {
			if err := t.ListPush(0, fmt.Appendf(nil, "e%d", i), i%2 == 0); err != nil {
				return err
			}
		}
		return nil
	})
	put(TypeSet, func(t *Txn) error {
		for i := range 40 {
			if _, err := t.SetAdd(0, fmt.Appendf(nil, "m%d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	put(TypeZSet, func(t *Txn) error {
		for i := range 40 {
			if _, _, err := t.ZSetAdd(0, fmt.Appendf(nil, "z%d", i), float64(i)*1.5-7); err != nil {
				return err
			}
		}
		return nil
	})
	put(TypeSortedInt, func(t *Txn) error {
		for i := range 20 {
			if _, err := t.SIntAdd(0, uint64(i*7)); err != nil {
				return err
			}
		}
		return nil
	})
	put(TypeHyperLogLog, func(t *Txn) error {
		var el [][]byte
		for i := range 500 {
			el = append(el, fmt.Appendf(nil, "h%d", i))
		}
		_, err := t.HLLAdd(0, el)
		return err
	})
	put(TypeBloom, func(t *Txn) error {
		_, err := t.BloomAdd(0, [][]byte{[]byte("a"), []byte("b")}, BloomParams{Capacity: 100, ErrorRate: 0.01, Expansion: 2}, true)
		return err
	})
	put(TypeStream, func(t *Txn) error {
		if err := t.Create(0, TypeStream); err != nil {
			return err
		}
		for i := range 10 {
			t.StreamAdd(0, StreamID{Ms: uint64(1000 + i), Seq: 0}, [][]byte{[]byte("k"), fmt.Appendf(nil, "%d", i)})
		}
		t.StreamPutGroup(0, []byte("g1"), StreamGroup{LastID: StreamID{Ms: 1003}, EntriesRead: 4}, true)
		return nil
	})
	bk := keyInSlot("bitmap:", slot)
	keys[string(bk)] = TypeBitmap
	if err := e.WriteBits("", bk, func(b *Bits) error { return b.WriteAt([]byte{0xff, 0, 0x81}, 5000) }); err != nil {
		t.Fatal(err)
	}
	sk := keyInSlot("string:", slot)
	keys[string(sk)] = TypeString
	if _, err := e.PutBytes("", sk, []byte("small value"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	lk := keyInSlot("large:", slot)
	keys[string(lk)] = TypeString
	if _, err := e.PutBytes("", lk, pattern(3, 5<<20+17), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if expireAt != 0 {
		for k := range keys {
			if _, err := e.Expire("", []byte(k), expireAt, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	return keys
}

// moveKey copies ks/key from src to dst as a migration does.
func moveKey(t *testing.T, src, dst *Engine, key []byte) {
	t.Helper()
	img, large, err := src.ExportKey("", key, nil)
	if err != nil {
		t.Fatalf("export %q: %v", key, err)
	}
	if large != nil {
		defer large.Release()
		var buf bytes.Buffer
		if _, err := large.WriteRange(&buf, 0, large.Len()); err != nil {
			t.Fatal(err)
		}
		if _, err := dst.PutBytes("", key, buf.Bytes(), PutOptions{ExpireAt: large.Meta().ExpireAt}); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := dst.ImportKey("", key, img); err != nil {
		t.Fatalf("import %q: %v", key, err)
	}
}

// content is a key's data without what differs between stores (version,
// write time): its image decoded, or a large string's bytes.
func content(t *testing.T, e *Engine, key []byte) any {
	t.Helper()
	img, large, err := e.ExportKey("", key, nil)
	if err != nil {
		t.Fatalf("export %q: %v", key, err)
	}
	if large != nil {
		defer large.Release()
		b, err := large.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		return [2]any{large.Meta().ExpireAt, b}
	}
	im, err := decodeImage(img)
	if err != nil {
		t.Fatal(err)
	}
	im.m.Version, im.m.ModTime, im.m.fieldTTL.version = 0, 0, 0
	im.m.inline = slices.Clone(im.m.inline)
	if im.m.Attrs == nil {
		im.m.Attrs = []byte{}
	}
	return im
}

func TestSlotMigrateEveryType(t *testing.T) {
	src := openTest(t, t.TempDir(), nil)
	defer src.Close()
	dst := openTest(t, t.TempDir(), nil)
	defer dst.Close()
	const slot = 77
	keys := fillEveryType(t, src, slot, nowMs()+3_600_000)
	// Keys of other slots, which must not move.
	for i := range 200 {
		k := fmt.Appendf(nil, "other%d", i)
		if testSlot(k) == slot {
			continue
		}
		if _, err := src.PutBytes("", k, k, PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// An expired key of the slot is not listed.
	ek := keyInSlot("expired:", slot)
	if _, err := src.PutBytes("", ek, []byte("x"), PutOptions{ExpireAt: nowMs() - 1}); err != nil {
		t.Fatal(err)
	}
	n, err := src.CountSlotKeys("", slot, slot, testSlot)
	if err != nil || n != int64(len(keys)) {
		t.Fatalf("CountSlotKeys = %d, %v; want %d", n, err, len(keys))
	}
	var listed [][]byte
	if _, err := src.SlotKeys("", slot, slot, testSlot, nil, func(k []byte, m *Meta) bool {
		if keys[string(k)] != m.Type {
			t.Errorf("%q listed as %s, written as %s", k, m.Type, keys[string(k)])
		}
		listed = append(listed, slices.Clone(k))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(keys) {
		t.Fatalf("SlotKeys listed %d keys, want %d", len(listed), len(keys))
	}
	// A cursor resumes where a stopped walk ended.
	next, err := src.SlotKeys("", slot, slot, testSlot, nil, func([]byte, *Meta) bool { return false })
	if err != nil || !bytes.Equal(next, listed[1]) {
		t.Fatalf("SlotKeys cursor = %q, %v; want %q", next, err, listed[1])
	}
	if _, large, err := src.ExportKey("", keyInSlot("large:", slot), nil); err != nil || large == nil {
		t.Fatalf("a 5 MiB string exports as an image (%v)", err)
	} else {
		large.Release()
	}
	for _, k := range listed {
		moveKey(t, src, dst, k)
	}
	for _, k := range listed {
		if want, got := content(t, src, k), content(t, dst, k); !reflect.DeepEqual(want, got) {
			t.Errorf("%q (%s) differs after the move:\nsrc %+v\ndst %+v", k, keys[string(k)], want, got)
		}
	}
	// A field expiry moved with its hash, and the document with its key.
	tk := keyInSlot("hashttl:", slot)
	if err := dst.Txn("", [][]byte{tk}, func(tx *Txn) error {
		at, err := tx.HashFieldExpireAt(0, []byte("f4"))
		if err != nil || at <= nowMs()+4*60_000 || at > nowMs()+5*60_000 {
			return fmt.Errorf("f4 expires at %d (%v), %d ms from now", at, err, at-nowMs())
		}
		if at, err := tx.HashFieldExpireAt(0, []byte("f5")); err != nil || at != -1 {
			return fmt.Errorf("f5 expires at %d (%v), want -1 (never)", at, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := dst.Txn("", [][]byte{keyInSlot("ReJSON-RL:", slot)}, func(tx *Txn) error {
		d, _, ok, err := tx.JSONGet(0)
		if err != nil || !ok {
			return fmt.Errorf("JSONGet: %v %v", ok, err)
		}
		if got := string(jsonpath.AppendCompact(nil, d)); got != `{"a":[1,2.5,"x"],"b":{"c":null,"d":true}}` {
			return fmt.Errorf("document %s", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The moved keys work as their type on the target.
	hk := keyInSlot("hash:", slot)
	if err := dst.Txn("", [][]byte{hk}, func(tx *Txn) error {
		v, ok, err := tx.HashGet(0, []byte("f42"), nil)
		if err != nil || !ok || string(v) != "v42" {
			return fmt.Errorf("HashGet = %q %v %v", v, ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	zk := keyInSlot("zset:", slot)
	if err := dst.Txn("", [][]byte{zk}, func(tx *Txn) error {
		s, ok, err := tx.ZSetScore(0, []byte("z10"))
		if err != nil || !ok || s != 8 {
			return fmt.Errorf("ZSetScore = %v %v %v", s, ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	bm, err := dst.BitmapString("", keyInSlot("bitmap:", slot), 1<<20)
	if err != nil || len(bm) != 5003 || bm[5000] != 0xff || bm[5002] != 0x81 {
		t.Fatalf("BitmapString: len %d, %v", len(bm), err)
	}
	if got := dst.DBSize(""); got != int64(len(keys)) {
		t.Fatalf("target DBSize = %d, want %d", got, len(keys))
	}
	// Expiry kept.
	m, err := dst.Stat("", keyInSlot("stream:", slot))
	if err != nil || m.ExpireAt == 0 {
		t.Fatalf("stream expiry lost: %+v %v", m, err)
	}
	// Import replaces a key of another type.
	if _, err := dst.PutBytes("", hk, []byte("was a string"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	moveKey(t, src, dst, hk)
	if want, got := content(t, src, hk), content(t, dst, hk); !reflect.DeepEqual(want, got) {
		t.Fatalf("re-import over a string differs")
	}
	// The source drops the slot; other keys stay.
	before := src.DBSize("")
	del, err := src.DeleteSlotKeys("", slot, slot, testSlot)
	if err != nil || del != int64(len(keys)) {
		t.Fatalf("DeleteSlotKeys = %d, %v; want %d", del, err, len(keys))
	}
	if n, _ := src.CountSlotKeys("", slot, slot, testSlot); n != 0 {
		t.Fatalf("%d keys left in the slot", n)
	}
	// NB: the slot's expired key is counted until the background expiry
	// sweep reclaims it, which may happen at any moment here.
	if got, want := src.DBSize(""), before-int64(len(keys)); got != want && got != want-1 {
		t.Fatalf("DBSize after DeleteSlotKeys = %d, want %d (or %d once the expired key is reclaimed)", got, want, want-1)
	}
}

func TestSlotImportExpired(t *testing.T) {
	src := openTest(t, t.TempDir(), nil)
	defer src.Close()
	k := []byte("k")
	if err := src.Txn("", [][]byte{k}, func(t *Txn) error { _, err := t.SetAdd(0, []byte("m")); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Expire("", k, nowMs()+50_000, 0); err != nil {
		t.Fatal(err)
	}
	img, _, err := src.ExportKey("", k, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite the expiry in the image to the past: nothing is stored and
	// the key goes.
	im, _ := decodeImage(img)
	im.m.ExpireAt = nowMs() - 1
	past := appendImageHead(nil, &im.m)
	past = append(past, img[len(appendImageHead(nil, mustDecode(t, img))):]...)
	if err := src.ImportKey("", k, past); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Stat("", k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("key still there after an expired import: %v", err)
	}
	if _, _, err := src.ExportKey("", k, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ExportKey of a missing key: %v", err)
	}
}

func mustDecode(t *testing.T, img []byte) *Meta {
	im, err := decodeImage(img)
	if err != nil {
		t.Fatal(err)
	}
	return &im.m
}

func TestSlotTracker(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	const slot = 5
	a, b := keyInSlot("a", slot), keyInSlot("b", slot)
	other := []byte("zz")
	for testSlot(other) == slot {
		other = append(other, 'z')
	}
	w0 := e.Watched()
	tr := e.TrackSlot("", slot, slot, testSlot)
	if e.Watched() != w0 {
		t.Fatalf("a tracker shows in Watched")
	}
	if _, err := e.PutBytes("", a, []byte("1"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Txn("", [][]byte{b}, func(t *Txn) error { _, err := t.SetAdd(0, []byte("m")); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutBytes("", other, []byte("1"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutBytes("other-ks", a, []byte("1"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := tr.Take()
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, bytes.Compare)
	if want := [][]byte{a, b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Take = %q, want %q", got, want)
	}
	if _, err := e.Delete("", [][]byte{a}); err != nil {
		t.Fatal(err)
	}
	// A group (MULTI/EXEC, scripts) is heard too.
	if err := e.Group(func(g *Engine) error {
		_, err := g.PutBytes("", b, []byte("2"), PutOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, _ = tr.Take()
	slices.SortFunc(got, bytes.Compare)
	if want := [][]byte{a, b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Take after delete = %q, want %q", got, want)
	}
	tr.Close()
	if _, err := e.PutBytes("", a, []byte("1"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if tr.Pending() != 0 {
		t.Fatalf("a closed tracker still records")
	}
}

func FuzzImportKey(f *testing.F) {
	e := openTest(f, f.TempDir(), nil)
	defer e.Close()
	for _, typ := range []Type{TypeHash, TypeList, TypeZSet} {
		k := []byte("seed" + typ.String())
		_ = e.Txn("", [][]byte{k}, func(t *Txn) error {
			switch typ {
			case TypeHash:
				_, err := t.HashSet(0, []byte("f"), []byte("v"), false)
				return err
			case TypeList:
				return t.ListPush(0, []byte("x"), false)
			default:
				_, _, err := t.ZSetAdd(0, []byte("m"), 2)
				return err
			}
		})
		img, _, err := e.ExportKey("", k, nil)
		if err == nil {
			f.Add(img)
		}
	}
	_, _ = e.PutBytes("", []byte("s"), []byte("small"), PutOptions{})
	if img, _, err := e.ExportKey("", []byte("s"), nil); err == nil {
		f.Add(img)
	}
	f.Fuzz(func(t *testing.T, img []byte) {
		err := e.ImportKey("", []byte("fuzzed"), img)
		if err != nil && !errors.Is(err, ErrBadImage) {
			return // engine refusals (wrong sizes) are fine
		}
		if err == nil {
			// What was stored exports again and decodes.
			if out, large, err := e.ExportKey("", []byte("fuzzed"), nil); err == nil {
				if large != nil {
					large.Release()
				} else if _, err := decodeImage(out); err != nil {
					t.Fatalf("stored image does not decode: %v", err)
				}
			}
		}
	})
}

// BenchmarkSlotKeys measures the pass that finds a slot's keys (CLUSTER
// COUNTKEYSINSLOT, a migration's snapshot) over a keyspace of 200k keys,
// against a SCAN of the same keyspace: per key of the keyspace.
func BenchmarkSlotKeys(b *testing.B) {
	e := openTest(b, b.TempDir(), nil)
	defer e.Close()
	const n = 200_000
	keys := make([][]byte, 0, 1000)
	vals := make([][]byte, 0, 1000)
	for i := 0; i < n; i += 1000 {
		keys, vals = keys[:0], vals[:0]
		for j := i; j < i+1000; j++ {
			keys = append(keys, fmt.Appendf(nil, "user:%08d:profile", j))
			vals = append(vals, []byte("0123456789abcdef"))
		}
		if err := e.PutMany("", keys, vals); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("count-slot", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := e.CountSlotKeys("", i%16384, i%16384, testSlot); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/key")
	})
	b.Run("scan", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := e.Scan("", ScanOptions{}, func([]byte, *Meta) bool { return true }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/key")
	})
}
