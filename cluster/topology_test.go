package cluster

import (
	"errors"
	"strings"
	"testing"
)

var (
	idA = strings.Repeat("a", 40)
	idB = strings.Repeat("b", 40)
	idC = strings.Repeat("c", 40)
	idR = strings.Repeat("d", 40)
)

func threeNodes() string {
	return idA + " 127.0.0.1 7001 master - 0-5460\n" +
		idB + " 127.0.0.1 7002 master - 5461-10922\n" +
		idC + " 127.0.0.1 7003 master - 10923-16383\n" +
		idR + " 127.0.0.1 7004 slave " + idA + "\n"
}

func TestParseNodes(t *testing.T) {
	top, err := ParseNodes(threeNodes())
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Nodes) != 4 || top.Size != 3 || top.Assigned() != Slots {
		t.Fatalf("nodes %d size %d assigned %d", len(top.Nodes), top.Size, top.Assigned())
	}
	for _, c := range []struct {
		slot int
		id   string
	}{{0, idA}, {5460, idA}, {5461, idB}, {10922, idB}, {10923, idC}, {16383, idC}} {
		if o := top.Owner(c.slot); o == nil || o.ID != c.id {
			t.Errorf("Owner(%d) = %v, want %s", c.slot, o, c.id[:1])
		}
	}
	a := top.Node(idA)
	if a.Addr() != "127.0.0.1:7001" || a.Role != Master || len(a.Replicas) != 1 || a.Replicas[0] != idR {
		t.Fatalf("node a: %+v", a)
	}
	if r := top.Node(idR); r.Role != Replica || r.MasterID != idA || r.Slots != nil {
		t.Fatalf("replica: %+v", r)
	}
	if got := string(top.AppendText(nil)); got != threeNodes() {
		t.Fatalf("AppendText:\n%s\nwant\n%s", got, threeNodes())
	}
	if rs := top.OwnedRanges(); len(rs) != 3 || rs[1] != (SlotRange{5461, 10922}) {
		t.Fatalf("OwnedRanges %v", rs)
	}
}

func TestParseNodesLenient(t *testing.T) {
	// KVRocks splits on "\n" and " " and skips empty parts; "5-" is slot 5.
	text := "\n" + idA + "  127.0.0.1 7001 MASTER -  0-10 12 14-\n\n" + idB + " h 7002 replica " + idA
	top, err := ParseNodes(text)
	if err != nil {
		t.Fatal(err)
	}
	a := top.Node(idA)
	want := []SlotRange{{0, 10}, {12, 12}, {14, 14}}
	if len(a.Slots) != 3 || a.Slots[0] != want[0] || a.Slots[1] != want[1] || a.Slots[2] != want[2] {
		t.Fatalf("slots %v", a.Slots)
	}
	if top.Owner(11) != nil || top.Owner(13) != nil || top.Node(idB).Role != Replica {
		t.Fatal("owners")
	}
	// A master without slots is allowed and does not count in Size.
	top, err = ParseNodes(idA + " h 1 master -\n" + idB + " h 2 master - 3")
	if err != nil || top.Size != 1 {
		t.Fatalf("size %v %v", top, err)
	}
}

func TestParseNodesErrors(t *testing.T) {
	for _, c := range []struct {
		text string
		err  error
	}{
		{"", ErrInvalidNodesInfo},
		{"\n\n", ErrInvalidNodesInfo},
		{idA + " h 1 master", ErrInvalidNodesInfo},
		{"abc h 1 master -", ErrInvalidNodeID},
		{idA + " h 65536 master -", ErrInvalidPort},
		{idA + " h -1 master -", ErrInvalidPort},
		{idA + " h x master -", ErrInvalidPort},
		{idA + " h 1 boss -", ErrInvalidRole},
		{idA + " h 1 master " + idB, ErrInvalidNodeID},
		{idA + " h 1 slave -", ErrInvalidNodeID},
		{idA + " h 1 slave " + idB + " 5", ErrInvalidNodesInfo},
		{idA + " h 1 master - 16384", ErrSlotOutOfRange},
		{idA + " h 1 master - 5-5", ErrSlotOutOfRange},
		{idA + " h 1 master - 6-5", ErrSlotOutOfRange},
		{idA + " h 1 master - 1-2-3", ErrSlotOutOfRange},
		{idA + " h 1 master - x", ErrSlotOutOfRange},
		{idA + " h 1 master - 0-10 5", ErrSlotOverlapped},
		{idA + " h 1 master - 0-10\n" + idB + " h 2 master - 10-20", ErrSlotOverlapped},
		{idA + " h 1 master - 0-10 " + idB + " h 2 master - 11", ErrMissingNewline},
	} {
		if _, err := ParseNodes(c.text); !errors.Is(err, c.err) {
			t.Errorf("ParseNodes(%q) = %v, want %v", c.text, err, c.err)
		}
	}
}

func TestSetNodesVersions(t *testing.T) {
	s := NewState(7002, []string{"127.0.0.1"})
	if v := s.View(); v.Initialized() || v.Version != -1 || v.MyID != "" {
		t.Fatalf("fresh view %+v", v)
	}
	if err := s.SetNodes(threeNodes(), -1, false); !errors.Is(err, ErrInvalidVersion) {
		t.Fatal(err)
	}
	if err := s.SetNodes(threeNodes(), 2, false); err != nil {
		t.Fatal(err)
	}
	// Found by its address, as no SETNODEID came.
	if v := s.View(); v.MyID != idB || v.Myself == nil || v.Myself.ID != idB || v.Version != 2 {
		t.Fatalf("view %+v", v)
	}
	// The same version again changes nothing, even with bad text.
	if err := s.SetNodes("garbage", 2, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNodes(threeNodes(), 1, false); !errors.Is(err, ErrInvalidVersion) {
		t.Fatal(err)
	}
	// A bad topology leaves the current one.
	if err := s.SetNodes("garbage", 3, false); !errors.Is(err, ErrInvalidNodesInfo) || s.Version() != 2 {
		t.Fatal(err, s.Version())
	}
	// force takes a lower version.
	if err := s.SetNodes(threeNodes(), 1, true); err != nil || s.Version() != 1 {
		t.Fatal(err, s.Version())
	}
	if err := s.SetNodeID(idC); err != nil || s.View().Myself.ID != idC {
		t.Fatal(err)
	}
	if err := s.SetNodeID("short"); !errors.Is(err, ErrInvalidNodeID) {
		t.Fatal(err)
	}
	if err := s.Reset(); err != nil || s.Version() != -1 || s.MyID() != "" || s.View().Initialized() {
		t.Fatal(err, s.View())
	}
}

func TestSetSlotAndDrop(t *testing.T) {
	s := NewState(0, nil)
	var dropped []int
	s.SetHooks(Hooks{DropSlots: func(slots []int) { dropped = append(dropped, slots...) }})
	if err := s.SetNodeID(idA); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNodes(threeNodes(), 1, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSlotState(SlotRange{5, 5}, SlotMigrated, idB); err != nil {
		t.Fatal(err)
	}
	if v, addr := s.Route(s.View(), 5, Request{}); v != Moved || addr != "127.0.0.1:7002" {
		t.Fatalf("migrated slot: %v %q", v, addr)
	}
	if err := s.SetSlot([]SlotRange{{5, 5}}, idB, 3); !errors.Is(err, ErrInvalidVersion) {
		t.Fatal(err)
	}
	if err := s.SetSlot([]SlotRange{{5, 5}}, idR, 2); !errors.Is(err, ErrNotMaster) {
		t.Fatal(err)
	}
	if err := s.SetSlot([]SlotRange{{5, 5}}, strings.Repeat("e", 40), 2); !errors.Is(err, ErrNoSuchNode) {
		t.Fatal(err)
	}
	if err := s.SetSlot([]SlotRange{{5, 5}}, idB, 2); err != nil {
		t.Fatal(err)
	}
	v := s.View()
	if v.Version != 2 || v.Topology.Owner(5).ID != idB || v.Topology.Owner(4).ID != idA || v.Topology.Owner(6).ID != idA {
		t.Fatal("SETSLOT did not move slot 5")
	}
	if len(dropped) != 1 || dropped[0] != 5 || s.Migrating() {
		t.Fatalf("dropped %v, migrating %v", dropped, s.Migrating())
	}
	if a := v.Topology.Node(idA); len(a.Slots) != 2 || a.Slots[0] != (SlotRange{0, 4}) || a.Slots[1] != (SlotRange{6, 5460}) {
		t.Fatalf("a's slots %v", a.Slots)
	}
	// The old topology is unchanged (readers may hold it).
	if r := s.View().Topology.Node(idB).Slots; len(r) != 2 {
		t.Fatalf("b's slots %v", r)
	}
}

func TestRoute(t *testing.T) {
	s := NewState(0, nil)
	v := s.View()
	if verdict, _ := s.Route(v, 0, Request{}); verdict != Down {
		t.Fatal("uninitialized must be down")
	}
	if err := s.SetNodeID(idA); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNodes(idA+" 127.0.0.1 7001 master - 0-100\n"+idB+" 10.0.0.2 7002 master - 101-200\n", 1, false); err != nil {
		t.Fatal(err)
	}
	v = s.View()
	check := func(slot int, r Request, want Verdict, wantAddr string) {
		t.Helper()
		got, addr := s.Route(v, slot, r)
		if got != want || addr != wantAddr {
			t.Errorf("Route(%d, %+v) = %v %q, want %v %q", slot, r, got, addr, want, wantAddr)
		}
	}
	check(50, Request{Write: true}, Serve, "")
	check(150, Request{}, Moved, "10.0.0.2:7002")
	check(300, Request{}, Down, "")
	s.SetSlotState(SlotRange{50, 50}, SlotWriteForbidden, idB)
	check(50, Request{}, Serve, "")
	check(50, Request{Write: true}, TryAgain, "")
	s.SetSlotState(SlotRange{150, 151}, SlotImporting, idB)
	check(150, Request{}, Moved, "10.0.0.2:7002")
	check(150, Request{Asking: true}, Serve, "")
	check(151, Request{Importing: true, Write: true}, Serve, "")
	s.SetSlotState(SlotRange{150, 150}, SlotImported, idB)
	check(150, Request{}, Serve, "")
	s.SetSlotState(SlotRange{50, 50}, SlotNormal, "")
	s.SetSlotState(SlotRange{150, 151}, SlotNormal, "")
	if s.Migrating() {
		t.Fatal("states left")
	}
	// Without replication a replica has none of its master's data: it
	// redirects reads too, even after READONLY.
	s.SetNodes(idA+" 127.0.0.1 7001 slave "+idB+"\n"+idB+" 10.0.0.2 7002 master - 0-200\n", 2, false)
	v = s.View()
	check(10, Request{ReadOnly: true}, Moved, "10.0.0.2:7002")
	check(10, Request{}, Moved, "10.0.0.2:7002")
	check(10, Request{ReadOnly: true, Write: true}, Moved, "10.0.0.2:7002")
}

func TestRouteAllocs(t *testing.T) {
	s := NewState(0, nil)
	s.SetNodeID(idA)
	s.SetNodes(threeNodes(), 1, false)
	n := testing.AllocsPerRun(100, func() {
		v := s.View()
		s.Route(v, KeySlot([]byte("foo")), Request{})
		s.Route(v, KeySlot([]byte("bar")), Request{Write: true})
	})
	if n != 0 {
		t.Fatalf("Route allocates %v", n)
	}
}

func TestParseSlotRange(t *testing.T) {
	for s, want := range map[string]SlotRange{"0": {0, 0}, "5-9": {5, 9}, "16383": {16383, 16383}, "7-7": {7, 7}} {
		if r, err := ParseSlotRange(s); err != nil || r != want {
			t.Errorf("ParseSlotRange(%q) = %v %v", s, r, err)
		}
	}
	for _, s := range []string{"", "-1", "16384", "9-5", "a", "1-", "1-2-3"} {
		if _, err := ParseSlotRange(s); !errors.Is(err, ErrSlotRangeInvalid) {
			t.Errorf("ParseSlotRange(%q) = %v", s, err)
		}
	}
}

func BenchmarkRoute(b *testing.B) {
	s := NewState(0, nil)
	s.SetNodeID(idA)
	s.SetNodes(threeNodes(), 1, false)
	key := []byte("mistral-7b@00000003@5f2b1c9a0e7d4c3b2a19f8e7d6c5b4a3")
	b.ReportAllocs()
	for b.Loop() {
		s.Route(s.View(), KeySlot(key), Request{})
	}
}

// TestConcurrentUpdates: readers route while writers push topologies and
// slot states (run with -race).
func TestConcurrentUpdates(t *testing.T) {
	s := NewState(7001, []string{"127.0.0.1"})
	s.SetNodes(threeNodes(), 1, false)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := int64(2); v < 30; v++ {
			s.SetNodes(threeNodes(), v, false)
			s.SetSlotState(SlotRange{5, 9}, SlotMigrating, idB)
			s.SetSlotState(SlotRange{5, 9}, SlotNormal, "")
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
			if s.Version() != 29 || s.Migrating() {
				t.Fatalf("version %d, migrating %v", s.Version(), s.Migrating())
			}
			return
		default:
		}
		v := s.View()
		if verdict, _ := s.Route(v, i%Slots, Request{}); verdict == Down {
			t.Fatal("slot not served")
		}
	}
}
