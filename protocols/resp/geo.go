package resp

import (
	"math"
	"strconv"
)

// Geohash arithmetic as Redis computes it (geohash.c, geohash_helper.c),
// step for step, so that scores, positions, distances and the order of
// unsorted search results equal redis-server's.
const (
	geoLatMin    = -85.05112878
	geoLatMax    = 85.05112878
	geoLongMin   = -180.0
	geoLongMax   = 180.0
	geoStepMax   = 26
	earthRadiusM = 6372797.560856
	mercatorMax  = 20037726.37
	degToRad     = math.Pi / 180.0
)

type geoRange struct{ min, max float64 }

type geoBits struct {
	bits uint64
	step uint8
}

func (h geoBits) zero() bool { return h.bits == 0 && h.step == 0 }

type geoArea struct {
	hash      geoBits
	long, lat geoRange
}

var (
	geoLongRange = geoRange{geoLongMin, geoLongMax}
	geoLatRange  = geoRange{geoLatMin, geoLatMax}
)

func interleave64(xlo, ylo uint32) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	s := [...]uint{1, 2, 4, 8, 16}
	x, y := uint64(xlo), uint64(ylo)
	for i := 4; i >= 0; i-- {
		x = (x | x<<s[i]) & b[i]
		y = (y | y<<s[i]) & b[i]
	}
	return x | y<<1
}

func deinterleave64(v uint64) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF}
	s := [...]uint{0, 1, 2, 4, 8, 16}
	x, y := v, v>>1
	for i := 0; i < 6; i++ {
		x = (x | x>>s[i]) & b[i]
		y = (y | y>>s[i]) & b[i]
	}
	return x | y<<32
}

// geohashEncode is geohashEncode: false outside the ranges.
func geohashEncode(longR, latR geoRange, long, lat float64, step uint8) (geoBits, bool) {
	if step > 32 || step == 0 || latR.max-latR.min == 0 || longR.max-longR.min == 0 {
		return geoBits{}, false
	}
	if long > geoLongMax || long < geoLongMin || lat > geoLatMax || lat < geoLatMin {
		return geoBits{}, false
	}
	if lat < latR.min || lat > latR.max || long < longR.min || long > longR.max {
		return geoBits{step: step}, false
	}
	latOff := (lat - latR.min) / (latR.max - latR.min)
	longOff := (long - longR.min) / (longR.max - longR.min)
	latOff *= float64(uint64(1) << step)
	longOff *= float64(uint64(1) << step)
	return geoBits{bits: interleave64(uint32(latOff), uint32(longOff)), step: step}, true
}

func geohashDecode(longR, latR geoRange, h geoBits) (geoArea, bool) {
	if h.zero() {
		return geoArea{}, false
	}
	sep := deinterleave64(h.bits)
	latScale := latR.max - latR.min
	longScale := longR.max - longR.min
	ilato, ilono := uint32(sep), uint32(sep>>32)
	div := float64(uint64(1) << h.step)
	return geoArea{
		hash: h,
		lat: geoRange{
			latR.min + (float64(ilato)*1.0/div)*latScale,
			latR.min + (float64(ilato+1)*1.0/div)*latScale,
		},
		long: geoRange{
			longR.min + (float64(ilono)*1.0/div)*longScale,
			longR.min + (float64(ilono+1)*1.0/div)*longScale,
		},
	}, true
}

func (a *geoArea) center() (long, lat float64) {
	long = (a.long.min + a.long.max) / 2
	long = min(max(long, geoLongMin), geoLongMax)
	lat = (a.lat.min + a.lat.max) / 2
	lat = min(max(lat, geoLatMin), geoLatMax)
	return long, lat
}

// geoScore is the sorted-set score of a position (52-bit geohash).
func geoScore(long, lat float64) (float64, bool) {
	h, ok := geohashEncode(geoLongRange, geoLatRange, long, lat, geoStepMax)
	if !ok {
		return 0, false
	}
	return float64(align52(h)), true
}

func align52(h geoBits) uint64 { return h.bits << (52 - uint(h.step)*2) }

// geoDecodeScore returns the position a score stands for (its cell's
// centre).
func geoDecodeScore(score float64) (long, lat float64, ok bool) {
	a, ok := geohashDecode(geoLongRange, geoLatRange, geoBits{bits: uint64(score), step: geoStepMax})
	if !ok {
		return 0, 0, false
	}
	long, lat = a.center()
	return long, lat, true
}

func geoLatDistance(lat1, lat2 float64) float64 {
	return earthRadiusM * math.Abs(lat2*degToRad-lat1*degToRad)
}

// geoDistance is the haversine distance in meters.
func geoDistance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := lon1*degToRad, lon2*degToRad
	v := math.Sin((lon2r - lon1r) / 2)
	if v == 0 {
		return geoLatDistance(lat1, lat2)
	}
	lat1r, lat2r := lat1*degToRad, lat2*degToRad
	u := math.Sin((lat2r - lat1r) / 2)
	a := u*u + math.Cos(lat1r)*math.Cos(lat2r)*v*v
	return 2.0 * earthRadiusM * math.Asin(math.Sqrt(a))
}

// geoShape is a search area: a circle (radius) or a box (width, height),
// in the unit of conversion meters.
type geoShape struct {
	box           bool
	long, lat     float64
	conversion    float64
	radius        float64
	width, height float64
	bounds        [4]float64
}

func (s *geoShape) boundingBox() {
	height, width := s.radius, s.radius
	if s.box {
		height, width = s.height/2, s.width/2
	}
	height *= s.conversion
	width *= s.conversion
	latDelta := height / earthRadiusM / degToRad
	longDeltaTop := width / earthRadiusM / math.Cos((s.lat+latDelta)*degToRad) / degToRad
	longDeltaBottom := width / earthRadiusM / math.Cos((s.lat-latDelta)*degToRad) / degToRad
	if s.lat < 0 {
		s.bounds[0], s.bounds[2] = s.long-longDeltaBottom, s.long+longDeltaBottom
	} else {
		s.bounds[0], s.bounds[2] = s.long-longDeltaTop, s.long+longDeltaTop
	}
	s.bounds[1], s.bounds[3] = s.lat-latDelta, s.lat+latDelta
}

func geoStepsByRadius(rangeM, lat float64) uint8 {
	if rangeM == 0 {
		return 26
	}
	step := 1
	for rangeM < mercatorMax {
		rangeM *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(min(max(step, 1), 26))
}

func geoMoveX(h *geoBits, d int) {
	if d == 0 {
		return
	}
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - uint(h.step)*2)
	if d > 0 {
		x += zz + 1
	} else {
		x |= zz
		x -= zz + 1
	}
	x &= 0xaaaaaaaaaaaaaaaa >> (64 - uint(h.step)*2)
	h.bits = x | y
}

func geoMoveY(h *geoBits, d int) {
	if d == 0 {
		return
	}
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - uint(h.step)*2)
	if d > 0 {
		y += zz + 1
	} else {
		y |= zz
		y -= zz + 1
	}
	y &= 0x5555555555555555 >> (64 - uint(h.step)*2)
	h.bits = x | y
}

// geoBoxes returns the cells to search, in Redis's order: the centre,
// north, south, east, west, north-east, north-west, south-east,
// south-west (zero cells are skipped by the caller).
func geoBoxes(s *geoShape) [9]geoBits {
	s.boundingBox()
	minLon, minLat, maxLon, maxLat := s.bounds[0], s.bounds[1], s.bounds[2], s.bounds[3]
	radiusM := s.radius
	if s.box {
		radiusM = math.Sqrt((s.width/2)*(s.width/2) + (s.height/2)*(s.height/2))
	}
	radiusM *= s.conversion
	steps := geoStepsByRadius(radiusM, s.lat)
	var hash geoBits
	var nb [9]geoBits // centre, n, s, e, w, ne, nw, se, sw
	var area geoArea
	compute := func() {
		hash, _ = geohashEncode(geoLongRange, geoLatRange, s.long, s.lat, steps)
		moves := [9][2]int{{0, 0}, {0, 1}, {0, -1}, {1, 0}, {-1, 0}, {1, 1}, {-1, 1}, {1, -1}, {-1, -1}}
		for i, m := range moves {
			nb[i] = hash
			geoMoveX(&nb[i], m[0])
			geoMoveY(&nb[i], m[1])
		}
		area, _ = geohashDecode(geoLongRange, geoLatRange, hash)
	}
	compute()
	north, _ := geohashDecode(geoLongRange, geoLatRange, nb[1])
	south, _ := geohashDecode(geoLongRange, geoLatRange, nb[2])
	east, _ := geohashDecode(geoLongRange, geoLatRange, nb[3])
	west, _ := geohashDecode(geoLongRange, geoLatRange, nb[4])
	decrease := north.lat.max < maxLat || south.lat.min > minLat || east.long.max < maxLon || west.long.min > minLon
	if steps > 1 && decrease {
		steps--
		compute()
	}
	if steps >= 2 {
		if area.lat.min < minLat {
			nb[2], nb[7], nb[8] = geoBits{}, geoBits{}, geoBits{}
		}
		if area.lat.max > maxLat {
			nb[1], nb[5], nb[6] = geoBits{}, geoBits{}, geoBits{}
		}
		if area.long.min < minLon {
			nb[4], nb[8], nb[6] = geoBits{}, geoBits{}, geoBits{}
		}
		if area.long.max > maxLon {
			nb[3], nb[7], nb[5] = geoBits{}, geoBits{}, geoBits{}
		}
	}
	return nb
}

// within reports whether the point is in the shape and its distance (in
// meters) from the centre.
func (s *geoShape) within(long, lat float64) (float64, bool) {
	if !s.box {
		d := geoDistance(s.long, s.lat, long, lat)
		return d, d <= s.radius*s.conversion
	}
	w, h := s.width*s.conversion, s.height*s.conversion
	if geoLatDistance(lat, s.lat) > h/2 {
		return 0, false
	}
	if geoDistance(long, lat, s.long, lat) > w/2 {
		return 0, false
	}
	return geoDistance(s.long, s.lat, long, lat), true
}

// appendGeoDistance formats a distance as Redis does (four decimals,
// rounded half to even from the scaled value).
func appendGeoDistance(b []byte, d float64) []byte {
	if d == 0 {
		return append(b, "0.0000"...)
	}
	v := math.RoundToEven(d * 10000)
	if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) >= 1<<63 {
		return strconv.AppendFloat(b, d, 'f', 4, 64)
	}
	n := int64(v)
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendInt(b, n/10000, 10)
	frac := n % 10000
	b = append(b, '.', byte('0'+frac/1000), byte('0'+frac/100%10), byte('0'+frac/10%10), byte('0'+frac%10))
	return b
}

// appendHumanDouble formats a coordinate as Redis's "human" long double:
// 17 decimals, trailing zeros dropped.
func appendHumanDouble(b []byte, f float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', 17, 64)
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if string(b[start:]) == "-0" {
		b = append(b[:start], '0')
	}
	return b
}

const geoAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// geohashString is GEOHASH's 11-character standard geohash of a score.
func geohashString(score float64) ([]byte, bool) {
	long, lat, ok := geoDecodeScore(score)
	if !ok {
		return nil, false
	}
	h, _ := geohashEncode(geoRange{-180, 180}, geoRange{-90, 90}, long, lat, 26)
	out := make([]byte, 11)
	for i := range out {
		idx := 0
		if i < 10 {
			idx = int(h.bits>>(52-(i+1)*5)) & 0x1f
		}
		out[i] = geoAlphabet[idx]
	}
	return out, true
}
