package resp_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// t2Conn is a raw RESP connection returning each reply's bytes.
type t2Conn struct {
	t  testing.TB
	nc net.Conn
	r  *bufio.Reader
}

func newT2Conn(t testing.TB, addr string) *t2Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &t2Conn{t: t, nc: nc, r: bufio.NewReaderSize(nc, 64<<10)}
}

func (c *t2Conn) do(args ...string) []byte {
	c.t.Helper()
	c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.nc.Write(encodeStrings(args...)); err != nil {
		c.t.Fatal(err)
	}
	return c.reply(nil)
}

// reply appends one whole reply (nested ones included) to dst.
func (c *t2Conn) reply(dst []byte) []byte {
	c.t.Helper()
	dst, err := c.readReply(dst)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return dst
}

func (c *t2Conn) readReply(dst []byte) ([]byte, error) {
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return dst, err
	}
	dst = append(dst, line...)
	n, _ := strconv.Atoi(string(bytes.TrimRight(line[1:], "\r\n")))
	switch line[0] {
	case '$', '=', '!':
		if n >= 0 {
			b := make([]byte, n+2)
			if _, err := io.ReadFull(c.r, b); err != nil {
				return dst, err
			}
			dst = append(dst, b...)
		}
	case '*', '~', '>', '%':
		if line[0] == '%' {
			n *= 2
		}
		for i := 0; i < n && err == nil; i++ {
			dst, err = c.readReply(dst)
		}
	}
	return dst, err
}

// TestTypes2SideBySide sends the same random sequence of bit, HyperLogLog
// and geo commands to gpucache and to redis-server, in RESP2 then RESP3,
// and compares every reply byte for byte.
func TestTypes2SideBySide(t *testing.T) {
	raddr := internal.StartRedis(t)
	srv := internal.Start(t, internal.Options{})
	g, r := newT2Conn(t, srv.Addr()), newT2Conn(t, raddr)
	rnd := rand.New(rand.NewPCG(11, 12))
	n := func(lo, hi int) string { return strconv.Itoa(lo + rnd.IntN(hi-lo+1)) }
	pick := func(s ...string) string { return s[rnd.IntN(len(s))] }
	bitKeys := []string{"b1", "b2", "b3", "s1"}
	hllKeys := []string{"h1", "h2", "h3"}
	var cmds [][]string
	cmds = append(cmds, []string{"SET", "s1", "some string value"})
	// NB: -short (make race-compat, a -race server) sends a fifth of them.
	rounds := 3000
	if testing.Short() {
		rounds = 600
	}
	for i := 0; i < rounds; i++ {
		var c []string
		switch rnd.IntN(16) {
		case 0, 1:
			off := n(0, 5000)
			if rnd.IntN(8) == 0 {
				off = n(0, 3_000_000)
			}
			c = []string{"SETBIT", pick(bitKeys...), off, n(0, 1)}
		case 2:
			c = []string{"GETBIT", pick(bitKeys...), n(0, 6000)}
		case 3:
			c = []string{"BITCOUNT", pick(bitKeys...)}
			if rnd.IntN(2) == 0 {
				c = append(c, n(-700, 700), n(-700, 700))
				if rnd.IntN(2) == 0 {
					c = append(c, pick("BIT", "BYTE"))
				}
			}
		case 4:
			c = []string{"BITPOS", pick(bitKeys...), n(0, 1)}
			switch rnd.IntN(4) {
			case 1:
				c = append(c, n(-700, 700))
			case 2:
				c = append(c, n(-700, 700), n(-700, 700))
			case 3:
				c = append(c, n(-5000, 5000), n(-5000, 5000), pick("BIT", "BYTE"))
			}
		case 5:
			c = []string{"BITOP", pick("AND", "OR", "XOR"), pick("d1", "d2"), pick(bitKeys...), pick(bitKeys...), pick(bitKeys...)}
			if rnd.IntN(4) == 0 {
				c = []string{"BITOP", "NOT", pick("d1", "d2"), pick(bitKeys...)}
			}
		case 6:
			c = []string{"GET", pick("d1", "d2", "s1")}
		case 7:
			c = []string{"BITFIELD", pick(bitKeys...)}
			for k := rnd.IntN(4); k >= 0; k-- {
				typ := pick("i", "u") + n(1, 63)
				off := n(0, 400)
				if rnd.IntN(3) == 0 {
					off = "#" + n(0, 20)
				}
				switch rnd.IntN(4) {
				case 0:
					c = append(c, "GET", typ, off)
				case 1:
					c = append(c, "SET", typ, off, n(-1000000, 1000000))
				case 2:
					c = append(c, "INCRBY", typ, off, n(-100000, 100000))
				default:
					c = append(c, "OVERFLOW", pick("WRAP", "SAT", "FAIL"))
				}
			}
		case 8, 9:
			c = []string{"PFADD", pick(hllKeys...)}
			for k := rnd.IntN(200); k >= 0; k-- {
				c = append(c, "el"+n(0, 20000))
			}
		case 10:
			c = []string{"PFCOUNT", pick(hllKeys...)}
			if rnd.IntN(2) == 0 {
				c = append(c, pick(hllKeys...), pick("h4", "h1"))
			}
		case 11:
			c = []string{"PFMERGE", pick("h4", "h5"), pick(hllKeys...), pick(hllKeys...)}
		case 12:
			c = []string{"GEOADD", "g"}
			if rnd.IntN(3) == 0 {
				c = append(c, pick("NX", "XX", "CH"))
			}
			for k := rnd.IntN(20); k >= 0; k-- {
				c = append(c, fmt.Sprint(-180+rnd.Float64()*360), fmt.Sprint(-85+rnd.Float64()*170), "m"+n(0, 400))
			}
		case 13:
			c = []string{"GEORADIUS", "g", fmt.Sprint(-180 + rnd.Float64()*360), fmt.Sprint(-85 + rnd.Float64()*170),
				n(1, 4000), pick("km", "mi", "m", "ft"), "WITHDIST", "WITHCOORD", "WITHHASH"}
			if rnd.IntN(2) == 0 {
				c = append(c, "COUNT", n(1, 10), pick("ASC", "DESC"))
			}
		case 14:
			c = []string{"GEOSEARCH", "g", "FROMMEMBER", "m" + n(0, 400), "BYBOX", n(1, 5000), n(1, 5000), "km", "WITHDIST", "WITHCOORD"}
			if rnd.IntN(2) == 0 {
				c = []string{"GEORADIUSBYMEMBER", "g", "m" + n(0, 400), n(1, 3000), "km", "WITHDIST"}
			}
		default:
			c = []string{pick("GEODIST", "GEOPOS", "GEOHASH"), "g", "m" + n(0, 400), "m" + n(0, 400)}
			if c[0] == "GEODIST" && rnd.IntN(2) == 0 {
				c = append(c, pick("km", "mi", "ft", "m"))
			}
		}
		cmds = append(cmds, c)
	}
	diffs := 0
	for i, c := range cmds {
		if i == 2500 {
			// The rest under RESP3 (doubles, nulls); HELLO's own replies
			// name different servers.
			g.do("HELLO", "3")
			r.do("HELLO", "3")
		}
		got, want := g.do(c...), r.do(c...)
		if !bytes.Equal(got, want) {
			diffs++
			if diffs <= 5 {
				t.Errorf("%s\n gpucache: %.300q\n redis:    %.300q", strings.Join(c, " "), got, want)
			}
		}
	}
	if diffs > 0 {
		t.Fatalf("%d of %d replies differ", diffs, len(cmds))
	}
}

// TestTypes2GoRedis drives bitmaps, HyperLogLog, geo, Bloom filters and
// sorted ints through go-redis v9, in RESP2 and RESP3, including the key
// commands on the new types.
func TestTypes2GoRedis(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := newGoRedis(t, srv.Addr(), proto, "")
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
			defer cancel()
			p := fmt.Sprintf("t2r%d:", proto)
			types2Bits(t, ctx, rdb, p)
			types2HLL(t, ctx, rdb, p)
			types2Geo(t, ctx, rdb, p)
			types2Bloom(t, ctx, rdb, p)
			types2SortedInt(t, ctx, rdb, p)
		})
	}
}

func types2Bits(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	b := p + "bits"
	wantInt(t, "SETBIT", rdb.SetBit(ctx, b, 7, 1), 0)
	wantInt(t, "SETBIT again", rdb.SetBit(ctx, b, 7, 1), 1)
	wantInt(t, "SETBIT far", rdb.SetBit(ctx, b, 1<<30, 1), 0)
	wantInt(t, "GETBIT", rdb.GetBit(ctx, b, 1<<30), 1)
	wantInt(t, "GETBIT unset", rdb.GetBit(ctx, b, 1<<29), 0)
	wantInt(t, "BITCOUNT", rdb.BitCount(ctx, b, nil), 2)
	wantInt(t, "BITCOUNT BIT range", rdb.BitCount(ctx, b, &redis.BitCount{Start: 0, End: 7, Unit: "BIT"}), 1)
	wantInt(t, "BITPOS", rdb.BitPos(ctx, b, 1, 1), 1<<30)
	wantStr(t, "TYPE", rdb.Type(ctx, b), "bitmap")
	wantInt(t, "BITCOUNT of the last byte", rdb.BitCount(ctx, b, &redis.BitCount{Start: -1, End: -1}), 1)
	res, err := rdb.BitField(ctx, p+"bf", "SET", "u8", 0, 200, "INCRBY", "u8", 0, 100, "OVERFLOW", "FAIL", "INCRBY", "u8", 0, 100).Result()
	must(t, err)
	wantEq(t, "BITFIELD", res, []int64{0, 44, 144})
	if vals, err := rdb.BitFieldRO(ctx, p+"bf", "u8", 0).Result(); err != nil || len(vals) != 1 || vals[0] != 144 {
		t.Fatalf("BITFIELD_RO = %v, %v", vals, err)
	}
	must(t, rdb.Set(ctx, p+"str", "\xff\x00", 0).Err())
	wantInt(t, "BITOP AND", rdb.BitOpAnd(ctx, p+"dst", p+"str", p+"bf"), 2)
	wantStr(t, "GET of a BITOP result", rdb.Get(ctx, p+"dst"), "\x90\x00")
	wantInt(t, "SETBIT on a string", rdb.SetBit(ctx, p+"str", 15, 1), 0)
	wantStr(t, "the string after SETBIT", rdb.Get(ctx, p+"str"), "\xff\x01")
	wantStr(t, "TYPE string", rdb.Type(ctx, p+"str"), "string")
	wantErr(t, "SETBIT bad offset", rdb.SetBit(ctx, b, -1, 1).Err(), "ERR bit offset is not an integer or out of range")
	// GET reads a bitmap up to max-bitmap-to-string-mb (16 MiB), as KVRocks.
	wantInt(t, "SETBIT past 16 MiB", rdb.SetBit(ctx, p+"huge", 16<<23, 1), 0)
	wantErr(t, "GET of a bitmap over 16 MiB", rdb.Get(ctx, p+"huge").Err(),
		"ERR Operation aborted: The size of the bitmap string exceeds the configuration item max-bitmap-to-string-mb")
	wantInt(t, "SETBIT below 16 MiB", rdb.SetBit(ctx, p+"large", 16<<23-1, 1), 0)
	if v, err := rdb.Get(ctx, p+"large").Result(); err != nil || len(v) != 16<<20 || v[len(v)-1] != 1 {
		t.Fatalf("GET of a 16 MiB bitmap: %d bytes, %v", len(v), err)
	}
	must(t, rdb.LPush(ctx, p+"list", "x").Err())
	wantErr(t, "GETBIT of a list", rdb.GetBit(ctx, p+"list", 0).Err(), "WRONGTYPE")
	// Key commands on a bitmap.
	wantInt(t, "COPY", rdb.Copy(ctx, b, p+"bits2", 0, false), 1)
	wantInt(t, "BITCOUNT of the copy", rdb.BitCount(ctx, p+"bits2", nil), 2)
	must(t, rdb.Rename(ctx, p+"bits2", p+"bits3").Err())
	if ok, err := rdb.Expire(ctx, p+"bits3", time.Hour).Result(); !ok || err != nil {
		t.Fatalf("EXPIRE: %v %v", ok, err)
	}
	if d, err := rdb.TTL(ctx, p+"bits3").Result(); err != nil || d <= 0 {
		t.Fatalf("TTL: %v %v", d, err)
	}
	wantInt(t, "DEL", rdb.Del(ctx, p+"bits3", b), 2)
	wantInt(t, "EXISTS", rdb.Exists(ctx, p+"bits3", b), 0)
}

func types2HLL(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	h1, h2 := p+"h1", p+"h2"
	var e1, e2 []any
	for i := 0; i < 1000; i++ {
		e1 = append(e1, fmt.Sprintf("e%d", i))
		e2 = append(e2, fmt.Sprintf("e%d", i+500))
	}
	wantInt(t, "PFADD", rdb.PFAdd(ctx, h1, e1...), 1)
	wantInt(t, "PFADD again", rdb.PFAdd(ctx, h1, e1[:10]...), 0)
	wantInt(t, "PFADD h2", rdb.PFAdd(ctx, h2, e2...), 1)
	// redis-server's estimates for the same elements.
	wantInt(t, "PFCOUNT", rdb.PFCount(ctx, h1), 1008)
	union := rdb.PFCount(ctx, h1, h2).Val()
	if union < 1450 || union > 1550 {
		t.Fatalf("PFCOUNT union = %d", union)
	}
	wantStr(t, "PFMERGE", rdb.PFMerge(ctx, p+"hm", h1, h2), "OK")
	wantInt(t, "PFCOUNT merged", rdb.PFCount(ctx, p+"hm"), union)
	wantStr(t, "TYPE", rdb.Type(ctx, h1), "hyperloglog")
	must(t, rdb.Set(ctx, p+"s", "x", 0).Err())
	wantErr(t, "PFADD of a string", rdb.PFAdd(ctx, p+"s", "a").Err(), "WRONGTYPE")
	wantInt(t, "COPY", rdb.Copy(ctx, h1, p+"hc", 0, false), 1)
	wantInt(t, "PFCOUNT of the copy", rdb.PFCount(ctx, p+"hc"), 1008)
}

func types2Geo(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	g := p + "sicily"
	wantInt(t, "GEOADD", rdb.GeoAdd(ctx, g,
		&redis.GeoLocation{Name: "Palermo", Longitude: 13.361389, Latitude: 38.115556},
		&redis.GeoLocation{Name: "Catania", Longitude: 15.087269, Latitude: 37.502669}), 2)
	if d, err := rdb.GeoDist(ctx, g, "Palermo", "Catania", "km").Result(); err != nil || d != 166.2742 {
		t.Fatalf("GEODIST = %v, %v", d, err)
	}
	pos, err := rdb.GeoPos(ctx, g, "Palermo", "nope").Result()
	must(t, err)
	if len(pos) != 2 || pos[1] != nil || pos[0].Longitude != 13.36138933897018433 || pos[0].Latitude != 38.11555639549629859 {
		t.Fatalf("GEOPOS = %+v", pos)
	}
	if h, err := rdb.GeoHash(ctx, g, "Palermo").Result(); err != nil || len(h) != 1 || h[0] != "sqc8b49rny0" {
		t.Fatalf("GEOHASH = %v, %v", h, err)
	}
	locs, err := rdb.GeoRadius(ctx, g, 15, 37, &redis.GeoRadiusQuery{Radius: 200, Unit: "km", WithDist: true, Sort: "ASC"}).Result()
	must(t, err)
	if len(locs) != 2 || locs[0].Name != "Catania" || locs[0].Dist != 56.4413 || locs[1].Dist != 190.4424 {
		t.Fatalf("GEORADIUS = %+v", locs)
	}
	names, err := rdb.GeoSearch(ctx, g, &redis.GeoSearchQuery{Member: "Palermo", BoxWidth: 400, BoxHeight: 400, BoxUnit: "km", Sort: "DESC"}).Result()
	must(t, err)
	wantEq(t, "GEOSEARCH", names, []string{"Catania", "Palermo"})
	wantInt(t, "GEOSEARCHSTORE", rdb.GeoSearchStore(ctx, g, p+"near", &redis.GeoSearchStoreQuery{
		GeoSearchQuery: redis.GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 100, RadiusUnit: "km"}, StoreDist: true}), 1)
	if s, err := rdb.ZScore(ctx, p+"near", "Catania").Result(); err != nil || s < 56.44 || s > 56.45 {
		t.Fatalf("stored distance %v, %v", s, err)
	}
	wantErr(t, "GEOADD out of range", rdb.GeoAdd(ctx, g, &redis.GeoLocation{Name: "x", Longitude: 200, Latitude: 1}).Err(),
		"ERR invalid longitude,latitude pair 200.000000,1.000000")
}

func types2Bloom(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	bf := p + "bloom"
	wantStr(t, "BF.RESERVE", rdb.BFReserve(ctx, bf, 0.01, 100), "OK")
	wantErr(t, "BF.RESERVE again", rdb.BFReserve(ctx, bf, 0.01, 100).Err(), "ERR the key already exists")
	if ok, err := rdb.BFAdd(ctx, bf, "a").Result(); !ok || err != nil {
		t.Fatalf("BF.ADD = %v, %v", ok, err)
	}
	if ok, err := rdb.BFExists(ctx, bf, "a").Result(); !ok || err != nil {
		t.Fatalf("BF.EXISTS = %v, %v", ok, err)
	}
	if ok, _ := rdb.BFExists(ctx, bf, "b").Result(); ok {
		t.Fatal("BF.EXISTS of an absent item")
	}
	var items []any
	for i := 0; i < 300; i++ {
		items = append(items, fmt.Sprintf("item%d", i))
	}
	added, err := rdb.BFMAdd(ctx, bf, items...).Result()
	must(t, err)
	if len(added) != 300 {
		t.Fatalf("BF.MADD gave %d results", len(added))
	}
	ex, err := rdb.BFMExists(ctx, bf, items...).Result()
	must(t, err)
	for i, ok := range ex {
		if !ok {
			t.Fatalf("item %d missing", i)
		}
	}
	info, err := rdb.Do(ctx, "BF.INFO", bf).Slice()
	must(t, err)
	if len(info) != 10 || info[0] != "Capacity" || info[4] != "Number of filters" || info[5].(int64) < 2 {
		t.Fatalf("BF.INFO = %v", info)
	}
	if n, err := rdb.Do(ctx, "BF.CARD", bf).Int64(); err != nil || n < 290 {
		t.Fatalf("BF.CARD = %v, %v", n, err)
	}
	wantStr(t, "TYPE", rdb.Type(ctx, bf), "MBbloom--")
	if res, err := rdb.Do(ctx, "BF.INSERT", p+"bloom2", "NONSCALING", "CAPACITY", "2", "ITEMS", "x", "y", "z").Slice(); err != nil ||
		len(res) != 3 || res[0] != int64(1) || res[1] != int64(1) {
		t.Fatalf("BF.INSERT = %v, %v", res, err)
	} else if e, ok := res[2].(error); !ok || e.Error() != "ERR nonscaling filter is full" {
		t.Fatalf("third item: %v", res[2])
	}
}

func types2SortedInt(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	si := p + "si"
	if n, err := rdb.Do(ctx, "SIADD", si, 5, 3, 9, 1).Int64(); n != 4 || err != nil {
		t.Fatalf("SIADD = %v, %v", n, err)
	}
	if n, err := rdb.Do(ctx, "SICARD", si).Int64(); n != 4 || err != nil {
		t.Fatalf("SICARD = %v, %v", n, err)
	}
	if ids, err := rdb.Do(ctx, "SIRANGE", si, 0, 2).StringSlice(); err != nil || strings.Join(ids, ",") != "1,3" {
		t.Fatalf("SIRANGE = %v, %v", ids, err)
	}
	if ids, err := rdb.Do(ctx, "SIREVRANGEBYVALUE", si, "+inf", "(3").StringSlice(); err != nil || strings.Join(ids, ",") != "9,5" {
		t.Fatalf("SIREVRANGEBYVALUE = %v, %v", ids, err)
	}
	if ex, err := rdb.Do(ctx, "SIEXISTS", si, 3, 4).Int64Slice(); err != nil || len(ex) != 2 || ex[0] != 1 || ex[1] != 0 {
		t.Fatalf("SIEXISTS = %v, %v", ex, err)
	}
	wantStr(t, "TYPE", rdb.Type(ctx, si), "sortedint")
	if n, err := rdb.Do(ctx, "SIREM", si, 1, 3, 5, 9).Int64(); n != 4 || err != nil {
		t.Fatalf("SIREM = %v, %v", n, err)
	}
	wantInt(t, "EXISTS after removing all", rdb.Exists(ctx, si), 0)
}

// TestTypes2RedisCLI runs the new families through redis-cli.
func TestTypes2RedisCLI(t *testing.T) {
	cli := internal.RequireTool(t, "redis-cli")
	srv := internal.Start(t, internal.Options{})
	host, port, _ := net.SplitHostPort(srv.Addr())
	script := strings.Join([]string{
		"SETBIT b 7 1", "GET b", "BITCOUNT b", "TYPE b",
		"PFADD h a b c", "PFCOUNT h",
		"GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
		"GEODIST g Palermo Catania km", "GEOPOS g Palermo", "GEORADIUS g 15 37 200 km WITHDIST ASC",
		"BF.ADD bf x", "BF.EXISTS bf x", "SIADD si 3 1 2", "SIRANGE si 0 10",
	}, "\n") + "\n"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := internal.Command(ctx, []byte(script), cli, "-h", host, "-p", port, "--no-raw")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"(integer) 0", `"\x01"`, "(integer) 1", "bitmap",
		"(integer) 1", "(integer) 3",
		"(integer) 2",
		`"166.2742"`, `1) 1) "13.36138933897018433"`, `   2) "38.11555639549629859"`,
		`1) 1) "Catania"`, `   2) "56.4413"`, `2) 1) "Palermo"`, `   2) "190.4424"`,
		"(integer) 1", "(integer) 1", "(integer) 3", `1) "1"`, `2) "2"`, `3) "3"`,
	}, "\n") + "\n"
	if string(out) != want {
		t.Fatalf("redis-cli output:\n%s\nwant:\n%s", out, want)
	}
}

// BenchmarkTypes2 measures SETBIT, GETBIT, PFADD and PFCOUNT on gpucache
// and on redis-server in the same run (8 connections, pipelines of 32):
// compare the two sub-benchmarks' ns/op for the ratio.
func BenchmarkTypes2(b *testing.B) {
	raddr := internal.StartRedis(b)
	srv := internal.Start(b, internal.Options{})
	servers := []struct{ name, addr string }{{"gpucache", srv.Addr()}, {"redis", raddr}}
	cmds := []struct {
		name string
		args func(i int) []string
	}{
		{"SETBIT", func(i int) []string {
			return []string{"SETBIT", "bk" + strconv.Itoa(i%16), strconv.Itoa(i * 7919 % 1_000_000), "1"}
		}},
		{"GETBIT", func(i int) []string {
			return []string{"GETBIT", "bk" + strconv.Itoa(i%16), strconv.Itoa(i * 7919 % 1_000_000)}
		}},
		{"PFADD", func(i int) []string { return []string{"PFADD", "hk" + strconv.Itoa(i%16), "e" + strconv.Itoa(i)} }},
		{"PFCOUNT", func(i int) []string { return []string{"PFCOUNT", "hk" + strconv.Itoa(i%16)} }},
	}
	const conns, depth = 8, 32
	for _, c := range cmds {
		for _, s := range servers {
			b.Run(c.name+"/"+s.name, func(b *testing.B) {
				cs := make([]*t2Conn, conns)
				for i := range cs {
					cs[i] = newT2Conn(b, s.addr)
				}
				b.ResetTimer()
				done := make(chan error, conns)
				per := (b.N + conns - 1) / conns
				for k, cn := range cs {
					go func(k int, cn *t2Conn) {
						var err error
						defer func() { done <- err }()
						var buf []byte
						for i := 0; i < per; i += depth {
							buf = buf[:0]
							m := min(depth, per-i)
							for j := 0; j < m; j++ {
								buf = append(buf, encodeStrings(c.args(k*per+i+j)...)...)
							}
							cn.nc.SetDeadline(time.Now().Add(time.Minute))
							if _, err = cn.nc.Write(buf); err != nil {
								return
							}
							for j := 0; j < m && err == nil; j++ {
								_, err = cn.readReply(nil)
							}
						}
					}(k, cn)
				}
				for range cs {
					if err := <-done; err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
