package resp

import (
	"testing"
	"time"
)

func TestParseOutputLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want OutputLimit
		ok   bool
	}{
		{"1gb", OutputLimit{Hard: 1 << 30}, true},
		{"0", OutputLimit{}, true},
		{"64mb 16mb 60", OutputLimit{Hard: 64 << 20, Soft: 16 << 20, SoftFor: time.Minute}, true},
		{"normal 0 0 0", OutputLimit{}, true},
		{"normal 8mb 1mb 5 replica 256mb 64mb 60 pubsub 32mb 8mb 60", OutputLimit{Hard: 8 << 20, Soft: 1 << 20, SoftFor: 5 * time.Second, PubSub: PubSubLimit{32 << 20, 8 << 20, time.Minute, true}}, true},
		{"pubsub 1mb 0 0", OutputLimit{PubSub: PubSubLimit{Hard: 1 << 20, Given: true}}, true},
		{"pubsub 0 0 0 normal 1mb 0 0", OutputLimit{Hard: 1 << 20, PubSub: PubSubLimit{Given: true}}, true},
		{"", OutputLimit{}, false},
		{"lots", OutputLimit{}, false},
		{"1mb 2mb", OutputLimit{}, false},
		{"1mb 2mb -1", OutputLimit{}, false},
		{"master 1 1 1", OutputLimit{}, false},
		{"normal 1 1 x", OutputLimit{}, false},
	} {
		got, err := ParseOutputLimit(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseOutputLimit(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestClientBudget: Reserve waits for memory released by others and
// refuses with -BUSY when none comes; TryReserve never waits.
func TestClientBudget(t *testing.T) {
	var b clientBudget
	b.setMax(100)
	if !b.TryReserve(80) || b.TryReserve(30) {
		t.Fatal("TryReserve does not keep the bound")
	}
	done := make(chan error)
	go func() { done <- b.Reserve(30) }()
	b.Release(40)
	if err := <-done; err != nil {
		t.Fatalf("Reserve after a release: %v", err)
	}
	if b.used.Load() != 70 {
		t.Fatalf("used %d, want 70", b.used.Load())
	}
	b.setMax(0)
	if !b.TryReserve(1 << 40) {
		t.Fatal("no bound refused memory")
	}
}
