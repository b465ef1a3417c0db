package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestProcCPU reads this process's CPU time while it spins.
func TestProcCPU(t *testing.T) {
	if _, err := ProcCPU(0); err == nil {
		t.Fatal("ProcCPU(0): no error")
	}
	before, err := ProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for time.Now().Before(deadline) {
		for i := 0; i < 1e6; i++ {
			x += i
		}
		now, err := ProcCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now > before {
			return
		}
	}
	t.Fatalf("CPU time stayed at %v after 10 s of spinning (%d)", before, x)
}

func TestRowServerCPU(t *testing.T) {
	for _, c := range []struct {
		row  Row
		want string
	}{
		{Row{}, "-"},
		{Row{ServerCPUSec: 0.5, Bytes: 2e9}, "250ms/GB"},
		{Row{ServerCPUSec: 0.002, Ops: 1000}, "2µs/op"},
	} {
		if got := c.row.serverCPU(); !strings.EqualFold(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.row, got, c.want)
		}
	}
}
