package resp

import (
	"math"
	"strings"
	"testing"
)

// FuzzGeoArgs: the GEORADIUS/GEOSEARCH parser never panics for any of the
// commands' forms, what it accepts is a valid shape, and searching with
// it neither panics nor misses the centre's own cell.
func FuzzGeoArgs(f *testing.F) {
	for _, s := range []string{
		"georadius k 15 37 200 km withdist withcoord count 3 asc", "georadius k 15 37 200 km store d", "georadius k 200 37 1 km",
		"georadiusbymember k a 10 mi storedist d", "georadiusbymember k nope 10 km", "geosearch k frommember a bybox 10 20 ft desc withhash",
		"geosearch k fromlonlat 1 2 byradius 5 m count 2 any", "geosearchstore d k fromlonlat 1 2 byradius 5 m storedist",
		"geosearch k fromlonlat 1 2 byradius 5 m bybox 1 1 m", "geosearch k byradius -1 km", "georadius k 1 1 1 km any",
		"georadius k 0 85.05112878 0 m", "geosearch k fromlonlat -180 -85.05112878 bybox 40000 40000 km",
	} {
		for fl := uint8(0); fl < 6; fl++ {
			f.Add([]byte(s), fl)
		}
	}
	forms := []int{geoRadiusCoords, geoRadiusCoords | geoNoStore, geoRadiusMember, geoRadiusMember | geoNoStore, geoSearchFlag, geoSearchFlag | geoSearchStore}
	minArgs := []int{6, 6, 5, 5, 7, 8}
	f.Fuzz(func(t *testing.T, data []byte, form uint8) {
		k := int(form) % len(forms)
		args := splitArgs(data)
		if len(args) < minArgs[k] {
			return
		}
		center := func(m []byte) (float64, float64, bool, error) {
			if string(m) == "a" {
				return 13.361389, 38.115556, true, nil
			}
			return 0, 0, false, nil
		}
		for _, c := range []geoCenter{nil, center} {
			q, e, err := parseGeoSearch(args, forms[k], c)
			if err != nil {
				t.Fatal(err)
			}
			if e != "" {
				if !strings.HasPrefix(e, "ERR ") {
					t.Fatalf("error %q", e)
				}
				continue
			}
			if q.any && q.count == 0 || q.count < 0 {
				t.Fatalf("accepted count %d any %v", q.count, q.any)
			}
			if q.storeKey != nil && (q.withDist || q.withHash || q.withCoords) {
				t.Fatal("accepted STORE with WITH* options")
			}
			if c == nil && forms[k]&geoRadiusMember != 0 {
				continue // no shape without the source key
			}
			s := q.shape
			if s.conversion <= 0 || s.radius < 0 || s.width < 0 || s.height < 0 || math.IsNaN(s.radius) {
				t.Fatalf("accepted shape %+v", s)
			}
			if s.long < geoLongMin || s.long > geoLongMax || s.lat < geoLatMin || s.lat > geoLatMax {
				t.Fatalf("accepted centre %v,%v", s.long, s.lat)
			}
			boxes := geoBoxes(&s)
			score, ok := geoScore(s.long, s.lat)
			if !ok {
				t.Fatalf("centre %v,%v has no score", s.long, s.lat)
			}
			cell := boxes[0]
			lo := float64(align52(cell))
			cell.bits++
			if hi := float64(align52(cell)); score < lo || score >= hi {
				t.Fatalf("centre score %v outside its cell [%v, %v)", score, lo, hi)
			}
			if _, in := s.within(s.long, s.lat); !in && !math.IsInf(s.radius, 1) {
				// The centre is at distance 0 of itself.
				t.Fatalf("centre not within %+v", s)
			}
		}
	})
}

// FuzzGeohash: a position's score decodes to the centre of a cell holding
// it, encodes back to the same score, and has an 11-character geohash.
func FuzzGeohash(f *testing.F) {
	f.Add(13.361389, 38.115556)
	f.Add(-180.0, -85.05112878)
	f.Add(180.0, 85.05112878)
	f.Add(0.0, 0.0)
	f.Fuzz(func(t *testing.T, long, lat float64) {
		score, ok := geoScore(long, lat)
		if !ok {
			if long >= geoLongMin && long <= geoLongMax && lat >= geoLatMin && lat <= geoLatMax {
				t.Fatalf("%v,%v refused", long, lat)
			}
			return
		}
		dl, dt, ok := geoDecodeScore(score)
		if !ok {
			t.Fatalf("score %v does not decode", score)
		}
		// At longitude 180 or the top latitude the cell index is 2^26, one
		// bit more than a score holds exactly: Redis loses precision there
		// too (the replay scripts check those positions against it).
		edge := long == geoLongMax || lat == geoLatMax
		if !edge && (math.Abs(dl-long) > 360.0/(1<<26) || math.Abs(dt-lat) > 2*geoLatMax/(1<<26)) {
			t.Fatalf("%v,%v decodes to %v,%v", long, lat, dl, dt)
		}
		if again, _ := geoScore(dl, dt); again != score && !edge {
			t.Fatalf("%v,%v: score %v re-encodes to %v", long, lat, score, again)
		}
		h, ok := geohashString(score)
		if !ok || len(h) != 11 || strings.Trim(string(h), geoAlphabet) != "" {
			t.Fatalf("geohash %q", h)
		}
	})
}
