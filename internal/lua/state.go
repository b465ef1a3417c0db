// Package lua is the Lua 5.1 environment of Redis scripts and functions on
// gopher-lua: the sandbox (the libraries Redis loads, read-only globals),
// the cjson, cmsgpack, struct and bit libraries with Redis's semantics,
// math.random on Redis's generator, and the conversions between Lua values
// and RESP replies.
package lua

import (
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// Errors raised by the sandbox, as Redis 7 words them.
const (
	errReadonly      = "Attempt to modify a readonly table"
	errNoGlobalFmt   = "Script attempted to access nonexistent global variable '%s'"
	errProtectedMeta = "cannot change a protected metatable"
)

// baseAllowed are the base library's functions Redis 7 leaves to scripts.
var baseAllowed = []string{
	"assert", "collectgarbage", "error", "gcinfo", "getmetatable", "ipairs",
	"load", "loadstring", "next", "pairs", "pcall", "rawequal", "rawget",
	"rawset", "select", "setmetatable", "tonumber", "tostring", "type",
	"unpack", "xpcall",
}

// State is one Lua interpreter set up as Redis sets up its own: the
// libraries scripts may use, all of them and the globals read-only. Code
// compiled by Compile runs with Env as its globals; writing a global fails
// with Redis's error, reading a missing one too.
// Not safe for concurrent use.
type State struct {
	L *glua.LState
	// Env is the globals table scripts see (a read-only proxy).
	Env *glua.LTable
	// globals holds the real globals behind Env.
	globals *glua.LTable
	// Redis is the real "redis" library table, filled by the caller.
	Redis    *glua.LTable
	readonly map[*glua.LTable]bool
	rand     Rand48
	// maxAlloc bounds what one library call may allocate at once
	// (string.rep); 0: no bound. See SetMaxAlloc.
	maxAlloc int64
}

// ErrNoMemory is the error a script gets when it would allocate past its
// memory limit, as Lua words it.
const ErrNoMemory = "not enough memory"

// SetMaxAlloc bounds the size of a value one library call may build at
// once (string.rep): beyond it the call raises ErrNoMemory instead of
// allocating. n <= 0 removes the bound. Growth by many small steps is
// bounded by the caller (the script's memory watch).
func (s *State) SetMaxAlloc(n int64) { s.maxAlloc = n }

// NewState returns a sandboxed interpreter with base, table, string, math,
// coroutine, cjson, cmsgpack, struct and bit, and an empty "redis" table.
func NewState() *State {
	L := glua.NewState(glua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		fn   glua.LGFunction
	}{
		{glua.BaseLibName, glua.OpenBase},
		{glua.TabLibName, glua.OpenTable},
		{glua.StringLibName, glua.OpenString},
		{glua.MathLibName, glua.OpenMath},
		{glua.CoroutineLibName, glua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(glua.LString(lib.name))
		L.Call(1, 0)
	}
	s := &State{L: L, readonly: make(map[*glua.LTable]bool)}
	s.rand.Reset()
	real := L.G.Global
	s.globals = L.NewTable()
	for _, name := range baseAllowed {
		s.globals.RawSetString(name, real.RawGetString(name))
	}
	s.globals.RawSetString("_VERSION", real.RawGetString("_VERSION"))
	str := real.RawGetString("string").(*glua.LTable)
	str.RawSetString("rep", L.NewFunction(s.strRep))
	math := real.RawGetString("math").(*glua.LTable)
	math.RawSetString("random", L.NewFunction(s.mathRandom))
	math.RawSetString("randomseed", L.NewFunction(s.mathRandomSeed))
	for _, name := range []string{"table", "string", "math", "coroutine"} {
		s.globals.RawSetString(name, s.protect(real.RawGetString(name).(*glua.LTable)))
	}
	s.globals.RawSetString("cjson", s.protect(OpenCjson(L)))
	s.globals.RawSetString("cmsgpack", s.protect(OpenCmsgpack(L)))
	s.globals.RawSetString("struct", s.protect(OpenStruct(L)))
	s.globals.RawSetString("bit", s.protect(OpenBit(L)))
	s.Redis = L.NewTable()
	s.globals.RawSetString("redis", s.protect(s.Redis))

	// Missing globals raise instead of reading as nil.
	missing := L.NewTable()
	missing.RawSetString("__index", L.NewFunction(func(L *glua.LState) int {
		L.RaiseError(errNoGlobalFmt, L.ToStringMeta(L.Get(2)).String())
		return 0
	}))
	L.SetMetatable(s.globals, missing)
	s.Env = s.protect(s.globals)
	s.globals.RawSetString("_G", s.Env)

	// The functions that could write through the proxies or give code the
	// real globals are replaced.
	s.globals.RawSetString("rawset", L.NewFunction(s.rawset))
	s.globals.RawSetString("loadstring", L.NewFunction(s.loadstring))
	s.globals.RawSetString("load", L.NewFunction(s.load))
	return s
}

// Close frees the interpreter.
func (s *State) Close() { s.L.Close() }

// SetGlobal sets a global the scripts see (KEYS, ARGV), bypassing the
// read-only protection.
func (s *State) SetGlobal(name string, v glua.LValue) { s.globals.RawSetString(name, v) }

// protect returns a read-only view of t: reads go to t, writes fail.
func (s *State) protect(t *glua.LTable) *glua.LTable {
	L := s.L
	proxy := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(func(L *glua.LState) int {
		L.RaiseError(errReadonly)
		return 0
	}))
	mt.RawSetString("__metatable", glua.LFalse)
	L.SetMetatable(proxy, mt)
	s.readonly[proxy] = true
	s.readonly[t] = true
	return proxy
}

// Protect makes a table read-only for scripts and returns its view.
func (s *State) Protect(t *glua.LTable) *glua.LTable { return s.protect(t) }

func (s *State) rawset(L *glua.LState) int {
	t := L.CheckTable(1)
	if s.readonly[t] {
		L.RaiseError(errReadonly)
	}
	k := L.CheckAny(2)
	v := L.CheckAny(3)
	t.RawSet(k, v)
	L.SetTop(1)
	return 1
}

func (s *State) loadstring(L *glua.LState) int {
	src := L.CheckString(1)
	name := L.OptString(2, src)
	fn, err := L.LoadString(src)
	if err != nil {
		L.Push(glua.LNil)
		L.Push(glua.LString(err.Error()))
		return 2
	}
	_ = name
	L.SetFEnv(fn, s.Env)
	L.Push(fn)
	return 1
}

func (s *State) load(L *glua.LState) int {
	if L.Get(1).Type() == glua.LTString {
		return s.loadstring(L)
	}
	reader := L.CheckFunction(1)
	var buf []byte
	for {
		L.Push(reader)
		L.Call(0, 1)
		v := L.Get(-1)
		L.Pop(1)
		if v == glua.LNil {
			break
		}
		str, ok := v.(glua.LString)
		if !ok {
			L.Push(glua.LNil)
			L.Push(glua.LString("reader function must return a string"))
			return 2
		}
		if str == "" {
			break
		}
		buf = append(buf, str...)
	}
	L.SetTop(0)
	L.Push(glua.LString(buf))
	return s.loadstring(L)
}

// Compile compiles source under chunk name name ("user_script") into a
// function whose globals are Env.
func (s *State) Compile(source, name string) (*glua.LFunction, error) {
	fn, err := s.L.Load(strings.NewReader(source), name)
	if err != nil {
		return nil, err
	}
	s.L.SetFEnv(fn, s.Env)
	return fn, nil
}

// NewEnv returns a second globals table like Env (for code that must not
// share Env, such as function libraries): the proxy code sees, and the
// table behind it, which the caller may change with RawSetString.
func (s *State) NewEnv() (env, backing *glua.LTable) {
	L := s.L
	backing = L.NewTable()
	s.globals.ForEach(func(k, v glua.LValue) { backing.RawSet(k, v) })
	L.SetMetatable(backing, L.GetMetatable(s.globals))
	env = s.protect(backing)
	backing.RawSetString("_G", env)
	return env, backing
}

// CompileIn is Compile with env as the globals.
func (s *State) CompileIn(source, name string, env *glua.LTable) (*glua.LFunction, error) {
	fn, err := s.L.Load(strings.NewReader(source), name)
	if err != nil {
		return nil, err
	}
	s.L.SetFEnv(fn, env)
	return fn, nil
}

// Strict makes reading a missing field of t raise the error of a missing
// global, as Redis's restricted tables do.
func (s *State) Strict(t *glua.LTable) {
	s.L.SetMetatable(t, s.L.GetMetatable(s.globals))
}

// strRep is string.rep with the allocation bounded by maxAlloc.
func (s *State) strRep(L *glua.LState) int {
	str := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || len(str) == 0 {
		L.Push(glua.LString(""))
		return 1
	}
	if s.maxAlloc > 0 && int64(n) > s.maxAlloc/int64(len(str)) {
		L.RaiseError(ErrNoMemory)
	}
	L.Push(glua.LString(strings.Repeat(str, n)))
	return 1
}
