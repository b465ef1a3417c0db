package resp

import (
	"math"
	"strconv"
	"time"
)

// debugProtocolTypes lists DEBUG PROTOCOL's types in KVRocks's error text.
const debugProtocolTypes = "string|integer|double|array|set|bignum|true|false|null|attrib|verbatim"

// DEBUG SLEEP <seconds> | PROTOCOL <type>, as KVRocks answers them.
// SLEEP holds this connection only: requests of other clients go on, and
// a hang-up or the server's shutdown ends it.
// PROTOCOL writes one reply of each RESP3 type (in its RESP2 form under
// RESP2), for client libraries' tests; attrib is followed by the reply it
// annotates, as Redis sends it, so the client is not left waiting.
func (c *conn) cmdDebug(cmd *Command) {
	args := cmd.Args
	sub := args[1]
	switch {
	case eqFold(sub, "sleep") && len(args) == 3:
		sec, err := strconv.ParseFloat(string(args[2]), 64)
		if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) {
			c.err("ERR invalid debug sleep time")
			return
		}
		if sec > 0 {
			// NB: the sleep ends early when the client hangs up or the
			// server closes the connection (CLIENT KILL, shutdown), so
			// a long sleep never holds a shutdown.
			gone, stop := c.watchHangup()
			t := time.NewTimer(time.Duration(min(sec, 1e9) * float64(time.Second)))
			select {
			case <-t.C:
			case <-gone:
			}
			t.Stop()
			stop()
		}
		c.wr.OK()
	case eqFold(sub, "protocol") && len(args) == 3:
		c.debugProtocol(args[2])
	default:
		c.err("ERR Syntax error, DEBUG SLEEP <seconds>|PROTOCOL <type>")
	}
}

func (c *conn) debugProtocol(typ []byte) {
	w := c.wr
	switch {
	case eqFold(typ, "string"):
		w.BulkString("Hello World")
	case eqFold(typ, "integer"):
		w.Int(12345)
	case eqFold(typ, "double"):
		w.Double(3.141)
	case eqFold(typ, "array"):
		w.Array(3)
		for i := range 3 {
			w.Int(int64(i))
		}
	case eqFold(typ, "set"):
		w.Set(3)
		for i := range 3 {
			w.Int(int64(i))
		}
	case eqFold(typ, "map"):
		w.Map(3)
		for i := range 3 {
			w.Int(int64(i))
			w.Bool(i == 1)
		}
	case eqFold(typ, "bignum"):
		const n = "1234567999999999999999999999999999999"
		if w.Proto() == 3 {
			w.Raw([]byte("(" + n + "\r\n"))
		} else {
			w.BulkString(n)
		}
	case eqFold(typ, "true"):
		w.Bool(true)
	case eqFold(typ, "false"):
		w.Bool(false)
	case eqFold(typ, "null"):
		w.Null()
	case eqFold(typ, "attrib"):
		if w.Proto() == 3 {
			w.Raw([]byte("|1\r\n"))
			w.BulkString("key-popularity")
			w.Array(2)
			w.BulkString("key:123")
			w.Int(90)
		}
		w.BulkString("Some real reply following the attribute")
	case eqFold(typ, "verbatim"):
		w.Verbatim("txt", []byte("verbatim string"))
	default:
		c.err("Wrong protocol type name. Please use one of the following: " + debugProtocolTypes)
	}
}
