package s3compat

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// signedClient sends path-style requests signed with one credential.
type signedClient struct {
	t    *testing.T
	tg   *target
	c    *http.Client
	cred sigv4.Credential
}

// do sends method path (query included) with body and header pairs,
// signed with the client's credential (Content-MD5 set for a body).
func (c *signedClient) do(method, path string, body []byte, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	r, err := http.NewRequest(method, c.tg.URL()+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	r.ContentLength = int64(len(body))
	if len(body) > 0 {
		sum := md5.Sum(body)
		r.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	sigv4.Sign(r, c.cred, "us-east-1", time.Now(), sha(body))
	resp, err := c.c.Do(r)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// must sends a request that must answer status.
func (c *signedClient) must(status int, method, path string, body []byte, hdr ...string) []byte {
	c.t.Helper()
	resp, out := c.do(method, path, body, hdr...)
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s as %s: %d %s, want %d", method, path, c.cred.AccessKey, resp.StatusCode, out, status)
	}
	return out
}

// permPolicy grants allowed exactly actions on bucket, and grants denied
// everything on it but actions (an explicit Deny).
func permPolicy(bucket, allowed, denied string, actions []string) []byte {
	res := []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"}
	type stmt struct {
		Effect    string
		Principal map[string][]string
		Action    []string
		Resource  []string
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []stmt{
		{"Allow", map[string][]string{"AWS": {allowed}}, actions, res},
		{"Allow", map[string][]string{"AWS": {denied}}, []string{"s3:*"}, res},
		{"Deny", map[string][]string{"AWS": {denied}}, actions, res},
	}})
	return doc
}

var uploadIDRe = regexp.MustCompile(`<UploadId>([^<]+)</UploadId>`)

// TestPermissionMatrix drives every operation the server implements
// through the real server as two accounts that do not own the bucket:
// one the bucket policy allows exactly the operation's action (it must
// succeed), one the policy allows everything but that action (it must be
// refused, and the operation must not run). Requests naming two
// sub-resources form no operation and are refused whoever sends them.
// CreateBucket is governed by the account's role, not a bucket policy
// (TestAccountsWithRealClients).
func TestPermissionMatrix(t *testing.T) {
	tg := startTarget(t, false)
	hc := tg.httpClient()
	root := &signedClient{t: t, tg: tg, c: hc, cred: compatCred}
	for _, a := range []string{"permallowed", "permdenied"} {
		root.must(201, "PATCH", "/create-user", []byte("<Account><Access>"+a+"</Access><Secret>"+a+"-secret</Secret><Role>user</Role></Account>"))
	}
	allowed := &signedClient{t: t, tg: tg, c: hc, cred: sigv4.Credential{AccessKey: "permallowed", SecretKey: "permallowed-secret"}}
	denied := &signedClient{t: t, tg: tg, c: hc, cred: sigv4.Credential{AccessKey: "permdenied", SecretKey: "permdenied-secret"}}

	root.must(200, "PUT", "/perm", nil)
	root.must(200, "PUT", "/permlock", nil, "X-Amz-Bucket-Object-Lock-Enabled", "true")
	obj := []byte("permission matrix object")
	putObj := func(path string) { root.must(200, "PUT", path, obj) }
	var uploadID string
	newUpload := func() {
		out := root.must(200, "POST", "/perm/mp?uploads", nil)
		m := uploadIDRe.FindSubmatch(out)
		if m == nil {
			t.Fatalf("no UploadId in %s", out)
		}
		uploadID = string(m[1])
	}
	part := bytes.Repeat([]byte("p"), 1024)
	var partETag string
	uploadPart := func() {
		newUpload()
		resp, out := root.do("PUT", "/perm/mp?partNumber=1&uploadId="+uploadID, part)
		if resp.StatusCode != 200 {
			t.Fatalf("upload part: %d %s", resp.StatusCode, out)
		}
		partETag = resp.Header.Get("ETag")
	}
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	tagging := []byte("<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>")
	retention := []byte("<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>" + until + "</RetainUntilDate></Retention>")

	type opCase struct {
		name    string
		bucket  string
		actions []string
		setup   func()
		method  string
		path    func() string // request target
		body    func() []byte
		hdr     []string
		ok      int
	}
	path := func(p string) func() string { return func() string { return p } }
	body := func(b []byte) func() []byte { return func() []byte { return b } }
	cases := []opCase{
		{name: "HeadBucket", bucket: "perm", actions: []string{"s3:ListBucket"}, method: "HEAD", path: path("/perm"), ok: 200},
		{name: "ListObjects", bucket: "perm", actions: []string{"s3:ListBucket"}, method: "GET", path: path("/perm"), ok: 200},
		{name: "ListObjectsV2", bucket: "perm", actions: []string{"s3:ListBucket"}, method: "GET", path: path("/perm?list-type=2"), ok: 200},
		{name: "ListObjectVersions", bucket: "perm", actions: []string{"s3:ListBucketVersions"}, method: "GET", path: path("/perm?versions"), ok: 200},
		{name: "ListMultipartUploads", bucket: "perm", actions: []string{"s3:ListBucketMultipartUploads"}, method: "GET", path: path("/perm?uploads"), ok: 200},
		{name: "GetBucketLocation", bucket: "perm", actions: []string{"s3:GetBucketLocation"}, method: "GET", path: path("/perm?location"), ok: 200},
		{name: "GetBucketAcl", bucket: "perm", actions: []string{"s3:GetBucketAcl"}, method: "GET", path: path("/perm?acl"), ok: 200},
		{name: "PutBucketAcl", bucket: "perm", actions: []string{"s3:PutBucketAcl"}, method: "PUT", path: path("/perm?acl"), hdr: []string{"X-Amz-Acl", "private"}, ok: 200},
		{name: "GetBucketPolicy", bucket: "perm", actions: []string{"s3:GetBucketPolicy"}, method: "GET", path: path("/perm?policy"), ok: 200},
		{name: "GetBucketPolicyStatus", bucket: "perm", actions: []string{"s3:GetBucketPolicyStatus"}, method: "GET", path: path("/perm?policyStatus"), ok: 200},
		{name: "PutBucketOwnershipControls", bucket: "perm", actions: []string{"s3:PutBucketOwnershipControls"}, method: "PUT", path: path("/perm?ownershipControls"),
			body: body([]byte("<OwnershipControls><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule></OwnershipControls>")), ok: 200},
		{name: "GetBucketOwnershipControls", bucket: "perm", actions: []string{"s3:GetBucketOwnershipControls"}, method: "GET", path: path("/perm?ownershipControls"), ok: 200},
		{name: "DeleteBucketOwnershipControls", bucket: "perm", actions: []string{"s3:PutBucketOwnershipControls"}, method: "DELETE", path: path("/perm?ownershipControls"), ok: 204},
		{name: "PutBucketCors", bucket: "perm", actions: []string{"s3:PutBucketCORS"}, method: "PUT", path: path("/perm?cors"),
			body: body([]byte("<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>")), ok: 200},
		{name: "GetBucketCors", bucket: "perm", actions: []string{"s3:GetBucketCORS"}, method: "GET", path: path("/perm?cors"), ok: 200},
		{name: "DeleteBucketCors", bucket: "perm", actions: []string{"s3:PutBucketCORS"}, method: "DELETE", path: path("/perm?cors"), ok: 204},
		{name: "PutBucketWebsite", bucket: "perm", actions: []string{"s3:PutBucketWebsite"}, method: "PUT", path: path("/perm?website"),
			body: body([]byte("<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument></WebsiteConfiguration>")), ok: 200},
		{name: "GetBucketWebsite", bucket: "perm", actions: []string{"s3:GetBucketWebsite"}, method: "GET", path: path("/perm?website"), ok: 200},
		{name: "DeleteBucketWebsite", bucket: "perm", actions: []string{"s3:DeleteBucketWebsite"}, method: "DELETE", path: path("/perm?website"), ok: 204},
		{name: "PutBucketTagging", bucket: "perm", actions: []string{"s3:PutBucketTagging"}, method: "PUT", path: path("/perm?tagging"), body: body(tagging), ok: 204},
		{name: "GetBucketTagging", bucket: "perm", actions: []string{"s3:GetBucketTagging"}, method: "GET", path: path("/perm?tagging"), ok: 200},
		{name: "DeleteBucketTagging", bucket: "perm", actions: []string{"s3:PutBucketTagging"}, method: "DELETE", path: path("/perm?tagging"), ok: 204},
		{name: "GetBucketVersioning", bucket: "perm", actions: []string{"s3:GetBucketVersioning"}, method: "GET", path: path("/perm?versioning"), ok: 200},
		{name: "PutObjectLockConfiguration", bucket: "permlock", actions: []string{"s3:PutBucketObjectLockConfiguration"}, method: "PUT", path: path("/permlock?object-lock"),
			body: body([]byte("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>")), ok: 200},
		{name: "GetObjectLockConfiguration", bucket: "permlock", actions: []string{"s3:GetBucketObjectLockConfiguration"}, method: "GET", path: path("/permlock?object-lock"), ok: 200},
		{name: "DeleteObjects", bucket: "perm", actions: []string{"s3:DeleteObject"}, setup: func() { putObj("/perm/obj") }, method: "POST", path: path("/perm?delete"),
			body: body([]byte("<Delete><Object><Key>obj</Key></Object></Delete>")), ok: 200},

		{name: "PutObject", bucket: "perm", actions: []string{"s3:PutObject"}, method: "PUT", path: path("/perm/obj"), body: body(obj), ok: 200},
		{name: "CopyObject", bucket: "perm", actions: []string{"s3:PutObject", "s3:GetObject"}, setup: func() { putObj("/perm/src") },
			method: "PUT", path: path("/perm/copy"), hdr: []string{"X-Amz-Copy-Source", "/perm/src"}, ok: 200},
		{name: "GetObject", bucket: "perm", actions: []string{"s3:GetObject"}, setup: func() { putObj("/perm/obj") }, method: "GET", path: path("/perm/obj"), ok: 200},
		{name: "HeadObject", bucket: "perm", actions: []string{"s3:GetObject"}, method: "HEAD", path: path("/perm/obj"), ok: 200},
		{name: "GetObjectAttributes", bucket: "perm", actions: []string{"s3:GetObjectAttributes"}, method: "GET", path: path("/perm/obj?attributes"),
			hdr: []string{"X-Amz-Object-Attributes", "ETag"}, ok: 200},
		{name: "PutObjectTagging", bucket: "perm", actions: []string{"s3:PutObjectTagging"}, method: "PUT", path: path("/perm/obj?tagging"), body: body(tagging), ok: 200},
		{name: "GetObjectTagging", bucket: "perm", actions: []string{"s3:GetObjectTagging"}, method: "GET", path: path("/perm/obj?tagging"), ok: 200},
		{name: "DeleteObjectTagging", bucket: "perm", actions: []string{"s3:DeleteObjectTagging"}, method: "DELETE", path: path("/perm/obj?tagging"), ok: 204},
		{name: "GetObjectAcl", bucket: "perm", actions: []string{"s3:GetObjectAcl"}, method: "GET", path: path("/perm/obj?acl"), ok: 200},
		{name: "PutObjectAcl", bucket: "perm", actions: []string{"s3:PutObjectAcl"}, method: "PUT", path: path("/perm/obj?acl"), hdr: []string{"X-Amz-Acl", "private"}, ok: 200},
		{name: "DeleteObject", bucket: "perm", actions: []string{"s3:DeleteObject"}, method: "DELETE", path: path("/perm/obj"), ok: 204},
		{name: "CreateMultipartUpload", bucket: "perm", actions: []string{"s3:PutObject"}, method: "POST", path: path("/perm/mp?uploads"), ok: 200},
		{name: "UploadPart", bucket: "perm", actions: []string{"s3:PutObject"}, setup: newUpload, method: "PUT",
			path: func() string { return "/perm/mp?partNumber=1&uploadId=" + uploadID }, body: body(part), ok: 200},
		{name: "UploadPartCopy", bucket: "perm", actions: []string{"s3:PutObject", "s3:GetObject"}, setup: func() { putObj("/perm/src"); newUpload() }, method: "PUT",
			path: func() string { return "/perm/mp?partNumber=1&uploadId=" + uploadID }, hdr: []string{"X-Amz-Copy-Source", "/perm/src"}, ok: 200},
		{name: "ListParts", bucket: "perm", actions: []string{"s3:ListMultipartUploadParts"}, setup: uploadPart, method: "GET",
			path: func() string { return "/perm/mp?uploadId=" + uploadID }, ok: 200},
		{name: "CompleteMultipartUpload", bucket: "perm", actions: []string{"s3:PutObject"}, method: "POST",
			path: func() string { return "/perm/mp?uploadId=" + uploadID },
			body: func() []byte {
				return []byte("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + partETag + "</ETag></Part></CompleteMultipartUpload>")
			}, ok: 200},
		{name: "AbortMultipartUpload", bucket: "perm", actions: []string{"s3:AbortMultipartUpload"}, setup: newUpload, method: "DELETE",
			path: func() string { return "/perm/mp?uploadId=" + uploadID }, ok: 204},
		{name: "PutObjectRetention", bucket: "permlock", actions: []string{"s3:PutObjectRetention"}, setup: func() { putObj("/permlock/obj") }, method: "PUT",
			path: path("/permlock/obj?retention"), body: body(retention), ok: 200},
		{name: "GetObjectRetention", bucket: "permlock", actions: []string{"s3:GetObjectRetention"}, method: "GET", path: path("/permlock/obj?retention"), ok: 200},
		{name: "PutObjectLegalHold", bucket: "permlock", actions: []string{"s3:PutObjectLegalHold"}, method: "PUT",
			path: path("/permlock/obj?legal-hold"), body: body([]byte("<LegalHold><Status>ON</Status></LegalHold>")), ok: 200},
		{name: "GetObjectLegalHold", bucket: "permlock", actions: []string{"s3:GetObjectLegalHold"}, method: "GET", path: path("/permlock/obj?legal-hold"), ok: 200},

		// Last: they drop what the others use.
		{name: "PutBucketPolicy", bucket: "perm", actions: []string{"s3:PutBucketPolicy"}, method: "PUT", path: path("/perm?policy"),
			body: func() []byte { return permPolicy("perm", "permallowed", "permdenied", []string{"s3:ListBucket"}) }, ok: 204},
		{name: "DeleteBucketPolicy", bucket: "perm", actions: []string{"s3:DeleteBucketPolicy"}, method: "DELETE", path: path("/perm?policy"), ok: 204},
		{name: "DeleteBucket", bucket: "permempty", actions: []string{"s3:DeleteBucket"}, setup: func() { root.must(200, "PUT", "/permempty", nil) },
			method: "DELETE", path: path("/permempty"), ok: 204},
	}
	for _, tc := range cases {
		if tc.setup != nil {
			tc.setup()
		}
		root.must(204, "PUT", "/"+tc.bucket+"?policy", permPolicy(tc.bucket, "permallowed", "permdenied", tc.actions))
		var b []byte
		if tc.body != nil {
			b = tc.body()
		}
		p := tc.path()
		resp, out := denied.do(tc.method, p, b, tc.hdr...)
		refused := resp.StatusCode == 403 && (tc.method == "HEAD" || bytes.Contains(out, []byte("<Code>AccessDenied</Code>")))
		if tc.name == "DeleteObjects" {
			// Refused per key, in a 200 answer.
			refused = resp.StatusCode == 200 && bytes.Contains(out, []byte("<Code>AccessDenied</Code>")) && !bytes.Contains(out, []byte("<Deleted>"))
		}
		if !refused {
			t.Errorf("%s: %s %s as an account denied %v: %d %s", tc.name, tc.method, p, tc.actions, resp.StatusCode, out)
		}
		resp, out = allowed.do(tc.method, p, b, tc.hdr...)
		if resp.StatusCode != tc.ok || tc.name == "DeleteObjects" && !bytes.Contains(out, []byte("<Deleted>")) {
			t.Errorf("%s: %s %s as an account allowed exactly %v: %d %s, want %d", tc.name, tc.method, p, tc.actions, resp.StatusCode, out, tc.ok)
		}
	}

	// Two sub-resources: authorized as neither, run as neither.
	putObj("/permlock/two")
	root.must(204, "PUT", "/permlock?policy", permPolicy("permlock", "permallowed", "permdenied", []string{"s3:PutObjectTagging"}))
	for _, tc := range []struct {
		c      *signedClient
		method string
		path   string
		body   []byte
	}{
		{allowed, "PUT", "/permlock/two?tagging&retention", retention},
		{allowed, "PUT", "/permlock/two?retention&tagging", retention},
		{allowed, "PUT", "/permlock/two?tagging&legal-hold", []byte("<LegalHold><Status>ON</Status></LegalHold>")},
		{denied, "PUT", "/permlock/two?retention&tagging", tagging},
		{root, "PUT", "/permlock/two?tagging&retention", retention},
		{root, "GET", "/permlock/two?acl&tagging", nil},
		{root, "DELETE", "/permlock/two?tagging&uploadId=x", nil},
		{root, "PUT", "/permlock?tagging&object-lock", tagging},
		{root, "POST", "/permlock/two?uploads&uploadId=x", nil},
	} {
		resp, out := tc.c.do(tc.method, tc.path, tc.body)
		if resp.StatusCode != 400 || !bytes.Contains(out, []byte("<Code>InvalidRequest</Code>")) {
			t.Errorf("%s %s as %s: %d %s, want 400 InvalidRequest", tc.method, tc.path, tc.c.cred.AccessKey, resp.StatusCode, out)
		}
	}
	if _, out := root.do("GET", "/permlock/two?retention", nil); !bytes.Contains(out, []byte("<Code>NoSuchObjectLockConfiguration</Code>")) {
		t.Errorf("retention set by a refused request: %s", out)
	}
	if _, out := root.do("GET", "/permlock/two?legal-hold", nil); !bytes.Contains(out, []byte("<Code>NoSuchObjectLockConfiguration</Code>")) && !bytes.Contains(out, []byte("<Status>OFF</Status>")) {
		t.Errorf("legal hold set by a refused request: %s", out)
	}
	if out := root.must(200, "GET", "/permlock/two?tagging", nil); bytes.Contains(out, []byte("<Tag>")) {
		t.Errorf("tags set by a refused request: %s", out)
	}
	root.must(200, "HEAD", "/permlock/two", nil)
}
