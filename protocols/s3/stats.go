package s3

import (
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Request metrics. Every request is counted under its S3 operation, with
// its outcome (success, or the S3 error code it was answered with) and
// its time from the first header byte read to the handler's return; body
// bytes are counted both ways. Counting costs a few atomic adds and no
// allocation; an error takes a mutex. Server.Stats takes a snapshot (the
// gateway exports it on /metrics).

// LatencyBounds are the upper bounds, in seconds, of the latency
// histogram's buckets (a last bucket holds the rest).
var LatencyBounds = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Stats is a snapshot of the request metrics.
type Stats struct {
	// Operations are the operations that saw a request, by name.
	Operations []OpStats
	// BytesIn counts request bodies read (decoded: without chunk
	// signatures); BytesOut the object bytes GETs sent.
	BytesIn, BytesOut uint64
}

// OpStats are one operation's figures.
type OpStats struct {
	Name string // S3 API name ("GetObject"), "Admin" or "Unknown"
	OK   uint64
	// Errors counts the requests answered with each S3 error code.
	Errors map[string]uint64
	// Buckets[i] counts requests that took at most LatencyBounds[i]
	// (cumulative, as Prometheus wants); Count and Sum cover all.
	Buckets [len(LatencyBounds)]uint64
	Count   uint64
	Sum     time.Duration
}

type opCounters struct {
	ok      atomic.Uint64
	buckets [len(LatencyBounds) + 1]atomic.Uint64 // not cumulative
	nanos   atomic.Uint64
	mu      sync.Mutex
	errs    map[string]uint64
}

type serverStats struct {
	ops     [numOps]opCounters
	in, out atomic.Uint64
}

func (st *serverStats) record(op int, err error, d time.Duration) {
	c := &st.ops[op]
	if err == nil {
		c.ok.Add(1)
	} else {
		code := toAPIError(err).Code
		c.mu.Lock()
		if c.errs == nil {
			c.errs = map[string]uint64{}
		}
		c.errs[code]++
		c.mu.Unlock()
	}
	secs := d.Seconds()
	i := sort.SearchFloat64s(LatencyBounds[:], secs)
	c.buckets[i].Add(1)
	c.nanos.Add(uint64(d))
}

// Stats returns a snapshot of the request metrics.
func (s *Server) Stats() Stats {
	st := &s.stats
	out := Stats{BytesIn: st.in.Load(), BytesOut: st.out.Load()}
	for op := range st.ops {
		c := &st.ops[op]
		o := OpStats{Name: opNames[op], OK: c.ok.Load(), Sum: time.Duration(c.nanos.Load())}
		var cum uint64
		for i := range c.buckets {
			cum += c.buckets[i].Load()
			if i < len(o.Buckets) {
				o.Buckets[i] = cum
			}
		}
		o.Count = cum
		c.mu.Lock()
		if len(c.errs) > 0 {
			o.Errors = make(map[string]uint64, len(c.errs))
			for k, v := range c.errs {
				o.Errors[k] = v
			}
		}
		c.mu.Unlock()
		if o.Count > 0 {
			out.Operations = append(out.Operations, o)
		}
	}
	sort.Slice(out.Operations, func(i, j int) bool { return out.Operations[i].Name < out.Operations[j].Name })
	return out
}

// Operations, by index.
const (
	opUnknown = iota
	opAdmin
	opPreflight
	opListBuckets
	opCreateBucket
	opHeadBucket
	opDeleteBucket
	opListObjects
	opListObjectsV2
	opListObjectVersions
	opListMultipartUploads
	opGetBucketLocation
	opGetBucketConfig // bucket sub-resources: named by bucketSubOps
	opPutBucketConfig
	opDeleteBucketConfig
	opDeleteObjects
	opPostObject
	opPutObject
	opCopyObject
	opGetObject
	opHeadObject
	opDeleteObject
	opCreateMultipartUpload
	opUploadPart
	opUploadPartCopy
	opCompleteMultipartUpload
	opAbortMultipartUpload
	opListParts
	opGetObjectConfig // object sub-resources: tagging, acl, ...
	opPutObjectConfig
	opDeleteObjectConfig
	numOps
)

var opNames = [numOps]string{
	opUnknown: "Unknown", opAdmin: "Admin", opPreflight: "Preflight", opListBuckets: "ListBuckets",
	opCreateBucket: "CreateBucket", opHeadBucket: "HeadBucket", opDeleteBucket: "DeleteBucket",
	opListObjects: "ListObjects", opListObjectsV2: "ListObjectsV2", opListObjectVersions: "ListObjectVersions",
	opListMultipartUploads: "ListMultipartUploads", opGetBucketLocation: "GetBucketLocation",
	opGetBucketConfig: "GetBucketConfig", opPutBucketConfig: "PutBucketConfig", opDeleteBucketConfig: "DeleteBucketConfig",
	opDeleteObjects: "DeleteObjects", opPostObject: "PostObject", opPutObject: "PutObject", opCopyObject: "CopyObject",
	opGetObject: "GetObject", opHeadObject: "HeadObject", opDeleteObject: "DeleteObject",
	opCreateMultipartUpload: "CreateMultipartUpload", opUploadPart: "UploadPart", opUploadPartCopy: "UploadPartCopy",
	opCompleteMultipartUpload: "CompleteMultipartUpload", opAbortMultipartUpload: "AbortMultipartUpload",
	opListParts: "ListParts", opGetObjectConfig: "GetObjectConfig", opPutObjectConfig: "PutObjectConfig",
	opDeleteObjectConfig: "DeleteObjectConfig",
}

// objectSubresources are the object sub-resources whose requests count as
// Get/Put/DeleteObjectConfig.
var objectSubresources = [...]string{"tagging", "acl", "attributes", "retention", "legal-hold", "restore", "select", "torrent"}

// operation classifies a routed request for the metrics. Bucket and
// object sub-resources (policy, tagging, ...) are counted together per
// method: they are configuration traffic, not data.
func operation(req *request) int {
	r := req.r
	m := r.Method
	if m == http.MethodOptions {
		return opPreflight
	}
	if req.bucket == "" {
		if m == http.MethodGet {
			return opListBuckets
		}
		return opUnknown
	}
	if req.key == "" {
		switch m {
		case http.MethodGet:
			switch {
			case req.has("versions"):
				return opListObjectVersions
			case req.has("uploads"):
				return opListMultipartUploads
			case req.has("location"):
				return opGetBucketLocation
			case onlyListParams(req):
				if req.q.Get("list-type") == "2" {
					return opListObjectsV2
				}
				return opListObjects
			}
			return opGetBucketConfig
		case http.MethodHead:
			return opHeadBucket
		case http.MethodPut:
			if len(req.q) == 0 {
				return opCreateBucket
			}
			return opPutBucketConfig
		case http.MethodDelete:
			if len(req.q) == 0 {
				return opDeleteBucket
			}
			return opDeleteBucketConfig
		case http.MethodPost:
			if req.has("delete") {
				return opDeleteObjects
			}
			return opPostObject
		}
		return opUnknown
	}
	sub := false
	for _, name := range objectSubresources {
		if req.has(name) {
			sub = true
			break
		}
	}
	switch m {
	case http.MethodGet:
		switch {
		case req.has("uploadId"):
			return opListParts
		case sub:
			return opGetObjectConfig
		}
		return opGetObject
	case http.MethodHead:
		return opHeadObject
	case http.MethodPut:
		copySrc := r.Header.Get("X-Amz-Copy-Source") != ""
		switch {
		case req.has("uploadId") || req.has("partNumber"):
			if copySrc {
				return opUploadPartCopy
			}
			return opUploadPart
		case sub:
			return opPutObjectConfig
		case copySrc:
			return opCopyObject
		}
		return opPutObject
	case http.MethodDelete:
		switch {
		case req.has("uploadId"):
			return opAbortMultipartUpload
		case sub:
			return opDeleteObjectConfig
		}
		return opDeleteObject
	case http.MethodPost:
		switch {
		case req.has("uploads"):
			return opCreateMultipartUpload
		case req.has("uploadId"):
			return opCompleteMultipartUpload
		case sub:
			return opPutObjectConfig
		}
	}
	return opUnknown
}

// listParams are the query parameters of ListObjects (V1 and V2).
var listParams = map[string]bool{
	"prefix": true, "delimiter": true, "marker": true, "max-keys": true, "encoding-type": true,
	"list-type": true, "continuation-token": true, "start-after": true, "fetch-owner": true,
	"x-id": true, "allow-unordered": true,
}

// onlyListParams reports whether every query parameter of a bucket GET
// is a listing one.
func onlyListParams(req *request) bool {
	for k := range req.q {
		if !listParams[k] {
			return false
		}
	}
	return true
}
