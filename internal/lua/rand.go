package lua

import (
	"math"

	glua "github.com/yuin/gopher-lua"
)

// Rand48 is Redis's script PRNG (rand.c): the 48-bit linear congruential
// generator of lrand48, so that math.random gives Redis's sequence.
type Rand48 struct{ x uint64 }

const (
	rand48A    = 0x5DEECE66D
	rand48C    = 0xB
	rand48Mask = 1<<48 - 1
	rand48Max  = math.MaxInt32
)

// Reset puts the generator in its initial state, as at server start.
func (r *Rand48) Reset() { r.x = 0x1234ABCD330E }

// Seed is redisSrand48.
func (r *Rand48) Seed(seed int32) {
	r.x = uint64(0x330E) | uint64(uint32(seed))<<16
}

// Next is redisLrand48: 31 bits.
func (r *Rand48) Next() int32 {
	r.x = (rand48A*r.x + rand48C) & rand48Mask
	return int32(r.x >> 17)
}

func (s *State) mathRandom(L *glua.LState) int {
	r := float64(s.rand.Next()%rand48Max) / float64(rand48Max)
	switch L.GetTop() {
	case 0:
		L.Push(glua.LNumber(r))
	case 1:
		u := checkInt(L, 1, "random")
		if u < 1 {
			argError(L, 1, "random", "interval is empty")
		}
		L.Push(glua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l, u := checkInt(L, 1, "random"), checkInt(L, 2, "random")
		if l > u {
			argError(L, 2, "random", "interval is empty")
		}
		L.Push(glua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (s *State) mathRandomSeed(L *glua.LState) int {
	s.rand.Seed(int32(checkInt(L, 1, "randomseed")))
	return 0
}
