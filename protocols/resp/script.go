package resp

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/internal/lua"
	glua "github.com/yuin/gopher-lua"
)

// Lua scripting as Redis 7 and KVRocks have it: EVAL and EVALSHA (and their
// _RO forms), SCRIPT, and the machinery FCALL shares (function.go).
//
// One interpreter serves the server (internal/lua sets it up as Redis does:
// read-only globals, the allowed libraries only). Every script command is
// flagged exclusive, so a script runs alone under the work guard
// (exclusive.go) and redis.call runs the command handlers directly. A script
// that runs past lua-time-limit (busy-reply-threshold) makes every other
// client's command answer -BUSY until it ends or SCRIPT KILL (FUNCTION KILL)
// stops it; a script that wrote cannot be killed.
//
// Scripts loaded with SCRIPT LOAD and function libraries are kept as
// propagate records in the engine, as KVRocks keeps them in its propagate
// column family: they survive a restart, EVALSHA finds a stored script after
// one, and FLUSHALL does not touch them.

const (
	scriptKeyPrefix = "lua_f_"         // + sha1 -> script body
	libKeyPrefix    = "lua_func_code_" // + library name -> library code

	defaultScriptTimeLimit = 5 * time.Second

	errNoScript          = "NOSCRIPT No matching script. Please use EVAL."
	errNotBusy           = "NOTBUSY No scripts in execution right now."
	errBusyEval          = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	errBusyFunction      = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	errUnkillable        = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	errScriptKilled      = "ERR Script killed by user with SCRIPT KILL..."
	errFunctionKilled    = "ERR Script killed by user with FUNCTION KILL..."
	errNegativeKeys      = "ERR Number of keys can't be negative"
	errTooManyKeys       = "ERR Number of keys can't be greater than number of args"
	errWriteFlagRO       = "ERR Can not execute a script with write flag using *_ro command."
	errScriptWriteRO     = "ERR Write commands are not allowed from read-only scripts."
	errScriptUnknownCmd  = "ERR Unknown Redis command called from script"
	errScriptNotAllowed  = "ERR This Redis command is not allowed from script"
	errScriptArity       = "ERR Wrong number of args calling Redis command from script"
	errScriptArgType     = "ERR Lua redis lib command arguments must be strings or integers"
	errScriptNoArgs      = "ERR Please specify at least one argument for this redis lib call"
	errScriptFlushOption = "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
)

// noScriptCommands may not run from a script (Redis's noscript flag).
var noScriptCommands = map[string]bool{
	"eval": true, "evalsha": true, "eval_ro": true, "evalsha_ro": true,
	"fcall": true, "fcall_ro": true, "script": true, "function": true,
	"multi": true, "exec": true, "discard": true, "watch": true, "unwatch": true,
	"subscribe": true, "psubscribe": true, "ssubscribe": true, "unsubscribe": true,
	"punsubscribe": true, "sunsubscribe": true, "monitor": true, "hello": true,
	"auth": true, "reset": true, "quit": true, "blob.hello": true,
	"client": true, "blpop": true, "brpop": true, "blmove": true, "brpoplpush": true,
	"bzpopmin": true, "bzpopmax": true, "blmpop": true, "bzmpop": true, "xread": true,
	"xreadgroup": true, "wait": true,
}

func scriptCommands() []*cmdSpec {
	const ex = flagExclusive
	return []*cmdSpec{
		{name: "eval", arity: -3, flags: ex, first: 0, fn: func(c *conn, cmd *Command) { c.evalCommand(cmd, false, false) }},
		{name: "evalsha", arity: -3, flags: ex, first: 0, fn: func(c *conn, cmd *Command) { c.evalCommand(cmd, true, false) }},
		{name: "eval_ro", arity: -3, flags: ex | flagReadonly, first: 0, fn: func(c *conn, cmd *Command) { c.evalCommand(cmd, false, true) }},
		{name: "evalsha_ro", arity: -3, flags: ex | flagReadonly, first: 0, fn: func(c *conn, cmd *Command) { c.evalCommand(cmd, true, true) }},
		{name: "script", arity: -2, flags: ex, fn: (*conn).scriptCommand},
		{name: "function", arity: -2, flags: ex, fn: (*conn).functionCommand},
		{name: "fcall", arity: -3, flags: ex, first: 0, fn: func(c *conn, cmd *Command) { c.fcallCommand(cmd, false) }},
		{name: "fcall_ro", arity: -3, flags: ex | flagReadonly, first: 0, fn: func(c *conn, cmd *Command) { c.fcallCommand(cmd, true) }},
	}
}

// scripting is the server's Lua side. Everything but running (and the
// fields of a scriptRun that say so) is used only under the exclusive work
// guard, by the script commands.
type scripting struct {
	once    sync.Once
	st      *lua.State
	scripts map[string]*luaScript // sha1 -> compiled script
	cur     *scriptRun            // the script running now
	handler *glua.LFunction       // errorHandler

	// Functions (function.go).
	libs      map[string]*luaLibrary
	funcs     map[string]*luaFunction
	fenv      *glua.LTable // the globals functions see
	fglobals  *glua.LTable // behind fenv; "redis" is swapped while loading
	redisFull *glua.LTable // redis as functions see it when called
	redisLoad *glua.LTable // redis as library code sees it while loading
	loading   *luaLibrary  // the library FUNCTION LOAD is running

	// running is the script in progress, read by other clients' exec.
	running atomic.Pointer[scriptRun]
	// limit is lua-time-limit in nanoseconds (0: the default).
	limit atomic.Int64
}

// luaScript is a compiled EVAL script.
type luaScript struct {
	fn       *glua.LFunction
	noWrites bool // #!lua flags=no-writes
	shebang  bool
}

// scriptRun is one script or function call in progress.
type scriptRun struct {
	c        *conn
	name     string // sha1 or function name, for errors
	function bool
	readonly bool
	resp     int // protocol of redis.call replies (redis.setresp)
	start    time.Time

	done   chan struct{} // closed when the script returns
	busy   chan struct{} // closed when it runs past the time limit
	cancel context.CancelFunc

	mu     sync.Mutex
	wrote  bool
	killed bool

	errSource string // where the error being raised was, from the handler
	errLine   int
}

// lua returns the server's scripting state, set up on first use.
func (c *conn) lua() *scripting {
	sc := &c.s.lua
	sc.once.Do(func() { sc.init(c.s) })
	return sc
}

func (sc *scripting) init(s *Server) {
	sc.st = lua.NewState()
	sc.scripts = make(map[string]*luaScript)
	sc.libs = make(map[string]*luaLibrary)
	sc.funcs = make(map[string]*luaFunction)
	L := sc.st.L
	fill := func(t *glua.LTable, full bool) {
		t.RawSetString("log", L.NewFunction(sc.luaLog(s)))
		t.RawSetString("LOG_DEBUG", glua.LNumber(0))
		t.RawSetString("LOG_VERBOSE", glua.LNumber(1))
		t.RawSetString("LOG_NOTICE", glua.LNumber(2))
		t.RawSetString("LOG_WARNING", glua.LNumber(3))
		t.RawSetString("REDIS_VERSION", glua.LString(redisVersion))
		t.RawSetString("REDIS_VERSION_NUM", glua.LNumber(redisVersionNum()))
		t.RawSetString("setresp", L.NewFunction(sc.luaSetResp))
		if !full {
			return
		}
		t.RawSetString("call", L.NewFunction(func(L *glua.LState) int { return sc.luaCall(L, true) }))
		t.RawSetString("pcall", L.NewFunction(func(L *glua.LState) int { return sc.luaCall(L, false) }))
		t.RawSetString("sha1hex", L.NewFunction(luaSha1hex))
		t.RawSetString("error_reply", L.NewFunction(func(L *glua.LState) int { return luaSingleField(L, "err") }))
		t.RawSetString("status_reply", L.NewFunction(func(L *glua.LState) int { return luaSingleField(L, "ok") }))
		t.RawSetString("breakpoint", L.NewFunction(func(L *glua.LState) int { L.Push(glua.LFalse); return 1 }))
		t.RawSetString("debug", L.NewFunction(func(L *glua.LState) int { return 0 }))
		t.RawSetString("replicate_commands", L.NewFunction(func(L *glua.LState) int { L.Push(glua.LTrue); return 1 }))
		t.RawSetString("set_repl", L.NewFunction(func(L *glua.LState) int { return 0 }))
		for name, v := range map[string]int{"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3} {
			t.RawSetString(name, glua.LNumber(v))
		}
	}
	fill(sc.st.Redis, true)
	sc.initFunctions(s, fill)
}

func redisVersionNum() int {
	n := 0
	for _, p := range strings.SplitN(redisVersion, ".", 3) {
		v, _ := strconv.Atoi(p)
		n = n<<8 | v
	}
	return n
}

// SetScriptTimeLimit sets lua-time-limit (busy-reply-threshold): how long
// a script runs before other clients get -BUSY and SCRIPT KILL may stop it.
func (s *Server) SetScriptTimeLimit(d time.Duration) {
	s.lua.limit.Store(int64(max(d, time.Nanosecond)))
}

// timeLimit is lua-time-limit, 5 s unless set.
func (sc *scripting) timeLimit() time.Duration {
	if d := sc.limit.Load(); d > 0 {
		return time.Duration(d)
	}
	return defaultScriptTimeLimit
}

func sha1hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// raiseErr raises an error table {err="ERR msg"}, as Redis's luaPushError
// and luaError do: the reply carries no position prefix.
func raiseErr(L *glua.LState, msg string) {
	t := L.NewTable()
	t.RawSetString("err", glua.LString("ERR "+msg))
	L.Error(t, 1)
}

func luaSha1hex(L *glua.LState) int {
	if L.GetTop() != 1 {
		raiseErr(L, "wrong number of arguments")
	}
	L.Push(glua.LString(sha1hex([]byte(L.ToString(1)))))
	return 1
}

// luaSingleField is redis.error_reply and redis.status_reply: a table with
// the one field (an error's leading "-" dropped).
func luaSingleField(L *glua.LState, field string) int {
	t := L.NewTable()
	s, ok := L.Get(1).(glua.LString)
	switch {
	case L.GetTop() != 1 || !ok:
		t.RawSetString("err", glua.LString("ERR wrong number or type of arguments"))
	case field == "err":
		t.RawSetString(field, glua.LString(strings.TrimPrefix(string(s), "-")))
	default:
		t.RawSetString(field, s)
	}
	L.Push(t)
	return 1
}

func (sc *scripting) luaLog(s *Server) glua.LGFunction {
	return func(L *glua.LState) int {
		argc := L.GetTop()
		if argc < 2 {
			raiseErr(L, "redis.log() requires two arguments or more.")
		}
		lvl, ok := L.Get(1).(glua.LNumber)
		if !ok {
			raiseErr(L, "First argument must be a number (log level).")
		}
		if lvl < 0 || lvl > 3 {
			raiseErr(L, "Invalid debug level.")
		}
		var b strings.Builder
		for i := 2; i <= argc; i++ {
			if i > 2 {
				b.WriteByte(' ')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		if lvl >= 1 {
			s.logf("[Lua] %s", b.String())
		}
		return 0
	}
}

func (sc *scripting) luaSetResp(L *glua.LState) int {
	if L.GetTop() != 1 {
		raiseErr(L, "redis.setresp() requires one argument.")
	}
	n, _ := L.Get(1).(glua.LNumber)
	if n != 2 && n != 3 {
		raiseErr(L, "RESP version must be 2 or 3.")
	}
	if sc.cur != nil {
		sc.cur.resp = int(n)
	}
	return 0
}

// luaCall is redis.call (raise) and redis.pcall: it runs a command's handler
// directly (the script already holds the work guard) with its reply
// captured and converted to Lua.
func (sc *scripting) luaCall(L *glua.LState, raise bool) int {
	run := sc.cur
	fail := func(msg string) int {
		t := L.NewTable()
		t.RawSetString("err", glua.LString(msg))
		if raise {
			L.Error(t, 1)
		}
		L.Push(t)
		return 1
	}
	if run == nil {
		return fail("ERR redis.call is only available to a running script")
	}
	argc := L.GetTop()
	if argc == 0 {
		return fail(errScriptNoArgs)
	}
	args := make([][]byte, argc)
	for i := 1; i <= argc; i++ {
		switch v := L.Get(i).(type) {
		case glua.LString:
			args[i-1] = []byte(v)
		case glua.LNumber:
			args[i-1] = strconv.AppendFloat(nil, float64(v), 'g', 17, 64)
		default:
			return fail(errScriptArgType)
		}
	}
	c := run.c
	spec := c.s.commands.lookup(args[0])
	if spec == nil {
		return fail(errScriptUnknownCmd)
	}
	if noScriptCommands[spec.name] || spec.flags&flagExclusive != 0 {
		return fail(errScriptNotAllowed)
	}
	if !spec.arityOK(argc) {
		return fail(errScriptArity)
	}
	if spec.flags&flagAdmin != 0 && !c.admin {
		return fail(errAdminRequired)
	}
	if c.s.cluster != nil {
		if msg := c.clusterScriptCheck(spec, args); msg != "" {
			return fail(msg)
		}
	}
	write := spec.flags&flagWrite != 0
	if write && run.readonly {
		return fail(errScriptWriteRO)
	}
	run.mu.Lock()
	if run.killed {
		run.mu.Unlock()
		L.RaiseError("%s", strings.TrimPrefix(errScriptKilled, "ERR "))
	}
	if write {
		run.wrote = true
	}
	run.mu.Unlock()
	reply := c.callHandler(spec, args, run.resp)
	v, _, err := lua.ReplyToLua(L, reply)
	if err != nil {
		return fail("ERR the reply of " + spec.name + " could not be read")
	}
	if msg, ok := lua.ErrorField(v); ok && raise {
		return fail(msg)
	}
	L.Push(v)
	return 1
}

// callHandler runs spec's handler for args on c with its reply written to
// a scratch writer in protocol proto, and returns the reply.
func (c *conn) callHandler(spec *cmdSpec, args [][]byte, proto int) []byte {
	var buf bytes.Buffer
	saved, savedProto := c.wr, c.proto
	sw := NewWriter(&buf, 512)
	sw.SetProto(proto)
	c.wr, c.proto = sw, proto
	defer func() { c.wr, c.proto = saved, savedProto }()
	cmd := &Command{Args: args}
	spec.fn(c, cmd)
	sw.Flush()
	return buf.Bytes()
}

// parseNumKeys reads EVAL's and FCALL's numkeys against the arguments.
func parseNumKeys(c *conn, args [][]byte) (int, bool) {
	n, err := strconv.ParseInt(string(args[2]), 10, 64)
	if err != nil {
		c.err(errNotInteger)
		return 0, false
	}
	if n < 0 {
		c.err(errNegativeKeys)
		return 0, false
	}
	if n > int64(len(args)-3) {
		c.err(errTooManyKeys)
		return 0, false
	}
	return int(n), true
}

func (c *conn) evalCommand(cmd *Command, bySha, readonly bool) {
	defer c.s.lua.scriptDone(c)
	args := cmd.Args
	numKeys, ok := parseNumKeys(c, args)
	if !ok {
		return
	}
	sc := c.lua()
	var sha string
	if bySha {
		sha = strings.ToLower(string(args[1]))
	} else {
		sha = sha1hex(args[1])
	}
	s := sc.scripts[sha]
	if s == nil {
		body := args[1]
		if bySha {
			if len(sha) != 40 {
				c.err(errNoScript)
				return
			}
			stored, err := c.eng.GetPropagate([]byte(scriptKeyPrefix + sha))
			if err != nil {
				c.err(errNoScript)
				return
			}
			body = stored
		}
		var errText string
		if s, errText = sc.compile(string(body)); s == nil {
			c.err(errText)
			return
		}
		sc.scripts[sha] = s
	}
	if readonly && s.shebang && !s.noWrites {
		c.err(errWriteFlagRO)
		return
	}
	keys, argv := args[3:3+numKeys], args[3+numKeys:]
	L := sc.st.L
	sc.st.SetGlobal("KEYS", luaArray(L, keys))
	sc.st.SetGlobal("ARGV", luaArray(L, argv))
	c.runScript(sc, sha, false, readonly || s.noWrites, s.fn)
	sc.st.SetGlobal("KEYS", glua.LNil)
	sc.st.SetGlobal("ARGV", glua.LNil)
}

func luaArray(L *glua.LState, items [][]byte) *glua.LTable {
	t := L.CreateTable(len(items), 0)
	for i, it := range items {
		t.RawSetInt(i+1, glua.LString(it))
	}
	return t
}

// compile compiles an EVAL script, with its optional "#!lua flags=..."
// first line; on failure it returns the error reply.
func (sc *scripting) compile(body string) (*luaScript, string) {
	s := &luaScript{}
	if strings.HasPrefix(body, "#!") {
		line, rest, _ := strings.Cut(body, "\n")
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.EqualFold(fields[0], "#!lua") {
			return nil, "ERR Unexpected engine in script shebang: " + firstField(fields)
		}
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			if k != "flags" {
				return nil, "ERR Unknown lua shebang option: " + k
			}
			for _, flag := range strings.Split(v, ",") {
				switch flag {
				case "no-writes":
					s.noWrites = true
				case "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys", "":
				default:
					return nil, "ERR Unexpected flag in script shebang: " + flag
				}
			}
		}
		s.shebang = true
		// The first line stays, empty, so that line numbers hold.
		body = "\n" + rest
	}
	fn, err := sc.st.Compile(body, "user_script")
	if err != nil {
		return nil, "ERR Error compiling script (new function): " + compileError(err, "user_script")
	}
	s.fn = fn
	return s, ""
}

func firstField(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// compileError words a gopher-lua compile error as Lua's "name:line: msg".
func compileError(err error, name string) string {
	if ce, ok := err.(*glua.CompileError); ok {
		return name + ":" + strconv.Itoa(ce.Line) + ": " + ce.Message
	}
	if ae, ok := err.(*glua.ApiError); ok {
		msg := ae.Object.String()
		// "<name> line:N(column:M) near 'x':   msg"
		if i := strings.Index(msg, " line:"); i >= 0 {
			rest := msg[i+len(" line:"):]
			j := strings.IndexByte(rest, '(')
			k := strings.Index(rest, "near")
			if j > 0 && k > 0 {
				detail := strings.TrimSpace(rest[k:])
				if c := strings.Index(detail, ":"); c > 0 {
					near := strings.TrimSpace(detail[:c])
					what := strings.TrimSpace(detail[c+1:])
					return name + ":" + rest[:j] + ": " + what + " " + near
				}
			}
		}
		return msg
	}
	return err.Error()
}

// runScript calls fn (with its arguments pushed after it by the caller
// when run.function) and writes the reply. It is the one place where a
// script's effects begin and end: a grouping of its writes into one engine
// batch (as EXEC does) starts and commits here.
func (c *conn) runScript(sc *scripting, name string, function, readonly bool, fn *glua.LFunction, fnArgs ...glua.LValue) {
	L := sc.st.L
	run := sc.running.Load()
	if run == nil || run.c != c {
		// Not announced by scriptGate: run by a handler directly (EXEC's
		// queue). It is announced now unless another client's script is,
		// waiting for the guard this one holds; the caller's scriptDone
		// ends it.
		run = &scriptRun{c: c, done: make(chan struct{}), busy: make(chan struct{})}
		sc.running.CompareAndSwap(nil, run)
	}
	run.name, run.function, run.readonly = name, function, readonly
	run.resp = 2
	run.start = time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	run.mu.Lock()
	run.cancel = cancel
	killed := run.killed
	run.mu.Unlock()
	if killed {
		cancel()
	}
	L.SetContext(ctx)
	sc.cur = run
	timer := time.AfterFunc(sc.timeLimit(), func() { close(run.busy) })
	if sc.handler == nil {
		sc.handler = L.NewFunction(sc.errorHandler)
	}
	L.Push(fn)
	for _, a := range fnArgs {
		L.Push(a)
	}
	// The script's writes are one engine group, as EXEC's are: committed
	// together when it ends, so a crash never leaves half of a script.
	// NB: a script that fails keeps what it wrote before the error (as
	// in Redis): the group commits either way.
	var err error
	base := c.eng
	gerr := base.Group(func(g *engine.Engine) error {
		c.eng = g
		err = L.PCall(len(fnArgs), 1, sc.handler)
		return nil
	})
	c.eng = base
	if gerr != nil {
		c.s.logf("resp: client id=%d addr=%s: a script's writes failed to commit, dropping its replies: %v", c.id, c.addr, gerr)
		c.failed = true
		c.nc.Close()
	}
	var result glua.LValue = glua.LNil
	if err == nil {
		result = L.Get(-1)
		L.Pop(1)
	}
	timer.Stop()
	L.RemoveContext()
	cancel()
	sc.cur = nil

	if run.wrote {
		c.dirty = true
	}
	if err != nil {
		c.wr.Error(run.errorText(err))
		return
	}
	c.wr.Raw(lua.AppendReply(c.scratch[:0], result, c.proto == 3, run.resp == 3))
}

// errorHandler runs where a script's error was raised, before the stack
// unwinds: it notes the script line it came from for the error reply.
func (sc *scripting) errorHandler(L *glua.LState) int {
	run := sc.cur
	for level := 1; run != nil; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, glua.LNil); err != nil {
			break
		}
		if dbg.What != "G" && dbg.Source != "" {
			run.errSource, run.errLine = dbg.Source, dbg.CurrentLine
			break
		}
	}
	return 1
}

// errorText is the error reply of a failed script, as Redis 7 words it:
// the error's text ("ERR " before a plain message), then where it was.
func (run *scriptRun) errorText(err error) string {
	run.mu.Lock()
	killed := run.killed
	run.mu.Unlock()
	var msg string
	ae, _ := err.(*glua.ApiError)
	switch {
	case killed:
		msg = errScriptKilled
		if run.function {
			msg = errFunctionKilled
		}
	case ae != nil:
		if text, ok := lua.ErrorField(ae.Object); ok {
			msg = text
		} else if ae.Type == glua.ApiErrorPanic {
			msg = "ERR " + ae.Object.String()
		} else {
			msg = "ERR " + ae.Object.String()
		}
	default:
		msg = "ERR " + err.Error()
	}
	if run.errSource != "" && run.errLine > 0 {
		msg += " script: " + run.name + ", on @" + run.errSource + ":" + strconv.Itoa(run.errLine) + "."
	}
	return msg
}

// isScriptCall reports whether spec runs a script (EVAL, FCALL and their
// forms).
func isScriptCall(spec *cmdSpec) bool {
	switch spec.name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	}
	return false
}

// scriptGate is called by exec, before the work guard, for every command
// while a script is announced and for exclusive commands (one atomic load
// and a flag test otherwise). A command arriving while a script is
// announced waits until it ends or runs past the time limit, and is then
// answered here (busyCheck). A script command announces itself (running)
// before it waits for the guard, so that the commands that arrive after it
// never block on the guard behind it. It reports whether the command was
// answered.
func (c *conn) scriptGate(spec *cmdSpec, cmd *Command) bool {
	sc := &c.s.lua
	for {
		if run := sc.running.Load(); run != nil {
			if c.busyCheck(run, spec, cmd) {
				return true
			}
			continue
		}
		if !isScriptCall(spec) {
			return false
		}
		// What exec does before the guard is done here, before the
		// announcement: from it to the handler nothing may return early,
		// or the announcement would never end.
		if !c.drainLarge() || !c.commitRun() {
			return true
		}
		run := &scriptRun{c: c, done: make(chan struct{}), busy: make(chan struct{})}
		if sc.running.CompareAndSwap(nil, run) {
			return false
		}
	}
}

// scriptDone ends what scriptGate (or runScript) announced for c.
func (sc *scripting) scriptDone(c *conn) {
	if run := sc.running.Load(); run != nil && run.c == c && sc.running.CompareAndSwap(run, nil) {
		close(run.done)
	}
}

// busyCheck waits until the script run ends or runs past the time limit;
// in the latter case the command is answered here: SCRIPT KILL and
// FUNCTION KILL act on the script, anything else gets -BUSY. It reports
// whether the command was answered.
func (c *conn) busyCheck(run *scriptRun, spec *cmdSpec, cmd *Command) bool {
	select {
	case <-run.done:
		return false
	case <-run.busy:
	}
	select {
	case <-run.done:
		return false
	default:
	}
	if len(cmd.Args) == 2 && strings.EqualFold(string(cmd.Args[1]), "kill") {
		switch spec.name {
		case "script":
			c.killScript(run, false)
			return true
		case "function":
			c.killScript(run, true)
			return true
		}
	}
	if run.function {
		c.err(errBusyFunction)
	} else {
		c.err(errBusyEval)
	}
	return true
}

// stop ends the script in progress, if any, whatever it did: the server is
// shutting down (SHUTDOWN NOSAVE, or a signal).
func (sc *scripting) stop() {
	if run := sc.running.Load(); run != nil {
		run.mu.Lock()
		run.killed = true
		if run.cancel != nil {
			run.cancel()
		}
		run.mu.Unlock()
	}
}

// killScript is SCRIPT KILL (function false) and FUNCTION KILL.
func (c *conn) killScript(run *scriptRun, function bool) {
	if run == nil {
		c.err(errNotBusy)
		return
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	switch {
	case run.wrote:
		c.err(errUnkillable)
	case !function && run.function:
		c.err(errBusyFunction)
	case function && !run.function:
		c.err(errBusyEval)
	default:
		run.killed = true
		if run.cancel != nil {
			run.cancel()
		}
		c.wr.OK()
	}
}

func (c *conn) scriptCommand(cmd *Command) {
	args := cmd.Args
	sub := strings.ToLower(string(args[1]))
	sc := c.lua()
	wrongArgs := func() { c.err("ERR wrong number of arguments for 'script|" + sub + "' command") }
	switch sub {
	case "load":
		if len(args) != 3 {
			wrongArgs()
			return
		}
		sha := sha1hex(args[2])
		if sc.scripts[sha] == nil {
			s, errText := sc.compile(string(args[2]))
			if s == nil {
				c.err(errText)
				return
			}
			sc.scripts[sha] = s
		}
		if err := c.eng.SetPropagate([]byte(scriptKeyPrefix+sha), args[2]); err != nil {
			c.replyErr(err)
			return
		}
		c.dirty = true
		c.wr.BulkString(sha)
	case "exists":
		if len(args) < 3 {
			wrongArgs()
			return
		}
		c.wr.Array(len(args) - 2)
		for _, a := range args[2:] {
			sha := strings.ToLower(string(a))
			found := sc.scripts[sha] != nil
			if !found && len(sha) == 40 {
				_, err := c.eng.GetPropagate([]byte(scriptKeyPrefix + sha))
				found = err == nil
			}
			if found {
				c.wr.Int(1)
			} else {
				c.wr.Int(0)
			}
		}
	case "flush":
		if len(args) > 3 || len(args) == 3 && !strings.EqualFold(string(args[2]), "sync") && !strings.EqualFold(string(args[2]), "async") {
			c.err(errScriptFlushOption)
			return
		}
		clear(sc.scripts)
		var names [][]byte
		if err := c.eng.ScanPropagate([]byte(scriptKeyPrefix), func(name, _ []byte) bool {
			names = append(names, append([]byte(nil), name...))
			return true
		}); err != nil {
			c.replyErr(err)
			return
		}
		if err := c.eng.DeletePropagate(names...); err != nil {
			c.replyErr(err)
			return
		}
		c.dirty = true
		c.wr.OK()
	case "kill":
		if len(args) != 2 {
			wrongArgs()
			return
		}
		// A script in progress is killed from exec (busyCheck): here none is.
		c.err(errNotBusy)
	case "help":
		c.helpReply("SCRIPT", []string{
			"EXISTS <sha1> [<sha1> ...]",
			"    Return information about the existence of the scripts in the script cache.",
			"FLUSH [ASYNC|SYNC]",
			"    Flush the Lua scripts cache. Very dangerous on replicas.",
			"    When called without the optional mode argument, the behavior is determined by the",
			"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
			"    * ASYNC: Asynchronously flush the scripts cache.",
			"    * SYNC: Synchronously flush the scripts cache.",
			"KILL",
			"    Kill the currently executing Lua script.",
			"LOAD <script>",
			"    Load a script into the scripts cache without executing it.",
		})
	default:
		c.err("ERR unknown subcommand '" + string(args[1]) + "'. Try SCRIPT HELP.")
	}
}

// helpReply writes a HELP subcommand's lines as Redis does.
func (c *conn) helpReply(name string, lines []string) {
	c.wr.Array(len(lines) + 2)
	c.wr.Simple(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.wr.Simple(l)
	}
	c.wr.Simple("HELP")
	c.wr.Simple("    Print this help.")
}
