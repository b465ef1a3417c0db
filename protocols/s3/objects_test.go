package s3

import (
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestObjectRequestValidation(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	for _, key := range []string{"..", "a/..", "../../etc/passwd", "a/a/../../../b"} {
		resp, body := ts.do("PUT", "/bkt/"+key, []byte("x"), nil)
		ts.expect(resp, body, 400, "400")
	}
	// An empty Content-MD5 is sent and invalid; a wrong one is named.
	resp, body := ts.do("PUT", "/bkt/o", []byte("data"), map[string]string{"Content-MD5": ""})
	ts.expect(resp, body, 400, "InvalidDigest")
	resp, body = ts.do("PUT", "/bkt/o", []byte("data"), map[string]string{"Content-MD5": "XrY7u+Ae7tCTyyK7j1rNww=="})
	ts.expect(resp, body, 400, "BadDigest")
	if !strings.Contains(string(body), "<ExpectedDigest>5eb63bbbe01eeed093cb22bb8f5acdc3</ExpectedDigest>") ||
		!strings.Contains(string(body), "<CalculatedDigest>") {
		t.Fatalf("BadDigest fields: %s", body)
	}
	// Empty checksum headers count: two are two, one is invalid.
	resp, body = ts.do("PUT", "/bkt/o", []byte("data"), map[string]string{"x-amz-checksum-crc32": "", "x-amz-checksum-sha1": ""})
	ts.expect(resp, body, 400, "InvalidRequest")
	if !strings.Contains(string(body), "Multiple checksum Types") {
		t.Fatalf("multiple checksums: %s", body)
	}
	resp, body = ts.do("PUT", "/bkt/o", []byte("data"), map[string]string{"x-amz-checksum-crc32": ""})
	ts.expect(resp, body, 400, "InvalidRequest")
	// Conditional writes: If-None-Match takes only "*".
	ts.mustPut("/bkt/o", []byte("data"))
	for _, h := range []map[string]string{
		{"If-None-Match": `"abc"`},
		{"If-Match": `"abc"`, "If-None-Match": "*"},
	} {
		resp, body = ts.do("PUT", "/bkt/o", []byte("data"), h)
		ts.expect(resp, body, 501, "NotImplemented")
	}
	resp, body = ts.do("PUT", "/bkt/o", []byte("data"), map[string]string{"If-None-Match": "*"})
	ts.expect(resp, body, 412, "PreconditionFailed")
	// Expected bucket owners.
	resp, body = ts.do("DELETE", "/bkt/o", nil, map[string]string{"x-amz-expected-bucket-owner": "someone-else"})
	ts.expect(resp, body, 403, "AccessDenied")
	resp, body = ts.do("PUT", "/bkt/o2", nil, map[string]string{"x-amz-copy-source": "bkt/o", "x-amz-source-expected-bucket-owner": "x"})
	ts.expect(resp, body, 403, "AccessDenied")
	resp, body = ts.do("DELETE", "/bkt/o", nil, map[string]string{"x-amz-expected-bucket-owner": testCred.AccessKey})
	ts.expect(resp, body, 204, "")
	// Copy sources are parsed before anything is looked up.
	resp, body = ts.do("PUT", "/bkt/o2", nil, map[string]string{"x-amz-copy-source": "bkt/%ZZ"})
	ts.expect(resp, body, 400, "InvalidArgument")
	if !strings.Contains(string(body), "<ArgumentValue>bkt/%ZZ</ArgumentValue>") {
		t.Fatalf("copy source error: %s", body)
	}
	// An explicit us-east-1 constraint is refused.
	resp, body = ts.do("PUT", "/bkt2", []byte("<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>"), nil)
	ts.expect(resp, body, 400, "InvalidLocationConstraint")
}

func TestWebsiteRedirectLocation(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	resp, body := ts.do("PUT", "/bkt/o", []byte("x"), map[string]string{"x-amz-website-redirect-location": "ftp://example.com"})
	ts.expect(resp, body, 400, "InvalidRedirectLocation")
	resp, body = ts.do("PUT", "/bkt/o", []byte("x"), map[string]string{"x-amz-website-redirect-location": "/other"})
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("HEAD", "/bkt/o", nil, nil)
	ts.expect(resp, body, 200, "")
	if got := resp.Header.Get("x-amz-website-redirect-location"); got != "/other" {
		t.Fatalf("HEAD redirect %q", got)
	}
	// A copy onto itself that sets a redirect is a change, not an error.
	resp, body = ts.do("PUT", "/bkt/o", nil, map[string]string{"x-amz-copy-source": "bkt/o", "x-amz-website-redirect-location": "https://example.com/x"})
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("GET", "/bkt/o", nil, nil)
	ts.expect(resp, body, 200, "")
	if got := resp.Header.Get("x-amz-website-redirect-location"); got != "https://example.com/x" {
		t.Fatalf("GET redirect %q", got)
	}
	// A copy does not take the source's redirect along.
	resp, body = ts.do("PUT", "/bkt/o2", nil, map[string]string{"x-amz-copy-source": "bkt/o"})
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("HEAD", "/bkt/o2", nil, nil)
	ts.expect(resp, body, 200, "")
	if got := resp.Header.Get("x-amz-website-redirect-location"); got != "" {
		t.Fatalf("copied redirect %q", got)
	}
}

func TestListMultipartUploadsMarkers(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	type upload struct{ key, id string }
	var ups []upload
	for _, k := range []string{"bar", "baz", "baz", "baz", "foo/a", "foo/b", "zzz"} {
		resp, body := ts.do("POST", "/bkt/"+k+"?uploads", nil, nil)
		ts.expect(resp, body, 200, "")
		var r struct{ UploadId string }
		xml.Unmarshal(body, &r)
		ups = append(ups, upload{k, r.UploadId})
		time.Sleep(time.Millisecond)
	}
	type result struct {
		Uploads            []struct{ Key, UploadId string } `xml:"Upload"`
		CommonPrefixes     []struct{ Prefix string }
		NextKeyMarker      string
		NextUploadIdMarker string
		IsTruncated        bool
	}
	list := func(q string) result {
		t.Helper()
		resp, body := ts.do("GET", "/bkt?uploads"+q, nil, nil)
		ts.expect(resp, body, 200, "")
		var r result
		if err := xml.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	ids := func(r result) string {
		var s []string
		for _, u := range r.Uploads {
			s = append(s, u.UploadId)
		}
		return strings.Join(s, ",")
	}
	want := func(us ...upload) string {
		var s []string
		for _, u := range us {
			s = append(s, u.id)
		}
		return strings.Join(s, ",")
	}
	// A key's uploads list in the order they were initiated.
	if got := ids(list("")); got != want(ups...) {
		t.Fatalf("all: %s", got)
	}
	if got := ids(list("&key-marker=bat")); got != want(ups[1:]...) {
		t.Fatalf("after bat: %s", got)
	}
	if got := ids(list("&key-marker=baz&upload-id-marker=" + ups[2].id)); got != want(ups[3:]...) {
		t.Fatalf("after second baz: %s", got)
	}
	if got := ids(list("&key-marker=bat&upload-id-marker=" + ups[2].id)); got != want(ups[3:]...) {
		t.Fatalf("marker of the next key: %s", got)
	}
	for _, m := range []string{"nonsense", ups[6].id} {
		resp, body := ts.do("GET", "/bkt?uploads&key-marker=baz&upload-id-marker="+m, nil, nil)
		ts.expect(resp, body, 400, "InvalidArgument")
	}
	// Paging through a rolled-up prefix resumes after its first upload.
	r := list("&delimiter=/&max-uploads=5")
	if !r.IsTruncated || len(r.CommonPrefixes) != 1 || r.NextKeyMarker != "foo/" || r.NextUploadIdMarker != ups[4].id {
		t.Fatalf("first page: %+v", r)
	}
	r = list("&delimiter=/&key-marker=foo/&upload-id-marker=" + r.NextUploadIdMarker)
	if r.IsTruncated || ids(r) != ups[6].id {
		t.Fatalf("second page: %+v", r)
	}
}

func TestListPartsMarkers(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	resp, body := ts.do("POST", "/bkt/mp?uploads", nil, nil)
	ts.expect(resp, body, 200, "")
	var r struct{ UploadId string }
	xml.Unmarshal(body, &r)
	for _, m := range []string{"invalid", "2736457823532448723", "-14"} {
		resp, body = ts.do("GET", "/bkt/mp?uploadId="+r.UploadId+"&part-number-marker="+m, nil, nil)
		ts.expect(resp, body, 400, "InvalidArgument")
		if !strings.Contains(string(body), "<ArgumentName>part-number-marker</ArgumentName>") {
			t.Fatalf("marker %s: %s", m, body)
		}
	}
	resp, body = ts.do("GET", "/bkt/mp?uploadId="+r.UploadId, nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), "<ChecksumAlgorithm>null</ChecksumAlgorithm>") {
		t.Fatalf("ListParts without checksum: %s", body)
	}
	// A COMPOSITE upload needs each part's checksum.
	resp, body = ts.do("POST", "/bkt/c?uploads", nil, map[string]string{"x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-type": "COMPOSITE"})
	ts.expect(resp, body, 200, "")
	xml.Unmarshal(body, &r)
	resp, body = ts.do("PUT", "/bkt/c?partNumber=1&uploadId="+r.UploadId, []byte("part"), nil)
	ts.expect(resp, body, 400, "InvalidRequest")
}

func TestListObjectVersions(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	for _, k := range []string{"a/1", "a/2", "b", "c", "d/1"} {
		ts.mustPut("/bkt/"+k, []byte(k))
	}
	type result struct {
		Versions []struct {
			Key, VersionId string
			IsLatest       bool
			Size           int64
		} `xml:"Version"`
		CommonPrefixes      []struct{ Prefix string }
		IsTruncated         bool
		NextKeyMarker       string
		NextVersionIdMarker string
	}
	var got []string
	q := "/bkt?versions&delimiter=/&max-keys=2"
	for range 10 {
		resp, body := ts.do("GET", q, nil, nil)
		ts.expect(resp, body, 200, "")
		var r result
		if err := xml.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		for _, v := range r.Versions {
			if v.VersionId != "null" || !v.IsLatest || v.Size != int64(len(v.Key)) {
				t.Fatalf("version %+v", v)
			}
			got = append(got, v.Key)
		}
		for _, p := range r.CommonPrefixes {
			got = append(got, p.Prefix)
		}
		if !r.IsTruncated {
			break
		}
		q = fmt.Sprintf("/bkt?versions&delimiter=/&max-keys=2&key-marker=%s", r.NextKeyMarker)
		if r.NextVersionIdMarker != "" {
			q += "&version-id-marker=" + r.NextVersionIdMarker
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "a/,b,c,d/" {
		t.Fatalf("versions: %v", got)
	}
	resp, body := ts.do("GET", "/bkt?versions&max-keys=-1", nil, nil)
	ts.expect(resp, body, 400, "InvalidArgument")
	resp, body = ts.do("GET", "/bkt?versions&version-id-marker=null", nil, nil)
	ts.expect(resp, body, 400, "InvalidArgument")
	resp, body = ts.do("GET", "/nope?versions", nil, nil)
	ts.expect(resp, body, 404, "NoSuchBucket")
}
