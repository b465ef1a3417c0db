//go:build fabric

package fastpath

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/gpucache/gpucache/compat-tests/internal"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestBlobOneKeyspace: a value stored with BLOB.SET over the fabric reads
// back over S3 (through s3-resp-bucket, with minio-go), and one PUT over
// S3 reads back with BLOB.GET; DEL removes a BLOB value for everyone.
func TestBlobOneKeyspace(t *testing.T) {
	p := providers[0]
	srv := internal.Start(t, internal.Options{Bin: binary(t), S3: true,
		Args: []string{"--fabric-provider", p.name, "--dram-cache-size", "512mb", "--s3-resp-bucket", "kvcache"}})
	c := dial(t, srv, p)
	s3c, err := minio.New(srv.S3Addr(), &minio.Options{Creds: credentials.NewStaticV4("gpucacheadmin", "gpucacheadmin", "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 6<<20 + 3
	buf := alloc(t, c, n)
	pattern(buf.Bytes(), 42)
	if err := c.Set("from-blob", buf, 0, n); err != nil {
		t.Fatal(err)
	}
	obj, err := s3c.GetObject(ctx, "kvcache", "from-blob", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("S3 GET of a BLOB.SET value: %d bytes, err %v, equal %v", len(got), err, bytes.Equal(got, buf.Bytes()))
	}
	want := make([]byte, 5<<20+11)
	pattern(want, 43)
	if _, err := s3c.PutObject(ctx, "kvcache", "from-s3", bytes.NewReader(want), int64(len(want)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	clear(buf.Bytes())
	m, _, err := c.Get("from-s3", buf, 0, n)
	if err != nil || m != len(want) || !bytes.Equal(buf.Bytes()[:m], want) {
		t.Fatalf("BLOB.GET of an S3 PUT: %d bytes, err %v", m, err)
	}
	if v, err := c.Do("DEL", "from-blob"); err != nil || v != int64(1) {
		t.Fatalf("DEL: %v %v", v, err)
	}
	if _, err := s3c.StatObject(ctx, "kvcache", "from-blob", minio.StatObjectOptions{}); err == nil {
		t.Fatal("S3 still sees a deleted BLOB value")
	}
	if _, _, err := c.Get("from-blob", buf, 0, n); err == nil {
		t.Fatal("BLOB.GET of a deleted key succeeded")
	}
}
