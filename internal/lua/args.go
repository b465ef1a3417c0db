package lua

import (
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// Argument checks worded as Lua 5.1's luaL_check* word them (gopher-lua's
// own leave the quotes off the function name).

func argError(L *glua.LState, n int, fname, msg string) {
	L.RaiseError("bad argument #%d to '%s' (%s)", n, fname, msg)
}

func typeError(L *glua.LState, n int, fname, want string) {
	got := "no value"
	if n <= L.GetTop() {
		got = L.Get(n).Type().String()
	}
	argError(L, n, fname, want+" expected, got "+got)
}

func checkNumber(L *glua.LState, n int, fname string) float64 {
	switch v := L.Get(n).(type) {
	case glua.LNumber:
		return float64(v)
	case glua.LString:
		if f, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64); err == nil {
			return f
		}
	}
	typeError(L, n, fname, "number")
	return 0
}

func checkInt(L *glua.LState, n int, fname string) int {
	return int(checkNumber(L, n, fname))
}

func optInt(L *glua.LState, n int, fname string, def int) int {
	if L.Get(n) == glua.LNil {
		return def
	}
	return checkInt(L, n, fname)
}

func checkString(L *glua.LState, n int, fname string) string {
	switch v := L.Get(n).(type) {
	case glua.LString:
		return string(v)
	case glua.LNumber:
		return v.String()
	}
	typeError(L, n, fname, "string")
	return ""
}
