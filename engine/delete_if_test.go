package engine

import (
	"errors"
	"fmt"
	"testing"
)

func TestDeleteIf(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	errVeto := errors.New("veto")
	for _, n := range []int{5, 1 << 20} {
		k := fmt.Sprint("d", n)
		mustPut(t, e, "ks", k, pattern(1, n), PutOptions{Attrs: []byte("locked")})
		deleted, err := e.DeleteIf("ks", []byte(k), func(m Meta) error {
			if m.Size != int64(n) || string(m.Attrs) != "locked" {
				t.Errorf("check saw size=%d attrs=%q", m.Size, m.Attrs)
			}
			return errVeto
		})
		if err != errVeto || deleted {
			t.Fatalf("vetoed delete: deleted=%v err=%v", deleted, err)
		}
		if _, err := e.Stat("ks", []byte(k)); err != nil {
			t.Fatalf("vetoed delete removed the key: %v", err)
		}
		deleted, err = e.DeleteIf("ks", []byte(k), func(Meta) error { return nil })
		if err != nil || !deleted {
			t.Fatalf("delete: deleted=%v err=%v", deleted, err)
		}
		if _, err := e.Stat("ks", []byte(k)); err != ErrNotFound {
			t.Fatalf("Stat after delete: %v", err)
		}
		if got := e.DBSize("ks"); got != 0 {
			t.Fatalf("DBSize after delete = %d", got)
		}
	}
	deleted, err := e.DeleteIf("ks", []byte("missing"), func(Meta) error {
		t.Error("check called for a missing key")
		return nil
	})
	if err != nil || deleted {
		t.Fatalf("missing key: deleted=%v err=%v", deleted, err)
	}
}
