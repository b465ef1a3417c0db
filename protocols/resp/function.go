package resp

import (
	"context"
	"encoding/binary"
	"sort"
	"strings"
	"time"

	"github.com/gpucache/gpucache/engine"
	glua "github.com/yuin/gopher-lua"
)

// Redis 7 functions: FUNCTION LOAD|DELETE|LIST|FLUSH|DUMP|RESTORE|STATS|KILL
// and FCALL/FCALL_RO. A library is Lua code whose first line is
// "#!lua name=<library>"; loading it runs it with a "redis" table that only
// registers functions (redis.register_function) and logs; its functions
// then run with the full redis API. Library code is kept as a propagate
// record (lua_func_code_<name>), so functions survive a restart.

type luaLibrary struct {
	name  string
	code  string
	funcs []*luaFunction
}

type luaFunction struct {
	name     string
	lib      *luaLibrary
	fn       *glua.LFunction
	desc     string
	hasDesc  bool
	flags    []string
	noWrites bool
}

var functionFlags = []string{"no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"}

const (
	errFunctionNotFound = "ERR Function not found"
	errLibNotFound      = "ERR Library not found"
	errBadName          = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
	rdbOpcodeFunction2  = 245
	functionLoadTimeout = 500 * time.Millisecond
	rdbVersion          = 10
)

func (sc *scripting) initFunctions(s *Server, fill func(*glua.LTable, bool)) {
	L := sc.st.L
	sc.fenv, sc.fglobals = sc.st.NewEnv()
	full := L.NewTable()
	fill(full, true)
	load := L.NewTable()
	fill(load, false)
	sc.st.Strict(load)
	load.RawSetString("register_function", L.NewFunction(sc.registerFunction))
	sc.redisFull = sc.st.Protect(full)
	sc.redisLoad = sc.st.Protect(load)
	sc.fglobals.RawSetString("redis", sc.redisFull)
	// The libraries stored before a restart.
	err := s.eng.ScanPropagate([]byte(libKeyPrefix), func(name, code []byte) bool {
		if _, errText := sc.loadLibrary(string(code), true); errText != "" {
			s.logf("lua: stored library %q does not load: %s", name[len(libKeyPrefix):], errText)
		}
		return true
	})
	if err != nil {
		s.logf("lua: cannot read the stored function libraries: %v", err)
	}
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// libraryHeader reads the "#!lua name=<lib>" first line.
func libraryHeader(code string) (string, string) {
	if !strings.HasPrefix(code, "#!") {
		return "", "ERR Missing library metadata"
	}
	line, _, _ := strings.Cut(code, "\n")
	fields := strings.Fields(line[2:])
	if len(fields) == 0 || !strings.EqualFold(fields[0], "lua") {
		return "", "ERR Engine '" + firstField(fields) + "' not found"
	}
	name := ""
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != "name" {
			return "", "ERR Invalid metadata value given: " + f
		}
		name = v
	}
	if name == "" {
		return "", "ERR Library name was not given"
	}
	if !validName(name) {
		return "", "ERR " + errBadName
	}
	return name, ""
}

// loadLibrary compiles and runs a library's code and installs its
// functions, replacing a library of the same name when replace is set.
// It does not store the code.
func (sc *scripting) loadLibrary(code string, replace bool) (*luaLibrary, string) {
	name, errText := libraryHeader(code)
	if errText != "" {
		return nil, errText
	}
	old := sc.libs[name]
	if old != nil && !replace {
		return nil, "ERR Library '" + name + "' already exists"
	}
	_, rest, _ := strings.Cut(code, "\n")
	fn, err := sc.st.CompileIn("\n"+rest, "user_function", sc.fenv)
	if err != nil {
		return nil, "ERR Error compiling function: " + compileError(err, "user_function")
	}
	lib := &luaLibrary{name: name, code: code}
	L := sc.st.L
	sc.loading = lib
	sc.fglobals.RawSetString("redis", sc.redisLoad)
	// Library code gets half a second, as in Redis.
	ctx, cancel := context.WithTimeout(context.Background(), functionLoadTimeout)
	L.SetContext(ctx)
	L.Push(fn)
	err = L.PCall(0, 0, nil)
	L.RemoveContext()
	timedOut := ctx.Err() != nil
	cancel()
	sc.fglobals.RawSetString("redis", sc.redisFull)
	sc.loading = nil
	if err != nil {
		msg := err.Error()
		if timedOut {
			msg = "ERR FUNCTION LOAD timeout"
		} else if ae, ok := err.(*glua.ApiError); ok {
			if t, ok := ae.Object.(*glua.LTable); ok {
				msg, _ = t.RawGetString("err").(glua.LString).String(), true
			} else {
				msg = "ERR " + ae.Object.String()
			}
		}
		return nil, "ERR Error registering functions: " + msg
	}
	if len(lib.funcs) == 0 {
		return nil, "ERR No functions registered"
	}
	for _, f := range lib.funcs {
		if other := sc.funcs[f.name]; other != nil && other.lib != old {
			return nil, "ERR Function " + f.name + " already exists"
		}
	}
	if old != nil {
		sc.removeLibrary(old)
	}
	sc.libs[name] = lib
	for _, f := range lib.funcs {
		sc.funcs[f.name] = f
	}
	return lib, ""
}

func (sc *scripting) removeLibrary(lib *luaLibrary) {
	for _, f := range lib.funcs {
		if sc.funcs[f.name] == f {
			delete(sc.funcs, f.name)
		}
	}
	delete(sc.libs, lib.name)
}

// registerFunction is redis.register_function while a library loads.
func (sc *scripting) registerFunction(L *glua.LState) int {
	lib := sc.loading
	raise := func(msg string) {
		t := L.NewTable()
		t.RawSetString("err", glua.LString("ERR "+msg))
		L.Error(t, 1)
	}
	if lib == nil {
		raise("redis.register_function can only be called on FUNCTION LOAD command")
	}
	f := &luaFunction{lib: lib}
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*glua.LTable)
		if !ok {
			raise("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		var failed string
		t.ForEach(func(k, v glua.LValue) {
			if failed != "" {
				return
			}
			switch k.String() {
			case "function_name":
				s, ok := v.(glua.LString)
				if !ok {
					failed = "function_name argument given to redis.register_function must be a string"
				}
				f.name = string(s)
			case "description":
				s, ok := v.(glua.LString)
				if !ok {
					failed = "description argument given to redis.register_function must be a string"
				}
				f.desc, f.hasDesc = string(s), true
			case "callback":
				fn, ok := v.(*glua.LFunction)
				if !ok {
					failed = "callback argument given to redis.register_function must be a function"
				}
				f.fn = fn
			case "flags":
				ft, ok := v.(*glua.LTable)
				if !ok {
					failed = "flags argument to redis.register_function must be a table representing function flags"
					return
				}
				for i := 1; i <= ft.Len(); i++ {
					name, _ := ft.RawGetInt(i).(glua.LString)
					known := false
					for _, k := range functionFlags {
						if string(name) == k {
							known = true
						}
					}
					if !known {
						failed = "unknown flag given"
						return
					}
					f.flags = append(f.flags, string(name))
					if name == "no-writes" {
						f.noWrites = true
					}
				}
			default:
				failed = "unknown argument given to redis.register_function"
			}
		})
		if failed != "" {
			raise(failed)
		}
		if f.name == "" {
			raise("redis.register_function must get a function name argument")
		}
		if f.fn == nil {
			raise("redis.register_function must get a callback argument")
		}
	case 2:
		name, ok := L.Get(1).(glua.LString)
		if !ok {
			raise("first argument to redis.register_function must be a string")
		}
		fn, ok := L.Get(2).(*glua.LFunction)
		if !ok {
			raise("second argument to redis.register_function must be a function")
		}
		f.name, f.fn = string(name), fn
	default:
		raise("wrong number of arguments to redis.register_function")
	}
	if !validName(f.name) {
		raise(errBadName)
	}
	for _, other := range lib.funcs {
		if other.name == f.name {
			raise("Function already exists in the library")
		}
	}
	lib.funcs = append(lib.funcs, f)
	return 0
}

func (c *conn) fcallCommand(cmd *Command, readonly bool) {
	defer c.s.lua.scriptDone(c)
	args := cmd.Args
	sc := c.lua()
	f := sc.funcs[string(args[1])]
	if f == nil {
		c.err(errFunctionNotFound)
		return
	}
	numKeys, ok := parseNumKeys(c, args)
	if !ok {
		return
	}
	if readonly && !f.noWrites {
		c.err(errWriteFlagRO)
		return
	}
	L := sc.st.L
	keys := luaArray(L, args[3:3+numKeys])
	argv := luaArray(L, args[3+numKeys:])
	c.runScript(sc, f.name, true, readonly || f.noWrites, f.fn, keys, argv)
}

func (c *conn) functionCommand(cmd *Command) {
	args := cmd.Args
	sub := strings.ToLower(string(args[1]))
	sc := c.lua()
	wrongArgs := func() { c.err("ERR wrong number of arguments for 'function|" + sub + "' command") }
	switch sub {
	case "load":
		replace := false
		if len(args) == 4 && strings.EqualFold(string(args[2]), "replace") {
			replace = true
		} else if len(args) == 4 {
			c.err("ERR Unknown option given: " + string(args[2]))
			return
		} else if len(args) != 3 {
			wrongArgs()
			return
		}
		code := string(args[len(args)-1])
		lib, errText := sc.loadLibrary(code, replace)
		if errText != "" {
			c.err(errText)
			return
		}
		if err := c.eng.SetPropagate([]byte(libKeyPrefix+lib.name), []byte(code)); err != nil {
			c.replyErr(err)
			return
		}
		c.dirty = true
		c.wr.BulkString(lib.name)
	case "delete":
		if len(args) != 3 {
			wrongArgs()
			return
		}
		lib := sc.libs[string(args[2])]
		if lib == nil {
			c.err(errLibNotFound)
			return
		}
		if err := c.eng.DeletePropagate([]byte(libKeyPrefix + lib.name)); err != nil {
			c.replyErr(err)
			return
		}
		sc.removeLibrary(lib)
		c.dirty = true
		c.wr.OK()
	case "flush":
		if len(args) > 3 || len(args) == 3 && !strings.EqualFold(string(args[2]), "sync") && !strings.EqualFold(string(args[2]), "async") {
			c.err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
			return
		}
		if err := c.flushLibraries(sc); err != nil {
			c.replyErr(err)
			return
		}
		c.wr.OK()
	case "list":
		c.functionList(sc, args[2:])
	case "listfunc":
		// KVRocks: the functions (FUNCNAME: those starting with a prefix)
		// and their libraries.
		prefix := ""
		if len(args) == 4 && strings.EqualFold(string(args[2]), "funcname") {
			prefix = string(args[3])
		} else if len(args) != 2 {
			c.syntaxErr()
			return
		}
		names := make([]string, 0, len(sc.funcs))
		for name := range sc.funcs {
			if strings.HasPrefix(name, prefix) {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		c.wr.Array(len(names))
		for _, name := range names {
			c.wr.Map(2)
			c.wr.BulkString("function_name")
			c.wr.BulkString(name)
			c.wr.BulkString("from_library")
			c.wr.BulkString(sc.funcs[name].lib.name)
		}
	case "listlib":
		// KVRocks: one library's functions.
		if len(args) != 3 {
			c.err("ERR expect a library name")
			return
		}
		lib := sc.libs[string(args[2])]
		if lib == nil {
			c.err("ERR The library is not found or not loaded from storage")
			return
		}
		c.wr.Map(3)
		c.wr.BulkString("library_name")
		c.wr.BulkString(lib.name)
		c.wr.BulkString("engine")
		c.wr.BulkString("lua")
		c.wr.Simple("functions")
		c.wr.Array(len(lib.funcs))
		for _, f := range lib.funcs {
			c.wr.BulkString(f.name)
		}
	case "stats":
		if len(args) != 2 {
			wrongArgs()
			return
		}
		c.wr.Map(2)
		c.wr.BulkString("running_script")
		// Scripts run alone: none is running when this runs.
		c.wr.Null()
		c.wr.BulkString("engines")
		c.wr.Map(1)
		c.wr.BulkString("LUA")
		c.wr.Map(2)
		c.wr.BulkString("libraries_count")
		c.wr.Int(int64(len(sc.libs)))
		c.wr.BulkString("functions_count")
		c.wr.Int(int64(len(sc.funcs)))
	case "kill":
		if len(args) != 2 {
			wrongArgs()
			return
		}
		c.err(errNotBusy)
	case "dump":
		if len(args) != 2 {
			wrongArgs()
			return
		}
		c.wr.Bulk(sc.dump())
	case "restore":
		c.functionRestore(sc, args)
	case "help":
		c.helpReply("FUNCTION", []string{
			"LOAD [REPLACE] <FUNCTION CODE>",
			"    Create a new library with the given library name and code.",
			"DELETE <LIBRARY NAME>",
			"    Delete the given library.",
			"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
			"    Return general information on all the libraries:",
			"    * Library name",
			"    * The engine used to run the Library",
			"    * Library description",
			"    * Functions list",
			"    * Library code (if WITHCODE is given)",
			"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
			"STATS",
			"    Return information about the current function running:",
			"    * Function name",
			"    * Command used to run the function",
			"    * Duration in MS that the function is running",
			"    If no function is running, return nil",
			"    In addition, returns a list of available engines.",
			"KILL",
			"    Kill the current running function.",
			"FLUSH [ASYNC|SYNC]",
			"    Delete all the libraries.",
			"    When called without the optional mode argument, the behavior is determined by the",
			"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
			"    * ASYNC: Asynchronously flush the libraries.",
			"    * SYNC: Synchronously flush the libraries.",
			"DUMP",
			"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
			"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
			"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
			"    control how to handle existing libraries (default APPEND):",
			"    * FLUSH: delete all existing libraries.",
			"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
			"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
			"      libraries with the new libraries (notice that even on this option there is a chance of failure",
			"      in case of functions name collision with another library).",
		})
	default:
		c.err("ERR unknown subcommand '" + string(args[1]) + "'. Try FUNCTION HELP.")
	}
}

func (c *conn) flushLibraries(sc *scripting) error {
	names := make([][]byte, 0, len(sc.libs))
	for name := range sc.libs {
		names = append(names, []byte(libKeyPrefix+name))
	}
	if err := c.eng.DeletePropagate(names...); err != nil {
		return err
	}
	clear(sc.libs)
	clear(sc.funcs)
	c.dirty = true
	return nil
}

func (sc *scripting) sortedLibs() []*luaLibrary {
	libs := make([]*luaLibrary, 0, len(sc.libs))
	for _, l := range sc.libs {
		libs = append(libs, l)
	}
	sort.Slice(libs, func(i, j int) bool { return libs[i].name < libs[j].name })
	return libs
}

func (c *conn) functionList(sc *scripting, opts [][]byte) {
	withCode := false
	var pattern []byte
	for i := 0; i < len(opts); i++ {
		switch strings.ToLower(string(opts[i])) {
		case "withcode":
			withCode = true
		case "libraryname":
			if i+1 >= len(opts) {
				c.err("ERR library name argument was not given")
				return
			}
			i++
			pattern = opts[i]
		default:
			c.err("ERR Unknown argument " + string(opts[i]))
			return
		}
	}
	var libs []*luaLibrary
	for _, l := range sc.sortedLibs() {
		if pattern == nil || engine.MatchGlob(pattern, []byte(l.name)) {
			libs = append(libs, l)
		}
	}
	w := c.wr
	w.Array(len(libs))
	for _, l := range libs {
		if withCode {
			w.Map(4)
		} else {
			w.Map(3)
		}
		w.BulkString("library_name")
		w.BulkString(l.name)
		w.BulkString("engine")
		w.BulkString("LUA")
		w.BulkString("functions")
		w.Array(len(l.funcs))
		for _, f := range l.funcs {
			w.Map(3)
			w.BulkString("name")
			w.BulkString(f.name)
			w.BulkString("description")
			if f.hasDesc {
				w.BulkString(f.desc)
			} else {
				w.Null()
			}
			w.BulkString("flags")
			w.Set(len(f.flags))
			for _, fl := range f.flags {
				w.Simple(fl)
			}
		}
		if withCode {
			w.BulkString("library_code")
			w.BulkString(l.code)
		}
	}
}

// dump is FUNCTION DUMP's payload: each library as an RDB function record
// (opcode FUNCTION2, its code as an RDB string), then the RDB version and
// the CRC64 of all that, as Redis writes it.
func (sc *scripting) dump() []byte {
	var b []byte
	for _, l := range sc.sortedLibs() {
		b = append(b, rdbOpcodeFunction2)
		b = rdbAppendLen(b, uint64(len(l.code)))
		b = append(b, l.code...)
	}
	b = binary.LittleEndian.AppendUint16(b, rdbVersion)
	return binary.LittleEndian.AppendUint64(b, crc64Update(0, b))
}

func (c *conn) functionRestore(sc *scripting, args [][]byte) {
	if len(args) < 3 || len(args) > 4 {
		c.err("ERR wrong number of arguments for 'function|restore' command")
		return
	}
	policy := "append"
	if len(args) == 4 {
		policy = strings.ToLower(string(args[3]))
		if policy != "append" && policy != "replace" && policy != "flush" {
			c.err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	p := args[2]
	if len(p) < 10 {
		c.err(errDumpPayload)
		return
	}
	body, footer := p[:len(p)-8], p[len(p)-8:]
	if binary.LittleEndian.Uint16(body[len(body)-2:]) > rdbVersion || crc64Update(0, body) != binary.LittleEndian.Uint64(footer) {
		c.err(errDumpPayload)
		return
	}
	body = body[:len(body)-2]
	var codes []string
	for len(body) > 0 {
		if body[0] != rdbOpcodeFunction2 {
			c.err("ERR given type is not a function")
			return
		}
		d := &rdbDecoder{p: body[1:], b: &rdbBudget{left: int64(len(body)) << 8}}
		code, err := d.string()
		if err != nil {
			c.err("ERR Failed loading library")
			return
		}
		codes = append(codes, string(code))
		body = d.p
	}
	// Check every library first so that a failing payload changes nothing.
	names := map[string]bool{}
	for _, code := range codes {
		name, errText := libraryHeader(code)
		if errText != "" {
			c.err(errText)
			return
		}
		if policy == "append" && sc.libs[name] != nil {
			c.err("ERR Library " + name + " already exists")
			return
		}
		names[name] = true
	}
	if policy == "flush" {
		if err := c.flushLibraries(sc); err != nil {
			c.replyErr(err)
			return
		}
	}
	for _, code := range codes {
		lib, errText := sc.loadLibrary(code, policy != "append")
		if errText != "" {
			c.err(errText)
			return
		}
		if err := c.eng.SetPropagate([]byte(libKeyPrefix+lib.name), []byte(code)); err != nil {
			c.replyErr(err)
			return
		}
	}
	c.dirty = true
	c.wr.OK()
}
