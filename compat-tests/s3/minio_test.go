package s3compat

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func minioClient(t *testing.T, tg *target, trailing bool) *minio.Client {
	t.Helper()
	tr := &http.Transport{ForceAttemptHTTP2: true}
	if tg.TLS {
		tr.TLSClientConfig = &tls.Config{RootCAs: tg.CAPool}
	}
	c, err := minio.New(tg.Host, &minio.Options{
		Creds:           credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure:          tg.TLS,
		Transport:       tr,
		TrailingHeaders: trailing,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMinioGo(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) { testMinioGo(t, tls) })
	}
}

func testMinioGo(t *testing.T, useTLS bool) {
	tg := startTarget(t, useTLS)
	ctx := context.Background()
	c := minioClient(t, tg, true)
	// A fresh client without a region asks GetBucketLocation first.
	if err := c.MakeBucket(ctx, "mgo", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.BucketExists(ctx, "mgo"); err != nil || !ok {
		t.Fatalf("BucketExists: %v %v", ok, err)
	}
	cases := []struct {
		key  string
		size int
		n    int64 // size given to PutObject (-1: unknown)
		opts minio.PutObjectOptions
	}{
		{"streaming-signed", 1000, 1000, minio.PutObjectOptions{}},
		{"streaming-big", 20 << 20, 20 << 20, minio.PutObjectOptions{DisableMultipart: true}},
		{"trailer-crc32c", 300000, 300000, minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C}},
		{"trailer-sha256", 70000, 70000, minio.PutObjectOptions{Checksum: minio.ChecksumSHA256}},
		{"content-md5", 5000, 5000, minio.PutObjectOptions{SendContentMd5: true}},
		{"unknown-size", 20 << 20, -1, minio.PutObjectOptions{PartSize: 16 << 20}},
		{"multipart-crc32", 11 << 20, 11 << 20, minio.PutObjectOptions{PartSize: 5 << 20, Checksum: minio.ChecksumCRC32}},
		{"dir/sub/x y+z@w", 10, 10, minio.PutObjectOptions{ContentType: "text/plain", UserMetadata: map[string]string{"k": "v"}}},
		{"dir/other", 0, 0, minio.PutObjectOptions{}},
	}
	for i, tc := range cases {
		data := pattern(uint64(i), tc.size)
		if _, err := c.PutObject(ctx, "mgo", tc.key, bytes.NewReader(data), tc.n, tc.opts); err != nil {
			t.Fatalf("put %s: %v", tc.key, err)
		}
		obj, err := c.GetObject(ctx, "mgo", tc.key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("get %s: %v, %d bytes of %d", tc.key, err, len(got), len(data))
		}
		if tc.size > 1000 {
			o := minio.GetObjectOptions{}
			o.SetRange(int64(tc.size)-1000, 0)
			obj, _ := c.GetObject(ctx, "mgo", tc.key, o)
			got, err := io.ReadAll(obj)
			obj.Close()
			if err != nil || !bytes.Equal(got, data[tc.size-1000:]) {
				t.Fatalf("ranged get %s: %v", tc.key, err)
			}
		}
	}
	if tg.Real {
		// Over plain HTTP the large GETs above left as arena pages
		// (spliced); over TLS everything is copied.
		sent := tg.process.InfoInt(t, "dram_bytes_sent_by_ref")
		if useTLS != (sent == 0) {
			t.Fatalf("dram_bytes_sent_by_ref %d over %s", sent, map[bool]string{false: "http", true: "https"}[useTLS])
		}
	}
	// Without trailing headers: STREAMING-AWS4-HMAC-SHA256-PAYLOAD over
	// http, UNSIGNED-PAYLOAD over https.
	plain := minioClient(t, tg, false)
	for _, n := range []int{1000, 3 << 20} {
		data := pattern(uint64(n), n)
		if _, err := plain.PutObject(ctx, "mgo", "plain", bytes.NewReader(data), int64(n), minio.PutObjectOptions{DisableMultipart: true}); err != nil {
			t.Fatalf("plain put %d: %v", n, err)
		}
		obj, _ := plain.GetObject(ctx, "mgo", "plain", minio.GetObjectOptions{})
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("plain get %d: %v", n, err)
		}
	}
	if err := plain.RemoveObject(ctx, "mgo", "plain", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := c.StatObject(ctx, "mgo", "dir/sub/x y+z@w", minio.StatObjectOptions{})
	if err != nil || st.ContentType != "text/plain" || st.UserMetadata["K"] != "v" {
		t.Fatalf("stat: %v %q %v", err, st.ContentType, st.UserMetadata)
	}

	var all []string
	for o := range c.ListObjects(ctx, "mgo", minio.ListObjectsOptions{Recursive: true, MaxKeys: 2}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		all = append(all, o.Key)
	}
	if len(all) != len(cases) || !sort.StringsAreSorted(all) {
		t.Fatalf("recursive listing in pages of 2: %v", all)
	}
	var top []string
	for o := range c.ListObjects(ctx, "mgo", minio.ListObjectsOptions{Prefix: "dir/"}) {
		top = append(top, o.Key)
	}
	sort.Strings(top)
	if strings.Join(top, ",") != "dir/other,dir/sub/" {
		t.Fatalf("delimited listing: %v", top)
	}

	// Presigned PUT and GET.
	pu, err := c.PresignedPutObject(ctx, "mgo", "presigned", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	hc := tg.httpClient()
	req, _ := http.NewRequest("PUT", pu.String(), strings.NewReader("presigned body"))
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %v %v", err, resp)
	}
	resp.Body.Close()
	gu, _ := c.PresignedGetObject(ctx, "mgo", "presigned", time.Minute, nil)
	resp, err = hc.Get(gu.String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "presigned body" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, b)
	}

	// RemoveObjects (DeleteObjects with Content-MD5), then the bucket.
	ch := make(chan minio.ObjectInfo, len(all)+1)
	for _, k := range append(all, "presigned") {
		ch <- minio.ObjectInfo{Key: k}
	}
	close(ch)
	for e := range c.RemoveObjects(ctx, "mgo", ch, minio.RemoveObjectsOptions{}) {
		t.Fatalf("RemoveObjects: %s: %v", e.ObjectName, e.Err)
	}
	if err := c.RemoveBucket(ctx, "mgo"); err != nil {
		t.Fatal(err)
	}
}
