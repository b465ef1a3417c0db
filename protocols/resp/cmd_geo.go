package resp

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"github.com/gpucache/gpucache/engine"
)

// Geo commands: positions are sorted-set members scored by their 52-bit
// geohash, as in Redis and KVRocks.
func geoCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "geoadd", arity: -5, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdGeoAdd},
		{name: "geodist", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdGeoDist},
		{name: "geohash", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdGeoHash},
		{name: "geopos", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdGeoPos},
		{name: "georadius", arity: -6, flags: flagWrite, first: 1, last: 1, step: 1, fn: func(c *conn, cmd *Command) { c.geoSearch(cmd, geoRadiusCoords) }},
		{name: "georadius_ro", arity: -6, flags: flagReadonly, first: 1, last: 1, step: 1, fn: func(c *conn, cmd *Command) { c.geoSearch(cmd, geoRadiusCoords|geoNoStore) }},
		{name: "georadiusbymember", arity: -5, flags: flagWrite, first: 1, last: 1, step: 1, fn: func(c *conn, cmd *Command) { c.geoSearch(cmd, geoRadiusMember) }},
		{name: "georadiusbymember_ro", arity: -5, flags: flagReadonly, first: 1, last: 1, step: 1, fn: func(c *conn, cmd *Command) { c.geoSearch(cmd, geoRadiusMember|geoNoStore) }},
		{name: "geosearch", arity: -7, flags: flagReadonly, first: 1, last: 1, step: 1, fn: func(c *conn, cmd *Command) { c.geoSearch(cmd, geoSearchFlag) }},
		{name: "geosearchstore", arity: -8, flags: flagWrite, first: 1, last: 2, step: 1, fn: func(c *conn, cmd *Command) { c.geoSearch(cmd, geoSearchFlag|geoSearchStore) }},
	}
}

const errGeoMember = "ERR could not decode requested zset member"

// geoUnit returns the meters in unit, or -1 after no match.
func geoUnit(u []byte) float64 {
	switch {
	case eqFold(u, "m"):
		return 1
	case eqFold(u, "km"):
		return 1000
	case eqFold(u, "ft"):
		return 0.3048
	case eqFold(u, "mi"):
		return 1609.34
	}
	return -1
}

const errGeoUnit = "ERR unsupported unit provided. please use M, KM, FT, MI"

// parseGeoFloat parses a float as Redis's strtod-based parser does:
// beyond parseScore's forms, hexadecimal without an exponent ("0x10") and
// "infinity" spelled out.
func parseGeoFloat(b []byte) (float64, bool) {
	if f, ok := parseScore(b); ok {
		return f, true
	}
	body := b
	if len(body) > 0 && (body[0] == '-' || body[0] == '+') {
		body = body[1:]
	}
	switch {
	case eqFold(body, "infinity"):
		if b[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && len(b) < 60 &&
		!bytes.ContainsAny(body, "pP"):
		return parseScore(append(append([]byte(nil), b...), "p0"...))
	}
	return 0, false
}

// parseLongLat parses a longitude, latitude pair; the error text on
// failure.
func parseLongLat(a, b []byte) (long, lat float64, errText string) {
	long, ok1 := parseGeoFloat(a)
	if !ok1 {
		return 0, 0, errNotFloat
	}
	lat, ok2 := parseGeoFloat(b)
	if !ok2 {
		return 0, 0, errNotFloat
	}
	if long < geoLongMin || long > geoLongMax || lat < geoLatMin || lat > geoLatMax {
		return 0, 0, "ERR invalid longitude,latitude pair " + cFloat(long) + "," + cFloat(lat)
	}
	return long, lat, ""
}

// GEOADD key [NX|XX] [CH] longitude latitude member [...]
func (c *conn) cmdGeoAdd(cmd *Command) {
	args := cmd.Args
	nx, xx, ch := false, false, false
	i := 2
	for ; i < len(args); i++ {
		switch {
		case eqFold(args[i], "nx"):
			nx = true
		case eqFold(args[i], "xx"):
			xx = true
		case eqFold(args[i], "ch"):
			ch = true
		default:
			goto done
		}
	}
done:
	if (len(args)-i)%3 != 0 || nx && xx {
		c.syntaxErr()
		return
	}
	if len(args) == i {
		c.syntaxErr() // as ZADD, which Redis hands GEOADD to, answers
		return
	}
	scores := make([]float64, 0, (len(args)-i)/3)
	for j := i; j < len(args); j += 3 {
		long, lat, e := parseLongLat(args[j], args[j+1])
		if e != "" {
			c.err(e)
			return
		}
		s, _ := geoScore(long, lat)
		scores = append(scores, s)
	}
	var n int64
	if c.txn(args[1:2], true, func(t *engine.Txn) error {
		n = 0
		for k, s := range scores {
			m := args[i+3*k+2]
			if nx || xx {
				_, exists, err := t.ZSetScore(0, m)
				if err != nil {
					return err
				}
				if nx && exists || xx && !exists {
					continue
				}
			}
			old, existed, err := t.ZSetAdd(0, m, s)
			if err != nil {
				return err
			}
			if !existed || ch && old != s {
				n++
			}
		}
		return nil
	}) {
		c.wr.Int(n)
		c.s.blocked.signal(c.ns, args[1]) // BZPOPMIN & co. may wait on it
	}
}

// GEODIST key member1 member2 [M|KM|FT|MI]
func (c *conn) cmdGeoDist(cmd *Command) {
	args := cmd.Args
	toMeter := 1.0
	if len(args) == 5 {
		if toMeter = geoUnit(args[4]); toMeter < 0 {
			c.err(errGeoUnit)
			return
		}
	} else if len(args) > 5 {
		c.syntaxErr()
		return
	}
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		s1, ok1, err := t.ZSetScore(0, args[2])
		if err != nil {
			return err
		}
		s2, ok2, err := t.ZSetScore(0, args[3])
		if err != nil {
			return err
		}
		if !ok1 || !ok2 {
			c.wr.Null()
			return nil
		}
		lo1, la1, okA := geoDecodeScore(s1)
		lo2, la2, okB := geoDecodeScore(s2)
		if !okA || !okB {
			c.wr.Null()
			return nil
		}
		c.wr.Bulk(appendGeoDistance(c.scratch[:0], geoDistance(lo1, la1, lo2, la2)/toMeter))
		return nil
	})
}

// GEOHASH key [member ...]
func (c *conn) cmdGeoHash(cmd *Command) {
	args := cmd.Args
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeZSet); err != nil {
			return err
		}
		c.wr.Array(len(args) - 2)
		for _, m := range args[2:] {
			s, ok, err := t.ZSetScore(0, m)
			if err != nil {
				return err
			}
			var h []byte
			if ok {
				h, ok = geohashString(s)
			}
			if !ok {
				c.wr.Null()
				continue
			}
			c.wr.Bulk(h)
		}
		return nil
	})
}

// GEOPOS key [member ...]
func (c *conn) cmdGeoPos(cmd *Command) {
	args := cmd.Args
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeZSet); err != nil {
			return err
		}
		c.wr.Array(len(args) - 2)
		for _, m := range args[2:] {
			s, ok, err := t.ZSetScore(0, m)
			if err != nil {
				return err
			}
			var long, lat float64
			if ok {
				long, lat, ok = geoDecodeScore(s)
			}
			if !ok {
				c.wr.NullArray()
				continue
			}
			c.wr.Array(2)
			c.humanDouble(long)
			c.humanDouble(lat)
		}
		return nil
	})
}

// humanDouble writes a coordinate: a bulk string under RESP2, a double
// under RESP3.
func (c *conn) humanDouble(f float64) {
	var tmp [64]byte
	b := appendHumanDouble(tmp[:0], f)
	if c.proto == 3 {
		c.wr.buf = append(c.wr.buf, ',')
		c.wr.buf = append(c.wr.buf, b...)
		c.wr.crlf()
		return
	}
	c.wr.Bulk(b)
}

// Search flags, as Redis's georadiusGeneric names them.
const (
	geoRadiusCoords = 1 << iota
	geoRadiusMember
	geoSearchFlag
	geoSearchStore
	geoNoStore
)

// geoQuery is a parsed GEORADIUS/GEOSEARCH request.
type geoQuery struct {
	shape                          geoShape
	withDist, withHash, withCoords bool
	any                            bool
	sort                           int // 0 none, 1 asc, -1 desc
	count                          int64
	storeKey                       []byte
	storeDist                      bool
}

// geoCenter looks up a member's position: ok false when it is absent.
type geoCenter func(member []byte) (long, lat float64, ok bool, err error)

// parseGeoSearch parses a search request in Redis's order of checks;
// center is nil when the source key does not exist. It returns the reply
// error text, or an engine error.
func parseGeoSearch(args [][]byte, flags int, center geoCenter) (q geoQuery, errText string, err error) {
	var base int
	switch {
	case flags&geoRadiusCoords != 0:
		base = 6
		long, lat, e := parseLongLat(args[2], args[3])
		if e != "" {
			return q, e, nil
		}
		q.shape.long, q.shape.lat = long, lat
		if e := parseGeoDistance(args[4], args[5], &q.shape); e != "" {
			return q, e, nil
		}
	case flags&geoRadiusMember != 0:
		base = 5
		if center != nil {
			long, lat, ok, err := center(args[2])
			if err != nil {
				return q, "", err
			}
			if !ok {
				return q, errGeoMember, nil
			}
			q.shape.long, q.shape.lat = long, lat
			if e := parseGeoDistance(args[3], args[4], &q.shape); e != "" {
				return q, e, nil
			}
		}
	default:
		base = 2
		if flags&geoSearchStore != 0 {
			base = 3
		}
	}
	search := flags&geoSearchFlag != 0
	var fromMember, fromLoc, byRadius, byBox bool
	rem := len(args) - base
	for i := 0; i < rem; i++ {
		a := args[base+i]
		switch {
		case eqFold(a, "withdist"):
			q.withDist = true
		case eqFold(a, "withhash"):
			q.withHash = true
		case eqFold(a, "withcoord"):
			q.withCoords = true
		case eqFold(a, "any"):
			q.any = true
		case eqFold(a, "asc"):
			q.sort = 1
		case eqFold(a, "desc"):
			q.sort = -1
		case eqFold(a, "count") && i+1 < rem:
			n, ok := parseLL(args[base+i+1])
			if !ok {
				return q, errNotInteger, nil
			}
			if n <= 0 {
				return q, "ERR COUNT must be > 0", nil
			}
			q.count = n
			i++
		case (eqFold(a, "store") || eqFold(a, "storedist")) && i+1 < rem && flags&(geoNoStore|geoSearchFlag) == 0:
			q.storeKey, q.storeDist = args[base+i+1], eqFold(a, "storedist")
			i++
		case eqFold(a, "storedist") && search && flags&geoSearchStore != 0:
			q.storeDist = true
		case eqFold(a, "frommember") && i+1 < rem && search && !fromLoc:
			if center != nil {
				long, lat, ok, err := center(args[base+i+1])
				if err != nil {
					return q, "", err
				}
				if !ok {
					return q, errGeoMember, nil
				}
				q.shape.long, q.shape.lat = long, lat
			}
			fromMember = true
			i++
		case eqFold(a, "fromlonlat") && i+2 < rem && search && !fromMember:
			long, lat, e := parseLongLat(args[base+i+1], args[base+i+2])
			if e != "" {
				return q, e, nil
			}
			q.shape.long, q.shape.lat = long, lat
			fromLoc = true
			i += 2
		case eqFold(a, "byradius") && i+2 < rem && search && !byBox:
			if e := parseGeoDistance(args[base+i+1], args[base+i+2], &q.shape); e != "" {
				return q, e, nil
			}
			q.shape.box = false
			byRadius = true
			i += 2
		case eqFold(a, "bybox") && i+3 < rem && search && !byRadius:
			w, ok1 := parseGeoFloat(args[base+i+1])
			if !ok1 {
				return q, "ERR need numeric width", nil
			}
			h, ok2 := parseGeoFloat(args[base+i+2])
			if !ok2 {
				return q, "ERR need numeric height", nil
			}
			if h < 0 || w < 0 {
				return q, "ERR height or width cannot be negative", nil
			}
			conv := geoUnit(args[base+i+3])
			if conv < 0 {
				return q, errGeoUnit, nil
			}
			q.shape.box, q.shape.width, q.shape.height, q.shape.conversion = true, w, h, conv
			byBox = true
			i += 3
		default:
			return q, errSyntax, nil
		}
	}
	if flags&geoSearchStore != 0 {
		q.storeKey = args[1]
	}
	name := string(args[0])
	switch {
	case q.storeKey != nil && (q.withDist || q.withHash || q.withCoords):
		if flags&geoSearchStore != 0 {
			return q, "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options", nil
		}
		return q, "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options", nil
	case search && !fromMember && !fromLoc:
		return q, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + name, nil
	case search && !byRadius && !byBox:
		return q, "ERR exactly one of BYRADIUS and BYBOX can be specified for " + name, nil
	case q.any && q.count == 0:
		return q, "ERR the ANY argument requires COUNT argument", nil
	}
	if q.count != 0 && q.sort == 0 && !q.any {
		q.sort = 1
	}
	return q, "", nil
}

func parseGeoDistance(d, unit []byte, s *geoShape) string {
	r, ok := parseGeoFloat(d)
	if !ok {
		return "ERR need numeric radius"
	}
	if r < 0 {
		return "ERR radius cannot be negative"
	}
	conv := geoUnit(unit)
	if conv < 0 {
		return errGeoUnit
	}
	s.radius, s.conversion = r, conv
	return ""
}

// geoPoint is one search result.
type geoPoint struct {
	member    []byte
	score     float64
	dist      float64
	long, lat float64
}

// geoCollect finds the members of sorted set key i in the shape, walking
// the cells as Redis does (so unsorted results come in its order); with
// limit > 0 it stops after limit matches.
func geoCollect(t *engine.Txn, i int, s *geoShape, limit int64) ([]geoPoint, error) {
	boxes := geoBoxes(s)
	var out []geoPoint
	last := 0
	for k, h := range boxes {
		if h.zero() {
			continue
		}
		if last != 0 && h == boxes[last] {
			continue
		}
		if len(out) > 0 && limit > 0 && int64(len(out)) >= limit {
			break
		}
		lo := float64(align52(h))
		h.bits++
		hi := float64(align52(h))
		err := t.ZSetByScore(i, lo, hi, false, func(m []byte, score float64) bool {
			if score >= hi {
				return false
			}
			long, lat, ok := geoDecodeScore(score)
			if !ok {
				return true
			}
			d, in := s.within(long, lat)
			if !in {
				return true
			}
			out = append(out, geoPoint{member: append([]byte(nil), m...), score: score, dist: d, long: long, lat: lat})
			return !(limit > 0 && int64(len(out)) >= limit)
		})
		if err != nil {
			return nil, err
		}
		last = k
	}
	return out, nil
}

// geoSearch serves GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms),
// GEOSEARCH and GEOSEARCHSTORE.
func (c *conn) geoSearch(cmd *Command, flags int) {
	args := cmd.Args
	src := 1
	if flags&geoSearchStore != 0 {
		src = 2
	}
	// A first pass finds the STORE destination; the real parse runs with
	// the source key loaded, so errors come in Redis's order.
	pre, _, _ := parseGeoSearch(args, flags, nil)
	keys := [][]byte{args[src]}
	if pre.storeKey != nil {
		keys = append(keys, pre.storeKey)
	}
	write := pre.storeKey != nil
	stored := false
	defer func() {
		if stored {
			c.s.blocked.signal(c.ns, pre.storeKey)
		}
	}()
	c.txn(keys, write, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeZSet)
		if err != nil {
			return err
		}
		var center geoCenter
		if exists {
			center = func(m []byte) (float64, float64, bool, error) {
				s, ok, err := t.ZSetScore(0, m)
				if err != nil || !ok {
					return 0, 0, false, err
				}
				long, lat, ok := geoDecodeScore(s)
				return long, lat, ok, nil
			}
		}
		q, e, err := parseGeoSearch(args, flags, center)
		if err != nil {
			return err
		}
		if e != "" {
			c.err(e)
			return nil
		}
		store := q.storeKey != nil
		if !exists {
			if store {
				if err := t.Delete(1); err != nil {
					return err
				}
				c.wr.Int(0)
			} else {
				c.wr.Array(0)
			}
			return nil
		}
		limit := int64(0)
		if q.any {
			limit = q.count
		}
		pts, err := geoCollect(t, 0, &q.shape, limit)
		if err != nil {
			return err
		}
		switch q.sort {
		case 1:
			slices.SortStableFunc(pts, func(a, b geoPoint) int { return cmpFloat(a.dist, b.dist) })
		case -1:
			slices.SortStableFunc(pts, func(a, b geoPoint) int { return cmpFloat(b.dist, a.dist) })
		}
		n := int64(len(pts))
		if q.count != 0 && q.count < n {
			n = q.count
		}
		pts = pts[:n]
		if store {
			if n == 0 {
				if err := t.Delete(1); err != nil {
					return err
				}
			} else {
				if err := t.Replace(1, engine.TypeZSet); err != nil {
					return err
				}
				for _, p := range pts {
					score := p.score
					if q.storeDist {
						score = p.dist / q.shape.conversion
					}
					if _, _, err := t.ZSetAdd(1, p.member, score); err != nil {
						return err
					}
				}
				stored = true
			}
			c.wr.Int(n)
			return nil
		}
		opts := b2i(q.withDist) + b2i(q.withHash) + b2i(q.withCoords)
		c.wr.Array(len(pts))
		for _, p := range pts {
			if opts > 0 {
				c.wr.Array(int(opts) + 1)
			}
			c.wr.Bulk(p.member)
			if q.withDist {
				c.wr.Bulk(appendGeoDistance(c.scratch[:0], p.dist/q.shape.conversion))
			}
			if q.withHash {
				c.wr.Int(int64(p.score))
			}
			if q.withCoords {
				c.wr.Array(2)
				c.humanDouble(p.long)
				c.humanDouble(p.lat)
			}
		}
		return nil
	})
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cFloat formats f as C's %f does.
func cFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}
