package s3

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// postForm describes a browser upload for tests.
type postForm struct {
	bucket, key string
	conditions  []any             // extra policy conditions
	fields      map[string]string // extra form fields (named by the policy unless uncovered)
	uncovered   map[string]string // extra form fields the policy does not name
	omit        map[string]bool   // auth fields left out of the form
	expiration  time.Time
	date        time.Time
	region      string
	access      string // default testCred's
	secret      string
	file        []byte
	filename    string
	tail        string // bytes after the closing delimiter
}

// build returns the body and content type of the upload.
func (p postForm) build(t testing.TB) ([]byte, string) {
	t.Helper()
	if p.date.IsZero() {
		p.date = time.Now().UTC()
	}
	if p.expiration.IsZero() {
		p.expiration = time.Now().Add(time.Hour)
	}
	if p.region == "" {
		p.region = "us-east-1"
	}
	if p.access == "" {
		p.access = testCred.AccessKey
	}
	if p.secret == "" {
		p.secret = testCred.SecretKey
	}
	if p.filename == "" {
		p.filename = "upload.bin"
	}
	fields := map[string]string{
		"bucket":           p.bucket,
		"key":              p.key,
		"x-amz-algorithm":  sigv4.Algorithm,
		"x-amz-credential": p.access + "/" + p.date.Format(sigv4.DateFormat) + "/" + p.region + "/s3/aws4_request",
		"x-amz-date":       p.date.Format(sigv4.TimeFormat),
	}
	for k, v := range p.fields {
		fields[k] = v
	}
	conds := append([]any(nil), p.conditions...)
	for k, v := range fields {
		conds = append(conds, map[string]string{k: v})
	}
	doc, _ := json.Marshal(map[string]any{"expiration": p.expiration.UTC().Format(time.RFC3339), "conditions": conds})
	policy := base64.StdEncoding.EncodeToString(doc)
	key := sigv4.SigningKey(p.secret, p.date.Format(sigv4.DateFormat), p.region, "s3")
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(policy))
	fields["policy"] = policy
	fields["x-amz-signature"] = hex.EncodeToString(mac.Sum(nil))
	for k, v := range p.uncovered {
		fields[k] = v
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if !p.omit[k] {
			w.WriteField(k, v)
		}
	}
	fw, _ := w.CreateFormFile("file", p.filename)
	fw.Write(p.file)
	w.Close()
	buf.WriteString(p.tail)
	return buf.Bytes(), w.FormDataContentType()
}

func (ts *testServer) post(path string, body []byte, ctype string) (*http.Response, []byte) {
	ts.t.Helper()
	r, err := http.NewRequest("POST", ts.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	r.Header.Set("Content-Type", ctype)
	return ts.roundTrip(r)
}

func (ts *testServer) postForm(p postForm) (*http.Response, []byte) {
	ts.t.Helper()
	body, ct := p.build(ts.t)
	return ts.post("/"+p.bucket, body, ct)
}

func TestPostObjectStoresFile(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	data := []byte("some dummy data")
	resp, body := ts.postForm(postForm{bucket: "bkt", key: "dir/obj", file: data,
		fields: map[string]string{"content-type": "text/plain", "x-amz-meta-env": "prod", "cache-control": "max-age=10",
			"tagging": "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"},
		tail: "ignored epilogue"})
	ts.expect(resp, body, 204, "")
	if resp.Header.Get("ETag") != `"`+md5hex(data)+`"` {
		t.Fatalf("ETag %q", resp.Header.Get("ETag"))
	}
	if want := ts.ts.URL + "/bkt/dir/obj"; resp.Header.Get("Location") != want {
		t.Fatalf("Location %q, want %q", resp.Header.Get("Location"), want)
	}
	resp, got := ts.do("GET", "/bkt/dir/obj", nil, nil)
	ts.expect(resp, got, 200, "")
	if !bytes.Equal(got, data) || resp.Header.Get("Content-Type") != "text/plain" ||
		resp.Header.Get("X-Amz-Meta-Env") != "prod" || resp.Header.Get("Cache-Control") != "max-age=10" ||
		resp.Header.Get("X-Amz-Tagging-Count") != "1" {
		t.Fatalf("GET: %q %v", got, resp.Header)
	}
}

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func TestPostObjectStatusAndRedirect(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	resp, body := ts.postForm(postForm{bucket: "bkt", key: "a", file: []byte("x"),
		fields: map[string]string{"success_action_status": "201"}})
	ts.expect(resp, body, 201, "")
	if !strings.Contains(string(body), "<Key>a</Key>") || !strings.Contains(string(body), "<Bucket>bkt</Bucket>") {
		t.Fatalf("201 body %s", body)
	}
	resp, body = ts.postForm(postForm{bucket: "bkt", key: "b", file: []byte("x"),
		fields: map[string]string{"success_action_status": "200"}})
	ts.expect(resp, body, 200, "")

	c := *ts.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b, ct := postForm{bucket: "bkt", key: "c", file: []byte("x"),
		fields: map[string]string{"success_action_redirect": "https://example.com/done?x=1"}}.build(t)
	r, _ := http.NewRequest("POST", ts.ts.URL+"/bkt", bytes.NewReader(b))
	r.Header.Set("Content-Type", ct)
	res, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != 303 || !strings.HasPrefix(loc, "https://example.com/done?") || !strings.Contains(loc, "key=c") {
		t.Fatalf("redirect: %d %q", res.StatusCode, loc)
	}
}

func TestPostObjectLargeFileStreams(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.PieceSize = 1 << 20 })
	ts.mustPut("/bkt", nil)
	data := randBytes(7, 3<<20+12345)
	resp, body := ts.postForm(postForm{bucket: "bkt", key: "big", file: data,
		conditions: []any{[]any{"content-length-range", 1, 4 << 20}}})
	ts.expect(resp, body, 204, "")
	resp, got := ts.do("GET", "/bkt/big", nil, nil)
	ts.expect(resp, got, 200, "")
	if !bytes.Equal(got, data) {
		t.Fatalf("GET returned %d bytes, want %d", len(got), len(data))
	}
}

func TestPostObjectErrors(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	for _, tc := range []struct {
		name   string
		p      postForm
		status int
		code   string
		text   string
	}{
		{"anonymous", postForm{omit: map[string]bool{"policy": true, "x-amz-algorithm": true, "x-amz-credential": true,
			"x-amz-date": true, "x-amz-signature": true}}, 403, "AccessDenied", ""},
		{"missing signature", postForm{omit: map[string]bool{"x-amz-signature": true}}, 400, "InvalidArgument",
			"<ArgumentName>x-amz-signature</ArgumentName>"},
		{"bad signature", postForm{secret: "wrong"}, 403, "SignatureDoesNotMatch", "<AWSAccessKeyId>testkey</AWSAccessKeyId>"},
		{"wrong region", postForm{region: "eu-west-1"}, 400, "InvalidArgument", "is wrong; expecting"},
		{"old date", postForm{date: time.Now().UTC().Add(-2 * time.Hour)}, 403, "AccessDenied", "Policy expired."},
		{"expired policy", postForm{expiration: time.Now().Add(-time.Minute)}, 403, "AccessDenied", "Policy expired."},
		{"extra field", postForm{uncovered: map[string]string{"content-type": "text/plain"}}, 403, "AccessDenied",
			"Extra input fields: content-type"},
		{"ignored field", postForm{uncovered: map[string]string{"x-ignore-me": "1"}}, 204, "", ""},
		{"condition", postForm{conditions: []any{[]any{"starts-with", "$key", "user/"}}}, 403, "AccessDenied",
			`Policy Condition failed: [&quot;starts-with&quot;,&quot;$key&quot;,&quot;user/&quot;]`},
		{"too large", postForm{file: []byte("0123456789"), conditions: []any{[]any{"content-length-range", 0, 5}}},
			400, "EntityTooLarge", "<ProposedSize>10</ProposedSize><MaxSizeAllowed>5</MaxSizeAllowed>"},
		{"too small", postForm{file: []byte("hi"), conditions: []any{[]any{"content-length-range", 100, 1000}}},
			400, "EntityTooSmall", "<ProposedSize>2</ProposedSize><MinSizeAllowed>100</MinSizeAllowed>"},
		{"bad tagging", postForm{fields: map[string]string{"tagging": "nope"}}, 400, "MalformedXML", ""},
		{"bad checksum", postForm{fields: map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}}, 400, "BadDigest", ""},
		{"two checksums", postForm{fields: map[string]string{"x-amz-checksum-crc32": "0wiusg==", "x-amz-checksum-sha1": "x"}},
			400, "InvalidRequest", "Multiple checksum"},
		{"bad redirect location", postForm{fields: map[string]string{"x-amz-website-redirect-location": "ftp://x"}},
			400, "InvalidRedirectLocation", ""},
		{"dot dot key", postForm{key: "a/../../etc/passwd"}, 400, "400", ""},
		{"no bucket", postForm{bucket: "nobkt"}, 404, "NoSuchBucket", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if p.bucket == "" {
				p.bucket = "bkt"
			}
			if p.key == "" {
				p.key = "obj"
			}
			if p.file == nil {
				p.file = []byte("data")
			}
			resp, body := ts.postForm(p)
			ts.expect(resp, body, tc.status, tc.code)
			if !strings.Contains(string(body), tc.text) {
				t.Fatalf("body lacks %q: %s", tc.text, body)
			}
		})
	}
}

func TestPostObjectMalformedForms(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	resp, body := ts.post("/bkt", []byte("{}"), "application/json")
	ts.expect(resp, body, 412, "PreconditionFailed")
	resp, body = ts.post("/bkt", []byte("x"), "multipart/form-data")
	ts.expect(resp, body, 400, "MalformedPOSTRequest")
	resp, body = ts.post("/bkt", []byte("--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--b--\r\n"), "multipart/form-data; boundary=b")
	ts.expect(resp, body, 400, "InvalidArgument")
	resp, body = ts.post("/bkt", []byte("--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk"), "multipart/form-data; boundary=b")
	ts.expect(resp, body, 400, "MalformedPOSTRequest")
	big := "--b\r\nContent-Disposition: form-data; name=\"x-ignore-pad\"\r\n\r\n" + strings.Repeat("p", maxPostFormData) + "\r\n--b--\r\n"
	resp, body = ts.post("/bkt", []byte(big), "multipart/form-data; boundary=b")
	ts.expect(resp, body, 400, "MaxPostPreDataLengthExceededError")
}

func TestParsePostPolicy(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ doc, want string }{
		{"", "Expecting '{' but found End-of-Input"},
		{"@@", "invalid Base64 encoding."},
		{enc("nope"), "Invalid JSON."},
		{enc(`{"conditions":[]}`), "Policy missing expiration."},
		{enc(`{"expiration":"2031-01-01T00:00:00Z"}`), "Policy missing conditions."},
		{enc(`{"expiration":"2031-01-01T00:00:00Z","conditions":[],"x":1}`), `Unexpected: "x"`},
		{enc(`{"expiration":"bad","conditions":[]}`), "Invalid 'expiration' value: 'bad'"},
		{enc(`{"expiration":"2031-01-01T00:00:00Z","conditions":true}`), "must be a List."},
		{enc(`{"expiration":"2031-01-01T00:00:00Z","conditions":[1]}`), "must be a List or Object."},
		{enc(`{"expiration":"2031-01-01T00:00:00Z","conditions":[[]]}`), "missing operation identifier."},
		{enc(`{"expiration":"2031-01-01T00:00:00Z","conditions":[["in","$a","b"]]}`), "unknown operation 'in'."},
		{enc(`{"expiration":"2031-01-01T00:00:00Z","conditions":[["eq","$a"]]}`), "Invalid eq: wrong number of arguments."},
		{enc(`{"expiration":"2031-01-01T00:00:00Z","conditions":[{"a":"b","c":"d"}]}`), "exactly one property"},
		{enc(`{"expiration":"2031-01-01T00:00:00Z","conditions":[{"a":1}]}`), "value must be a string."},
		{enc(`{"expiration":"2029-01-01T00:00:00Z","conditions":[]}`), "Policy expired."},
		{enc(`{"expiration":"2031-01-01T00:00:00Z","conditions":[["content-length-range","1",5]]}`), ""},
	} {
		_, err := parsePostPolicy(tc.doc, now)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.doc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func TestUnsafeObjectName(t *testing.T) {
	for _, k := range []string{".", "..", "./", "/.", "//", "../", "../x", "for/../../bar/", "/a/../../b"} {
		if !unsafeObjectName(k) {
			t.Errorf("%q accepted", k)
		}
	}
	for _, k := range []string{"a", "a/../b", "./a", "a/.", "..a", "a..b/c"} {
		if unsafeObjectName(k) {
			t.Errorf("%q refused", k)
		}
	}
}

// FuzzPostForm feeds arbitrary bodies to the form reader: it must not
// panic, must stay within its budget before the file, and must return
// the file's bytes exactly when the body is well formed.
func FuzzPostForm(f *testing.F) {
	f.Add("b", []byte("--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\ndata\r\n--b--\r\n"))
	f.Add("--x", []byte("pre\r\n----x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n----x\r\n\r\n----x--"))
	f.Add("b", []byte("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--b--"))
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		form, err := newFormReader(bytes.NewReader(body), boundary, 1024)
		if err != nil {
			return
		}
		fields, _, err := readPostFields(form)
		if err != nil {
			return
		}
		if form.n > 1024 {
			t.Fatalf("consumed %d bytes before the file, budget 1024", form.n)
		}
		n := 0
		for _, v := range fields {
			n += len(v)
		}
		if n > 1024 {
			t.Fatalf("fields hold %d bytes", n)
		}
		rest := form.remaining(int64(len(body)))
		got, err := io.ReadAll(form.file())
		if err == nil && int64(len(got)) > rest+2 {
			t.Fatalf("file of %d bytes, at most %d expected", len(got), rest)
		}
		if err == nil && bytes.Contains(got, []byte("\r\n--"+boundary)) {
			t.Fatalf("file holds its delimiter")
		}
	})
}

// FuzzPostPolicy parses arbitrary policy documents and evaluates them: no
// panics, and only APIErrors come back.
func FuzzPostPolicy(f *testing.F) {
	for _, s := range []string{
		`{"expiration":"2031-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key",""],["content-length-range",1,10]]}`,
		`{"expiration":"2031-01-01T00:00:00.000Z","conditions":[["eq","$Content-Type","a, b"],{"x-amz-meta-a":"1"}]}`,
		`{"expiration":"2031-01-01T00:00:00Z","conditions":[["content-length-range","9223372036854775807",-1]]}`,
	} {
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)), "content-type", "a, b")
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, doc, field, value string) {
		p, err := parsePostPolicy(doc, now)
		if err != nil {
			if _, ok := err.(*APIError); !ok {
				t.Fatalf("non-API error %T %v", err, err)
			}
			return
		}
		err = p.check(map[string]string{"bucket": "b", "key": "k", field: value}, "b", "k")
		if _, ok := err.(*APIError); err != nil && !ok {
			t.Fatalf("non-API error %T %v", err, err)
		}
		p.lengthRange()
	})
}

func TestFormReaderSizeHint(t *testing.T) {
	for _, tail := range []string{"", "epilogue"} {
		body := "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n0123456789\r\n--b--\r\n" + tail
		form, _ := newFormReader(strings.NewReader(body), "b", 1024)
		if _, _, err := readPostFields(form); err != nil {
			t.Fatal(err)
		}
		if got := form.remaining(int64(len(body))); got != int64(10+len(tail)) {
			t.Fatalf("remaining %d", got)
		}
		data, err := io.ReadAll(form.file())
		if err != nil || string(data) != "0123456789" {
			t.Fatalf("file %q %v", data, err)
		}
	}
}

// TestPostObjectAnonymous: a form without any signature field is an
// anonymous upload, refused unless the bucket's policy lets anyone
// PutObject the key.
func TestPostObjectAnonymous(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	omitAll := map[string]bool{}
	for _, f := range postAuthFields {
		omitAll[f] = true
	}
	form := postForm{bucket: "bkt", key: "up/a", file: []byte("anonymous"), omit: omitAll}
	resp, body := ts.postForm(form)
	ts.expect(resp, body, 403, "AccessDenied")
	resp, body = ts.postForm(postForm{bucket: "nobucket", key: "a", file: []byte("x"), omit: omitAll})
	ts.expect(resp, body, 404, "NoSuchBucket")
	resp, body = ts.do("PUT", "/bkt?policy", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
		"Action":"s3:PutObject","Resource":"arn:aws:s3:::bkt/up/*"}]}`), nil)
	ts.expect(resp, body, 204, "")
	resp, body = ts.postForm(form)
	ts.expect(resp, body, 204, "")
	resp, body = ts.do("GET", "/bkt/up/a", nil, nil)
	ts.expect(resp, body, 200, "")
	if string(body) != "anonymous" {
		t.Fatalf("stored %q", body)
	}
	// Outside the granted prefix: refused.
	resp, body = ts.postForm(postForm{bucket: "bkt", key: "other", file: []byte("x"), omit: omitAll})
	ts.expect(resp, body, 403, "AccessDenied")
	// A partly signed form is not anonymous: it must be signed in full.
	resp, body = ts.postForm(postForm{bucket: "bkt", key: "up/b", file: []byte("x"), omit: map[string]bool{"x-amz-signature": true}})
	if resp.StatusCode != 400 && resp.StatusCode != 403 {
		t.Fatalf("partly signed form: %s %s", resp.Status, body)
	}
}
