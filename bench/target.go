package bench

import (
	"context"
	"fmt"
	"time"
)

// TargetKind says how a target is spoken to.
type TargetKind uint8

const (
	// TargetRESP is a Redis-protocol server (gpucache, redis-server, ...).
	TargetRESP TargetKind = iota
	// TargetRaw is the raw loopback probe (see RawServer).
	TargetRaw
	// TargetS3Only has an S3 endpoint and nothing else (a MinIO peer): it
	// takes part in the s3 workload only.
	TargetS3Only
)

// Target is one endpoint under test.
type Target struct {
	// Name labels the target in reports: "gpucache", "redis", "raw", ...
	Name string
	Kind TargetKind
	// Addr is host:port of the RESP endpoint or raw server.
	Addr string
	// User and Password authenticate RESP connections when set.
	User, Password string
	// S3 is the target's S3 endpoint, if it has one.
	S3 *S3Endpoint
	// PID is the server process, sampled for RSS; 0 when unknown or when the
	// server runs inside this process (the raw probe).
	PID int
}

// S3Endpoint locates an S3 service.
type S3Endpoint struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Region    string
	Bucket    string
	Secure    bool
	// PartSize is the multipart part size for large PUTs (LMCache's CRT
	// client uses 8 MiB).
	PartSize uint64
}

// Env is what every workload run shares: the payload, the key space, how to
// check replies and where to report progress.
type Env struct {
	Payload  *Payload
	Keys     *KeySpace
	Verify   VerifyMode
	Timeout  time.Duration
	Progress *Progress
	// ServerPID is the process serving the target now being measured
	// (Target.PID), whose CPU time each phase records; 0 when unknown.
	ServerPID int
}

// dial opens one load connection to t. hello3 makes RESP connections speak
// RESP3 the way redis-py does.
func (t *Target) dial(env *Env, hello3 bool) (Client, error) {
	switch t.Kind {
	case TargetRaw:
		return DialRaw(t.Addr, env.Payload, env.Verify, env.Timeout)
	default:
		return DialRESP(t.Addr, env.Payload, RESPOptions{
			User: t.User, Password: t.Password, Hello3: hello3,
			Timeout: env.Timeout, Verify: env.Verify,
		})
	}
}

// dialN opens n connections, closing them all if one fails.
func (t *Target) dialN(ctx context.Context, env *Env, n int, hello3 bool) ([]Client, error) {
	cs := make([]Client, 0, n)
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			closeAll(cs)
			return nil, err
		}
		c, err := t.dial(env, hello3)
		if err != nil {
			closeAll(cs)
			return nil, fmt.Errorf("cannot connect to %s: %w", t.Name, err)
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func closeAll(cs []Client) {
	for _, c := range cs {
		c.Close()
	}
}

// keyBatch holds the keys of one batch in one reused buffer.
type keyBatch struct {
	buf  []byte
	ends []int
}

func (kb *keyBatch) reset() { kb.buf, kb.ends = kb.buf[:0], kb.ends[:0] }

// end ends the key appended to buf since the previous end and returns its
// index: kb.buf = ks.AppendNative(kb.buf, idx); i := kb.end().
func (kb *keyBatch) end() int {
	kb.ends = append(kb.ends, len(kb.buf))
	return len(kb.ends) - 1
}

// key returns key i. Slices stay valid until the next reset or add.
func (kb *keyBatch) key(i int) []byte {
	start := 0
	if i > 0 {
		start = kb.ends[i-1]
	}
	return kb.buf[start:kb.ends[i]:kb.ends[i]]
}
