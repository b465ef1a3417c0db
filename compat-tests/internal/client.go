package internal

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// RunClient runs an external client program (a Node.js or Python script
// driving a real client library) in dir with env added, waits for it, and
// decodes the one JSON line it prints on success into out. A failure
// fails the test with the program's output.
func RunClient(t testing.TB, dir string, env []string, out any, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	what := filepath.Base(args[len(args)-1])
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s%s", what, env, err, stderr.String(), stdout.String())
	}
	// The result is the last line; a client library may log before it
	// (valkey-glide warns on stdout when a reply took over 2.5 s).
	text := bytes.TrimRight(stdout.Bytes(), "\n")
	last := text[bytes.LastIndexByte(text, '\n')+1:]
	if len(last) < len(text) {
		t.Logf("%s printed before its result:\n%s", what, text[:len(text)-len(last)])
	}
	if err := json.Unmarshal(last, out); err != nil {
		t.Fatalf("%s: %v: %q", what, err, stdout.String())
	}
}
