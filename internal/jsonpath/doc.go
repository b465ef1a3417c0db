// Package jsonpath is the JSON document model behind the JSON.* commands:
// a decoder and printer for JSON text, a CBOR codec for the stored form,
// and JSONPath queries, as Apache KVRocks (jsoncons underneath) and
// RedisJSON define them.
//
// # Basics
//
// A document is a tree of *Value. Objects keep their members sorted by key
// (KVRocks stores jsoncons's sorted json, so JSON.GET prints keys in byte
// order whatever order they were written in). Integers that fit int64 or
// uint64 stay integers; every other number is a float64.
//
// Compile parses a path. "$", "$.a", "$[0]", "$..x", "$.a[*]",
// "$.a[1:3]", "$['a','b']" and filters such as "$.a[?(@.x>1)]" (with
// jsoncons's arithmetic, "@.price * 2 > 20", and functions, funcs.go) are
// JSONPath; anything else is a RedisJSON legacy path ("." for the root,
// ".a.b", "a[0]"), converted as KVRocks converts it (Path.Legacy reports
// which, because commands shape their replies by it).
//
// # Caveats
//
// Nesting is bounded by MaxDepth in every decoder, printer and query, so
// hostile input cannot exhaust the goroutine stack. Values are not safe
// for concurrent mutation; callers own one document per command.
package jsonpath
