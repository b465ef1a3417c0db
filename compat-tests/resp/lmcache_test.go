package resp_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// lmcacheMetadata is the connector's metadata value: native-endian
// (little-endian here) int32s length, fmt, then per group dtype and four
// shape dimensions; 28 bytes for one group. dtype bf16 = 3.
func lmcacheMetadata(length int) []byte {
	b := make([]byte, 0, 28)
	for _, v := range []int32{int32(length), 1 /* fmt */, 3 /* bf16 */, 2, 32, 256, 1024} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}

func bulk(b []byte) []byte {
	out := append([]byte("$"+strconv.Itoa(len(b))+"\r\n"), b...)
	return append(out, "\r\n"...)
}

// TestLMCachePythonConnector replays what LMCache's redis:// connector sends
// through redis-py 8 (asyncio): the HELLO 3 handshake, CLIENT probes whose
// errors it tolerates, then per chunk SET/GET/EXISTS/DEL of <key>kv_bytes
// and <key>metadata, one command at a time, over concurrent connections.
// Every reply byte is checked.
func TestLMCachePythonConnector(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	keys := []string{
		"vllm@Qwen/Qwen3-Coder-30B-A3B-Instruct@1@0@6c9faa6ae5af1bdf@bfloat16",
		"vllm@Qwen/Qwen3-Coder-30B-A3B-Instruct@1@0@-3a0f5e1c9d2b7e44@bfloat16",
		"vllm@meta-llama/Llama-3.1-8B-Instruct@2@1@7fffffffffffffff@bfloat16",
	}
	sizes := []int{7340200, 4 << 20, 256 << 10}

	handshake := func(c *rawConn) {
		t := c.t
		c.send("HELLO", "3")
		r := c.readReply()
		if r.kind != '%' {
			t.Fatalf("HELLO 3: reply %v is not a RESP3 map", r)
		}
		if proto, ok := r.mapGet("proto"); !ok || proto.kind != ':' || proto.str != "3" {
			t.Fatalf("HELLO 3: proto = %v (present %v), want :3", proto, ok)
		}
		c.send("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip")
		if r := c.readReply(); r.kind != '+' && r.kind != '-' {
			t.Fatalf("CLIENT MAINT_NOTIFICATIONS: %v, want OK or an error", r)
		}
		// redis-py writes both SETINFOs, then reads both replies.
		c.write(append(encodeStrings("CLIENT", "SETINFO", "LIB-NAME", "redis-py"),
			encodeStrings("CLIENT", "SETINFO", "LIB-VER", "8.0.0")...))
		for range 2 {
			if r := c.readReply(); r.kind != '+' && r.kind != '-' {
				t.Fatalf("CLIENT SETINFO: %v, want OK or an error", r)
			}
		}
		c.send("PING")
		c.expect("+PONG\r\n") // the connection is still in step
	}

	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for w := range 4 {
		goRaw(&wg, srv.Addr(), errs, fmt.Sprintf("connection %d", w), func(c *rawConn) {
			handshake(c)
			for i, base := range keys {
				key := fmt.Sprintf("%s#w%d", base, w)
				val := randomBytes(uint64(w*100+i), sizes[i])
				meta := lmcacheMetadata(len(val))
				// contains before put: a miss.
				c.send("EXISTS", key+"metadata")
				c.expect(":0\r\n")
				// put
				c.write(encode(nil, []byte("SET"), []byte(key+"kv_bytes"), val))
				c.expect("+OK\r\n")
				c.write(encode(nil, []byte("SET"), []byte(key+"metadata"), meta))
				c.expect("+OK\r\n")
				// contains
				c.send("EXISTS", key+"metadata")
				c.expect(":1\r\n")
				// get
				c.send("GET", key+"metadata")
				c.expectBytes(bulk(meta))
				c.send("GET", key+"kv_bytes")
				c.expectBytes(bulk(val))
			}
			// The miss path: metadata present, kv_bytes gone (evicted):
			// the connector deletes the metadata.
			key := fmt.Sprintf("%s#w%d#orphan", keys[0], w)
			c.write(encode(nil, []byte("SET"), []byte(key+"metadata"), lmcacheMetadata(100)))
			c.expect("+OK\r\n")
			c.send("GET", key+"metadata")
			c.expectBytes(bulk(lmcacheMetadata(100)))
			c.send("GET", key+"kv_bytes")
			c.expect("_\r\n") // RESP3 null: the connection said HELLO 3
			c.send("DEL", key+"metadata")
			c.expect(":1\r\n")
			c.send("EXISTS", key+"metadata")
			c.expect(":0\r\n")
			c.send("DEL", key+"metadata")
			c.expect(":0\r\n")
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestLMCacheNativeClient replays LMCache's C++ RESP client: RESP2 only,
// AUTH with the password and nothing else on connect, one key per chunk,
// SET batches written as ONE scatter-gather write before any reply is read,
// then pipelined GET and EXISTS (and the optional MGET and multi-key
// EXISTS). Replies are compared byte for byte, as the client does.
func TestLMCacheNativeClient(t *testing.T) {
	const pass = "lmcache-pass"
	srv := internal.Start(t, internal.Options{Args: []string{"--requirepass", pass}, Password: pass})
	const (
		chunk   = 32 << 20
		perConn = 4
		workers = 2
	)
	// Values are distinct windows into one random buffer.
	base := randomBytes(42, chunk+workers*perConn*4096)
	value := func(w, i int) []byte { off := (w*perConn + i) * 4096; return base[off : off+chunk] }
	key := func(w, i int) string {
		return fmt.Sprintf("Qwen/Qwen3-Coder-30B-A3B-Instruct@%08x@%x", w, 0x6c9faa6ae5af1bd0+uint64(i))
	}

	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		goRaw(&wg, srv.Addr(), errs, fmt.Sprintf("worker %d", w), func(c *rawConn) {
			c.send("AUTH", pass)
			c.expect("+OK\r\n")

			// One writev of perConn complete SETs (headers and values
			// as separate buffers), before reading any reply.
			var bufs net.Buffers
			for i := range perConn {
				k := key(w, i)
				bufs = append(bufs, []byte(fmt.Sprintf("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", len(k), k, chunk)),
					value(w, i), []byte("\r\n"))
			}
			c.nc.SetWriteDeadline(time.Now().Add(rawTimeout))
			if _, err := bufs.WriteTo(c.nc); err != nil {
				c.t.Fatalf("writev of %d SETs: %v", perConn, err)
			}
			for range perConn {
				c.expect("+OK\r\n")
			}

			// Pipelined GETs and EXISTS, all written before reading.
			missing := key(w, 999)
			var req []byte
			for i := range perConn {
				req = append(req, encodeStrings("GET", key(w, i))...)
			}
			req = append(req, encodeStrings("GET", missing)...)
			for i := range perConn {
				req = append(req, encodeStrings("EXISTS", key(w, i))...)
			}
			req = append(req, encodeStrings("EXISTS", missing)...)
			req = append(req, encodeStrings("EXISTS", key(w, 0), missing, key(w, 1))...)
			req = append(req, encodeStrings("MGET", key(w, 1), missing)...)
			c.write(req)
			for i := range perConn {
				c.expect("$" + strconv.Itoa(chunk) + "\r\n")
				got := c.readN(chunk + 2)
				if !bytes.Equal(got[:chunk], value(w, i)) || string(got[chunk:]) != "\r\n" {
					c.t.Fatalf("GET %s: value differs from the one SET", key(w, i))
				}
			}
			c.expect("$-1\r\n")
			for range perConn {
				c.expect(":1\r\n")
			}
			c.expect(":0\r\n")
			c.expect(":2\r\n")
			c.expect("*2\r\n$" + strconv.Itoa(chunk) + "\r\n")
			if got := c.readN(chunk + 2); !bytes.Equal(got[:chunk], value(w, 1)) {
				c.t.Fatalf("MGET value differs")
			}
			c.expect("$-1\r\n")

			// A partial chunk, overwrite, delete.
			partial := value(w, 0)[:7340200]
			c.write(encode(nil, []byte("SET"), []byte(key(w, 0)), partial))
			c.expect("+OK\r\n")
			c.send("GET", key(w, 0))
			c.expectBytes(bulk(partial))
			c.send("DEL", key(w, 0))
			c.expect(":1\r\n")
			c.send("DEL", key(w, 0))
			c.expect(":0\r\n")
			c.send("GET", key(w, 0))
			c.expect("$-1\r\n")
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestLMCachePythonConnectorAuth replays the connector's handshakes with a
// password: redis-py 8 authenticates inside HELLO 3, redis-py 7 and older
// speak RESP2 with AUTH, CLIENT SETINFO and SELECT (the URL's /db).
func TestLMCachePythonConnectorAuth(t *testing.T) {
	const pass = "py-pass"
	srv := internal.Start(t, internal.Options{Args: []string{"--requirepass", pass}, Password: pass})
	key := "vllm@Qwen/Qwen3-Coder-30B-A3B-Instruct@1@0@6c9faa6ae5af1bdf@bfloat16"
	meta := lmcacheMetadata(1 << 20)

	t.Run("HELLO3AUTH", func(t *testing.T) {
		c := dialRaw(t, srv.Addr())
		c.send("HELLO", "3", "AUTH", "default", "wrong")
		if r := c.readReply(); r.kind != '-' {
			t.Fatalf("HELLO 3 AUTH with a wrong password: %v, want an error", r)
		}
		c.send("HELLO", "3", "AUTH", "default", pass)
		r := c.readReply()
		if proto, ok := r.mapGet("proto"); r.kind != '%' || !ok || proto.str != "3" {
			t.Fatalf("HELLO 3 AUTH: %v", r)
		}
		c.write(encode(nil, []byte("SET"), []byte(key+"metadata"), meta))
		c.expect("+OK\r\n")
		c.send("GET", key+"kv_bytes")
		c.expect("_\r\n")
	})
	t.Run("RESP2", func(t *testing.T) {
		c := dialRaw(t, srv.Addr())
		c.send("GET", key+"metadata")
		c.expect("-NOAUTH Authentication required.\r\n")
		c.send("AUTH", pass)
		c.expect("+OK\r\n")
		c.write(append(encodeStrings("CLIENT", "SETINFO", "LIB-NAME", "redis-py"),
			encodeStrings("CLIENT", "SETINFO", "LIB-VER", "7.4.0")...))
		for range 2 {
			if r := c.readReply(); r.kind != '+' && r.kind != '-' {
				t.Fatalf("CLIENT SETINFO: %v", r)
			}
		}
		c.send("SELECT", "0")
		c.expect("+OK\r\n")
		c.send("GET", key+"metadata")
		c.expectBytes(bulk(meta))
		c.send("GET", key+"kv_bytes")
		c.expect("$-1\r\n") // RESP2 null
		c.send("DEL", key+"metadata")
		c.expect(":1\r\n")
	})
	t.Run("AUTHUserPass", func(t *testing.T) {
		// redis-py sends AUTH user pass when the URL has a user, and
		// retries with AUTH pass after a wrong-number-of-arguments error.
		c := dialRaw(t, srv.Addr())
		c.send("AUTH", "default", pass)
		line := c.readLine()
		if line != "+OK" {
			if !strings.Contains(line, "wrong number of arguments") {
				t.Fatalf("AUTH default pass: %q", line)
			}
			c.send("AUTH", pass)
			c.expect("+OK\r\n")
		}
		c.send("PING")
		c.expect("+PONG\r\n")
	})
}
