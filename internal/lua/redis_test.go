package lua

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	glua "github.com/yuin/gopher-lua"
)

// TestRedisOutputs runs the scripts of testdata/redis7.jsonl, whose replies
// were recorded from redis-server 7.0 (redis-cli EVAL "<script>" 0), and
// compares the replies: values converted with AppendReply, errors with the
// text Redis puts before " script: <sha1>, on @user_script:1.".
func TestRedisOutputs(t *testing.T) {
	f, err := os.Open("testdata/redis7.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var tc struct{ Script, Reply string }
		if err := json.Unmarshal(sc.Bytes(), &tc); err != nil {
			t.Fatal(err)
		}
		n++
		got := runForReply(t, tc.Script)
		want := latin1(tc.Reply)
		if got != want {
			t.Errorf("%s\n got: %q\nwant: %q", tc.Script, got, want)
		}
	}
	if n < 50 {
		t.Fatalf("only %d cases", n)
	}
}

// latin1 undoes the recording's byte-per-rune encoding.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = append(b, byte(r))
	}
	return string(b)
}

func runForReply(t *testing.T, script string) string {
	st := NewState()
	defer st.Close()
	fn, err := st.Compile(script, "user_script")
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	L := st.L
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		msg := err.(*glua.ApiError).Object.String()
		sum := sha1.Sum([]byte(script))
		return "-ERR " + msg + " script: " + hex.EncodeToString(sum[:]) + ", on @user_script:1.\r\n"
	}
	return string(AppendReply(nil, L.Get(-1), false, false))
}
