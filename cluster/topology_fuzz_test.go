package cluster

import (
	"strings"
	"testing"
)

// FuzzParseNodes feeds arbitrary SETNODES texts: the parser must not
// panic, and a topology it accepts must print (AppendText) to a text that
// parses to the same owners.
func FuzzParseNodes(f *testing.F) {
	f.Add(threeNodes())
	f.Add(idA + " 127.0.0.1 7001 master - 0-10 12 14-\n\n" + idB + " h 7002 replica " + idA)
	f.Add(idA + " h 1 master - 0-10 " + idB + " h 2 master - 11")
	f.Add(idA + " ::1 6379 master - 0-16383\n" + strings.Repeat(idB+" h 2 slave "+idA+"\n", 3))
	f.Add("\n \n")
	f.Fuzz(func(t *testing.T, text string) {
		top, err := ParseNodes(text)
		if err != nil {
			return
		}
		again, err := ParseNodes(string(top.AppendText(nil)))
		if err != nil {
			t.Fatalf("printed topology does not parse: %v\n%s", err, top.AppendText(nil))
		}
		if len(again.Nodes) != len(top.Nodes) || again.Size != top.Size {
			t.Fatalf("nodes %d/%d size %d/%d", len(again.Nodes), len(top.Nodes), again.Size, top.Size)
		}
		for s := range Slots {
			a, b := top.Owner(s), again.Owner(s)
			if (a == nil) != (b == nil) || a != nil && a.ID != b.ID {
				t.Fatalf("slot %d: owner changed", s)
			}
		}
	})
}
