package resp

import (
	"testing"
	"time"
)

func TestRateSampler(t *testing.T) {
	var r rateSampler
	if ops, in, out := r.rates(); ops != 0 || in != 0 || out != 0 {
		t.Fatal("rates before two samples")
	}
	t0 := time.Unix(100, 0)
	r.add(rateSample{at: t0, cmds: 0, in: 0, out: 0})
	for i := 1; i <= 10; i++ { // 1000 commands and 2 KiB in, 4 KiB out per second
		r.add(rateSample{at: t0.Add(time.Duration(i) * time.Second), cmds: int64(1000 * i), in: int64(2048 * i), out: int64(4096 * i)})
	}
	if ops, in, out := r.rates(); ops != 1000 || in != 2 || out != 4 {
		t.Fatalf("rates %d ops/s, %.2f, %.2f KiB/s", ops, in, out)
	}
}
