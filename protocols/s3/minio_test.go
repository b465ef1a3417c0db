package s3

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func minioClient(t *testing.T, ts *testServer) *minio.Client {
	u, _ := url.Parse(ts.ts.URL)
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(testCred.AccessKey, testCred.SecretKey, ""), Region: "us-east-1", TrailingHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMinioRoundTrip(t *testing.T) {
	ts := newTestServer(t, nil)
	c := minioClient(t, ts)
	ctx := context.Background()
	if err := c.MakeBucket(ctx, "bkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		size int
		opts minio.PutObjectOptions
		n    int64
	}{
		{"small", 1000, minio.PutObjectOptions{}, 1000},
		{"empty", 0, minio.PutObjectOptions{}, 0},
		{"trailer", 100000, minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C, AutoChecksum: minio.ChecksumCRC32C}, 100000},
		{"unknown", 3 << 20, minio.PutObjectOptions{PartSize: 5 << 20}, -1},
		{"multipart", 12 << 20, minio.PutObjectOptions{PartSize: 5 << 20}, -1},
		{"dir/a b+c@d", 10, minio.PutObjectOptions{ContentType: "text/plain", UserMetadata: map[string]string{"color": "blue"}}, 10},
	} {
		data := randBytes(uint64(tc.size), tc.size)
		info, err := c.PutObject(ctx, "bkt", tc.name, bytes.NewReader(data), tc.n, tc.opts)
		if err != nil {
			t.Fatalf("%s: put: %v", tc.name, err)
		}
		if info.Size != int64(tc.size) {
			t.Fatalf("%s: size %d", tc.name, info.Size)
		}
		obj, err := c.GetObject(ctx, "bkt", tc.name, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: get: %v (%d bytes)", tc.name, err, len(got))
		}
		st, err := c.StatObject(ctx, "bkt", tc.name, minio.StatObjectOptions{})
		if err != nil || st.Size != int64(tc.size) {
			t.Fatalf("%s: stat %v %d", tc.name, err, st.Size)
		}
		if tc.size > 100 {
			opts := minio.GetObjectOptions{}
			opts.SetRange(100, 199)
			obj, _ := c.GetObject(ctx, "bkt", tc.name, opts)
			got, err := io.ReadAll(obj)
			if err != nil || !bytes.Equal(got, data[100:200]) {
				t.Fatalf("%s: range: %v", tc.name, err)
			}
		}
	}
	st, _ := c.StatObject(ctx, "bkt", "dir/a b+c@d", minio.StatObjectOptions{})
	if st.ContentType != "text/plain" || st.UserMetadata["Color"] != "blue" {
		t.Fatalf("metadata: %q %v", st.ContentType, st.UserMetadata)
	}
	var keys []string
	for o := range c.ListObjects(ctx, "bkt", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if strings.Join(keys, ",") != "dir/a b+c@d,empty,multipart,small,trailer,unknown" {
		t.Fatalf("list: %v", keys)
	}
	keys = nil
	for o := range c.ListObjects(ctx, "bkt", minio.ListObjectsOptions{}) {
		keys = append(keys, o.Key)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "dir/,empty,multipart,small,trailer,unknown" {
		t.Fatalf("list delimited: %v", keys)
	}
	u, err := c.PresignedGetObject(ctx, "bkt", "small", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.ts.Client().Get(u.String())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("presigned: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	objs := make(chan minio.ObjectInfo, 10)
	for _, k := range keys[1:] {
		objs <- minio.ObjectInfo{Key: k}
	}
	close(objs)
	for e := range c.RemoveObjects(ctx, "bkt", objs, minio.RemoveObjectsOptions{}) {
		t.Fatalf("remove: %v", e.Err)
	}
	if err := c.RemoveBucket(ctx, "bkt"); err == nil {
		t.Fatal("removed a non-empty bucket")
	}
	if err := c.RemoveObject(ctx, "bkt", "dir/a b+c@d", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
}
