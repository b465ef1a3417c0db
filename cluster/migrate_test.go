package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/engine"
)

func TestReadReply(t *testing.T) {
	for _, c := range []struct {
		in   string
		kind byte
		text string
		err  bool
	}{
		{"+OK\r\n", '+', "OK", false},
		{"-ERR nope\r\n", '-', "ERR nope", false},
		{":12\r\n", ':', "12", false},
		{"$3\r\nabc\r\n", '$', "abc", false},
		{"$-1\r\n", '$', "", false},
		{"*2\r\n$1\r\na\r\n:1\r\n", '*', "", false},
		{"%1\r\n+a\r\n+b\r\n", '%', "", false},
		{"!5\r\nERR x\r\n", '-', "ERR x", false},
		{"|1\r\n+a\r\n+b\r\n+OK\r\n", '+', "OK", false},
		{"$3\r\nabcd\r\n", 0, "", true},
		{"$99999999999\r\n", 0, "", true},
		{"?\r\n", 0, "", true},
		{"+OK\n", 0, "", true},
		{strings.Repeat("*1\r\n", 20) + "+x\r\n", 0, "", true},
	} {
		kind, text, err := readReply(bufio.NewReader(strings.NewReader(c.in)))
		if (err != nil) != c.err || kind != c.kind || text != c.text {
			t.Errorf("%q: %c %q %v", c.in, kind, text, err)
		}
	}
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "-ERR x\r\n", "$3\r\nabc\r\n", "*2\r\n:1\r\n$-1\r\n", "%1\r\n+a\r\n_\r\n", "|1\r\n+a\r\n+b\r\n:3\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(strings.NewReader(string(b)))
		for range 4 {
			kind, _, err := readReply(r)
			if err != nil {
				return
			}
			if !strings.ContainsRune("+-:,_#($=*~>%", rune(kind)) {
				t.Fatalf("reply kind %q", kind)
			}
		}
	})
}

func testID(i int) string { return fmt.Sprintf("%040x", 0xab00+i) }

// testMigrator is node 1 of a two-node topology where node 0 owns
// everything.
func testMigrator(t *testing.T) (*Migrator, *engine.Engine) {
	t.Helper()
	e, err := engine.Open(engine.Options{Dir: t.TempDir(), DRAMCacheSize: 16 << 20, SegmentSize: 8 << 20, MemoryWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	st := NewState(7001, []string{"127.0.0.1"})
	text := fmt.Sprintf("%s 127.0.0.1 7000 master - 0-16383\n%s 127.0.0.1 7001 master -\n", testID(0), testID(1))
	if err := st.SetNodeID(testID(1)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetNodes(text, 1, false); err != nil {
		t.Fatal(err)
	}
	m := NewMigrator(MigratorConfig{State: st, Engine: e})
	st.SetHooks(m.Hooks())
	t.Cleanup(m.Close)
	return m, e
}

func TestImportStates(t *testing.T) {
	m, e := testMigrator(t)
	key := []byte("{a}k")
	s := KeySlot(key)
	if err := m.Import(SlotRange{s, s}, ImportStart, 1); err != nil {
		t.Fatal(err)
	}
	if got := string(m.appendInfo(nil)); got != fmt.Sprintf("importing_slot: %d\r\nimport_state: start\r\n", s) {
		t.Fatalf("info %q", got)
	}
	if got := string(m.appendNodesNote(nil)); got != fmt.Sprintf(" [%d-<-%s]", s, testID(0)) {
		t.Fatalf("nodes note %q", got)
	}
	if st := m.cfg.State.Status(s); st.State != SlotImporting {
		t.Fatalf("slot state %v", st.State)
	}
	if err := m.Import(SlotRange{s + 1, s + 1}, ImportStart, 2); err == nil || !strings.Contains(err.Error(), "only one importing job") {
		t.Fatalf("second import: %v", err)
	}
	if !errors.Is(m.busy(), ErrResetWhileImporting) {
		t.Fatal("CLUSTER RESET allowed while importing")
	}
	// An image from the importing link is stored; from another, refused.
	src, err := engine.Open(engine.Options{Dir: t.TempDir(), DRAMCacheSize: 16 << 20, SegmentSize: 8 << 20, MemoryWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.PutBytes("", key, []byte("v"), engine.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	img, _, err := src.ExportKey("", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ImportKey(2, key, img); !errors.Is(err, ErrNotImportingKey) {
		t.Fatalf("ImportKey from another link: %v", err)
	}
	if err := m.ImportKey(1, []byte("other-slot-key"), img); !errors.Is(err, ErrNotImportingKey) {
		t.Fatalf("ImportKey of another slot: %v", err)
	}
	if err := m.ImportKey(1, key, img); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.CountSlotKeys("", s, s, KeySlot); n != 1 {
		t.Fatalf("%d keys after ImportKey", n)
	}
	// The link closes before success: the keys go.
	m.LinkClosed(1)
	if n, _ := e.CountSlotKeys("", s, s, KeySlot); n != 0 {
		t.Fatalf("%d keys after the link closed", n)
	}
	if got := string(m.appendInfo(nil)); got != fmt.Sprintf("importing_slot: %d\r\nimport_state: error\r\n", s) {
		t.Fatalf("info %q", got)
	}
	if st := m.cfg.State.Status(s); st.State != SlotNormal {
		t.Fatalf("slot state after a failed import %v", st.State)
	}
	// Again, to success: the slot is served here.
	if err := m.Import(SlotRange{s, s}, ImportStart, 3); err != nil {
		t.Fatal(err)
	}
	if err := m.ImportKey(3, key, img); err != nil {
		t.Fatal(err)
	}
	if err := m.Import(SlotRange{s + 1, s + 1}, ImportSuccess, 3); err == nil || !strings.Contains(err.Error(), "mismatch slot") {
		t.Fatalf("success of another slot: %v", err)
	}
	if err := m.Import(SlotRange{s, s}, ImportSuccess, 3); err != nil {
		t.Fatal(err)
	}
	m.LinkClosed(3) // after success: nothing dropped
	if n, _ := e.CountSlotKeys("", s, s, KeySlot); n != 1 {
		t.Fatalf("%d keys after success", n)
	}
	if st := m.cfg.State.Status(s); st.State != SlotImported {
		t.Fatalf("slot state after success %v", st.State)
	}
	if err := m.Import(SlotRange{s, s}, 3, 4); !errors.Is(err, ErrInvalidImportState) {
		t.Fatalf("state 3: %v", err)
	}
}

func TestMigrateRefusals(t *testing.T) {
	m, _ := testMigrator(t)
	for _, c := range []struct {
		slot int
		dst  string
		want error
	}{
		{5, testID(9), ErrNoDestination},
		{5, testID(0), ErrSlotNotMine},
		{16384, testID(0), ErrSlotOutOfRange},
	} {
		if _, err := m.Migrate(SlotRange{c.slot, c.slot}, c.dst); !errors.Is(err, c.want) {
			t.Errorf("Migrate(%d, %s) = %v, want %v", c.slot, c.dst, err, c.want)
		}
	}
	if err := m.Import(SlotRange{5, 5}, ImportStart, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Import(SlotRange{5, 5}, ImportFailed, 1); err != nil {
		t.Fatal(err)
	}
}

func TestSlotRuns(t *testing.T) {
	got := slotRuns([]int{9, 3, 4, 5, 100, 8, 4})
	want := []SlotRange{{3, 5}, {8, 9}, {100, 100}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("slotRuns = %v, want %v", got, want)
	}
}
