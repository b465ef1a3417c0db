package resp_test

import (
	"testing"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestNamespaces checks KVRocks namespaces from the config: AUTH with a
// namespace token selects that keyspace, invisible to the others; the
// requirepass is the admin and the default namespace.
func TestNamespaces(t *testing.T) {
	const admin, tok1, tok2 = "admin-pass", "token-one", "token-two"
	srv := internal.Start(t, internal.Options{Password: admin, Args: []string{
		"--requirepass", admin, "--namespace.ns1", tok1, "--namespace.ns2", tok2}})
	a, n1, n2 := dialRaw(t, srv.Addr()), dialRaw(t, srv.Addr()), dialRaw(t, srv.Addr())
	for _, x := range []struct {
		c    *rawConn
		pass string
	}{{a, admin}, {n1, tok1}, {n2, tok2}} {
		x.c.send("AUTH", x.pass)
		x.c.expect("+OK\r\n")
	}
	a.send("SET", "k", "admin")
	a.expect("+OK\r\n")
	n1.send("GET", "k")
	n1.expect("$-1\r\n")
	n1.send("SET", "k", "one")
	n1.expect("+OK\r\n")
	n2.send("MSET", "k", "two", "only2", "x")
	n2.expect("+OK\r\n")
	a.send("GET", "k")
	a.expect("$5\r\nadmin\r\n")
	n1.send("GET", "k")
	n1.expect("$3\r\none\r\n")
	n1.send("EXISTS", "only2")
	n1.expect(":0\r\n")
	n1.send("DBSIZE")
	n1.expect(":1\r\n")
	n2.send("KEYS", "*")
	n2.expect("*2\r\n$1\r\nk\r\n$5\r\nonly2\r\n")
	n1.send("DEL", "k")
	n1.expect(":1\r\n")
	n2.send("GET", "k")
	n2.expect("$3\r\ntwo\r\n")
	// FLUSHDB empties only the caller's namespace.
	n2.send("FLUSHDB")
	n2.expect("+OK\r\n")
	a.send("GET", "k")
	a.expect("$5\r\nadmin\r\n")
	// Admin commands need the requirepass.
	n1.send("CONFIG", "SET", "maxclients", "50")
	n1.expect("-ERR admin permission required to perform the command\r\n")
	n1.send("NAMESPACE", "GET", "ns1")
	if line := n1.readLine(); line[0] != '-' {
		t.Fatalf("NAMESPACE GET from a namespace client: %q, want an error", line)
	}
	a.send("NAMESPACE", "GET", "ns1")
	a.expect("$9\r\ntoken-one\r\n")
	// Data stays in its namespace across a restart.
	srv.Stop(t)
	srv.Restart(t)
	c := dialRaw(t, srv.Addr())
	c.send("AUTH", tok2)
	c.expect("+OK\r\n")
	c.send("DBSIZE")
	c.expect(":0\r\n")
	c.send("AUTH", admin)
	c.expect("+OK\r\n")
	c.send("GET", "k")
	c.expect("$5\r\nadmin\r\n")
}
