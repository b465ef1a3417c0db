package s3compat

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// TestEncryptionRefused asks the real server for server-side encryption
// with minio-go and the aws CLI: every write is refused (NotImplemented,
// as MinIO without a KMS answers) and stores nothing; a read naming a
// customer key is refused instead of returning plaintext.
func TestEncryptionRefused(t *testing.T) {
	tg := startTarget(t, true)
	ctx := context.Background()
	c := minioClient(t, tg, false)
	if err := c.MakeBucket(ctx, "sse", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	plain := []byte("stored without encryption")
	if _, err := c.PutObject(ctx, "sse", "plain", bytes.NewReader(plain), int64(len(plain)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	ssec, err := encrypt.NewSSEC(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	kms, err := encrypt.NewSSEKMS("tenant-key", map[string]string{"tenant": "a"})
	if err != nil {
		t.Fatal(err)
	}
	absent := func(key string) {
		t.Helper()
		if _, err := c.StatObject(ctx, "sse", key, minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
			t.Fatalf("%s stored by a refused request: %v", key, err)
		}
	}
	for _, tc := range []struct {
		name string
		sse  encrypt.ServerSide
		size int64
	}{
		{"SSE-S3", encrypt.NewSSE(), 1 << 10},
		{"SSE-KMS", kms, 1 << 10},
		{"SSE-C", ssec, 1 << 10},
		{"SSE-S3-multipart", encrypt.NewSSE(), 20 << 20},
		{"SSE-C-multipart", ssec, 20 << 20},
	} {
		data := bytes.Repeat([]byte("s"), int(tc.size))
		_, err := c.PutObject(ctx, "sse", tc.name, bytes.NewReader(data), tc.size,
			minio.PutObjectOptions{ServerSideEncryption: tc.sse, PartSize: 5 << 20})
		if code := minio.ToErrorResponse(err).Code; code != "NotImplemented" {
			t.Errorf("%s: PutObject: %v (code %q), want NotImplemented", tc.name, err, code)
		}
		absent(tc.name)
	}
	_, err = c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "sse", Object: "copy", Encryption: kms},
		minio.CopySrcOptions{Bucket: "sse", Object: "plain"})
	if code := minio.ToErrorResponse(err).Code; code != "NotImplemented" {
		t.Errorf("CopyObject to SSE-KMS: %v, want NotImplemented", err)
	}
	absent("copy")
	r, err := c.GetObject(ctx, "sse", "plain", minio.GetObjectOptions{ServerSideEncryption: ssec})
	if err == nil {
		var got []byte
		got, err = io.ReadAll(r)
		r.Close()
		if err == nil {
			t.Fatalf("GET with an SSE-C key returned %q", got)
		}
	}
	if code := minio.ToErrorResponse(err).Code; code != "InvalidRequest" {
		t.Errorf("GET with an SSE-C key: %v, want InvalidRequest", err)
	}

	dir := t.TempDir()
	src := filepath.Join(dir, "f")
	writeFile(t, src, 4096, 3)
	for _, cli := range awsCLIs {
		a := newAWSRunner(t, cli.name, cli.path, tg)
		for _, args := range [][]string{
			{"s3", "cp", src, "s3://sse/cli-" + cli.name, "--sse", "AES256"},
			{"s3", "cp", src, "s3://sse/cli-" + cli.name, "--sse", "aws:kms", "--sse-kms-key-id", "tenant-key"},
			{"s3", "cp", src, "s3://sse/cli-" + cli.name, "--sse-c", "AES256", "--sse-c-key", strings.Repeat("k", 32)},
		} {
			out, err := a.run(true, args...)
			if err == nil || !strings.Contains(out, "NotImplemented") {
				t.Errorf("aws %s %s: %v %s, want NotImplemented", cli.name, strings.Join(args, " "), err, out)
			}
			absent("cli-" + cli.name)
		}
	}
}
