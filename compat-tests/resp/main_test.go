// Package resp_test runs real clients (redis-cli, go-redis, byte-exact
// replays of LMCache's connectors) against real gpucache processes over the
// Redis protocol, and checks durability, bad input and capacity behaviour
// from the outside.
package resp_test

import (
	"testing"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

func TestMain(m *testing.M) { internal.Main(m) }
