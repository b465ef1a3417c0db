package resp

import (
	"strconv"
	"time"
)

// redisVersion is the Redis version HELLO and INFO report: clients check
// it for features, so it names the Redis whose commands are supported.
const redisVersion = "7.0.0"

func connectionCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "auth", arity: -2, flags: flagAuth | flagFast | flagLoading, fn: (*conn).cmdAuth},
		{name: "hello", arity: -1, flags: flagAuth | flagFast | flagLoading, fn: (*conn).cmdHello},
		{name: "ping", arity: -1, flags: flagFast, fn: (*conn).cmdPing},
		{name: "echo", arity: 2, flags: flagFast, fn: (*conn).cmdEcho},
		{name: "select", arity: 2, flags: flagFast | flagLoading, fn: (*conn).cmdSelect},
		{name: "quit", arity: -1, flags: flagAuth | flagFast, fn: (*conn).cmdQuit},
		{name: "time", arity: 1, flags: flagFast | flagLoading, fn: (*conn).cmdTime},
		{name: "client", arity: -2, fn: (*conn).cmdClient},
		{name: "reset", arity: 1, flags: flagAuth | flagFast, fn: (*conn).cmdReset},
	}
}

// authenticate checks a password: the requirepass (admin, default
// namespace) or a namespace token (that namespace).
func (c *conn) authenticate(pass []byte) (errText string) {
	l := c.s.live.Load()
	if l.requirePass == "" {
		return errNoPassword
	}
	if string(pass) == l.requirePass {
		c.setNamespace("", true)
		return ""
	}
	if ns, ok := l.tokens[string(pass)]; ok {
		c.setNamespace(ns, false)
		return ""
	}
	return errInvalidPassword
}

// AUTH password | AUTH username password. There are no ACL users: the
// username is accepted and only the password is checked.
func (c *conn) cmdAuth(cmd *Command) {
	if len(cmd.Args) > 3 {
		c.wrongArgs()
		return
	}
	if e := c.authenticate(cmd.Args[len(cmd.Args)-1]); e != "" {
		c.err(e)
		return
	}
	c.wr.OK()
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
func (c *conn) cmdHello(cmd *Command) {
	args := cmd.Args
	proto := c.proto
	i := 1
	if len(args) >= 2 {
		n, ok := parseArgInt(args[1])
		if !ok {
			c.err("ERR Protocol version is not an integer or out of range")
			return
		}
		if n < 2 || n > 3 {
			c.err("NOPROTO unsupported protocol version")
			return
		}
		proto = int(n)
		i = 2
	}
	for ; i < len(args); i++ {
		more := len(args) - i - 1
		switch {
		case eqFold(args[i], "auth") && more >= 2:
			if string(args[i+1]) != "default" {
				c.err(errInvalidPassword)
				return
			}
			if e := c.authenticate(args[i+2]); e != "" {
				c.err(e)
				return
			}
			i += 2
		case eqFold(args[i], "setname") && more >= 1:
			if !validClientName(args[i+1]) {
				c.err("ERR Client names cannot contain spaces, newlines or special characters")
				return
			}
			c.mu.Lock()
			c.name = string(args[i+1])
			c.mu.Unlock()
			i++
		default:
			c.err("ERR Syntax error in HELLO option " + string(args[i]))
			return
		}
	}
	if c.s.live.Load().disableRESP3 {
		proto = 2
	}
	c.setProto(proto)
	w := c.wr
	w.Map(7)
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(redisVersion)
	w.BulkString("proto")
	w.Int(int64(proto))
	w.BulkString("id")
	w.Int(int64(c.id))
	w.BulkString("mode")
	if c.s.cfg.ClusterEnabled {
		w.BulkString("cluster")
	} else {
		w.BulkString("standalone")
	}
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.Array(0)
}

func (c *conn) cmdPing(cmd *Command) {
	if c.ps != nil && c.subscriberPing(cmd) {
		return
	}
	switch len(cmd.Args) {
	case 1:
		c.wr.Simple("PONG")
	case 2:
		c.wr.Bulk(cmd.Args[1])
	default:
		c.wrongArgs()
	}
}

func (c *conn) cmdEcho(cmd *Command) { c.wr.Bulk(cmd.Args[1]) }

// SELECT is accepted and ignored, as KVRocks does: namespaces, not
// numbered databases, separate keyspaces.
func (c *conn) cmdSelect(cmd *Command) { c.wr.OK() }

func (c *conn) cmdQuit(cmd *Command) {
	c.wr.OK()
	c.closeAfter = true
}

func (c *conn) cmdTime(cmd *Command) {
	now := time.Now().UnixMicro()
	c.wr.Array(2)
	c.wr.BulkInt(now / 1e6)
	c.wr.BulkInt(now % 1e6)
}

// RESET returns the connection to its initial state.
func (c *conn) cmdReset(cmd *Command) {
	c.leaveAll()
	c.closeTx()
	c.setProto(2)
	c.mu.Lock()
	c.name = ""
	c.ns = ""
	c.authed = c.s.live.Load().requirePass == ""
	c.admin = c.authed
	c.mu.Unlock()
	c.cl.readonly, c.cl.asking = false, false // READWRITE, as Redis's RESET
	c.wr.Simple("RESET")
}

func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// CLIENT subcommands.
func (c *conn) cmdClient(cmd *Command) {
	args := cmd.Args
	sub := args[1]
	switch {
	case eqFold(sub, "id") && len(args) == 2:
		c.wr.Int(int64(c.id))
	case eqFold(sub, "getname") && len(args) == 2:
		c.mu.Lock()
		name := c.name
		c.mu.Unlock()
		if name == "" {
			c.wr.Null()
		} else {
			c.wr.BulkString(name)
		}
	case eqFold(sub, "setname") && len(args) == 3:
		if !validClientName(args[2]) {
			c.err("ERR Client names cannot contain spaces, newlines or special characters")
			return
		}
		c.mu.Lock()
		c.name = string(args[2])
		c.mu.Unlock()
		c.wr.OK()
	case eqFold(sub, "setinfo") && len(args) == 4:
		attr, val := args[2], args[3]
		if !validClientName(val) {
			c.err("ERR " + string(attr) + " cannot contain spaces, newlines or special characters.")
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case eqFold(attr, "lib-name"):
			c.libName = string(val)
		case eqFold(attr, "lib-ver"):
			c.libVer = string(val)
		default:
			c.err("ERR Unrecognized option '" + string(attr) + "'")
			return
		}
		c.wr.OK()
	case eqFold(sub, "list") && len(args) == 2:
		c.wr.Verbatim("txt", c.s.clientList(nil))
	case eqFold(sub, "info") && len(args) == 2:
		c.wr.Verbatim("txt", c.describe(nil))
	case eqFold(sub, "kill") && len(args) >= 3:
		c.clientKill(args)
	case eqFold(sub, "unblock") && (len(args) == 3 || len(args) == 4):
		c.clientUnblock(args)
	case eqFold(sub, "no-evict"), eqFold(sub, "no-touch"):
		c.wr.OK()
	default:
		// Covers CLIENT MAINT_NOTIFICATIONS, TRACKING, PAUSE, ... which
		// clients probe and tolerate failing.
		c.err("ERR Syntax error, try CLIENT LIST|INFO|KILL ip:port|GETNAME|SETNAME")
	}
}

// clientKill: CLIENT KILL addr | CLIENT KILL [ID id] [ADDR addr] [TYPE t] [SKIPME yes|no]
func (c *conn) clientKill(args [][]byte) {
	var addr string
	var id uint64
	skipme, typ := true, clientTypeAny
	newForm := len(args) > 3
	if !newForm {
		addr = string(args[2])
		skipme = false
	} else {
		for i := 2; i < len(args); i += 2 {
			if i+1 >= len(args) {
				c.syntaxErr()
				return
			}
			v := args[i+1]
			switch {
			case eqFold(args[i], "addr"):
				addr = string(v)
			case eqFold(args[i], "id"):
				n, ok := parseArgInt(v)
				if !ok || n <= 0 {
					c.err(errNotInteger)
					return
				}
				id = uint64(n)
			case eqFold(args[i], "skipme"):
				switch {
				case eqFold(v, "yes"):
					skipme = true
				case eqFold(v, "no"):
					skipme = false
				default:
					c.syntaxErr()
					return
				}
			case eqFold(args[i], "type"):
				switch {
				case eqFold(v, "normal"):
					typ = clientTypeNormal
				case eqFold(v, "pubsub"):
					typ = clientTypePubSub
				case eqFold(v, "master"), eqFold(v, "replica"), eqFold(v, "slave"):
				default:
					c.syntaxErr()
					return
				}
			default:
				c.syntaxErr()
				return
			}
		}
	}
	killed := c.s.killClients(c, id, addr, typ, skipme)
	if newForm {
		c.wr.Int(int64(killed))
		return
	}
	if killed == 0 {
		c.err("ERR No such client")
		return
	}
	c.wr.OK()
}

// killClients closes matching connections and returns their number.
func (s *Server) killClients(self *conn, id uint64, addr string, typ int, skipme bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, o := range s.conns {
		if skipme && o == self {
			continue
		}
		if (typ != clientTypeAny && o.clientType() == typ) || (id != 0 && o.id == id) || (addr != "" && o.addr == addr) {
			if o == self {
				self.closeAfter = true
			} else {
				o.nc.Close()
			}
			n++
		}
	}
	return n
}

// clientList appends one CLIENT LIST line per connection, in id order.
func (s *Server) clientList(b []byte) []byte {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	sortConns(conns)
	for _, c := range conns {
		b = c.describe(b)
	}
	return b
}

func sortConns(cs []*conn) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].id < cs[j-1].id; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// describe appends the connection's CLIENT LIST line, with the fields
// KVRocks prints plus lib-name and lib-ver.
func (c *conn) describe(b []byte) []byte {
	now := time.Now()
	c.mu.Lock()
	name, ns, cmd, lib, ver := c.name, c.ns, c.lastCmd, c.libName, c.libVer
	transport, proto := c.transport, c.proto
	c.mu.Unlock()
	if ns == "" {
		ns = "__namespace"
	}
	idle := now.Sub(time.Unix(0, c.lastActive.Load()))
	b = append(b, "id="...)
	b = strconv.AppendUint(b, c.id, 10)
	b = append(b, " addr="...)
	b = append(b, c.addr...)
	b = append(b, " fd=-1 name="...)
	b = append(b, name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, int64(now.Sub(c.created)/time.Second), 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, int64(idle/time.Second), 10)
	b = append(b, " flags="...)
	b = c.appendFlags(b)
	b = append(b, " namespace="...)
	b = append(b, ns...)
	b = c.pubsubClientFields(b)
	b = append(b, " multi="...)
	b = strconv.AppendInt(b, c.queued(), 10)
	b = append(b, " qbuf="...)
	b = strconv.AppendInt(b, c.inPending.Load(), 10)
	b = append(b, " obuf="...)
	b = strconv.AppendInt(b, c.outPending.Load()+c.pushPending(), 10)
	b = append(b, " cmd="...)
	b = append(b, cmd...)
	b = append(b, " lib-name="...)
	b = append(b, lib...)
	b = append(b, " lib-ver="...)
	b = append(b, ver...)
	b = append(b, " resp="...)
	b = strconv.AppendInt(b, int64(proto), 10)
	b = appendTransport(b, transport)
	b = append(b, '\n')
	return b
}

// eqFold reports whether b equals the lower-case ASCII word s, ignoring case.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != s[i] {
			return false
		}
	}
	return true
}

// parseArgInt parses a command's integer argument (int64, optional sign).
func parseArgInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := false
	i := 0
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	var n uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if n > (1<<63)/10 || (n == (1<<63)/10 && d > 8) {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}
