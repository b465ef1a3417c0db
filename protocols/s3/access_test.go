package s3

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// anon sends an unsigned request.
func (ts *testServer) anon(method, path string, body []byte, hdr map[string]string) (int, string) {
	ts.t.Helper()
	h := map[string]string{"hash": "nosign"}
	for k, v := range hdr {
		h[k] = v
	}
	resp, out := ts.do(method, path, body, h)
	return resp.StatusCode, string(out)
}

func publicPolicy(effect, action, resource string) []byte {
	return []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"` + effect + `","Principal":"*","Action":"` + action +
		`","Resource":"arn:aws:s3:::` + resource + `"}]}`)
}

func TestAnonymousAccessByPolicy(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	ts.mustPut("/bkt/pub/a", []byte("hello"))
	ts.mustPut("/bkt/priv/b", []byte("secret"))

	// Private by default, with S3's messages for what anonymous callers
	// can never do.
	for _, tc := range []struct {
		method, path, msg string
		status            int
	}{
		{"GET", "/bkt/pub/a", "Access Denied.", 403},
		{"GET", "/bkt", "Access Denied.", 403},
		{"GET", "/", "Access Denied.", 403},
		{"POST", "/", "", 405},
		{"PUT", "/newbkt", "Anonymous users cannot invoke this API. Please authenticate.", 403},
		{"PUT", "/bkt?acl", "Anonymous users cannot invoke this API. Please authenticate.", 403},
		{"POST", "/bkt/x?uploads", "Anonymous users cannot initiate multipart uploads. Please authenticate.", 403},
		{"GET", "/bkt?ownershipControls", "s3:GetBucketOwnershipControls does not support Anonymous requests!", 403},
		{"GET", "/nosuchbkt/x", "NoSuchBucket", 404},
	} {
		status, body := ts.anon(tc.method, tc.path, nil, nil)
		if status != tc.status || !strings.Contains(body, tc.msg) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, status, body)
		}
	}

	// Public read of pub/*, with a deny carved out.
	resp, body := ts.do("PUT", "/bkt?policy", []byte(`{"Statement":[
		{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bkt/pub/*"},
		{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/pub/hidden*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bkt",
		 "Condition":{"StringEquals":{"s3:prefix":"pub/"}}}]}`), nil)
	ts.expect(resp, body, 204, "")
	if status, body := ts.anon("GET", "/bkt/pub/a", nil, nil); status != 200 || body != "hello" {
		t.Fatalf("public object: %d %s", status, body)
	}
	if status, body := ts.anon("GET", "/bkt/pub/a?response-cache-control=x", nil, nil); status != 400 || !strings.Contains(body, "anonymous GET") {
		t.Fatalf("response overrides: %d %s", status, body)
	}
	if status, _ := ts.anon("GET", "/bkt/priv/b", nil, nil); status != 403 {
		t.Fatalf("private object: %d", status)
	}
	if status, body := ts.anon("PUT", "/bkt/pub/new", []byte("anon"), map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}); status != 200 {
		t.Fatalf("anonymous put: %d %s", status, body)
	}
	ts.mustPut("/bkt/pub/hidden1", []byte("h"))
	if status, _ := ts.anon("GET", "/bkt/pub/hidden1", nil, nil); status != 403 {
		t.Fatalf("denied object: %d", status)
	}
	if status, _ := ts.anon("GET", "/bkt?list-type=2&prefix=pub/", nil, nil); status != 200 {
		t.Fatalf("conditional list: %d", status)
	}
	if status, _ := ts.anon("GET", "/bkt?list-type=2&prefix=priv/", nil, nil); status != 403 {
		t.Fatalf("list outside the condition: %d", status)
	}
	// A declared payload hash is checked; signed streaming is refused.
	status, sbody := ts.anon("PUT", "/bkt/pub/c", nil, map[string]string{"X-Amz-Content-Sha256": "incorrect_hash"})
	if status != 400 || !strings.Contains(sbody, "<ClientComputedContentSHA256>incorrect_hash<") ||
		!strings.Contains(sbody, "<S3ComputedContentSHA256>e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855<") {
		t.Fatalf("bad hash: %d %s", status, sbody)
	}
	if status, body := ts.anon("PUT", "/bkt/pub/c", nil, map[string]string{"X-Amz-Content-Sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}); status != 400 || !strings.Contains(body, "Anonymous requests") {
		t.Fatalf("signed streaming: %d %s", status, body)
	}
	// The owner manages the policy; a public grant on it is not enough.
	resp, body = ts.do("PUT", "/bkt?policy", publicPolicy("Allow", "s3:*", "bkt"), nil)
	ts.expect(resp, body, 204, "")
	if status, _ := ts.anon("GET", "/bkt?policy", nil, nil); status != 405 {
		t.Fatalf("anonymous policy read: %d", status)
	}
	resp, body = ts.do("GET", "/bkt?policyStatus", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), "<IsPublic>true</IsPublic>") {
		t.Fatalf("policy status: %s", body)
	}
	resp, body = ts.do("DELETE", "/bkt?policy", nil, nil)
	ts.expect(resp, body, 204, "")
	resp, body = ts.do("GET", "/bkt?policy", nil, nil)
	ts.expect(resp, body, 404, "NoSuchBucketPolicy")
	resp, body = ts.do("PUT", "/bkt?policy", []byte(`{"Statement":[]}`), nil)
	ts.expect(resp, body, 400, "MalformedPolicy")
}

func TestAnonymousAccessByACL(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	// Ownership defaults to BucketOwnerEnforced: ACLs are disabled.
	resp, body := ts.do("GET", "/bkt?ownershipControls", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), ownershipEnforced) {
		t.Fatalf("default ownership: %s", body)
	}
	resp, body = ts.do("PUT", "/bkt?acl", nil, map[string]string{"X-Amz-Acl": "public-read"})
	ts.expect(resp, body, 400, "AccessControlListNotSupported")
	resp, body = ts.do("PUT", "/bkt/o", []byte("x"), map[string]string{"X-Amz-Acl": "public-read"})
	ts.expect(resp, body, 400, "AccessControlListNotSupported")
	ts.mustPut("/bkt/o", []byte("x"))
	resp, body = ts.do("GET", "/bkt?acl", nil, nil)
	ts.expect(resp, body, 200, "")
	if strings.Count(string(body), "<Grant>") != 1 || !strings.Contains(string(body), "<ID>testkey</ID>") {
		t.Fatalf("default acl: %s", body)
	}

	resp, body = ts.do("PUT", "/bkt?ownershipControls", []byte(`<OwnershipControls><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule></OwnershipControls>`), nil)
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("PUT", "/bkt?acl", nil, map[string]string{"X-Amz-Acl": "public-read"})
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("GET", "/bkt?acl", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), groupAllUsers) {
		t.Fatalf("public-read acl: %s", body)
	}
	// Bucket READ lists; objects need their own grant.
	if status, _ := ts.anon("GET", "/bkt", nil, nil); status != 200 {
		t.Fatalf("public list: %d", status)
	}
	if status, _ := ts.anon("HEAD", "/bkt", nil, nil); status != 200 {
		t.Fatalf("public head bucket: %d", status)
	}
	if status, _ := ts.anon("GET", "/bkt/o", nil, nil); status != 403 {
		t.Fatalf("object without a grant: %d", status)
	}
	resp, body = ts.do("PUT", "/bkt/o?acl", nil, map[string]string{"X-Amz-Acl": "public-read"})
	ts.expect(resp, body, 200, "")
	if status, body := ts.anon("GET", "/bkt/o", nil, nil); status != 200 || body != "x" {
		t.Fatalf("public object: %d %s", status, body)
	}
	resp, body = ts.do("GET", "/bkt/o?acl", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), groupAllUsers) {
		t.Fatalf("object acl: %s", body)
	}
	// Validation.
	resp, body = ts.do("PUT", "/bkt?acl", nil, nil)
	ts.expect(resp, body, 400, "MissingSecurityHeader")
	resp, body = ts.do("PUT", "/bkt?acl", nil, map[string]string{"X-Amz-Acl": "nope"})
	ts.expect(resp, body, 400, "InvalidArgument")
	resp, body = ts.do("PUT", "/bkt?acl", nil, map[string]string{"X-Amz-Grant-Read": `id="stranger"`})
	ts.expect(resp, body, 400, "InvalidArgument")
	resp, body = ts.do("PUT", "/bkt?acl", []byte(`<AccessControlPolicy><AccessControlList/></AccessControlPolicy>`), nil)
	ts.expect(resp, body, 400, "MalformedACLError")
	resp, body = ts.do("PUT", "/bkt?ownershipControls", []byte(`<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>`), nil)
	ts.expect(resp, body, 400, "InvalidBucketAclWithObjectOwnership")
	resp, body = ts.do("DELETE", "/bkt?ownershipControls", nil, nil)
	ts.expect(resp, body, 204, "")
	resp, body = ts.do("GET", "/bkt?ownershipControls", nil, nil)
	ts.expect(resp, body, 404, "OwnershipControlsNotFoundError")

	// CreateBucket: ownership header and ACL.
	resp, body = ts.do("PUT", "/bk2", nil, map[string]string{"X-Amz-Object-Ownership": "nope"})
	ts.expect(resp, body, 400, "InvalidArgument")
	resp, body = ts.do("PUT", "/bk2", nil, map[string]string{"X-Amz-Object-Ownership": ownershipEnforced, "X-Amz-Acl": "public-read"})
	ts.expect(resp, body, 400, "InvalidBucketAclWithObjectOwnership")
	resp, body = ts.do("PUT", "/bk2", nil, map[string]string{"X-Amz-Acl": "public-read-write"})
	ts.expect(resp, body, 200, "")
	if status, body := ts.anon("PUT", "/bk2/anon", []byte("a"), nil); status != 200 {
		t.Fatalf("public-read-write put: %d %s", status, body)
	}
	// The anonymous writer owns what it wrote (BucketOwnerPreferred).
	if status, body := ts.anon("GET", "/bk2/anon", nil, nil); status != 200 || body != "a" {
		t.Fatalf("anonymous owner read: %d %s", status, body)
	}
}

func TestCORSPreflight(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	pre := func(origin, method, headers string) (int, map[string]string, string) {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}
		resp, body := ts.do("OPTIONS", "/bkt/obj", nil, map[string]string{"hash": "nosign", "Origin": h["Origin"],
			"Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})
		out := map[string]string{}
		for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
			"Access-Control-Expose-Headers", "Access-Control-Max-Age", "Access-Control-Allow-Credentials"} {
			out[k] = resp.Header.Get(k)
		}
		return resp.StatusCode, out, string(body)
	}
	if status, _, body := pre("http://a.com", "GET", ""); status != 403 || !strings.Contains(body, "CORS is not enabled") {
		t.Fatalf("no cors: %d %s", status, body)
	}
	resp, body := ts.do("PUT", "/bkt?cors", []byte(`<CORSConfiguration>
		<CORSRule><AllowedOrigin>http://a.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>
		<AllowedHeader>x-amz-*</AllowedHeader><ExposeHeader>Content-Length</ExposeHeader><MaxAgeSeconds>100</MaxAgeSeconds></CORSRule>
		<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod></CORSRule></CORSConfiguration>`), nil)
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("GET", "/bkt?cors", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), "<AllowedOrigin>http://a.com</AllowedOrigin>") {
		t.Fatalf("get cors: %s", body)
	}
	status, h, pbody := pre("http://a.com", "GET", "X-Amz-Date, x-amz-meta-a")
	if status != 200 || h["Access-Control-Allow-Origin"] != "http://a.com" || h["Access-Control-Allow-Methods"] != "GET, HEAD" ||
		h["Access-Control-Allow-Headers"] != "x-amz-date, x-amz-meta-a" || h["Access-Control-Expose-Headers"] != "Content-Length, ETag" ||
		h["Access-Control-Max-Age"] != "100" || h["Access-Control-Allow-Credentials"] != "true" {
		t.Fatalf("granted: %d %v %s", status, h, pbody)
	}
	if status, h, _ := pre("http://b.com", "PUT", ""); status != 200 || h["Access-Control-Allow-Origin"] != "*" {
		t.Fatalf("wildcard: %d %v", status, h)
	}
	for _, tc := range []struct{ origin, method, headers, code string }{
		{"http://a.com", "GET", "Authorization", "AccessForbidden"},
		{"http://b.com", "GET", "", "AccessForbidden"},
		{"", "GET", "", "BadRequest"},
		{"http://a.com", "get", "", "BadRequest"},
		{"http://a.com", "GET", "bad header", "BadRequest"},
	} {
		if status, _, body := pre(tc.origin, tc.method, tc.headers); status < 400 || !strings.Contains(body, "<Code>"+tc.code+"<") {
			t.Errorf("%+v: %d %s", tc, status, body)
		}
	}
	// Actual requests from a browser get the headers too.
	resp, body = ts.do("GET", "/bkt?list-type=2", nil, map[string]string{"Origin": "http://a.com"})
	ts.expect(resp, body, 200, "")
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://a.com" {
		t.Fatalf("cors on GET: %v", resp.Header)
	}
	resp, body = ts.do("DELETE", "/bkt?cors", nil, nil)
	ts.expect(resp, body, 204, "")
	resp, body = ts.do("GET", "/bkt?cors", nil, nil)
	ts.expect(resp, body, 404, "NoSuchCORSConfiguration")
}

func TestBucketDocumentsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *testServer {
		eng, err := engine.Open(engine.Options{Dir: dir, DRAMCacheSize: 64 << 20, SegmentSize: 64 << 20, MemoryWait: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewServer(eng, Config{Credentials: []Credential{testCred}, Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(s.Handler())
		return &testServer{t: t, eng: eng, s: s, ts: hs}
	}
	ts := open()
	ts.mustPut("/bkt", nil)
	website := []byte(`<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument><ErrorDocument><Key>err.html</Key></ErrorDocument></WebsiteConfiguration>`)
	policy := publicPolicy("Allow", "s3:GetObject", "bkt/*")
	for path, doc := range map[string][]byte{
		"/bkt?website":           website,
		"/bkt?policy":            policy,
		"/bkt?cors":              []byte(`<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`),
		"/bkt?ownershipControls": []byte(`<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>`),
	} {
		resp, body := ts.do("PUT", path, doc, nil)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	resp, body := ts.do("PUT", "/bkt?acl", nil, map[string]string{"X-Amz-Acl": "public-read"})
	ts.expect(resp, body, 200, "")
	ts.ts.Close()
	ts.eng.Close()

	ts = open()
	defer func() { ts.ts.Close(); ts.eng.Close() }()
	resp, body = ts.do("GET", "/bkt?policy", nil, nil)
	ts.expect(resp, body, 200, "")
	if string(body) != string(policy) {
		t.Fatalf("policy after restart: %s", body)
	}
	for path, want := range map[string]string{
		"/bkt?website":           "<Suffix>index.html</Suffix>",
		"/bkt?cors":              "<AllowedOrigin>*</AllowedOrigin>",
		"/bkt?ownershipControls": ownershipObjectWriter,
		"/bkt?acl":               groupAllUsers,
	} {
		resp, body := ts.do("GET", path, nil, nil)
		ts.expect(resp, body, 200, "")
		if !strings.Contains(string(body), want) {
			t.Errorf("%s after restart: %s", path, body)
		}
	}
	// Deleting the bucket drops its documents.
	resp, body = ts.do("DELETE", "/bkt", nil, nil)
	ts.expect(resp, body, 204, "")
	ts.mustPut("/bkt", nil)
	resp, body = ts.do("GET", "/bkt?website", nil, nil)
	ts.expect(resp, body, 404, "NoSuchWebsiteConfiguration")
}
