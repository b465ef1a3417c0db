package s3

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/gpucache/gpucache/engine"
)

func (ts *testServer) mustPut(path string, body []byte) *http.Response {
	ts.t.Helper()
	resp, out := ts.do("PUT", path, body, nil)
	ts.expect(resp, out, 200, "")
	return resp
}

func TestListingPagesAndDelimiters(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	keys := []string{"a/1", "a/2", "a/b/3", "b", "c/1", "c/2", "d", "e f+g"}
	for _, k := range keys {
		ts.mustPut("/bkt/"+strings.ReplaceAll(k, " ", "%20"), []byte(k))
	}
	type result struct {
		Contents              []struct{ Key string }
		CommonPrefixes        []struct{ Prefix string }
		IsTruncated           bool
		NextContinuationToken string
		NextMarker            string
		KeyCount              int
	}
	// V2 with delimiter in pages of 2: a/, b, c/, d, e f+g — no duplicates.
	var got []string
	token := ""
	for range 10 {
		q := "/bkt?list-type=2&delimiter=%2F&max-keys=2&encoding-type=url"
		if token != "" {
			q += "&continuation-token=" + token
		}
		resp, body := ts.do("GET", q, nil, nil)
		ts.expect(resp, body, 200, "")
		var r result
		if err := xml.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		for _, c := range r.Contents {
			got = append(got, c.Key)
		}
		for _, p := range r.CommonPrefixes {
			got = append(got, p.Prefix)
		}
		if r.KeyCount != len(r.Contents)+len(r.CommonPrefixes) {
			t.Fatalf("KeyCount %d", r.KeyCount)
		}
		if !r.IsTruncated {
			break
		}
		token = r.NextContinuationToken
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "a/,b,c/,d,e%20f%2Bg" {
		t.Fatalf("v2 pages: %v", got)
	}
	// V1 with markers, prefix and delimiter.
	got = nil
	marker := ""
	for range 10 {
		resp, body := ts.do("GET", "/bkt?prefix=a%2F&delimiter=%2F&max-keys=1&marker="+marker, nil, nil)
		ts.expect(resp, body, 200, "")
		var r result
		xml.Unmarshal(body, &r)
		for _, c := range r.Contents {
			got = append(got, c.Key)
		}
		for _, p := range r.CommonPrefixes {
			got = append(got, p.Prefix)
		}
		if !r.IsTruncated {
			break
		}
		marker = r.NextMarker
	}
	if strings.Join(got, ",") != "a/1,a/2,a/b/" {
		t.Fatalf("v1 pages: %v", got)
	}
	resp, body := ts.do("GET", "/bkt?list-type=2&start-after=c%2F2", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), "<Key>d</Key>") || strings.Contains(string(body), "<Key>c/2</Key>") {
		t.Fatalf("start-after: %s", body)
	}
	resp, body = ts.do("GET", "/bkt?list-type=2&continuation-token=", nil, nil)
	ts.expect(resp, body, 400, "InvalidArgument")
	resp, body = ts.do("GET", "/nobucket?list-type=2", nil, nil)
	ts.expect(resp, body, 404, "NoSuchBucket")
}

func TestObjectErrorsAndConditions(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	resp, body := ts.do("PUT", "/bkt", nil, nil)
	ts.expect(resp, body, 409, "BucketAlreadyOwnedByYou")
	resp, body = ts.do("PUT", "/Bad_Name", nil, nil)
	ts.expect(resp, body, 400, "InvalidBucketName")
	data := randBytes(1, 1000)
	etag := ts.mustPut("/bkt/k", data).Header.Get("ETag")
	resp, body = ts.do("GET", "/bkt/k", nil, map[string]string{"Range": "bytes=2000-"})
	ts.expect(resp, body, 416, "InvalidRange")
	if resp.Header.Get("Content-Range") != "bytes */1000" {
		t.Fatalf("416 Content-Range %q", resp.Header.Get("Content-Range"))
	}
	resp, body = ts.do("GET", "/bkt/k", nil, map[string]string{"Range": "bytes=-10"})
	ts.expect(resp, body, 206, "")
	if string(body) != string(data[990:]) || resp.Header.Get("Content-Range") != "bytes 990-999/1000" {
		t.Fatal("suffix range")
	}
	resp, _ = ts.do("GET", "/bkt/k", nil, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	resp, body = ts.do("GET", "/bkt/k", nil, map[string]string{"If-Match": `"nope"`})
	ts.expect(resp, body, 412, "PreconditionFailed")
	resp, body = ts.do("PUT", "/bkt/k", data, map[string]string{"If-None-Match": "*"})
	ts.expect(resp, body, 412, "PreconditionFailed")
	resp, body = ts.do("PUT", "/bkt/new", data, map[string]string{"If-None-Match": "*"})
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("PUT", "/bkt/k", data, map[string]string{"If-Match": etag})
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("GET", "/bkt/missing", nil, nil)
	ts.expect(resp, body, 404, "NoSuchKey")
	resp, body = ts.do("DELETE", "/bkt", nil, nil)
	ts.expect(resp, body, 409, "BucketNotEmpty")
	// Copy with source conditions.
	resp, body = ts.do("PUT", "/bkt/copy", nil, map[string]string{"X-Amz-Copy-Source": "/bkt/k", "X-Amz-Copy-Source-If-Match": `"x"`})
	ts.expect(resp, body, 412, "PreconditionFailed")
	resp, body = ts.do("PUT", "/bkt/copy", nil, map[string]string{"X-Amz-Copy-Source": "bkt/k", "X-Amz-Copy-Source-If-Match": etag})
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("GET", "/bkt/copy", nil, nil)
	if resp.StatusCode != 200 || string(body) != string(data) || resp.Header.Get("ETag") != etag {
		t.Fatalf("copy: %d %s", resp.StatusCode, resp.Header.Get("ETag"))
	}
	// Checksums are stored and returned in checksum mode.
	resp, body = ts.do("PUT", "/bkt/ck", data, map[string]string{"X-Amz-Sdk-Checksum-Algorithm": "SHA256"})
	ts.expect(resp, body, 200, "")
	sum := resp.Header.Get("x-amz-checksum-sha256")
	resp, _ = ts.do("GET", "/bkt/ck", nil, map[string]string{"X-Amz-Checksum-Mode": "ENABLED"})
	if sum == "" || resp.Header.Get("x-amz-checksum-sha256") != sum {
		t.Fatalf("checksum %q vs %q", sum, resp.Header.Get("x-amz-checksum-sha256"))
	}
}

func TestMultipartRules(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MinPartSize = 1000 })
	ts.mustPut("/bkt", nil)
	create := func(key string) string {
		resp, body := ts.do("POST", "/bkt/"+key+"?uploads", nil, nil)
		ts.expect(resp, body, 200, "")
		var r struct{ UploadId string }
		xml.Unmarshal(body, &r)
		return r.UploadId
	}
	id := create("mp")
	etags := map[int]string{}
	for n, size := range map[int]int{1: 2000, 2: 500, 3: 3000} {
		resp, body := ts.do("PUT", fmt.Sprintf("/bkt/mp?partNumber=%d&uploadId=%s", n, id), randBytes(uint64(n), size), nil)
		ts.expect(resp, body, 200, "")
		etags[n] = resp.Header.Get("ETag")
	}
	complete := func(parts ...int) (*http.Response, []byte) {
		var b strings.Builder
		b.WriteString("<CompleteMultipartUpload>")
		for _, n := range parts {
			fmt.Fprintf(&b, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", n, etags[n])
		}
		b.WriteString("</CompleteMultipartUpload>")
		return ts.do("POST", "/bkt/mp?uploadId="+id, []byte(b.String()), nil)
	}
	resp, body := complete(2, 1)
	ts.expect(resp, body, 400, "InvalidPartOrder")
	resp, body = complete(1, 2, 3)
	ts.expect(resp, body, 400, "EntityTooSmall")
	etags[4] = `"0123"`
	resp, body = complete(1, 4)
	ts.expect(resp, body, 400, "InvalidPart")
	resp, body = ts.do("GET", "/bkt/mp?uploadId="+id+"&max-parts=2", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), "<IsTruncated>true</IsTruncated>") || strings.Count(string(body), "<Part>") != 2 {
		t.Fatalf("ListParts: %s", body)
	}
	resp, body = ts.do("GET", "/bkt?uploads", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), id) {
		t.Fatalf("ListMultipartUploads: %s", body)
	}
	resp, body = complete(1, 3)
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("GET", "/bkt/mp?partNumber=2", nil, nil)
	ts.expect(resp, body, 206, "")
	if string(body) != string(randBytes(3, 3000)) || resp.Header.Get("x-amz-mp-parts-count") != "2" {
		t.Fatalf("partNumber=2: %d bytes", len(body))
	}
	// A retried Complete of a completed upload succeeds, as on S3.
	resp, body = ts.do("POST", "/bkt/mp?uploadId="+id, []byte("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"), nil)
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("POST", "/bkt/mp?uploadId=0123", []byte("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"), nil)
	ts.expect(resp, body, 404, "NoSuchUpload")
	id2 := create("gone")
	resp, body = ts.do("DELETE", "/bkt/gone?uploadId="+id2, nil, nil)
	ts.expect(resp, body, 204, "")
	resp, body = ts.do("PUT", "/bkt/gone?partNumber=1&uploadId="+id2, []byte("x"), nil)
	ts.expect(resp, body, 404, "NoSuchUpload")
	// No hidden keys are left behind in the upload keyspace.
	n := 0
	ts.eng.Scan(uploadKS("bkt"), engine.ScanOptions{}, func(k []byte, _ *engine.Meta) bool {
		// Completion markers expire on their own; b/ holds bucket documents.
		if !strings.HasPrefix(string(k), "c/") && !strings.HasPrefix(string(k), "b/") {
			n++
		}
		return true
	})
	if n != 0 {
		t.Fatalf("%d keys left in the upload keyspace", n)
	}
}

func TestRESPBucket(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.RESPBucket = "redis" })
	if _, err := ts.eng.PutBytes("", []byte("from-redis"), []byte("hello"), engine.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, body := ts.do("GET", "/redis/from-redis", nil, nil)
	ts.expect(resp, body, 200, "")
	if string(body) != "hello" || resp.Header.Get("ETag") == "" {
		t.Fatalf("RESP value over S3: %q", body)
	}
	ts.mustPut("/redis/from-s3", []byte("world"))
	v, err := ts.eng.Get("", []byte("from-s3"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := v.AppendTo(nil)
	v.Release()
	if string(got) != "world" {
		t.Fatalf("S3 object over RESP: %q", got)
	}
	resp, body = ts.do("GET", "/", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), "<Name>redis</Name>") {
		t.Fatalf("ListBuckets: %s", body)
	}
	resp, body = ts.do("GET", "/", nil, map[string]string{"Host": "redis.s3.test"})
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), "<Key>from-redis</Key>") {
		t.Fatalf("virtual-host listing: %s", body)
	}
}

func TestTagging(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	resp, body := ts.do("GET", "/bkt?tagging", nil, nil)
	ts.expect(resp, body, 404, "NoSuchTagSet")
	resp, body = ts.do("PUT", "/bkt?tagging", []byte(`<Tagging><TagSet><Tag><Key>team</Key><Value>kv</Value></Tag></TagSet></Tagging>`), nil)
	ts.expect(resp, body, 204, "")
	resp, body = ts.do("GET", "/bkt?tagging", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), "<Key>team</Key>") {
		t.Fatalf("bucket tags: %s", body)
	}
	resp, body = ts.do("PUT", "/bkt/o", []byte("data"), map[string]string{"X-Amz-Tagging": "a=1&b=2"})
	ts.expect(resp, body, 200, "")
	etag := resp.Header.Get("ETag")
	resp, _ = ts.do("HEAD", "/bkt/o", nil, nil)
	if resp.Header.Get("x-amz-tagging-count") != "2" {
		t.Fatalf("tag count %q", resp.Header.Get("x-amz-tagging-count"))
	}
	resp, body = ts.do("PUT", "/bkt/o?tagging", []byte(`<Tagging><TagSet><Tag><Key>a?</Key><Value>1</Value></Tag></TagSet></Tagging>`), nil)
	ts.expect(resp, body, 400, "InvalidTag")
	resp, body = ts.do("DELETE", "/bkt/o?tagging", nil, nil)
	ts.expect(resp, body, 204, "")
	resp, body = ts.do("GET", "/bkt/o", nil, nil)
	if string(body) != "data" || resp.Header.Get("ETag") != etag || resp.Header.Get("x-amz-tagging-count") != "" {
		t.Fatalf("after tag delete: %q %s", body, resp.Header.Get("ETag"))
	}
}
