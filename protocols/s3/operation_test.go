package s3

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzClassify classifies requests of any method, path, query and copy
// source. Whatever arrives, classify does not panic, decides the same
// way twice, refuses a query naming more than one sub-resource, and an
// accepted request's operation is one the table (or a copy, or
// ListObjectsV2) selects for that method.
func FuzzClassify(f *testing.F) {
	for _, s := range [][3]string{
		{"PUT", "/b/k", "tagging&retention"},
		{"PUT", "/b/k", "retention&versionId=null"},
		{"GET", "/b", "list-type=2&prefix=a"},
		{"POST", "/b/k", "uploads&uploadId=x"},
		{"DELETE", "/b/k", "tagging&uploadId=x"},
		{"HEAD", "/b/k", "acl"},
		{"PUT", "/b/k", "partNumber=1&uploadId=u"},
		{"GET", "/b", "session"},
		{"OPTIONS", "/b/k", "cors"},
		{"GET", "/", "x-id=ListBuckets"},
	} {
		f.Add(s[0], s[1], s[2], "")
		f.Add(s[0], s[1], s[2], "/b/src")
	}
	s := &Server{}
	f.Fuzz(func(t *testing.T, method, path, query, copySrc string) {
		r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		if err != nil {
			t.Skip()
		}
		r.Method = method
		r.URL.Path, r.URL.RawQuery = path, query
		if copySrc != "" {
			r.Header.Set("X-Amz-Copy-Source", copySrc)
		}
		req, err := s.route(r)
		if err != nil {
			return
		}
		req.r = r
		o, cerr := classify(req)
		o2, cerr2 := classify(req)
		if o != o2 || (cerr == nil) != (cerr2 == nil) {
			t.Fatalf("classified %s then %s", o, o2)
		}
		subs := 0
		for name := range req.q {
			if subresources[name] || unimplementedSubresources[name] {
				subs++
			}
		}
		if subs > 1 && cerr == nil {
			t.Fatalf("%s %s?%s: %d sub-resources accepted as %s", method, path, query, subs, o)
		}
		if cerr != nil {
			if o != opUnknown {
				t.Fatalf("refused request classified as %s", o)
			}
			return
		}
		if method == http.MethodOptions {
			if o != opPreflight {
				t.Fatalf("OPTIONS classified as %s", o)
			}
			return
		}
		found := false
		for k, v := range opTable {
			if k.method == method && (v == o ||
				v == opPutObject && o == opCopyObject || v == opUploadPart && o == opUploadPartCopy ||
				v == opListObjects && o == opListObjectsV2) {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("%s %s?%s: %s is no operation of %s", method, path, query, o, method)
		}
		if spec := opSpecs[o]; o > opListBuckets && !strings.HasPrefix(spec.action, "s3:") {
			t.Fatalf("%s: no policy action", o)
		}
	})
}
