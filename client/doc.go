// Package client is a Go client of gpucache's BLOB.* fast path: it opens
// a libfabric endpoint, registers memory for values, says BLOB.HELLO on a
// RESP connection, and then stores and fetches values with BLOB.SET and
// BLOB.GET, the server moving the bytes straight to and from the
// registered memory (RDMA over verbs or efa, or libfabric's tcp and shm
// providers). Where the fabric is unavailable (a binary built without
// -tags fabric on either side, no provider, a server without
// fabric-provider), it falls back to the TCP forms of the same commands
// and says so (Transport, FallbackReason): the same calls work either way.
//
//	c, err := client.Dial("127.0.0.1:6379", client.Options{Provider: "shm"})
//	buf, err := c.Alloc(32 << 20)           // registered memory
//	copy(buf.Bytes(), value)
//	err = c.Set("chunk", buf, 0, len(value)) // BLOB.SET chunk <len> <rkey> <addr> <len>
//	n, crc, err := c.Get("chunk", buf, 0, buf.Len())
//
// A Client is one connection and is not safe for concurrent use; open one
// per goroutine. Buffers belong to the Client that allocated them.
package client
