package bench

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func bulk(b []byte) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(b), b) }

func newFakeRESP(t *testing.T, p *Payload, script string, chunk int, verify VerifyMode) (*RESPClient, *fakeConn) {
	t.Helper()
	fc := &fakeConn{script: []byte(script), chunk: chunk}
	c, err := NewRESPClient(fc, p, RESPOptions{Verify: verify})
	if err != nil {
		t.Fatal(err)
	}
	return c, fc
}

func TestRESPEncode(t *testing.T) {
	p := NewPayload(1 << 20)
	big := p.AppendValue(nil, 42, 100<<10) // spliced by reference (> inlineMax)
	small := p.AppendValue(nil, 7, 100)    // copied inline
	c, fc := newFakeRESP(t, p, "+OK\r\n+OK\r\n+OK\r\n$-1\r\n:1\r\n:0\r\n", 0, VerifyFull)
	ops := []Op{
		{Kind: OpSet, Key: []byte("big"), Size: len(big), Stamp: 42},
		{Kind: OpSet, Key: []byte("small"), Size: len(small), Stamp: 7},
		{Kind: OpSet, Key: []byte("meta"), Literal: []byte("L1T")},
		{Kind: OpGet, Key: []byte("k")},
		{Kind: OpExists, Key: []byte("e")},
		{Kind: OpDel, Key: []byte("d")},
	}
	if err := c.Do(ops); err != nil {
		t.Fatal(err)
	}
	want := "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n" + bulk(big) +
		"*3\r\n$3\r\nSET\r\n$5\r\nsmall\r\n" + bulk(small) +
		"*3\r\n$3\r\nSET\r\n$4\r\nmeta\r\n$3\r\nL1T\r\n" +
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" +
		"*2\r\n$6\r\nEXISTS\r\n$1\r\ne\r\n" +
		"*2\r\n$3\r\nDEL\r\n$1\r\nd\r\n"
	if got := fc.written.String(); got != want {
		t.Fatalf("wire bytes differ:\n got %d bytes %.200q\nwant %d bytes %.200q", len(got), got, len(want), want)
	}
	for i, op := range ops {
		if op.Err != nil {
			t.Errorf("op %d: %v", i, op.Err)
		}
	}
	if ops[3].Found || !ops[4].Found || ops[5].Found {
		t.Errorf("found flags get/exists/del = %v/%v/%v, want false/true/false", ops[3].Found, ops[4].Found, ops[5].Found)
	}
}

func TestRESPReplies(t *testing.T) {
	p := NewPayload(1 << 20)
	v := p.AppendValue(nil, 9, 300<<10)
	corrupt := append([]byte(nil), v...)
	corrupt[len(corrupt)/2] ^= 1
	wrongKey := p.AppendValue(nil, 10, 300<<10)
	script := bulk(v) + // hit
		"_\r\n" + // RESP3 null
		bulk(corrupt) + // middle byte flipped
		bulk(wrongKey) + // another key's value
		bulk(v[:1000]) + // truncated value
		"-ERR something bad\r\n" + // error reply
		"$5\r\nhello\r\n" + // bulk reply to SET: protocol mismatch, stream stays in sync
		"|1\r\n+ttl\r\n:3\r\n+OK\r\n" + // attribute, then the reply
		">2\r\n+invalidate\r\n*1\r\n$1\r\nx\r\n:1\r\n" + // push message, then the reply
		"!9\r\nERR blob!\r\n" + // RESP3 blob error
		bulk(v) // hit again, after all of the above
	for _, chunk := range []int{0, 1, 7, 4096} {
		t.Run(fmt.Sprintf("chunk%d", chunk), func(t *testing.T) {
			c, _ := newFakeRESP(t, p, script, chunk, VerifyFull)
			ops := []Op{
				{Kind: OpGet, Key: []byte("a"), Size: len(v), Stamp: 9},
				{Kind: OpGet, Key: []byte("b"), Size: len(v), Stamp: 9},
				{Kind: OpGet, Key: []byte("c"), Size: len(v), Stamp: 9},
				{Kind: OpGet, Key: []byte("d"), Size: len(v), Stamp: 9},
				{Kind: OpGet, Key: []byte("e"), Size: len(v), Stamp: 9},
				{Kind: OpSet, Key: []byte("f"), Size: 64, Stamp: 1},
				{Kind: OpSet, Key: []byte("g"), Size: 64, Stamp: 1},
				{Kind: OpSet, Key: []byte("h"), Size: 64, Stamp: 1},
				{Kind: OpExists, Key: []byte("i")},
				{Kind: OpSet, Key: []byte("j"), Size: 64, Stamp: 1},
				{Kind: OpGet, Key: []byte("k"), Size: len(v), Stamp: 9},
			}
			if err := c.Do(ops); err != nil {
				t.Fatal(err)
			}
			check := func(i int, found bool, wantErr error) {
				t.Helper()
				op := ops[i]
				if op.Found != found {
					t.Errorf("op %d: found %v, want %v", i, op.Found, found)
				}
				var re *ReplyError
				switch {
				case wantErr == nil && op.Err != nil:
					t.Errorf("op %d: unexpected error %v", i, op.Err)
				case wantErr == errReplyForTest && !errors.As(op.Err, &re):
					t.Errorf("op %d: error %v, want an error reply", i, op.Err)
				case wantErr != nil && wantErr != errReplyForTest && !errors.Is(op.Err, wantErr):
					t.Errorf("op %d: error %v, want %v", i, op.Err, wantErr)
				}
			}
			check(0, true, nil)
			check(1, false, nil)
			check(2, true, ErrCorrupt)
			check(3, true, ErrCorrupt)
			check(4, true, ErrCorrupt)
			check(5, false, errReplyForTest)
			check(6, false, ErrProtocol)
			check(7, false, nil)
			check(8, true, nil)
			check(9, false, errReplyForTest)
			check(10, true, nil)
		})
	}
}

var errReplyForTest = errors.New("want *ReplyError")

func TestRESPCheapVerifyMissesMiddle(t *testing.T) {
	// The cheap check reads only the stamps: a flipped middle byte passes
	// it and fails the full check. This is the documented contract.
	p := NewPayload(1 << 16)
	v := p.AppendValue(nil, 5, 1000)
	v[500] ^= 0xff
	for _, tc := range []struct {
		mode VerifyMode
		bad  bool
	}{{VerifyCheap, false}, {VerifyFull, true}, {VerifyNone, false}} {
		c, _ := newFakeRESP(t, p, bulk(v), 0, tc.mode)
		ops := []Op{{Kind: OpGet, Key: []byte("k"), Size: 1000, Stamp: 5}}
		if err := c.Do(ops); err != nil {
			t.Fatal(err)
		}
		if (ops[0].Err != nil) != tc.bad {
			t.Errorf("verify %s: err %v, want failure %v", tc.mode, ops[0].Err, tc.bad)
		}
	}
}

func TestRESPBrokenStreams(t *testing.T) {
	p := NewPayload(1 << 16)
	v := p.AppendValue(nil, 3, 200)
	for name, script := range map[string]string{
		"eof":           "",
		"truncated":     bulk(v)[:100],
		"no-crlf":       "+OK\n",
		"bulk-no-crlf":  "$200\r\n" + string(v) + "XX",
		"bad-length":    "$abc\r\n",
		"huge-length":   "$999999999999\r\n",
		"empty-line":    "\r\n",
		"long-line":     "+" + strings.Repeat("x", 70000) + "\r\n",
		"neg-blob-err":  "!-5\r\n",
		"bad-int-reply": ":x\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := newFakeRESP(t, p, script, 0, VerifyFull)
			kind := OpGet
			if name == "bad-int-reply" {
				kind = OpExists
			}
			ops := []Op{{Kind: kind, Key: []byte("k"), Size: 200, Stamp: 3}}
			if err := c.Do(ops); err == nil {
				t.Fatalf("Do succeeded on a broken stream; op %+v", ops[0].Err)
			}
		})
	}
}

func TestRESPHandshake(t *testing.T) {
	p := NewPayload(1 << 10)
	hello := "%3\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n"
	fc := &fakeConn{script: []byte(hello + "+OK\r\n")}
	c, err := NewRESPClient(fc, p, RESPOptions{Hello3: true, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fc.written.String(), "*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$2\r\npw\r\n"; got != want {
		t.Fatalf("handshake %q, want %q", got, want)
	}
	// The map reply must have been consumed entirely: the next reply is +OK.
	ops := []Op{{Kind: OpSet, Key: []byte("k"), Literal: []byte("v")}}
	if err := c.Do(ops); err != nil || ops[0].Err != nil {
		t.Fatalf("after handshake: %v / %v", err, ops[0].Err)
	}

	fc = &fakeConn{script: []byte("-WRONGPASS invalid username-password pair\r\n")}
	if _, err := NewRESPClient(fc, p, RESPOptions{Password: "bad"}); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("AUTH failure: %v", err)
	}
	if got := fc.written.String(); got != "*2\r\n$4\r\nAUTH\r\n$3\r\nbad\r\n" {
		t.Fatalf("AUTH sent %q", got)
	}
}

func TestRESPDoNoAlloc(t *testing.T) {
	p := NewPayload(1 << 20)
	v := p.AppendValue(nil, 11, 512<<10)
	fc := &fakeConn{script: []byte("+OK\r\n+OK\r\n" + bulk(v) + "$-1\r\n"), loop: true, discard: true}
	c, err := NewRESPClient(fc, p, RESPOptions{Verify: VerifyFull})
	if err != nil {
		t.Fatal(err)
	}
	ops := make([]Op, 4)
	key := []byte("model@00000000@abcdef")
	fill := func() {
		ops[0] = Op{Kind: OpSet, Key: key, Size: 512 << 10, Stamp: 11}
		ops[1] = Op{Kind: OpSet, Key: key, Size: 100, Stamp: 11}
		ops[2] = Op{Kind: OpGet, Key: key, Size: 512 << 10, Stamp: 11}
		ops[3] = Op{Kind: OpGet, Key: key}
	}
	fill()
	if err := c.Do(ops); err != nil { // warm up: value buffer grows once
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		fill()
		if err := c.Do(ops); err != nil {
			t.Fatal(err)
		}
		for i := range ops {
			if ops[i].Err != nil {
				t.Fatal(ops[i].Err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("Do allocates %v times per batch", allocs)
	}
}
