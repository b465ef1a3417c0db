package resp

import (
	"strconv"
	"time"
)

// MONITOR streams every command that any client runs, one line each, in
// Redis's format:
//
//	+1700000000.123456 [0 127.0.0.1:5555] "SET" "k" "v"
//
// The bracket names the database, 0, for the default namespace, and the
// namespace's name for a token's namespace (KVRocks prints a namespace
// there). As in KVRocks, a monitor that authenticated with a namespace's
// token sees that namespace's commands only; one in the default namespace
// (the admin) sees all. As in Redis 7, commands refused before they run are not shown,
// nor administrative ones (CONFIG, MONITOR, NAMESPACE, ...), and AUTH's and
// HELLO AUTH's credentials read "(redacted)". Unlike Redis, an argument
// longer than monitorArgMax bytes is shown cut, with its length: a
// monitor's lines stay small whatever the values are.
//
// Monitors are bounded as subscribers are (the pubsub output class; Redis
// counts them as normal clients). When nobody monitors, a request pays one
// atomic load.

// monitorArgMax is the longest argument a MONITOR line shows whole.
const monitorArgMax = 4 << 10

// monitorSkips lists the commands Redis 7 keeps out of MONITOR (its admin
// commands, and QUIT, which it answers before any command runs), plus
// NAMESPACE, whose arguments are tokens.
var monitorSkips = map[string]bool{
	"monitor": true, "config": true, "debug": true, "shutdown": true,
	"slaveof": true, "replicaof": true, "slowlog": true, "namespace": true,
	"bgsave": true, "save": true, "bgrewriteaof": true, "latency": true,
	"acl": true, "module": true, "failover": true, "sync": true,
	"psync": true, "replconf": true, "quit": true,
}

// monitorSkipsClient lists the CLIENT subcommands Redis 7 flags admin.
var monitorSkipsClient = []string{"kill", "list", "pause", "unpause", "no-evict", "unblock"}

func (c *conn) cmdMonitor(cmd *Command) {
	ps := c.pushing()
	h := &c.s.pubsub
	h.monMu.Lock()
	if !ps.monitor {
		ps.monitor = true
		ps.q.monitorNS = c.ns
		h.monitors = append(h.monitors, ps.q)
		h.monitoring.Store(int32(len(h.monitors)))
	}
	c.wr.OK()
	// NB: queued before any line, as the registration is.
	c.wr.Flush()
	h.monMu.Unlock()
	ps.q.monitor.Store(true)
}

// removeMonitor drops q from the monitors.
func (h *pubsubHub) removeMonitor(q *pushQueue) {
	h.monMu.Lock()
	defer h.monMu.Unlock()
	for i, m := range h.monitors {
		if m == q {
			last := len(h.monitors) - 1
			h.monitors[i] = h.monitors[last]
			h.monitors[last] = nil
			h.monitors = h.monitors[:last]
			break
		}
	}
	h.monitoring.Store(int32(len(h.monitors)))
	q.monitor.Store(false)
}

// feed queues a MONITOR line of a command run in namespace ns to the
// monitors that may see it.
func (h *pubsubHub) feed(line []byte, ns string) {
	h.monMu.Lock()
	for _, q := range h.monitors {
		if q.monitorNS == "" || q.monitorNS == ns {
			q.push(line)
		}
	}
	h.monMu.Unlock()
}

// monLine is a MONITOR line waiting for its command to finish, with the
// namespace the command began in.
type monLine struct {
	line []byte
	ns   string
}

// feedMonitors sends the lines of the command just run to the monitors,
// after its reply when the connection monitors itself.
func (c *conn) feedMonitors() {
	if c.ps != nil && c.ps.monitor {
		c.wr.Flush()
	}
	for i, l := range c.monLines {
		c.s.pubsub.feed(l.line, l.ns)
		c.monLines[i] = monLine{}
	}
	c.monLines = c.monLines[:0]
}

// monitorAfter moves the MONITOR line at index mark, EXEC's own, after the
// lines of the commands it ran: Redis 7.0 shows "MULTI", the queued
// commands, then "EXEC" (and a script's EVAL before its commands).
func (c *conn) monitorAfter(mark int) {
	own := c.monLines[mark]
	copy(c.monLines[mark:], c.monLines[mark+1:])
	c.monLines[len(c.monLines)-1] = own
}

// monitorLine formats the command for the monitors, or returns nil when
// they are not shown it.
func (c *conn) monitorLine(spec *cmdSpec, cmd *Command) []byte {
	return c.monitorLineFrom(spec, cmd, c.addr)
}

// monitorLineFrom is monitorLine with from as the client's address ("lua"
// for the commands of a script, as Redis shows them).
func (c *conn) monitorLineFrom(spec *cmdSpec, cmd *Command, from string) []byte {
	args := cmd.Args
	if monitorSkips[spec.name] {
		return nil
	}
	if spec.name == "client" && len(args) > 1 {
		for _, s := range monitorSkipsClient {
			if eqFold(args[1], s) {
				return nil
			}
		}
	}
	now := time.Now().UnixMicro()
	n := 64 + len(from) + len(c.ns)
	for _, a := range args {
		n += 3 + min(len(a), monitorArgMax)
	}
	b := make([]byte, 0, n)
	b = append(b, '+')
	b = strconv.AppendInt(b, now/1e6, 10)
	b = append(b, '.')
	us := now % 1e6
	for d := int64(100000); d > 1 && us < d; d /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, us, 10)
	b = append(b, " ["...)
	if c.ns == "" {
		b = append(b, '0')
	} else {
		b = append(b, c.ns...)
	}
	b = append(b, ' ')
	b = append(b, from...)
	b = append(b, ']')
	for i, a := range args {
		b = append(b, ' ', '"')
		if redacted(spec.name, args, i) {
			b = append(b, "(redacted)"...)
			b = append(b, '"')
			continue
		}
		size := int64(len(a))
		if lb := cmd.Large(i); lb != nil {
			if _, heap := lb.(*heapBulk); !heap || len(a) == 0 {
				size = 0
				a = make([]byte, 0, monitorArgMax)
				for _, p := range lb.Pages() {
					size += int64(len(p))
					if len(a) < monitorArgMax {
						a = append(a, p[:min(len(p), monitorArgMax-len(a))]...)
					}
				}
			}
		}
		if size > monitorArgMax {
			b = appendRepr(b, a[:monitorArgMax])
			b = append(b, "... ("...)
			b = strconv.AppendInt(b, size, 10)
			b = append(b, " bytes)"...)
		} else {
			b = appendRepr(b, a)
		}
		b = append(b, '"')
	}
	return append(b, '\r', '\n')
}

// redacted reports whether argument i of the command is a credential that
// MONITOR must not show: AUTH's arguments, HELLO's AUTH username and
// password.
func redacted(name string, args [][]byte, i int) bool {
	switch name {
	case "auth":
		return i > 0
	case "hello":
		for j := 2; j < i; j++ {
			switch {
			case eqFold(args[j], "auth"):
				if i <= j+2 {
					return true
				}
				j += 2
			case eqFold(args[j], "setname"):
				j++
			}
		}
	}
	return false
}

// appendRepr appends s quoted as Redis's sdscatrepr does (without the
// quotes): \\ \" \n \r \t \a \b escaped, other unprintable bytes as \xhh.
func appendRepr(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	for _, ch := range s {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch < 0x20 || ch > 0x7e {
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			} else {
				b = append(b, ch)
			}
		}
	}
	return b
}
