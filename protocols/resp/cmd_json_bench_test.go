package resp

import (
	"testing"
)

// BenchmarkJSONvsHash sets and reads a small document through the
// connection handler (engine included), beside HSET/HGET of a hash of the
// same fields in the same run: the ratio is the cost of documents
// (decode, change, re-encode the whole value) over per-field sub-keys.
func BenchmarkJSONvsHash(b *testing.B) {
	doc := `{"user":"ada","visits":12,"plan":"pro","region":"eu-west","active":true}`
	for _, bc := range []struct {
		name string
		reqs [][]string
	}{
		{"JSON.SET-field", [][]string{{"JSON.SET", "doc", "$.visits", "13"}}},
		{"HSET-field", [][]string{{"HSET", "h", "visits", "13"}}},
		{"JSON.GET-field", [][]string{{"JSON.GET", "doc", "$.plan"}}},
		{"HGET-field", [][]string{{"HGET", "h", "plan"}}},
		{"JSON.SET-doc", [][]string{{"JSON.SET", "doc", "$", doc}}},
		{"HSET-doc", [][]string{{"HSET", "h", "user", "ada", "visits", "12", "plan", "pro", "region", "eu-west", "active", "true"}}},
		{"JSON.GET-doc", [][]string{{"JSON.GET", "doc"}}},
		{"HGETALL-doc", [][]string{{"HGETALL", "h"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			eng := openEngine(b)
			s := NewServer(eng, Config{})
			defer s.Close()
			sc := newSyncConn(s)
			sc.run(encode("JSON.SET", "doc", "$", doc))
			sc.run(encode("HSET", "h", "user", "ada", "visits", "12", "plan", "pro", "region", "eu-west", "active", "true"))
			sc.m.discard = true
			var req []byte
			for i := 0; i < 100; i++ {
				for _, r := range bc.reqs {
					req = append(req, encode(r...)...)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				sc.run(req)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/cmd")
		})
	}
}
