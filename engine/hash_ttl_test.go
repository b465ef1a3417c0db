package engine

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"
)

// hashState reads hash key's live fields with HashRange and its size.
func hashState(t *testing.T, e *Engine, key string) (map[string]string, int64) {
	t.Helper()
	got := map[string]string{}
	var size int64
	txn(t, e, []string{key}, func(tx *Txn) error {
		if _, err := tx.Open(0, TypeHash); err != nil {
			return err
		}
		size = tx.Size(0)
		return tx.HashRange(0, nil, func(f, v []byte) bool {
			got[string(f)] = string(v)
			return true
		})
	})
	return got, size
}

func fieldAt(t *testing.T, e *Engine, key, field string) int64 {
	t.Helper()
	var at int64
	txn(t, e, []string{key}, func(tx *Txn) error {
		var err error
		at, err = tx.HashFieldExpireAt(0, []byte(field))
		return err
	})
	return at
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestHashFieldTTLBasics(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) { o.ExpireInterval = time.Hour })
	defer e.Close()
	far := nowMs() + 3600_000
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		for _, f := range []string{"a", "b", "c"} {
			if _, err := tx.HashSet(0, []byte(f), []byte("v"+f), false); err != nil {
				return err
			}
		}
		for _, tc := range []struct {
			f    string
			at   int64
			cond ExpireCond
			want int
		}{
			{"a", far, ExpireAlways, FieldSet},
			{"nope", far, ExpireAlways, FieldNone},
			{"a", far + 1, ExpireNX, FieldNotMet},
			{"b", far, ExpireGT, FieldNotMet}, // no TTL counts as never
			{"b", far + 10, ExpireLT, FieldSet},
			{"b", far + 20, ExpireLT, FieldNotMet},
			{"b", far + 20, ExpireGT, FieldSet},
			{"c", 1, ExpireAlways, FieldDeleted},
		} {
			r, err := tx.HashExpireField(0, []byte(tc.f), tc.at, tc.cond)
			if err != nil || r != tc.want {
				return fmt.Errorf("HashExpireField(%s, %d, %d) = %d, %v; want %d", tc.f, tc.at, tc.cond, r, err, tc.want)
			}
		}
		return nil
	})
	if got, size := hashState(t, e, "h"); size != 2 || len(got) != 2 || got["a"] != "va" || got["b"] != "vb" {
		t.Fatalf("hash = %v (size %d)", got, size)
	}
	if at := fieldAt(t, e, "h", "b"); at != far+20 {
		t.Fatalf("b expires at %d, want %d", at, far+20)
	}
	m, err := e.Stat("", []byte("h"))
	if err != nil || m.fieldTTL.count != 2 || m.fieldTTL.next != far {
		t.Fatalf("meta %+v, %v", m.fieldTTL, err)
	}
	// HSET drops the TTL, HashUpdate keeps it; HPERSIST removes the last
	// one and the index goes with it.
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		if _, err := tx.HashSet(0, []byte("a"), []byte("x"), false); err != nil {
			return err
		}
		_, err := tx.HashUpdate(0, []byte("b"), []byte("y"))
		return err
	})
	if a, b := fieldAt(t, e, "h", "a"), fieldAt(t, e, "h", "b"); a != FieldNoTTL || b != far+20 {
		t.Fatalf("after HSET/update: a %d, b %d", a, b)
	}
	if m, _ := e.Stat("", []byte("h")); m.fieldTTL.count != 1 || m.fieldTTL.next != far+20 {
		t.Fatalf("meta after HSET: %+v", m.fieldTTL)
	}
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		r, err := tx.HashPersistField(0, []byte("b"))
		if err == nil && r != FieldSet {
			err = fmt.Errorf("HashPersistField = %d", r)
		}
		return err
	})
	if m, _ := e.Stat("", []byte("h")); m.fieldTTL != (hashTTL{}) {
		t.Fatalf("meta after the last HPERSIST: %+v", m.fieldTTL)
	}
	// Only the two fields' sub-keys are left: the TTL index is gone.
	if n := countSubkeys(t, e); n != 2 {
		t.Fatalf("%d sub-keys, want 2", n)
	}
}

// Expired fields are invisible to the first command that loads the hash
// (the count included) and physically gone after it.
func TestHashFieldExpiryLazy(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) { o.ExpireInterval = time.Hour })
	defer e.Close()
	soon := nowMs() + 20
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		for i := 0; i < 50; i++ {
			f := []byte(fmt.Sprint(i))
			if _, err := tx.HashSet(0, f, []byte("v"), false); err != nil {
				return err
			}
			if i%2 == 0 {
				if _, err := tx.HashExpireField(0, f, soon+int64(i%10), ExpireAlways); err != nil {
					return err
				}
			}
		}
		return nil
	})
	waitFor(t, "fields to expire", func() bool { return nowMs() > soon+10 })
	got, size := hashState(t, e, "h")
	if size != 25 || len(got) != 25 {
		t.Fatalf("%d fields (size %d), want 25", len(got), size)
	}
	for f := range got {
		var i int
		fmt.Sscan(f, &i)
		if i%2 == 0 {
			t.Fatalf("expired field %s still visible", f)
		}
	}
	if n := countSubkeys(t, e); n != 25 {
		t.Fatalf("%d sub-keys left, want the 25 live fields", n)
	}
}

// Nobody touches the hash: the expiry sweep reclaims its expired fields,
// and the key when the last one goes.
func TestHashFieldExpiryActive(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) { o.ExpireInterval = 5 * time.Millisecond })
	defer e.Close()
	soon := nowMs() + 30
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		for i := 0; i < 10; i++ {
			f := []byte(fmt.Sprint(i))
			if _, err := tx.HashSet(0, f, []byte("v"), false); err != nil {
				return err
			}
			at := soon
			if i >= 5 {
				at = soon + 40
			}
			if _, err := tx.HashExpireField(0, f, at, ExpireAlways); err != nil {
				return err
			}
		}
		return nil
	})
	waitFor(t, "the first five fields to be reclaimed", func() bool {
		m, err := e.Stat("", []byte("h"))
		return err == nil && m.Size == 5
	})
	waitFor(t, "the key to go with its last field", func() bool {
		_, err := e.Stat("", []byte("h"))
		return err == ErrNotFound
	})
	if n := countSubkeys(t, e); n != 0 {
		t.Fatalf("%d sub-keys left", n)
	}
	if n := e.DBSize(""); n != 0 {
		t.Fatalf("DBSize %d", n)
	}
}

// Field TTLs survive a restart, and so does their sweep.
func TestHashFieldTTLRestart(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, func(o *Options) { o.ExpireInterval = time.Hour })
	far, soon := nowMs()+3600_000, nowMs()+40
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		for _, f := range []string{"keep", "far", "soon"} {
			if _, err := tx.HashSet(0, []byte(f), []byte("v"), false); err != nil {
				return err
			}
		}
		if _, err := tx.HashExpireField(0, []byte("far"), far, ExpireAlways); err != nil {
			return err
		}
		_, err := tx.HashExpireField(0, []byte("soon"), soon, ExpireAlways)
		return err
	})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir, func(o *Options) { o.ExpireInterval = 5 * time.Millisecond })
	defer e.Close()
	if at := fieldAt(t, e, "h", "far"); at != far {
		t.Fatalf("far expires at %d after restart, want %d", at, far)
	}
	waitFor(t, "soon to be swept after the restart", func() bool {
		m, err := e.Stat("", []byte("h"))
		return err == nil && m.Size == 2
	})
	if got, _ := hashState(t, e, "h"); len(got) != 2 || got["keep"] != "v" || got["far"] != "v" {
		t.Fatalf("after restart: %v", got)
	}
}

// A record written before field TTLs existed (no flag, nothing after the
// collection part) reads as a hash without TTLs, takes TTLs without any
// conversion, and a hash that never gets one is stored byte for byte as
// before.
func TestHashRecordOldEncoding(t *testing.T) {
	old := []byte{recordFormat, byte(TypeHash), flagCollection}
	for _, v := range []uint64{0, 12345, 77, 3, 0} { // expireAt, modTime, version, size, len(attrs)
		old = binary.AppendUvarint(old, v)
	}
	var m Meta
	if err := decodeRecord(old, &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != TypeHash || m.Version != 77 || m.Size != 3 || m.fieldTTL != (hashTTL{}) {
		t.Fatalf("decoded %+v", m)
	}
	if again := appendRecord(nil, &m); string(again) != string(old) {
		t.Fatalf("re-encoded %x, want %x", again, old)
	}
	m.fieldTTL = hashTTL{version: 99, count: 2, next: 1700000000000}
	rec := appendRecord(nil, &m)
	var back Meta
	if err := decodeRecord(rec, &back); err != nil || back.fieldTTL != m.fieldTTL {
		t.Fatalf("round trip %+v, %v", back.fieldTTL, err)
	}
	// The flag on another type, or a truncated tail, is corrupt.
	bad := append([]byte(nil), rec...)
	bad[1] = byte(TypeSet)
	if err := decodeRecord(bad, &back); err == nil {
		t.Fatal("field-TTL flag on a set decoded")
	}
	if err := decodeRecord(rec[:len(rec)-1], &back); err == nil {
		t.Fatal("truncated record decoded")
	}
}

// COPY copies the TTLs into the new hash's own index; RENAME moves them
// with the record; DEL drops the index with the fields.
func TestHashFieldTTLCopyRenameDelete(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) { o.ExpireInterval = 5 * time.Millisecond })
	defer e.Close()
	far, soon := nowMs()+3600_000, nowMs()+60
	txn(t, e, []string{"src"}, func(tx *Txn) error {
		for _, f := range []string{"a", "b", "c"} {
			if _, err := tx.HashSet(0, []byte(f), []byte("v"), false); err != nil {
				return err
			}
		}
		if _, err := tx.HashExpireField(0, []byte("a"), far, ExpireAlways); err != nil {
			return err
		}
		_, err := tx.HashExpireField(0, []byte("b"), soon, ExpireAlways)
		return err
	})
	if ok, err := e.Copy("", []byte("src"), []byte("cp"), false); !ok || err != nil {
		t.Fatalf("Copy = %v, %v", ok, err)
	}
	if ok, err := e.Rename("", []byte("src"), []byte("mv"), false); !ok || err != nil {
		t.Fatalf("Rename = %v, %v", ok, err)
	}
	for _, k := range []string{"cp", "mv"} {
		if at := fieldAt(t, e, k, "a"); at != far {
			t.Fatalf("%s: a expires at %d", k, at)
		}
	}
	// The sweep follows both keys: b goes from each without a touch.
	for _, k := range []string{"cp", "mv"} {
		waitFor(t, k+"'s b to be swept", func() bool {
			m, err := e.Stat("", []byte(k))
			return err == nil && m.Size == 2
		})
	}
	// Changing the copy leaves the original alone.
	txn(t, e, []string{"cp"}, func(tx *Txn) error {
		_, err := tx.HashPersistField(0, []byte("a"))
		return err
	})
	if at := fieldAt(t, e, "mv", "a"); at != far {
		t.Fatalf("mv's a expires at %d after the copy's HPERSIST", at)
	}
	if n, err := e.Delete("", [][]byte{[]byte("cp"), []byte("mv")}); n != 2 || err != nil {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	if n := countSubkeys(t, e); n != 0 {
		t.Fatalf("%d sub-keys left after DEL", n)
	}
}

// DISK USAGE counts a hash's TTL index with its fields.
func TestHashFieldTTLDiskUsage(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		_, err := tx.HashSet(0, []byte("a"), []byte("v"), false)
		return err
	})
	before, err := e.DiskUsage("", []byte("h"))
	if err != nil {
		t.Fatal(err)
	}
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		_, err := tx.HashExpireField(0, []byte("a"), nowMs()+3600_000, ExpireAlways)
		return err
	})
	after, err := e.DiskUsage("", []byte("h"))
	if err != nil {
		t.Fatal(err)
	}
	// Two index entries: 'f'|a -> 8 bytes and 't'|time|a, each under 's'|V.
	if want := before + int64(subHeaderLen+2+8) + int64(subHeaderLen+10); after < want {
		t.Fatalf("DISK USAGE %d -> %d, want at least %d", before, after, want)
	}
}

// FuzzDecodeRecord: a metadata record of any bytes decodes or is refused,
// never panics, and one that decodes encodes back to a record that
// decodes to the same metadata (the hash field-TTL tail included).
func FuzzDecodeRecord(f *testing.F) {
	for _, m := range []Meta{
		{Type: TypeHash, Version: 7, Size: 3},
		{Type: TypeHash, Version: 7, Size: 3, ExpireAt: 1700000000000, fieldTTL: hashTTL{version: 9, count: 2, next: 1700000000001}},
		{Type: TypeList, Version: 8, Size: 1, listHead: listMid, listTail: listMid + 1},
		{Type: TypeSet, Version: 1, Size: 1, Attrs: []byte("a")},
		{Type: TypeString, Version: 2, Size: 2, inline: []byte("hi")},
	} {
		f.Add(appendRecord(nil, &m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Meta
		if decodeRecord(b, &m) != nil {
			return
		}
		again := appendRecord(nil, &m)
		var back Meta
		if err := decodeRecord(again, &back); err != nil {
			t.Fatalf("%x decoded to %+v, whose record %x does not decode: %v", b, m, again, err)
		}
		if back.Type != m.Type || back.Size != m.Size || back.Version != m.Version || back.ExpireAt != m.ExpireAt ||
			back.fieldTTL != m.fieldTTL || back.listHead != m.listHead || back.listTail != m.listTail {
			t.Fatalf("%x: %+v, then %+v", b, m, back)
		}
	})
}
