package resp

import (
	"math"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/internal/jsonpath"
)

// The JSON.* commands that work on the matches of one path: per match a
// result, or nil where the match is not of the type the command needs.

// jsonEach runs fn on each match of path in key's document. missingNil
// says whether an absent key answers nil (KVRocks's read-style commands)
// or KVRocks's "NotFound: " error. fn returns the match's result (nil
// when the match had the wrong type) and whether it changed the
// document, which is then stored.
func (c *conn) jsonEach(key []byte, path *jsonpath.Path, missingNil, write bool,
	fn func(doc **jsonpath.Value, n jsonpath.Node) (res *int64, changed bool, err error)) {
	f := c.jsonFormat()
	c.jsonTxn(key, func(t *engine.Txn) (func(), error) {
		doc, _, ok, err := t.JSONGet(0)
		if err != nil {
			return nil, err
		}
		if !ok {
			if missingNil {
				return c.wr.Null, nil
			}
			return nil, replyError(errJSONNotFound)
		}
		nodes := path.Query(doc)
		res := make([]*int64, len(nodes))
		changed := false
		for i, n := range nodes {
			r, ch, err := fn(&doc, n)
			if err != nil {
				return nil, err
			}
			res[i], changed = r, changed || ch
		}
		if changed && write {
			if err := t.JSONPut(0, doc, f); err != nil {
				return nil, err
			}
		}
		return func() { c.jsonInts(path, res) }, nil
	})
}

// jsonInts answers an array of integers (nil where absent) for a
// JSONPath, the first result alone for a legacy path.
func (c *conn) jsonInts(path *jsonpath.Path, res []*int64) {
	if path.Legacy() {
		if len(res) == 0 || res[0] == nil {
			c.wr.Null()
		} else {
			c.wr.Int(*res[0])
		}
		return
	}
	c.wr.Array(len(res))
	for _, r := range res {
		if r == nil {
			c.wr.Null()
		} else {
			c.wr.Int(*r)
		}
	}
}

func intp(n int) *int64 { v := int64(n); return &v }

// jsonArgs parses JSON values (ARRAPPEND, ARRINSERT).
func (c *conn) jsonArgs(args [][]byte) ([]*jsonpath.Value, error) {
	vals := make([]*jsonpath.Value, len(args))
	for i, a := range args {
		v, err := c.jsonParse(a)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// jsonPathArgs parses a command's path and its JSON values, answering the
// first error; ok false: answered.
func (c *conn) jsonPathArgs(pathArg []byte, valArgs [][]byte) (*jsonpath.Path, []*jsonpath.Value, bool) {
	path, err := jsonPath(pathArg)
	if err == nil {
		var vals []*jsonpath.Value
		if vals, err = c.jsonArgs(valArgs); err == nil {
			return path, vals, true
		}
	}
	c.jsonErr(err)
	return nil, nil, false
}

func cloneAll(vals []*jsonpath.Value) []*jsonpath.Value {
	out := make([]*jsonpath.Value, len(vals))
	for i, v := range vals {
		out[i] = v.Clone()
	}
	return out
}

// JSON.ARRAPPEND key path value [value ...]
func (c *conn) cmdJSONArrAppend(cmd *Command) {
	args := cmd.Args
	path, vals, ok := c.jsonPathArgs(args[2], args[3:])
	if !ok {
		return
	}
	c.jsonEach(args[1], path, false, true, func(_ **jsonpath.Value, n jsonpath.Node) (*int64, bool, error) {
		if n.V.Kind != jsonpath.Array {
			return nil, false, nil
		}
		n.V.A = append(n.V.A, cloneAll(vals)...)
		return intp(len(n.V.A)), true, nil
	})
}

// JSON.ARRINSERT key path index value [value ...]: KVRocks inserts before
// an existing position only (-len <= index < len).
func (c *conn) cmdJSONArrInsert(cmd *Command) {
	args := cmd.Args
	index, ok := parseArgInt(args[3])
	if !ok {
		c.err(errNotInteger)
		return
	}
	path, vals, ok := c.jsonPathArgs(args[2], args[4:])
	if !ok {
		return
	}
	c.jsonEach(args[1], path, true, true, func(_ **jsonpath.Value, n jsonpath.Node) (*int64, bool, error) {
		if n.V.Kind != jsonpath.Array {
			return nil, false, nil
		}
		l := int64(len(n.V.A))
		if index >= l || index < -l {
			return nil, false, nil
		}
		at := index
		if at < 0 {
			at += l
		}
		a := make([]*jsonpath.Value, 0, len(n.V.A)+len(vals))
		a = append(a, n.V.A[:at]...)
		a = append(a, cloneAll(vals)...)
		n.V.A = append(a, n.V.A[at:]...)
		return intp(len(n.V.A)), true, nil
	})
}

// JSON.ARRINDEX key path value [start [stop]]
func (c *conn) cmdJSONArrIndex(cmd *Command) {
	args := cmd.Args
	if len(args) > 6 {
		c.wrongArgs()
		return
	}
	start, stop := int64(0), int64(math.MaxInt64)
	var ok bool
	if len(args) > 4 {
		if start, ok = parseArgInt(args[4]); !ok {
			c.err(errNotInteger)
			return
		}
	}
	if len(args) > 5 {
		if stop, ok = parseArgInt(args[5]); !ok {
			c.err(errNotInteger)
			return
		}
	}
	path, err := jsonPath(args[2])
	if err != nil {
		c.jsonErr(err)
		return
	}
	needle, err := c.jsonParse(args[3])
	if err != nil {
		c.jsonErr(err)
		return
	}
	c.jsonEach(args[1], path, true, false, func(_ **jsonpath.Value, n jsonpath.Node) (*int64, bool, error) {
		if n.V.Kind != jsonpath.Array {
			return nil, false, nil
		}
		l := int64(len(n.V.A))
		from, to := start, stop
		if from < 0 {
			from = max(0, l+from)
		} else {
			from = min(from, l-1)
		}
		switch {
		case to == 0:
			to = l
		case to < 0:
			to = max(0, l+to)
		}
		to = min(to, l)
		for i := max(from, 0); i < to; i++ {
			if jsonpath.Equal(n.V.A[i], needle) {
				return intp(int(i)), false, nil
			}
		}
		return intp(-1), false, nil
	})
}

// JSON.ARRLEN key [path]
func (c *conn) cmdJSONArrLen(cmd *Command) {
	c.jsonLen(cmd, jsonpath.Array)
}

// JSON.OBJLEN key [path]
func (c *conn) cmdJSONObjLen(cmd *Command) {
	c.jsonLen(cmd, jsonpath.Object)
}

func (c *conn) jsonLen(cmd *Command, kind jsonpath.Kind) {
	path, err := jsonOptPath(cmd.Args, 2)
	if err != nil {
		c.jsonErr(err)
		return
	}
	c.jsonEach(cmd.Args[1], path, true, false, func(_ **jsonpath.Value, n jsonpath.Node) (*int64, bool, error) {
		if n.V.Kind != kind {
			return nil, false, nil
		}
		return intp(n.V.Len()), false, nil
	})
}

// JSON.STRLEN key [path] (bytes, as KVRocks counts them)
func (c *conn) cmdJSONStrLen(cmd *Command) {
	path, err := jsonOptPath(cmd.Args, 2)
	if err != nil {
		c.jsonErr(err)
		return
	}
	c.jsonEach(cmd.Args[1], path, false, false, func(_ **jsonpath.Value, n jsonpath.Node) (*int64, bool, error) {
		if n.V.Kind != jsonpath.String {
			return nil, false, nil
		}
		return intp(len(n.V.S)), false, nil
	})
}

// JSON.STRAPPEND key [path] value: value is a JSON string ("\"abc\"").
func (c *conn) cmdJSONStrAppend(cmd *Command) {
	args := cmd.Args
	if len(args) > 4 {
		c.err(errJSONTooManyArg)
		return
	}
	pathArg, valArg := []byte("$"), args[2]
	if len(args) == 4 {
		pathArg, valArg = args[2], args[3]
	}
	path, err := jsonPath(pathArg)
	if err != nil {
		c.jsonErr(err)
		return
	}
	v, err := c.jsonParse(valArg)
	if err != nil {
		c.jsonErr(err)
		return
	}
	if v.Kind != jsonpath.String {
		c.err("ERR Invalid argument: the appended value should be a string")
		return
	}
	c.jsonEach(args[1], path, false, true, func(_ **jsonpath.Value, n jsonpath.Node) (*int64, bool, error) {
		if n.V.Kind != jsonpath.String {
			return nil, false, nil
		}
		n.V.S += v.S
		return intp(len(n.V.S)), true, nil
	})
}

// JSON.ARRTRIM key path start stop: keeps [start, stop] as LTRIM does.
func (c *conn) cmdJSONArrTrim(cmd *Command) {
	args := cmd.Args
	start, ok1 := parseArgInt(args[3])
	stop, ok2 := parseArgInt(args[4])
	if !ok1 || !ok2 {
		c.err(errNotInteger)
		return
	}
	path, err := jsonPath(args[2])
	if err != nil {
		c.jsonErr(err)
		return
	}
	c.jsonEach(args[1], path, true, true, func(_ **jsonpath.Value, n jsonpath.Node) (*int64, bool, error) {
		if n.V.Kind != jsonpath.Array {
			return nil, false, nil
		}
		l := int64(len(n.V.A))
		from, to := start, stop
		if from < 0 {
			from = max(0, l+from)
		}
		if to < 0 {
			to = l + to
		}
		to = min(to, l-1)
		if from >= l || from > to {
			n.V.A = n.V.A[:0]
		} else {
			n.V.A = append(n.V.A[:0:0], n.V.A[from:to+1]...)
		}
		return intp(len(n.V.A)), true, nil
	})
}

// JSON.CLEAR key [path]: empties arrays and objects, zeroes numbers;
// answers how many values it changed.
func (c *conn) cmdJSONClear(cmd *Command) {
	path, err := jsonOptPath(cmd.Args, 2)
	if err != nil {
		c.jsonErr(err)
		return
	}
	f := c.jsonFormat()
	c.jsonTxn(cmd.Args[1], func(t *engine.Txn) (func(), error) {
		doc, _, ok, err := t.JSONGet(0)
		if err != nil || !ok {
			return c.wr.Null, err
		}
		n := 0
		for _, nd := range path.Query(doc) {
			v := nd.V
			switch {
			case v.Kind == jsonpath.Array && len(v.A) > 0:
				v.A = nil
			case v.Kind == jsonpath.Object && len(v.O) > 0:
				v.O = nil
			case v.IsNumber() && v.Float64() != 0:
				*v = jsonpath.Value{Kind: jsonpath.Int}
			default:
				continue
			}
			n++
		}
		if n == 0 {
			return func() { c.wr.Int(0) }, nil
		}
		return func() { c.wr.Int(int64(n)) }, t.JSONPut(0, doc, f)
	})
}

// JSON.TOGGLE key [path]: flips booleans; per match 1/0, nil otherwise.
func (c *conn) cmdJSONToggle(cmd *Command) {
	path, err := jsonOptPath(cmd.Args, 2)
	if err != nil {
		c.jsonErr(err)
		return
	}
	c.jsonEach(cmd.Args[1], path, true, true, func(_ **jsonpath.Value, n jsonpath.Node) (*int64, bool, error) {
		if n.V.Kind != jsonpath.Bool {
			return nil, false, nil
		}
		n.V.B = !n.V.B
		if n.V.B {
			return intp(1), true, nil
		}
		return intp(0), true, nil
	})
}

// JSON.OBJKEYS key [path]
func (c *conn) cmdJSONObjKeys(cmd *Command) {
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
		keys := func(v *jsonpath.Value) {
			if v.Kind != jsonpath.Object {
				c.wr.Null()
				return
			}
			c.wr.Array(len(v.O))
			for _, m := range v.O {
				c.wr.BulkString(m.Key)
			}
		}
		if path.Legacy() {
			if len(vals) == 0 {
				return c.wr.Null, nil
			}
			return func() { keys(vals[0]) }, nil
		}
		return func() {
			c.wr.Array(len(vals))
			for _, v := range vals {
				keys(v)
			}
		}, nil
	})
}

// JSON.ARRPOP key [path [index]]: the popped values as JSON text.
func (c *conn) cmdJSONArrPop(cmd *Command) {
	args := cmd.Args
	if len(args) > 4 {
		c.wrongArgs()
		return
	}
	index := int64(-1)
	if len(args) == 4 {
		var ok bool
		if index, ok = parseArgInt(args[3]); !ok {
			c.err(errNotInteger)
			return
		}
	}
	pathArg := []byte("$")
	if len(args) > 2 {
		pathArg = args[2]
	}
	path, err := jsonPath(pathArg)
	if err != nil {
		c.jsonErr(err)
		return
	}
	f := c.jsonFormat()
	c.jsonTxn(args[1], func(t *engine.Txn) (func(), error) {
		doc, _, ok, err := t.JSONGet(0)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, replyError(errJSONNotFound)
		}
		var popped [][]byte
		changed := false
		for _, n := range path.Query(doc) {
			v := n.V
			if v.Kind != jsonpath.Array || len(v.A) == 0 {
				popped = append(popped, nil)
				continue
			}
			l := int64(len(v.A))
			i := index
			if i < 0 {
				i = max(l+i, 0)
			}
			i = min(i, l-1)
			popped = append(popped, jsonpath.AppendCompact(nil, v.A[i]))
			v.A = append(v.A[:i], v.A[i+1:]...)
			changed = true
		}
		if changed {
			if err := t.JSONPut(0, doc, f); err != nil {
				return nil, err
			}
		}
		bulk := func(b []byte) {
			if b == nil {
				c.wr.Null()
			} else {
				c.wr.Bulk(b)
			}
		}
		if path.Legacy() {
			if len(popped) == 0 {
				return c.wr.Null, nil
			}
			return func() { bulk(popped[0]) }, nil
		}
		return func() {
			c.wr.Array(len(popped))
			for _, b := range popped {
				bulk(b)
			}
		}, nil
	})
}

// JSON.NUMINCRBY key path value
func (c *conn) cmdJSONNumIncrBy(cmd *Command) { c.jsonNumOp(cmd, false) }

// JSON.NUMMULTBY key path value
func (c *conn) cmdJSONNumMultBy(cmd *Command) { c.jsonNumOp(cmd, true) }

// jsonNumOp answers the new values as JSON text: an array (null where a
// match is not a number) for a JSONPath, the value for a legacy path.
// Integers stay integers while the result fits int64.
func (c *conn) jsonNumOp(cmd *Command, mul bool) {
	args := cmd.Args
	num, err := jsonpath.Parse(args[3])
	if err != nil || !num.IsNumber() {
		c.err(errJSONNotNumber)
		return
	}
	path, err := jsonPath(args[2])
	if err != nil {
		c.jsonErr(err)
		return
	}
	f := c.jsonFormat()
	c.jsonTxn(args[1], func(t *engine.Txn) (func(), error) {
		doc, _, ok, err := t.JSONGet(0)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, replyError(errJSONNotFound)
		}
		out := jsonpath.NewArray(nil)
		changed := false
		for _, n := range path.Query(doc) {
			if !n.V.IsNumber() {
				out.A = append(out.A, jsonpath.NewNull())
				continue
			}
			r := numOp(n.V, num, mul)
			if r.Kind == jsonpath.Float && (math.IsInf(r.F, 0) || math.IsNaN(r.F)) {
				return nil, replyError("ERR Invalid argument: result is an overflow or NaN")
			}
			*n.V = *r
			out.A = append(out.A, r)
			changed = true
		}
		if changed {
			if err := t.JSONPut(0, doc, f); err != nil {
				return nil, err
			}
		}
		var text []byte
		if path.Legacy() {
			if len(out.A) == 0 || out.A[0].Kind == jsonpath.Null {
				return nil, replyError("ERR Path '" + path.String() + "' does not exist or does not hold a number")
			}
			text = jsonpath.AppendCompact(nil, out.A[len(out.A)-1])
		} else {
			text = jsonpath.AppendCompact(nil, out)
		}
		return func() { c.wr.Bulk(text) }, nil
	})
}

// numOp is a+b or a*b: exact when both are integers and the result fits
// int64, a double otherwise.
func numOp(a, b *jsonpath.Value, mul bool) *jsonpath.Value {
	if a.Kind == jsonpath.Int && b.Kind == jsonpath.Int {
		x, y := a.I, b.I
		if mul {
			if x == 0 || y == 0 {
				return jsonpath.NewInt(0)
			}
			p := x * y
			if p/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64) {
				return jsonpath.NewInt(p)
			}
		} else {
			s := x + y
			if (s > x) == (y > 0) {
				return jsonpath.NewInt(s)
			}
		}
	}
	x, y := a.Float64(), b.Float64()
	if mul {
		return jsonpath.NewFloat(x * y)
	}
	return jsonpath.NewFloat(x + y)
}
