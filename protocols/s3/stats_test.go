package s3

import (
	"net/http"
	"strings"
	"testing"
)

func TestRequestStats(t *testing.T) {
	ts := newTestServer(t, nil)
	body := randBytes(1, 100<<10)
	ts.do("PUT", "/bkt", nil, nil)
	ts.do("PUT", "/bkt/o", body, nil)
	for range 3 {
		ts.do("GET", "/bkt/o", nil, nil)
	}
	ts.do("GET", "/bkt/o", nil, map[string]string{"Range": "bytes=0-9"})
	ts.do("GET", "/bkt/missing", nil, nil)
	ts.do("HEAD", "/bkt/o", nil, nil)
	ts.do("GET", "/bkt?list-type=2&prefix=o", nil, nil)
	ts.do("GET", "/bkt?tagging", nil, nil)
	ts.do("PATCH", "/list-users", nil, nil)
	ts.do("GET", "/bkt/o", nil, map[string]string{"hash": "nosign"}) // anonymous: AccessDenied

	st := ts.s.Stats()
	ops := map[string]OpStats{}
	for _, o := range st.Operations {
		ops[o.Name] = o
		if o.Count != o.OK+sum(o.Errors) {
			t.Errorf("%s: count %d, ok %d, errors %v", o.Name, o.Count, o.OK, o.Errors)
		}
		if o.Buckets[len(o.Buckets)-1] > o.Count || o.Sum <= 0 {
			t.Errorf("%s: histogram %v of %d, sum %v", o.Name, o.Buckets, o.Count, o.Sum)
		}
	}
	for name, want := range map[string][2]uint64{
		"CreateBucket": {1, 0}, "PutObject": {1, 0}, "GetObject": {4, 2}, "HeadObject": {1, 0},
		"ListObjectsV2": {1, 0}, "GetBucketTagging": {0, 1}, "Admin": {1, 0}, // no tag set
	} {
		o := ops[name]
		if o.OK != want[0] || sum(o.Errors) != want[1] {
			t.Errorf("%s: ok %d errors %v, want %d and %d", name, o.OK, o.Errors, want[0], want[1])
		}
	}
	if e := ops["GetObject"].Errors; e["NoSuchKey"] != 1 || e["AccessDenied"] != 1 {
		t.Errorf("GetObject errors %v", e)
	}
	if want := uint64(3*len(body) + 10); st.BytesOut != want {
		t.Errorf("bytes out %d, want %d", st.BytesOut, want)
	}
	if st.BytesIn < uint64(len(body)) {
		t.Errorf("bytes in %d, want at least %d", st.BytesIn, len(body))
	}
}

func sum(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

func TestOperationNames(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		hdr            map[string]string
		want           string
	}{
		{"GET", "/", nil, "ListBuckets"},
		{"GET", "/b?prefix=a&delimiter=/", nil, "ListObjects"},
		{"GET", "/b?versions", nil, "ListObjectVersions"},
		{"GET", "/b?uploads", nil, "ListMultipartUploads"},
		{"GET", "/b?policy", nil, "GetBucketPolicy"},
		{"GET", "/b?list-type=2&X-Amz-Signature=x", nil, "ListObjectsV2"},
		{"PUT", "/b?cors", nil, "PutBucketCors"},
		{"DELETE", "/b?lifecycle", nil, "DeleteBucketLifecycle"},
		{"DELETE", "/b", nil, "DeleteBucket"},
		{"POST", "/b?delete", nil, "DeleteObjects"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", nil, "UploadPart"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", map[string]string{"X-Amz-Copy-Source": "/b/j"}, "UploadPartCopy"},
		{"PUT", "/b/k", map[string]string{"X-Amz-Copy-Source": "/b/j"}, "CopyObject"},
		{"PUT", "/b/k?tagging", nil, "PutObjectTagging"},
		{"PUT", "/b/k?retention&versionId=null", nil, "PutObjectRetention"},
		{"PUT", "/b/k?tagging&retention", nil, "Unknown"},
		{"DELETE", "/b/k?acl", nil, "Unknown"},
		{"HEAD", "/b/k?tagging", nil, "Unknown"},
		{"POST", "/b/k?uploads", nil, "CreateMultipartUpload"},
		{"POST", "/b/k?uploadId=u", nil, "CompleteMultipartUpload"},
		{"DELETE", "/b/k?uploadId=u", nil, "AbortMultipartUpload"},
		{"GET", "/b/k?uploadId=u", nil, "ListParts"},
		{"OPTIONS", "/b/k", nil, "Preflight"},
	} {
		r, _ := http.NewRequest(tc.method, "http://127.0.0.1"+tc.target, nil)
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		s := &Server{}
		req, err := s.route(r)
		if err != nil {
			t.Fatal(err)
		}
		req.r = r
		o, _ := classify(req)
		if got := o.String(); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.target, got, tc.want)
		}
	}
}

// TestOperationTable checks that every operation has a name, that those
// a bucket policy governs name an action, and that the table reaches
// every operation but the ones served before routing.
func TestOperationTable(t *testing.T) {
	reached := map[op]bool{opUnknown: true, opAdmin: true, opPreflight: true,
		opCopyObject: true, opUploadPartCopy: true, opListObjectsV2: true} // told apart by classify
	for _, o := range opTable {
		reached[o] = true
	}
	for o := op(0); o < numOps; o++ {
		spec := &opSpecs[o]
		if spec.name == "" {
			t.Errorf("operation %d has no name", o)
		}
		if !reached[o] {
			t.Errorf("%s: no method and sub-resource selects it", o)
		}
		if o > opListBuckets && !strings.HasPrefix(spec.action, "s3:") {
			t.Errorf("%s: action %q", o, spec.action)
		}
	}
}
