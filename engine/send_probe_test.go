package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProbeSend runs the start-up probe and checks that it measured both
// ways (or says why by reference is unavailable) and that its choice
// follows from its figures.
func TestProbeSend(t *testing.T) {
	p := ProbeSend()
	t.Logf("by reference: %v: %s", p.ByReference(), p)
	if p.Err != nil {
		if p.ByReference() {
			t.Fatal("chose sending by reference without measuring it")
		}
		return
	}
	if p.CopyCPU <= 0 || p.RefCPU < 0 || p.CopyWall <= 0 || p.RefWall <= 0 {
		t.Fatalf("probe measured nothing: %+v", p)
	}
	if p.PipeSize <= 0 {
		t.Fatalf("pipe size %d", p.PipeSize)
	}
	want := float64(p.RefCPU) <= 0.8*float64(p.CopyCPU) && float64(p.RefWall) <= 1.05*float64(p.CopyWall)
	if p.ByReference() != want {
		t.Fatalf("ByReference() = %v for %+v", p.ByReference(), p)
	}
}

// TestProbeSendCached: a record taken on this kernel is reused as is; one
// from another kernel is measured again and replaced.
func TestProbeSendCached(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, probeFile)
	mine := fmt.Sprintf("%s %s %d 65536 1000 1 2 3 4\n", kernelRelease(), thpMode(), pipeMaxSize())
	os.WriteFile(path, []byte(mine), 0o644)
	p, cached := ProbeSendCached(dir)
	if !cached || p.CopyCPU != 1 || p.RefCPU != 2 || p.CopyWall != 3 || p.RefWall != 4 || p.PipeSize != 65536 {
		t.Fatalf("record of this kernel: cached %v, %+v", cached, p)
	}
	os.WriteFile(path, []byte("0.0-other "+mine[len(kernelRelease())+1:]), 0o644)
	if p, cached = ProbeSendCached(dir); cached {
		t.Fatalf("record of another kernel reused: %+v", p)
	}
	if b, _ := os.ReadFile(path); p.Err == nil && !strings.HasPrefix(string(b), kernelRelease()+" ") {
		t.Fatalf("record not replaced: %q", b)
	}
}
