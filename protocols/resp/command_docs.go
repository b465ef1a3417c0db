package resp

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// command_docs.json holds a Redis 7 server's COMMAND DOCS and COMMAND INFO
// replies with their RESP3 types (command_docs_gen.go writes it; its doc
// comment gives the encoding). COMMAND answers from it for the commands
// Redis defines: documentation, ACL categories, tips, key specs and
// subcommands. Arity, flags and key positions always come from the command
// table, which is what this server does. Commands Redis does not define
// take their documentation from kvrocksDocs and derive the rest from the
// table.
//
//go:embed command_docs.json
var redisCommandsJSON []byte

// redisCommands is command_docs.json decoded: read-only once built.
type redisCommands struct {
	docs map[string]any   // name -> docs map node
	info map[string][]any // name -> COMMAND INFO entry
}

var loadRedisCommands = sync.OnceValue(func() *redisCommands {
	var raw struct {
		Docs map[string]any `json:"docs"`
		Info map[string]any `json:"info"`
	}
	d := json.NewDecoder(bytes.NewReader(redisCommandsJSON))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		panic("resp: command_docs.json: " + err.Error())
	}
	rc := &redisCommands{docs: raw.Docs, info: make(map[string][]any, len(raw.Info))}
	for name, v := range raw.Info {
		rc.info[name] = v.([]any)
	}
	return rc
})

// cmdDoc is the documentation of a command Redis does not define.
type cmdDoc struct {
	summary, since, group, complexity string
}

// kvrocksDocs documents the commands of this server that Redis does not
// define: KVRocks's own (since: the KVRocks version that added them, from
// its list of supported commands) and gpucache's (since: the gpucache
// version).
var kvrocksDocs = map[string]cmdDoc{
	"namespace":       {"Manages namespaces: GET, SET, ADD, DEL and CURRENT", "1.0.0", "server", "O(1)"},
	"compact":         {"Compacts the metadata store in the background", "1.0.0", "server", "O(N) where N is the size of the store"},
	"flushbackup":     {"Removes the backup BGSAVE wrote to backup-dir", "1.3.1", "server", "O(N) where N is the number of files in the backup"},
	"disk":            {"DISK USAGE key: the bytes the key takes in storage", "2.2.0", "server", "O(N) where N is the number of elements of the key"},
	"perflog":         {"Reads and resets the log of sampled commands' storage timings", "1.0.0", "server", "O(N) where N is the number of entries returned"},
	"stats":           {"Returns the storage engine's statistics as JSON", "1.0.0", "server", "O(1)"},
	"flushmemtable":   {"Flushes the metadata store's memtables to disk", "2.13.0", "server", "O(N) where N is the size of the memtables"},
	"flushblockcache": {"Releases the metadata store's unused block cache", "2.13.0", "server", "O(N) where N is the size of the cache"},
	"pollupdates":     {"Returns the changes made since a sequence number", "2.10.0", "server", "O(N) where N is the number of changes returned"},
	"rdb":             {"RDB LOAD path: loads an RDB file into the current namespace", "2.7.0", "server", "O(N) where N is the size of the file"},
	"kprofile":        {"Controls heap profiling", "2.13.0", "server", "O(1)"},
	"cas":             {"Sets a key to a new value if its value equals the expected one (compare and swap)", "2.0.5", "string", "O(1)"},
	"cad":             {"Deletes a key if its value equals the expected one (compare and delete)", "2.0.5", "string", "O(1)"},
	// NB: the releases that added MOVEX and MPUBLISH are not known here;
	// 2.16.0 is the documentation that lists them.
	"movex":             {"Moves a key to the namespace a token opens", "2.16.0", "generic", "O(1)"},
	"mpublish":          {"Posts several messages to a channel", "2.16.0", "pubsub", "O(N+M) where N is the number of messages and M the number of receiving clients"},
	"digest":            {"Returns the hash digest of a string value", "2.15.0", "string", "O(N) where N is the length of the value"},
	"msetex":            {"Sets several string keys with one expiry, atomically", "2.15.0", "string", "O(N) where N is the number of keys"},
	"delex":             {"Deletes a string key if a condition on its value holds", "2.15.0", "string", "O(1)"},
	"kmetadata":         {"Returns the metadata record of a key: type, size, expiry, flags and version", "2.12.0", "generic", "O(1)"},
	"siadd":             {"Adds integers to a sorted integer set", "1.0.2", "sortedint", "O(log(N)) for each integer added"},
	"sirem":             {"Removes integers from a sorted integer set", "1.0.2", "sortedint", "O(log(N)) for each integer removed"},
	"sicard":            {"Returns the number of integers in a sorted integer set", "1.0.2", "sortedint", "O(1)"},
	"sirange":           {"Returns integers of a sorted integer set by offset, ascending", "1.0.2", "sortedint", "O(log(N)+M) where M is the number returned"},
	"sirevrange":        {"Returns integers of a sorted integer set by offset, descending", "1.0.2", "sortedint", "O(log(N)+M) where M is the number returned"},
	"siexists":          {"Tells which integers are members of a sorted integer set", "1.1.20", "sortedint", "O(log(N)) for each integer"},
	"sirangebyvalue":    {"Returns integers of a sorted integer set between two values, ascending", "1.1.31", "sortedint", "O(log(N)+M) where M is the number returned"},
	"sirevrangebyvalue": {"Returns integers of a sorted integer set between two values, descending", "1.1.31", "sortedint", "O(log(N)+M) where M is the number returned"},
	"bf.reserve":        {"Creates a Bloom filter with an error rate and a capacity", "2.6.0", "bf", "O(1)"},
	"bf.add":            {"Adds an item to a Bloom filter", "2.6.0", "bf", "O(K) where K is the number of hash functions"},
	"bf.madd":           {"Adds items to a Bloom filter", "2.6.0", "bf", "O(K*N) where N is the number of items"},
	"bf.exists":         {"Tells whether an item may be in a Bloom filter", "2.6.0", "bf", "O(K) where K is the number of hash functions"},
	"bf.mexists":        {"Tells which items may be in a Bloom filter", "2.6.0", "bf", "O(K*N) where N is the number of items"},
	"bf.card":           {"Returns the number of items added to a Bloom filter", "2.6.0", "bf", "O(1)"},
	"bf.info":           {"Returns a Bloom filter's parameters and size", "2.6.0", "bf", "O(1)"},
	"bf.insert":         {"Adds items to a Bloom filter, creating it if needed", "2.7.0", "bf", "O(K*N) where N is the number of items"},
	"json.set":          {"Sets or updates the JSON value at a path", "2.7.0", "json", "O(M+N) where M is the document size and N the value size"},
	"json.get":          {"Gets the value at one or more paths in JSON serialized form", "2.7.0", "json", "O(N) where N is the document size"},
	"json.mget":         {"Returns the values at a path from one or more keys", "2.8.0", "json", "O(M*N) where M is the number of keys and N the document size"},
	"json.mset":         {"Sets or updates JSON values of one or more keys", "2.9.0", "json", "O(K*(M+N)) where K is the number of keys"},
	"json.del":          {"Deletes a value", "2.7.0", "json", "O(N) where N is the document size"},
	"json.forget":       {"Deletes a value", "2.7.0", "json", "O(N) where N is the document size"},
	"json.type":         {"Returns the type of the JSON value at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.info":         {"Returns the storage format of a JSON document", "2.7.0", "json", "O(N) where N is the document size"},
	"json.merge":        {"Merges a JSON value into the value at a path (RFC 7396)", "2.7.0", "json", "O(M+N) where M is the document size and N the value size"},
	"json.resp":         {"Returns the JSON value at a path in RESP form", "2.10.0", "json", "O(N) where N is the document size"},
	"json.debug":        {"Reports the storage size of JSON values (MEMORY)", "2.9.0", "json", "O(N) where N is the document size"},
	"json.numincrby":    {"Increments the numbers at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.nummultby":    {"Multiplies the numbers at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.strappend":    {"Appends a string to the strings at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.strlen":       {"Returns the length of the strings at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.arrappend":    {"Appends values to the arrays at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.arrinsert":    {"Inserts values into the arrays at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.arrindex":     {"Returns the index of a value in the arrays at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.arrlen":       {"Returns the length of the arrays at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.arrpop":       {"Removes and returns an element of the arrays at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.arrtrim":      {"Trims the arrays at a path to a range", "2.7.0", "json", "O(N) where N is the document size"},
	"json.objkeys":      {"Returns the keys of the objects at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.objlen":       {"Returns the number of keys of the objects at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.clear":        {"Empties the arrays and objects and zeroes the numbers at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"json.toggle":       {"Toggles the booleans at a path", "2.7.0", "json", "O(N) where N is the document size"},
	"clusterx":          {"Sets the cluster topology pushed by a controller", "2.0.2", "cluster", "O(N) where N is the number of nodes"},
	"blob.hello":        {"Registers the client's fabric address for the BLOB.* fast path", "0.1.0", "blob", "O(1)"},
	"blob.get":          {"Reads values into the client's registered memory over the fabric", "0.1.0", "blob", "O(N) where N is the bytes moved"},
	"blob.set":          {"Writes values from the client's registered memory over the fabric", "0.1.0", "blob", "O(N) where N is the bytes moved"},
	"blob.info":         {"Describes the fast path session of the connection", "0.1.0", "blob", "O(1)"},
	"lo.hello":          {"Negotiates the large-object protocol for the connection", "0.1.0", "blob", "O(1)"},
	"lo.get":            {"Reads a large value by reference", "0.1.0", "blob", "O(N) where N is the length of the value"},
	"lo.set":            {"Writes a large value by reference", "0.1.0", "blob", "O(N) where N is the length of the value"},
	// Hash field expiry: Redis 7.4 (HGETDEL, HGETEX, HSETEX: 8.0), not in
	// the Redis 7.0 tables above; HRANGEBYLEX and HSETEXPIRE are KVRocks's.
	// NB: HRANGEBYLEX is in KVRocks's 2.0 sources; the release that added
	// HSETEXPIRE is not known here (2.11.0 is a lower bound's guess).
	"hexpire":      {"Set expiry for hash field using relative time to expire (seconds)", "7.4.0", "hash", "O(N) where N is the number of specified fields"},
	"hpexpire":     {"Set expiry for hash field using relative time to expire (milliseconds)", "7.4.0", "hash", "O(N) where N is the number of specified fields"},
	"hexpireat":    {"Set expiry for hash field using an absolute Unix timestamp (seconds)", "7.4.0", "hash", "O(N) where N is the number of specified fields"},
	"hpexpireat":   {"Set expiry for hash field using an absolute Unix timestamp (milliseconds)", "7.4.0", "hash", "O(N) where N is the number of specified fields"},
	"httl":         {"Returns the TTL in seconds of a hash field", "7.4.0", "hash", "O(N) where N is the number of specified fields"},
	"hpttl":        {"Returns the TTL in milliseconds of a hash field", "7.4.0", "hash", "O(N) where N is the number of specified fields"},
	"hexpiretime":  {"Returns the expiration time of a hash field as a Unix timestamp, in seconds", "7.4.0", "hash", "O(N) where N is the number of specified fields"},
	"hpexpiretime": {"Returns the expiration time of a hash field as a Unix timestamp, in msec", "7.4.0", "hash", "O(N) where N is the number of specified fields"},
	"hpersist":     {"Removes the expiration time for each specified field", "7.4.0", "hash", "O(N) where N is the number of specified fields"},
	"hgetdel":      {"Returns the value of a field and deletes it from the hash", "8.0.0", "hash", "O(N) where N is the number of specified fields"},
	"hgetex":       {"Get the value of one or more fields of a given hash key, and optionally set their expiration", "8.0.0", "hash", "O(N) where N is the number of specified fields"},
	"hsetex":       {"Set the value of one or more fields of a given hash key, and optionally set their expiration", "8.0.0", "hash", "O(N) where N is the number of fields being set"},
	"hsetexpire":   {"Sets hash fields and the key's expiry in seconds", "2.11.0", "hash", "O(N) where N is the number of fields being set"},
	"hrangebylex":  {"Returns the fields and values of a hash in a lexicographical range", "2.0.0", "hash", "O(log(N)+M) where M is the number of fields returned"},
}

// hasDocs reports whether COMMAND DOCS documents the command.
func hasDocs(name string) bool {
	if _, ok := loadRedisCommands().docs[name]; ok {
		return true
	}
	_, ok := kvrocksDocs[name]
	return ok
}

// writeDocs writes a command's COMMAND DOCS map (without its name).
func (c *conn) writeDocs(s *cmdSpec) {
	if d, ok := loadRedisCommands().docs[s.name]; ok {
		writeNode(c.wr, d)
		return
	}
	d, ok := kvrocksDocs[s.name]
	if !ok {
		d = cmdDoc{group: "server"}
	}
	w := c.wr
	w.Map(4)
	w.BulkString("summary")
	w.BulkString(d.summary)
	w.BulkString("since")
	w.BulkString(d.since)
	w.BulkString("group")
	w.BulkString(d.group)
	w.BulkString("complexity")
	w.BulkString(d.complexity)
}

// writeNode writes a reply node of command_docs.json.
func writeNode(w *Writer, n any) {
	switch v := n.(type) {
	case nil:
		w.Null()
	case string:
		w.BulkString(v)
	case json.Number:
		i, _ := v.Int64()
		w.Int(i)
	case []any:
		w.Array(len(v))
		for _, e := range v {
			writeNode(w, e)
		}
	case map[string]any:
		switch {
		case v["+"] != nil:
			w.Simple(v["+"].(string))
		case v["%"] != nil:
			items := v["%"].([]any)
			w.Map(len(items) / 2)
			for _, e := range items {
				writeNode(w, e)
			}
		case v["~"] != nil:
			items := v["~"].([]any)
			w.Set(len(items))
			for _, e := range items {
				writeNode(w, e)
			}
		}
	}
}

// redisFlagOrder is the order in which Redis lists command flags; the
// table's flags and the informational ones Redis gives a command it
// defines (denyoom, movablekeys, ...) are merged in it.
var redisFlagOrder = []string{
	"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
	"loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
	"may_replicate", "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy",
}

// commandFlags returns the command's flags in Redis's order.
func commandFlags(s *cmdSpec) []string {
	// NB: flagNames are the flags the command table decides; Redis's own
	// flags of these names are ignored.
	have := map[string]bool{}
	decided := map[string]bool{}
	for _, f := range flagNames {
		decided[f.name] = true
		if s.flags&f.f != 0 {
			have[f.name] = true
		}
	}
	if info, ok := loadRedisCommands().info[s.name]; ok {
		for _, f := range nodeItems(info[2]) {
			if name := nodeString(f); !decided[name] {
				have[name] = true
			}
		}
	}
	if s.name == "msetex" {
		have["movablekeys"] = true // its keys follow numkeys (keySpecs)
	}
	out := make([]string, 0, len(have))
	for _, name := range redisFlagOrder {
		if have[name] {
			out = append(out, name)
		}
	}
	return out
}

// aclCategories returns the command's ACL categories: Redis's for a
// command it defines, else derived from the table (its group and flags).
func aclCategories(s *cmdSpec) []string {
	if info, ok := loadRedisCommands().info[s.name]; ok {
		var out []string
		for _, c := range nodeItems(info[6]) {
			out = append(out, nodeString(c))
		}
		return out
	}
	var out []string
	switch {
	case s.flags&flagWrite != 0:
		out = append(out, "@write")
	case s.flags&flagReadonly != 0:
		out = append(out, "@read")
	}
	if d, ok := kvrocksDocs[s.name]; ok && d.group != "server" {
		out = append(out, "@"+d.group)
	}
	if s.flags&flagAdmin != 0 {
		out = append(out, "@admin", "@dangerous")
	}
	if s.flags&flagFast != 0 {
		out = append(out, "@fast")
	} else {
		out = append(out, "@slow")
	}
	return out
}

func nodeItems(n any) []any {
	switch v := n.(type) {
	case []any:
		return v
	case map[string]any:
		if items, ok := v["~"].([]any); ok {
			return items
		}
		if items, ok := v["%"].([]any); ok {
			return items
		}
	}
	return nil
}

func nodeString(n any) string {
	switch v := n.(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["+"].(string)
		return s
	}
	return ""
}

// keySpec is one key specification (Redis 7): where the keys begin and how
// many there are.
type keySpec struct {
	flags []string
	// begin_search
	index   int    // type index: the argument index of the first key
	keyword string // type keyword: the keys follow this argument
	from    int    // keyword: where the search starts (negative: from the end)
	// find_keys
	keynum                bool // type keynum, else range
	lastkey, keystep, lim int  // range
	keynumidx, firstkey   int  // keynum (keystep shared)
	unknown               bool // a begin_search or find_keys type not handled
}

// keySpecs returns the command's key specifications: Redis's for a command
// it defines, else one derived from the table's first, last and step.
func keySpecs(s *cmdSpec) []keySpec {
	if info, ok := loadRedisCommands().info[s.name]; ok {
		var out []keySpec
		for _, n := range nodeItems(info[8]) {
			out = append(out, parseKeySpec(n))
		}
		return out
	}
	if s.name == "msetex" {
		// numkeys, then key value pairs (Redis 8's key spec).
		return []keySpec{{flags: []string{"OW", "update"}, index: 1, keynum: true, keynumidx: 0, firstkey: 1, keystep: 2}}
	}
	if s.first <= 0 {
		return nil
	}
	ks := keySpec{index: s.first, keystep: s.step}
	if s.last < 0 {
		ks.lastkey = s.last
	} else {
		ks.lastkey = s.last - s.first
	}
	switch {
	case s.flags&flagWrite != 0:
		ks.flags = []string{"RW", "access", "update"}
	default:
		ks.flags = []string{"RO", "access"}
	}
	return []keySpec{ks}
}

func nodeMap(n any) map[string]any {
	items := nodeItems(n)
	m := make(map[string]any, len(items)/2)
	for i := 0; i+1 < len(items); i += 2 {
		m[nodeString(items[i])] = items[i+1]
	}
	return m
}

func nodeInt(n any) int {
	if v, ok := n.(json.Number); ok {
		i, _ := v.Int64()
		return int(i)
	}
	return 0
}

func parseKeySpec(n any) keySpec {
	m := nodeMap(n)
	var ks keySpec
	for _, f := range nodeItems(m["flags"]) {
		ks.flags = append(ks.flags, nodeString(f))
	}
	bs := nodeMap(m["begin_search"])
	bspec := nodeMap(bs["spec"])
	switch nodeString(bs["type"]) {
	case "index":
		ks.index = nodeInt(bspec["index"])
	case "keyword":
		ks.keyword = nodeString(bspec["keyword"])
		ks.from = nodeInt(bspec["startfrom"])
	default:
		ks.unknown = true
	}
	fk := nodeMap(m["find_keys"])
	fspec := nodeMap(fk["spec"])
	switch nodeString(fk["type"]) {
	case "range":
		ks.lastkey, ks.keystep, ks.lim = nodeInt(fspec["lastkey"]), nodeInt(fspec["keystep"]), nodeInt(fspec["limit"])
	case "keynum":
		ks.keynum = true
		ks.keynumidx, ks.firstkey, ks.keystep = nodeInt(fspec["keynumidx"]), nodeInt(fspec["firstkey"]), nodeInt(fspec["keystep"])
	default:
		ks.unknown = true
	}
	return ks
}

// keys appends the indexes of args (the whole command, name first) that
// the spec names as keys. ok is false when the arguments do not fit it.
func (ks *keySpec) keys(dst []int, args [][]byte) ([]int, bool) {
	if ks.unknown {
		return dst, false
	}
	argc := len(args)
	first := 0
	switch {
	case ks.keyword != "":
		if ks.from >= 0 {
			for i := ks.from; i < argc; i++ {
				if eqFold(args[i], ks.keyword) {
					first = i + 1
					break
				}
			}
		} else {
			for i := argc + ks.from; i > 0; i-- {
				if eqFold(args[i], ks.keyword) {
					first = i + 1
					break
				}
			}
		}
		if first == 0 {
			return dst, true // the keyword is absent: no keys of this spec
		}
	default:
		first = ks.index
	}
	if first >= argc {
		return dst, true
	}
	step := max(ks.keystep, 1)
	var last int
	if ks.keynum {
		ni := first + ks.keynumidx
		if ni >= argc {
			return dst, false
		}
		n, err := strconv.Atoi(string(args[ni]))
		if err != nil || n < 0 {
			return dst, false
		}
		first = first + ks.firstkey
		last = first + (n-1)*step
	} else {
		switch {
		case ks.lastkey >= 0:
			last = first + ks.lastkey
		case ks.lim > 1:
			last = first + (argc-1-first)/ks.lim
		default:
			last = argc + ks.lastkey
		}
	}
	if last >= argc {
		return dst, false
	}
	for i := first; i <= last; i += step {
		dst = append(dst, i)
	}
	return dst, true
}

// commandKeys returns the indexes of args' keys with each one's key spec
// flags. Commands without key specs use the table's first, last and step.
func commandKeys(s *cmdSpec, args [][]byte) (idx []int, flags [][]string, ok bool) {
	specs := keySpecs(s)
	if len(specs) == 0 {
		idx = s.keyIndexes(nil, len(args))
		return idx, make([][]string, len(idx)), true
	}
	seen := map[int]bool{}
	for i := range specs {
		found, ok := specs[i].keys(nil, args)
		if !ok {
			return nil, nil, false
		}
		f := specs[i].flags
		if slices.Contains(f, "variable_flags") {
			f = variableKeyFlags(s.name, args)
		}
		for _, k := range found {
			if !seen[k] {
				seen[k] = true
				idx = append(idx, k)
				flags = append(flags, f)
			}
		}
	}
	return idx, flags, true
}

// variableKeyFlags are the key flags of the commands whose key spec says
// variable_flags, decided by their arguments as Redis decides them.
func variableKeyFlags(name string, args [][]byte) []string {
	switch name {
	case "set": // GET reads the old value
		for _, a := range args[min(3, len(args)):] {
			if eqFold(a, "get") {
				return []string{"RW", "access", "update"}
			}
		}
		return []string{"OW", "update"}
	case "bitfield": // SET and INCRBY write
		for _, a := range args[min(2, len(args)):] {
			if eqFold(a, "set") || eqFold(a, "incrby") {
				return []string{"RW", "access", "update"}
			}
		}
		return []string{"RO", "access"}
	}
	return []string{"RW", "access", "update"}
}

// writeKeySpecs writes the command's key specs as COMMAND INFO shows them.
func (c *conn) writeKeySpecs(s *cmdSpec) {
	if info, ok := loadRedisCommands().info[s.name]; ok {
		writeNode(c.wr, info[8])
		return
	}
	specs := keySpecs(s)
	w := c.wr
	w.Set(len(specs))
	for _, ks := range specs {
		w.Map(3)
		w.BulkString("flags")
		w.Set(len(ks.flags))
		for _, f := range ks.flags {
			w.Simple(f)
		}
		w.BulkString("begin_search")
		w.Map(2)
		w.BulkString("type")
		w.BulkString("index")
		w.BulkString("spec")
		w.Map(1)
		w.BulkString("index")
		w.Int(int64(ks.index))
		w.BulkString("find_keys")
		w.Map(2)
		w.BulkString("type")
		if ks.keynum {
			w.BulkString("keynum")
			w.BulkString("spec")
			w.Map(3)
			w.BulkString("keynumidx")
			w.Int(int64(ks.keynumidx))
			w.BulkString("firstkey")
			w.Int(int64(ks.firstkey))
			w.BulkString("keystep")
			w.Int(int64(ks.keystep))
			continue
		}
		w.BulkString("range")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("lastkey")
		w.Int(int64(ks.lastkey))
		w.BulkString("keystep")
		w.Int(int64(ks.keystep))
		w.BulkString("limit")
		w.Int(0)
	}
}

// commandInfo writes a command's COMMAND INFO entry, Redis 7's ten fields:
// name, arity, flags, first key, last key, step, ACL categories, tips, key
// specs, subcommands.
func (c *conn) commandInfo(s *cmdSpec) {
	w := c.wr
	w.Array(10)
	w.BulkString(s.name)
	w.Int(int64(s.arity))
	flags := commandFlags(s)
	w.Set(len(flags))
	for _, f := range flags {
		w.Simple(f)
	}
	w.Int(int64(s.first))
	w.Int(int64(s.last))
	w.Int(int64(s.step))
	acl := aclCategories(s)
	w.Set(len(acl))
	for _, a := range acl {
		w.Simple(a)
	}
	info, inRedis := loadRedisCommands().info[s.name]
	if inRedis {
		writeNode(w, info[7])
	} else {
		w.Set(0)
	}
	c.writeKeySpecs(s)
	if inRedis {
		writeNode(w, info[9])
	} else {
		w.Array(0)
	}
}

// commandListed reports whether COMMAND LIST FILTERBY keeps the command.
func commandListed(s *cmdSpec, by, arg string) bool {
	switch by {
	case "module":
		return false // no modules
	case "aclcat":
		for _, a := range aclCategories(s) {
			if strings.EqualFold(strings.TrimPrefix(a, "@"), strings.TrimPrefix(arg, "@")) {
				return true
			}
		}
		return false
	case "pattern":
		return globMatchFold(arg, s.name)
	}
	return false
}

// globMatchFold matches name against a Redis glob pattern (*, ?, [...],
// \ escapes), case-insensitively.
func globMatchFold(p, s string) bool {
	p, s = strings.ToLower(p), strings.ToLower(s)
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatchFold(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		case '[':
			if s == "" {
				return false
			}
			end := strings.IndexByte(p[1:], ']')
			if end < 0 {
				return p == s
			}
			class := p[1 : 1+end]
			neg := strings.HasPrefix(class, "^")
			if neg {
				class = class[1:]
			}
			match := false
			for i := 0; i < len(class); i++ {
				if i+2 < len(class) && class[i+1] == '-' {
					if class[i] <= s[0] && s[0] <= class[i+2] {
						match = true
					}
					i += 2
				} else if class[i] == s[0] {
					match = true
				}
			}
			if match == neg {
				return false
			}
			p, s = p[2+end:], s[1:]
		case '\\':
			if len(p) > 1 {
				p = p[1:]
			}
			fallthrough
		default:
			if s == "" || p[0] != s[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}
