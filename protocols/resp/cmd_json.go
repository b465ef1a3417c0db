package resp

import (
	"strconv"
	"strings"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/internal/jsonpath"
)

// The JSON.* family as KVRocks implements it (RedisJSON's commands on
// documents stored whole in the key's metadata record). Paths are
// JSONPath ("$..."), answered with an array of the matches' results, or
// RedisJSON legacy paths (".a", "a"), answered with one result. Errors
// KVRocks reports from its storage layer keep its wording ("Invalid
// argument: ...", "NotFound: ").
func jsonCommands() []*cmdSpec {
	w, r := flagWrite, flagReadonly
	one := func(name string, arity int, flags cmdFlags, fn func(*conn, *Command)) *cmdSpec {
		return &cmdSpec{name: name, arity: arity, flags: flags, first: 1, last: 1, step: 1, fn: fn}
	}
	return []*cmdSpec{
		one("json.set", -4, w, (*conn).cmdJSONSet),
		one("json.get", -2, r, (*conn).cmdJSONGet),
		{name: "json.mget", arity: -3, flags: r, first: 1, last: -2, step: 1, fn: (*conn).cmdJSONMGet},
		{name: "json.mset", arity: -4, flags: w, first: 1, last: -3, step: 3, fn: (*conn).cmdJSONMSet},
		one("json.del", -2, w, (*conn).cmdJSONDel),
		one("json.forget", -2, w, (*conn).cmdJSONDel),
		one("json.type", -2, r, (*conn).cmdJSONType),
		one("json.info", 2, r, (*conn).cmdJSONInfo),
		one("json.merge", 4, w, (*conn).cmdJSONMerge),
		one("json.resp", -2, r, (*conn).cmdJSONResp),
		{name: "json.debug", arity: -2, flags: r, first: 2, last: 2, step: 1, fn: (*conn).cmdJSONDebug},
		one("json.numincrby", 4, w, (*conn).cmdJSONNumIncrBy),
		one("json.nummultby", 4, w, (*conn).cmdJSONNumMultBy),
		one("json.strappend", -3, w, (*conn).cmdJSONStrAppend),
		one("json.strlen", -2, r, (*conn).cmdJSONStrLen),
		one("json.arrappend", -4, w, (*conn).cmdJSONArrAppend),
		one("json.arrinsert", -5, w, (*conn).cmdJSONArrInsert),
		one("json.arrindex", -4, r, (*conn).cmdJSONArrIndex),
		one("json.arrlen", -2, r, (*conn).cmdJSONArrLen),
		one("json.arrpop", -2, w, (*conn).cmdJSONArrPop),
		one("json.arrtrim", 5, w, (*conn).cmdJSONArrTrim),
		one("json.objkeys", -2, r, (*conn).cmdJSONObjKeys),
		one("json.objlen", -2, r, (*conn).cmdJSONObjLen),
		one("json.clear", -2, w, (*conn).cmdJSONClear),
		one("json.toggle", -2, w, (*conn).cmdJSONToggle),
	}
}

const (
	errJSONNotFound   = "ERR NotFound: "
	errJSONNewAtRoot  = "ERR Invalid argument: new objects must be created at the root"
	errJSONNotNumber  = "ERR Invalid argument: the input value should be a number"
	errJSONIndent     = "ERR Currently only all-space INDENT is supported"
	errJSONSpace      = "ERR Currently only SPACE ' ' is supported"
	errJSONTooDeep    = "ERR Invalid argument: Failed to encode JSON into storage: Maximum JSON depth exceeded"
	errJSONTooManyArg = "ERR The number of arguments is more than expected"
)

// jsonArgErr is KVRocks's reply to a value or path it cannot parse.
func jsonArgErr(err error) error {
	return replyError("ERR Invalid argument: " + err.Error())
}

// jsonParse parses a client's JSON value, nested at most
// json-max-nesting-depth levels (KVRocks's default and this server's
// ceiling: jsonpath.MaxDepth).
func (c *conn) jsonParse(b []byte) (*jsonpath.Value, error) {
	v, err := jsonpath.ParseDepth(b, c.jsonMaxDepth())
	if err != nil {
		return nil, jsonArgErr(err)
	}
	return v, nil
}

func jsonPath(b []byte) (*jsonpath.Path, error) {
	p, err := jsonpath.Compile(string(b))
	if err != nil {
		return nil, jsonArgErr(err)
	}
	return p, nil
}

// jsonOptPath is the path argument at i, "$" when absent; more than one
// argument from i is KVRocks's error.
func jsonOptPath(args [][]byte, i int) (*jsonpath.Path, error) {
	switch {
	case len(args) > i+1:
		return nil, replyError(errJSONTooManyArg)
	case len(args) == i+1:
		return jsonPath(args[i])
	}
	return jsonpath.Compile("$")
}

// jsonSettings are the JSON config keys, kept with the server's other
// run-time settings (live) so that commands read them without asking the
// config store.
type jsonSettings struct {
	format engine.JSONFormat // json-storage-format
	depth  int               // json-max-nesting-depth, at most jsonpath.MaxDepth
}

func loadJSONSettings(cs ConfigStore) jsonSettings {
	js := jsonSettings{format: engine.JSONText, depth: jsonpath.MaxDepth}
	if cs != nil {
		for _, key := range []string{"json-storage-format", "json-max-nesting-depth"} {
			for _, kv := range cs.Get(key) {
				js.apply(kv[0], kv[1])
			}
		}
	}
	return js
}

// apply sets one key; values the config store let through but that mean
// nothing here leave the setting as it was.
func (js *jsonSettings) apply(key, value string) {
	switch key {
	case "json-storage-format":
		switch strings.ToLower(value) {
		case "json":
			js.format = engine.JSONText
		case "cbor":
			js.format = engine.JSONCBOR
		}
	case "json-max-nesting-depth":
		if n, err := strconv.Atoi(value); err == nil && n >= 0 {
			js.depth = min(n, jsonpath.MaxDepth)
		}
	}
}

// jsonMaxDepth is json-max-nesting-depth, capped at jsonpath.MaxDepth.
func (c *conn) jsonMaxDepth() int { return c.s.live.Load().json.depth }

// jsonFormat is the configured storage format for writes.
func (c *conn) jsonFormat() engine.JSONFormat { return c.s.live.Load().json.format }

// jsonErr answers a failed JSON command.
func (c *conn) jsonErr(err error) {
	switch {
	case err == engine.ErrJSONDepth:
		c.err(errJSONTooDeep)
	default:
		c.replyErr(err)
	}
}

// jsonTxn runs fn on the document of key args[1]; reply is what fn
// decided to answer, sent once the change (if any) committed.
func (c *conn) jsonTxn(key []byte, fn func(t *engine.Txn) (reply func(), err error)) {
	var reply func()
	err := c.eng.Txn(c.ns, [][]byte{key}, func(t *engine.Txn) error {
		var err error
		reply, err = fn(t)
		return err
	})
	if err != nil {
		c.jsonErr(err)
		return
	}
	reply()
}

// JSON.SET key path value [NX|XX]
func (c *conn) cmdJSONSet(cmd *Command) {
	args := cmd.Args
	nx, xx := false, false
	switch {
	case len(args) == 4:
	case len(args) == 5 && eqFold(args[4], "nx"):
		nx = true
	case len(args) == 5 && eqFold(args[4], "xx"):
		xx = true
	default:
		c.syntaxErr()
		return
	}
	path, vals, ok := c.jsonPathArgs(args[2], args[3:4])
	if !ok {
		return
	}
	val := vals[0]
	f := c.jsonFormat()
	c.jsonTxn(args[1], func(t *engine.Txn) (func(), error) {
		doc, _, ok, err := t.JSONGet(0)
		if err != nil {
			return nil, err
		}
		if !ok {
			if !path.IsRoot() {
				return nil, replyError(errJSONNewAtRoot)
			}
			if xx {
				return c.wr.Null, nil
			}
			return c.wr.OK, t.JSONPut(0, val, f)
		}
		if nx && len(path.Query(doc)) > 0 {
			return c.wr.Null, nil
		}
		if xx && len(path.Query(doc)) == 0 {
			return c.wr.Null, nil
		}
		doc, set := jsonSetAt(doc, path, val)
		if !set {
			return c.wr.Null, nil
		}
		return c.wr.OK, t.JSONPut(0, doc, f)
	})
}

// jsonSetAt puts val at every match of path in doc, or when nothing
// matches and the path is static and ends in a member name, adds that
// member to the object the rest of the path names. It returns the new
// root and whether anything was set.
func jsonSetAt(doc *jsonpath.Value, path *jsonpath.Path, val *jsonpath.Value) (*jsonpath.Value, bool) {
	nodes := path.Query(doc)
	for i, n := range nodes {
		v := val
		if i > 0 {
			v = val.Clone()
		}
		doc = jsonpath.Replace(doc, n, v)
	}
	if len(nodes) > 0 {
		return doc, true
	}
	parent, name, static := path.Parent()
	if !static {
		return doc, false
	}
	set := false
	for _, p := range parent.Values(doc) {
		if p.Kind == jsonpath.Object {
			v := val
			if set {
				v = val.Clone()
			}
			p.Put(name, v)
			set = true
		}
	}
	return doc, set
}

// JSON.GET key [INDENT s] [NEWLINE s] [SPACE s] [path ...]
func (c *conn) cmdJSONGet(cmd *Command) {
	args := cmd.Args
	var f jsonpath.Format
	i := 2
	for ; i+1 < len(args); i += 2 {
		switch {
		case eqFold(args[i], "indent"):
			if strings.Trim(string(args[i+1]), " ") != "" {
				c.err(errJSONIndent)
				return
			}
			f.Indent = string(args[i+1])
		case eqFold(args[i], "newline"):
			f.Newline = string(args[i+1])
		case eqFold(args[i], "space"):
			if len(args[i+1]) > 1 || len(args[i+1]) == 1 && args[i+1][0] != ' ' {
				c.err(errJSONSpace)
				return
			}
			f.Space = string(args[i+1])
		default:
			goto paths
		}
	}
paths:
	var paths []*jsonpath.Path
	for _, a := range args[i:] {
		p, err := jsonPath(a)
		if err != nil {
			c.jsonErr(err)
			return
		}
		paths = append(paths, p)
	}
	c.jsonTxn(args[1], func(t *engine.Txn) (func(), error) {
		if len(paths) == 0 && f == (jsonpath.Format{}) {
			// The whole document, compact: stored JSON text is already
			// what the printer would produce (keys sorted, compact).
			sf, raw, ok, err := t.JSONRaw(0)
			if err != nil || !ok {
				return c.wr.Null, err
			}
			if sf == engine.JSONText {
				return func() { c.wr.Bulk(raw) }, nil
			}
		}
		doc, _, ok, err := t.JSONGet(0)
		if err != nil || !ok {
			return c.wr.Null, err
		}
		var out *jsonpath.Value
		switch len(paths) {
		case 0:
			out = doc
		case 1:
			if out, err = jsonSelect(doc, paths[0]); err != nil {
				return nil, err
			}
		default:
			out = jsonpath.NewObject()
			for _, p := range paths {
				v, err := jsonSelect(doc, p)
				if err != nil {
					return nil, err
				}
				out.Put(p.String(), v)
			}
		}
		text := jsonpath.Append(nil, out, f)
		return func() { c.wr.Bulk(text) }, nil
	})
}

// jsonSelect is what JSON.GET answers for one path: the array of matches,
// or for a legacy path the first match.
func jsonSelect(doc *jsonpath.Value, p *jsonpath.Path) (*jsonpath.Value, error) {
	vals := p.Values(doc)
	if !p.Legacy() {
		return jsonpath.NewArray(vals), nil
	}
	if len(vals) == 0 {
		return nil, replyError("ERR Path '" + p.String() + "' does not exist")
	}
	return vals[0], nil
}

// JSON.MGET key [key ...] path
func (c *conn) cmdJSONMGet(cmd *Command) {
	args := cmd.Args
	keys := args[1 : len(args)-1]
	path, err := jsonPath(args[len(args)-1])
	if err != nil {
		c.jsonErr(err)
		return
	}
	out := make([][]byte, len(keys))
	err = c.eng.Txn(c.ns, keys, func(t *engine.Txn) error {
		for i := range keys {
			doc, _, ok, err := t.JSONGet(i)
			if err == engine.ErrWrongType || !ok {
				continue
			}
			if err != nil {
				return err
			}
			v, err := jsonSelect(doc, path)
			if err != nil {
				continue
			}
			out[i] = jsonpath.AppendCompact(nil, v)
		}
		return nil
	})
	if err != nil {
		c.jsonErr(err)
		return
	}
	c.wr.Array(len(out))
	for _, b := range out {
		if b == nil {
			c.wr.Null()
		} else {
			c.wr.Bulk(b)
		}
	}
}

// JSON.MSET key path value [key path value ...], atomically.
func (c *conn) cmdJSONMSet(cmd *Command) {
	args := cmd.Args
	if (len(args)-1)%3 != 0 {
		c.wrongArgs()
		return
	}
	n := (len(args) - 1) / 3
	keys := make([][]byte, n)
	paths := make([]*jsonpath.Path, n)
	vals := make([]*jsonpath.Value, n)
	for i := 0; i < n; i++ {
		a := args[1+3*i:]
		keys[i] = a[0]
		var err error
		if paths[i], err = jsonPath(a[1]); err == nil {
			vals[i], err = c.jsonParse(a[2])
		}
		if err != nil {
			c.jsonErr(err)
			return
		}
	}
	f := c.jsonFormat()
	err := c.eng.Txn(c.ns, keys, func(t *engine.Txn) error {
		for i := range keys {
			doc, _, ok, err := t.JSONGet(i)
			if err != nil {
				return err
			}
			v := vals[i]
			switch {
			case !ok && !paths[i].IsRoot():
				return replyError(errJSONNewAtRoot)
			case !ok:
				doc = v
			default:
				doc, _ = jsonSetAt(doc, paths[i], v)
			}
			if err := t.JSONPut(i, doc, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.jsonErr(err)
		return
	}
	c.wr.OK()
}

// JSON.DEL key [path] (and JSON.FORGET)
func (c *conn) cmdJSONDel(cmd *Command) {
	path, err := jsonOptPath(cmd.Args, 2)
	if err != nil {
		c.jsonErr(err)
		return
	}
	f := c.jsonFormat()
	c.jsonTxn(cmd.Args[1], func(t *engine.Txn) (func(), error) {
		doc, _, ok, err := t.JSONGet(0)
		if err != nil || !ok {
			return func() { c.wr.Int(0) }, err
		}
		if path.IsRoot() {
			return func() { c.wr.Int(1) }, t.Delete(0)
		}
		n := jsonpath.Delete(doc, path.Query(doc))
		if n == 0 {
			return func() { c.wr.Int(0) }, nil
		}
		return func() { c.wr.Int(int64(n)) }, t.JSONPut(0, doc, f)
	})
}

// JSON.TYPE key [path]
func (c *conn) cmdJSONType(cmd *Command) {
	path, err := jsonOptPath(cmd.Args, 2)
	if err != nil {
		c.jsonErr(err)
		return
	}
	c.jsonTxn(cmd.Args[1], func(t *engine.Txn) (func(), error) {
		doc, _, ok, err := t.JSONGet(0)
		if err != nil || !ok {
			return c.wr.Null, err
		}
		vals := path.Values(doc)
		if path.Legacy() {
			if len(vals) == 0 {
				return c.wr.Null, nil
			}
			return func() { c.wr.BulkString(vals[0].Kind.TypeName()) }, nil
		}
		return func() {
			c.wr.Array(len(vals))
			for _, v := range vals {
				c.wr.BulkString(v.Kind.TypeName())
			}
		}, nil
	})
}

// JSON.INFO key
func (c *conn) cmdJSONInfo(cmd *Command) {
	c.jsonTxn(cmd.Args[1], func(t *engine.Txn) (func(), error) {
		f, _, ok, err := t.JSONRaw(0)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, replyError(errJSONNotFound)
		}
		return func() {
			c.wr.Array(2)
			c.wr.BulkString("storage_format")
			c.wr.BulkString(f.String())
		}, nil
	})
}

// JSON.MERGE key path value (RFC 7396 merge patch)
func (c *conn) cmdJSONMerge(cmd *Command) {
	args := cmd.Args
	path, vals, ok := c.jsonPathArgs(args[2], args[3:4])
	if !ok {
		return
	}
	patch := vals[0]
	f := c.jsonFormat()
	c.jsonTxn(args[1], func(t *engine.Txn) (func(), error) {
		doc, _, ok, err := t.JSONGet(0)
		if err != nil {
			return nil, err
		}
		if !ok {
			if !path.IsRoot() {
				return nil, replyError(errJSONNewAtRoot)
			}
			return c.wr.OK, t.JSONPut(0, patch, f)
		}
		nodes := path.Query(doc)
		switch {
		case len(nodes) == 0:
			parent, name, static := path.Parent()
			if !static || patch.Kind == jsonpath.Null {
				return c.wr.Null, nil
			}
			set := false
			for _, p := range parent.Values(doc) {
				if p.Kind == jsonpath.Object {
					p.Put(name, jsonpath.MergePatch(nil, patch))
					set = true
				}
			}
			if !set {
				return c.wr.Null, nil
			}
		case patch.Kind == jsonpath.Null && !path.IsRoot():
			jsonpath.Delete(doc, nodes)
		default:
			for _, n := range nodes {
				doc = jsonpath.Replace(doc, n, jsonpath.MergePatch(n.V, patch))
			}
		}
		return c.wr.OK, t.JSONPut(0, doc, f)
	})
}

// JSON.RESP key [path]: the value as RESP, as RedisJSON renders it.
func (c *conn) cmdJSONResp(cmd *Command) {
	path, err := jsonOptPath(cmd.Args, 2)
	if err != nil {
		c.jsonErr(err)
		return
	}
	c.jsonTxn(cmd.Args[1], func(t *engine.Txn) (func(), error) {
		doc, _, ok, err := t.JSONGet(0)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, replyError(errJSONNotFound)
		}
		vals := path.Values(doc)
		if path.Legacy() {
			if len(vals) == 0 {
				return c.wr.Null, nil
			}
			return func() { c.jsonRESP(vals[0], 0) }, nil
		}
		return func() {
			c.wr.Array(len(vals))
			for _, v := range vals {
				c.jsonRESP(v, 0)
			}
		}, nil
	})
}

func (c *conn) jsonRESP(v *jsonpath.Value, level int) {
	switch v.Kind {
	case jsonpath.Null:
		c.wr.Null()
	case jsonpath.Bool:
		if v.B {
			c.wr.Simple("true")
		} else {
			c.wr.Simple("false")
		}
	case jsonpath.Int:
		c.wr.Int(v.I)
	case jsonpath.Uint, jsonpath.Float:
		c.wr.Bulk(jsonpath.AppendCompact(nil, v))
	case jsonpath.String:
		c.wr.BulkString(v.S)
	case jsonpath.Array:
		c.wr.Array(len(v.A) + 1)
		c.wr.Simple("[")
		for _, e := range v.A {
			c.jsonRESP(e, level+1)
		}
	case jsonpath.Object:
		c.wr.Array(2*len(v.O) + 1)
		c.wr.Simple("{")
		for _, m := range v.O {
			c.wr.BulkString(m.Key)
			c.jsonRESP(m.Val, level+1)
		}
	}
}

// JSON.DEBUG MEMORY key [path]: bytes of the stored encoding, the whole
// document's for the root, each match's encoded alone otherwise.
func (c *conn) cmdJSONDebug(cmd *Command) {
	args := cmd.Args
	if !eqFold(args[1], "memory") {
		c.err("ERR unknown subcommand '" + string(args[1]) + "'. Try JSON.DEBUG HELP.")
		return
	}
	if len(args) < 3 {
		c.wrongArgs()
		return
	}
	path, err := jsonOptPath(args, 3)
	if err != nil {
		c.jsonErr(err)
		return
	}
	c.jsonTxn(args[2], func(t *engine.Txn) (func(), error) {
		f, raw, ok, err := t.JSONRaw(0)
		if err != nil {
			return nil, err
		}
		if !ok {
			if path.Legacy() {
				return func() { c.wr.Int(0) }, nil
			}
			return func() { c.wr.Array(0) }, nil
		}
		var sizes []int64
		if path.IsRoot() {
			sizes = []int64{int64(len(raw))}
		} else {
			doc, err := engine.DecodeJSON(f, raw)
			if err != nil {
				return nil, err
			}
			for _, v := range path.Values(doc) {
				if f == engine.JSONCBOR {
					sizes = append(sizes, int64(len(jsonpath.AppendCBOR(nil, v))))
				} else {
					sizes = append(sizes, int64(len(jsonpath.AppendCompact(nil, v))))
				}
			}
		}
		if path.Legacy() {
			if len(sizes) == 0 {
				return func() { c.wr.Int(0) }, nil
			}
			return func() { c.wr.Int(sizes[0]) }, nil
		}
		return func() {
			c.wr.Array(len(sizes))
			for _, n := range sizes {
				c.wr.Int(n)
			}
		}, nil
	})
}
