package engine

import (
	"testing"
	"time"
)

// TestExpiryCounts: Expiry counts a keyspace's keys with a future expiry,
// following SET EX, PERSIST, overwrite and DEL, and not other keyspaces'.
func TestExpiryCounts(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	in := func(d time.Duration) PutOptions { return PutOptions{ExpireAt: time.Now().Add(d).UnixMilli()} }
	mustPut(t, e, "", "a", []byte("1"), in(time.Hour))
	mustPut(t, e, "", "b", []byte("1"), in(3*time.Hour))
	mustPut(t, e, "", "c", []byte("1"), PutOptions{})
	mustPut(t, e, "other", "a", []byte("1"), in(time.Hour))
	st, err := e.Expiry("")
	if err != nil || st.Keys != 2 {
		t.Fatalf("Expiry = %+v, %v; want 2 keys", st, err)
	}
	if st.AvgTTL < 110*time.Minute || st.AvgTTL > 2*time.Hour {
		t.Errorf("avg TTL %v, want about 2h", st.AvgTTL)
	}
	if _, err := e.Persist("", []byte("a")); err != nil {
		t.Fatal(err)
	}
	mustPut(t, e, "", "b", []byte("2"), PutOptions{}) // overwrite drops the TTL
	mustPut(t, e, "", "c", []byte("2"), in(time.Hour))
	if st, _ := e.Expiry(""); st.Keys != 1 {
		t.Fatalf("after PERSIST a, SET b, SET c EX: %d keys with expiry, want 1", st.Keys)
	}
	if _, err := e.Delete("", [][]byte{[]byte("c")}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.Expiry(""); st.Keys != 0 {
		t.Fatalf("after DEL: %d", st.Keys)
	}
	if st, _ := e.Expiry("other"); st.Keys != 1 {
		t.Fatalf("other keyspace: %d", st.Keys)
	}
	s := e.Stats()
	if s.NVMeLimit <= s.NVMeUsed {
		t.Errorf("NVMeLimit %d not above NVMeUsed %d with free disk space", s.NVMeLimit, s.NVMeUsed)
	}
}
