package s3

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// lockClock is a server clock the test moves forward (within the
// signature skew), to let retentions expire.
type lockClock struct{ off atomic.Int64 }

func (c *lockClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *lockClock) advance(d time.Duration) { c.off.Add(int64(d)) }

func newLockServer(t *testing.T) (*testServer, *lockClock) {
	c := &lockClock{}
	ts := newTestServer(t, func(cfg *Config) { cfg.Now = c.now })
	return ts, c
}

func lockDate(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }

func retentionBody(mode string, d time.Duration) []byte {
	return []byte(`<Retention><Mode>` + mode + `</Mode><RetainUntilDate>` + lockDate(d) + `</RetainUntilDate></Retention>`)
}

func legalHoldBody(status string) []byte {
	return []byte(`<LegalHold><Status>` + status + `</Status></LegalHold>`)
}

func TestObjectLockConfiguration(t *testing.T) {
	dir := t.TempDir()
	open := func() *testServer {
		eng, err := engine.Open(engine.Options{Dir: dir, DRAMCacheSize: 64 << 20, SegmentSize: 8 << 20, MemoryWait: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewServer(eng, Config{Credentials: []Credential{testCred}, Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		return &testServer{t: t, eng: eng, s: s, ts: httptest.NewServer(s.Handler())}
	}
	ts := open()
	resp, body := ts.do("GET", "/nobkt?object-lock", nil, nil)
	ts.expect(resp, body, 404, "NoSuchBucket")
	ts.mustPut("/bkt", nil)
	resp, body = ts.do("GET", "/bkt?object-lock", nil, nil)
	ts.expect(resp, body, 404, "ObjectLockConfigurationNotFoundError")

	for _, tc := range []struct {
		body   string
		status int
		code   string
		msg    string
	}{
		{"", 400, "MissingRequestBodyError", "Request Body is empty"},
		{"garbage", 400, "MalformedXML", ""},
		{`<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>`, 400, "MalformedXML", ""},
		{`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule/></ObjectLockConfiguration>`, 400, "MalformedXML", ""},
		{`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>X</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>`, 400, "MalformedXML", ""},
		{`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>`, 400, "MalformedXML", ""},
		{`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode></DefaultRetention></Rule></ObjectLockConfiguration>`, 400, "MalformedXML", ""},
		{`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>-3</Days></DefaultRetention></Rule></ObjectLockConfiguration>`, 400, "InvalidArgument", "Default retention period must be a positive integer value."},
		{`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>36501</Days></DefaultRetention></Rule></ObjectLockConfiguration>`, 400, "InvalidArgument", "Default retention period too large."},
		{`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Years>101</Years></DefaultRetention></Rule></ObjectLockConfiguration>`, 400, "InvalidArgument", "Default retention period too large."},
		{`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Years>0</Years></DefaultRetention></Rule></ObjectLockConfiguration>`, 400, "InvalidArgument", "<ArgumentName>Years</ArgumentName>"},
	} {
		resp, body := ts.do("PUT", "/bkt?object-lock", []byte(tc.body), nil)
		ts.expect(resp, body, tc.status, tc.code)
		if tc.msg != "" && !bytes.Contains(body, []byte(tc.msg)) {
			t.Fatalf("%s: want %q in %s", tc.body, tc.msg, body)
		}
	}
	resp, body = ts.do("GET", "/bkt?object-lock", nil, nil)
	ts.expect(resp, body, 404, "ObjectLockConfigurationNotFoundError")

	cfg := `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>20</Days></DefaultRetention></Rule></ObjectLockConfiguration>`
	resp, body = ts.do("PUT", "/bkt?object-lock", []byte(cfg), nil)
	ts.expect(resp, body, 200, "")

	// The configuration survives a restart.
	ts.ts.Close()
	ts.eng.Close()
	ts = open()
	defer func() {
		ts.ts.Close()
		ts.eng.Close()
	}()
	resp, body = ts.do("GET", "/bkt?object-lock", nil, nil)
	ts.expect(resp, body, 200, "")
	var got objectLockConfiguration
	if err := xml.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.ObjectLockEnabled != "Enabled" || got.Rule == nil || got.Rule.DefaultRetention == nil ||
		got.Rule.DefaultRetention.Mode != lockCompliance || got.Rule.DefaultRetention.Days == nil || *got.Rule.DefaultRetention.Days != 20 {
		t.Fatalf("config after restart: %s", body)
	}
	// The rule can be dropped, Object Lock stays enabled.
	resp, body = ts.do("PUT", "/bkt?object-lock", []byte(`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`), nil)
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("GET", "/bkt?object-lock", nil, nil)
	ts.expect(resp, body, 200, "")
	if !bytes.Contains(body, []byte("<ObjectLockEnabled>Enabled</ObjectLockEnabled>")) || bytes.Contains(body, []byte("<Rule>")) {
		t.Fatalf("config without rule: %s", body)
	}
}

func TestCreateBucketWithObjectLock(t *testing.T) {
	ts := newTestServer(t, nil)
	resp, body := ts.do("PUT", "/locked", nil, map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"})
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("GET", "/locked?object-lock", nil, nil)
	ts.expect(resp, body, 200, "")
	if !bytes.Contains(body, []byte("<ObjectLockEnabled>Enabled</ObjectLockEnabled>")) {
		t.Fatalf("config: %s", body)
	}
	// A failed re-create does not touch the configuration.
	resp, body = ts.do("PUT", "/plain", nil, nil)
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("PUT", "/plain", nil, map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"})
	ts.expect(resp, body, 409, "BucketAlreadyOwnedByYou")
	resp, body = ts.do("GET", "/plain?object-lock", nil, nil)
	ts.expect(resp, body, 404, "ObjectLockConfigurationNotFoundError")
}

func TestObjectLockHeaders(t *testing.T) {
	ts, _ := newLockServer(t)
	ts.mustPut("/plain", nil)
	ts.do("PUT", "/locked", nil, map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"})
	for _, tc := range []struct {
		bucket string
		hdr    map[string]string
		status int
		code   string
		msg    string
	}{
		{"plain", map[string]string{"X-Amz-Object-Lock-Mode": "GOVERNANCE"}, 400, "InvalidArgument", "must both be supplied"},
		{"plain", map[string]string{"X-Amz-Object-Lock-Retain-Until-Date": lockDate(time.Hour)}, 400, "InvalidArgument", "must both be supplied"},
		{"plain", map[string]string{"X-Amz-Object-Lock-Mode": "GOVERNANCE", "X-Amz-Object-Lock-Retain-Until-Date": lockDate(-time.Hour)}, 400, "InvalidArgument", "The retain until date must be in the future!"},
		{"plain", map[string]string{"X-Amz-Object-Lock-Mode": "GOVERNANCE", "X-Amz-Object-Lock-Retain-Until-Date": lockDate(time.Hour)}, 400, "InvalidRequest", "Bucket is missing ObjectLockConfiguration"},
		{"plain", map[string]string{"X-Amz-Object-Lock-Legal-Hold": "ON"}, 400, "InvalidRequest", "Bucket is missing ObjectLockConfiguration"},
		{"locked", map[string]string{"X-Amz-Object-Lock-Mode": "GOVERNANCE", "X-Amz-Object-Lock-Retain-Until-Date": "invalid_date"}, 400, "InvalidArgument", "ISO 8601"},
		{"locked", map[string]string{"X-Amz-Object-Lock-Mode": "invalid", "X-Amz-Object-Lock-Retain-Until-Date": lockDate(time.Hour)}, 400, "InvalidArgument", "Unknown wormMode directive."},
		{"locked", map[string]string{"X-Amz-Object-Lock-Legal-Hold": "maybe"}, 400, "InvalidArgument", "Legal Hold must be either of"},
	} {
		for _, op := range []string{"put", "copy", "mpu"} {
			ts.mustPut("/"+tc.bucket+"/src", []byte("src"))
			var resp *http.Response
			var body []byte
			switch op {
			case "put":
				resp, body = ts.do("PUT", "/"+tc.bucket+"/o", []byte("x"), tc.hdr)
			case "copy":
				hdr := map[string]string{"X-Amz-Copy-Source": "/" + tc.bucket + "/src"}
				for k, v := range tc.hdr {
					hdr[k] = v
				}
				resp, body = ts.do("PUT", "/"+tc.bucket+"/o", nil, hdr)
			case "mpu":
				resp, body = ts.do("POST", "/"+tc.bucket+"/o?uploads", nil, tc.hdr)
			}
			ts.expect(resp, body, tc.status, tc.code)
			if !bytes.Contains(body, []byte(tc.msg)) {
				t.Fatalf("%s %v: want %q in %s", op, tc.hdr, tc.msg, body)
			}
		}
	}

	// Accepted headers are stored and returned on HEAD and GET, and by the
	// retention and legal-hold calls.
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	hdr := map[string]string{"X-Amz-Object-Lock-Mode": "GOVERNANCE", "X-Amz-Object-Lock-Retain-Until-Date": until.Format(time.RFC3339), "X-Amz-Object-Lock-Legal-Hold": "OFF"}
	resp, body := ts.do("PUT", "/locked/o", []byte("x"), hdr)
	ts.expect(resp, body, 200, "")
	for _, m := range []string{"HEAD", "GET"} {
		resp, _ = ts.do(m, "/locked/o", nil, nil)
		if resp.Header.Get("x-amz-object-lock-mode") != "GOVERNANCE" || resp.Header.Get("x-amz-object-lock-legal-hold") != "OFF" {
			t.Fatalf("%s lock headers: %v", m, resp.Header)
		}
		if got, err := time.Parse(time.RFC3339, resp.Header.Get("x-amz-object-lock-retain-until-date")); err != nil || !got.Equal(until) {
			t.Fatalf("%s retain until %q, want %v", m, resp.Header.Get("x-amz-object-lock-retain-until-date"), until)
		}
	}
	resp, body = ts.do("GET", "/locked/o?retention", nil, nil)
	ts.expect(resp, body, 200, "")
	if !bytes.Contains(body, []byte("<Mode>GOVERNANCE</Mode>")) || !bytes.Contains(body, []byte(formatLockTime(until))) {
		t.Fatalf("retention: %s", body)
	}
	resp, body = ts.do("GET", "/locked/o?legal-hold", nil, nil)
	ts.expect(resp, body, 200, "")
	if !bytes.Contains(body, []byte("<Status>OFF</Status>")) {
		t.Fatalf("legal hold: %s", body)
	}

	// A copy takes the request's lock, not the source's.
	resp, body = ts.do("PUT", "/locked/c", nil, map[string]string{"X-Amz-Copy-Source": "/locked/o", "X-Amz-Object-Lock-Legal-Hold": "ON"})
	ts.expect(resp, body, 200, "")
	resp, _ = ts.do("HEAD", "/locked/c", nil, nil)
	if resp.Header.Get("x-amz-object-lock-mode") != "" || resp.Header.Get("x-amz-object-lock-legal-hold") != "ON" {
		t.Fatalf("copy lock headers: %v", resp.Header)
	}

	// A multipart upload's lock applies to the completed object.
	resp, body = ts.do("POST", "/locked/m?uploads", nil, map[string]string{"X-Amz-Object-Lock-Legal-Hold": "ON"})
	ts.expect(resp, body, 200, "")
	complete(ts, "/locked/m", uploadID(t, body), 200, "")
	resp, _ = ts.do("HEAD", "/locked/m", nil, nil)
	if resp.Header.Get("x-amz-object-lock-legal-hold") != "ON" {
		t.Fatalf("multipart lock headers: %v", resp.Header)
	}
}

func uploadID(t *testing.T, body []byte) string {
	t.Helper()
	var r initiateMultipartUploadResult
	if err := xml.Unmarshal(body, &r); err != nil || r.UploadID == "" {
		t.Fatalf("initiate: %v %s", err, body)
	}
	return r.UploadID
}

// complete uploads one part and completes the upload, expecting status
// and code.
func complete(ts *testServer, path, id string, status int, code string) {
	ts.t.Helper()
	resp, body := ts.do("PUT", path+"?partNumber=1&uploadId="+id, []byte("part"), nil)
	ts.expect(resp, body, 200, "")
	etag := resp.Header.Get("ETag")
	resp, body = ts.do("POST", path+"?uploadId="+id, []byte(`<CompleteMultipartUpload><Part><ETag>`+etag+`</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`), nil)
	ts.expect(resp, body, status, code)
}

// expectLocked checks that no write replaces or removes key, and that
// reads still work.
func expectLocked(t *testing.T, ts *testServer, key string, bypass bool) {
	t.Helper()
	hdr := map[string]string{}
	if bypass {
		hdr["X-Amz-Bypass-Governance-Retention"] = "true"
	}
	resp, body := ts.do("PUT", "/locked/"+key, []byte("new"), hdr)
	ts.expect(resp, body, 403, "AccessDenied")
	if !bytes.Contains(body, []byte("Access Denied because object protected by object lock.")) {
		t.Fatalf("locked put: %s", body)
	}
	ts.mustPut("/locked/other", []byte("other"))
	resp, body = ts.do("PUT", "/locked/"+key, nil, map[string]string{"X-Amz-Copy-Source": "/locked/other"})
	ts.expect(resp, body, 403, "AccessDenied")
	resp, body = ts.do("POST", "/locked/"+key+"?uploads", nil, nil)
	ts.expect(resp, body, 200, "")
	complete(ts, "/locked/"+key, uploadID(t, body), 403, "AccessDenied")
	resp, body = ts.do("DELETE", "/locked/"+key, nil, hdr)
	ts.expect(resp, body, 403, "AccessDenied")
	resp, body = ts.do("POST", "/locked?delete", []byte(`<Delete><Object><Key>`+key+`</Key></Object><Object><Key>other</Key></Object></Delete>`), hdr)
	ts.expect(resp, body, 200, "")
	var dr deleteResult
	if err := xml.Unmarshal(body, &dr); err != nil || len(dr.Errors) != 1 || dr.Errors[0].Key != key ||
		dr.Errors[0].Code != "AccessDenied" || len(dr.Deleted) != 1 || dr.Deleted[0].Key != "other" {
		t.Fatalf("DeleteObjects of a locked key: %v %s", err, body)
	}
	resp, body = ts.do("GET", "/locked/"+key, nil, nil)
	ts.expect(resp, body, 200, "")
	if string(body) != "data" {
		t.Fatalf("locked object changed: %q", body)
	}
}

func TestWORMProtection(t *testing.T) {
	ts, clock := newLockServer(t)
	ts.mustPut("/plain", nil)
	ts.mustPut("/plain/o", []byte("data"))
	resp, body := ts.do("PUT", "/plain/o?legal-hold", legalHoldBody("ON"), nil)
	ts.expect(resp, body, 400, "InvalidRequest")
	resp, body = ts.do("PUT", "/plain/o?retention", retentionBody("GOVERNANCE", time.Hour), nil)
	ts.expect(resp, body, 400, "InvalidRequest")
	resp, body = ts.do("GET", "/plain/o?retention", nil, nil)
	ts.expect(resp, body, 400, "InvalidRequest")
	resp, body = ts.do("GET", "/plain/missing?legal-hold", nil, nil)
	ts.expect(resp, body, 404, "NoSuchKey")

	ts.do("PUT", "/locked", nil, map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"})
	ts.mustPut("/locked/o", []byte("data"))
	resp, body = ts.do("GET", "/locked/o?retention", nil, nil)
	ts.expect(resp, body, 400, "NoSuchObjectLockConfiguration")
	resp, body = ts.do("GET", "/locked/o?legal-hold", nil, nil)
	ts.expect(resp, body, 400, "NoSuchObjectLockConfiguration")
	for _, b := range []string{"", "<LegalHold><Status>on</Status></LegalHold>", "<Other/>"} {
		resp, body = ts.do("PUT", "/locked/o?legal-hold", []byte(b), nil)
		ts.expect(resp, body, 400, "MalformedXML")
	}
	resp, body = ts.do("PUT", "/locked/missing?legal-hold", legalHoldBody("ON"), nil)
	ts.expect(resp, body, 404, "NoSuchKey")
	resp, body = ts.do("PUT", "/locked/o?retention", retentionBody("FOREVER", time.Hour), nil)
	ts.expect(resp, body, 400, "MalformedXML")
	resp, body = ts.do("PUT", "/locked/o?retention", retentionBody("GOVERNANCE", -time.Hour), nil)
	ts.expect(resp, body, 400, "InvalidArgument")
	resp, body = ts.do("PUT", "/locked/o?retention&versionId=abc", retentionBody("GOVERNANCE", time.Hour), nil)
	ts.expect(resp, body, 400, "InvalidArgument")

	// Legal hold: nothing replaces or removes the object, bypass or not.
	resp, body = ts.do("PUT", "/locked/o?legal-hold", legalHoldBody("ON"), nil)
	ts.expect(resp, body, 200, "")
	expectLocked(t, ts, "o", true)
	resp, body = ts.do("PUT", "/locked/o?legal-hold", legalHoldBody("OFF"), nil)
	ts.expect(resp, body, 200, "")

	// GOVERNANCE: locked unless bypassed; extending is free, shortening,
	// removing and switching to COMPLIANCE need the bypass.
	resp, body = ts.do("PUT", "/locked/o?retention", retentionBody("GOVERNANCE", 2*time.Minute), nil)
	ts.expect(resp, body, 200, "")
	expectLocked(t, ts, "o", false)
	resp, body = ts.do("PUT", "/locked/o?retention", retentionBody("GOVERNANCE", 3*time.Minute), nil)
	ts.expect(resp, body, 200, "")
	for _, b := range [][]byte{retentionBody("GOVERNANCE", time.Minute), retentionBody("COMPLIANCE", time.Hour), []byte("<Retention/>")} {
		resp, body = ts.do("PUT", "/locked/o?retention", b, nil)
		ts.expect(resp, body, 403, "AccessDenied")
	}
	resp, body = ts.do("PUT", "/locked/o?retention", []byte("<Retention/>"), map[string]string{"X-Amz-Bypass-Governance-Retention": "true"})
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("GET", "/locked/o?retention", nil, nil)
	ts.expect(resp, body, 400, "NoSuchObjectLockConfiguration")
	resp, body = ts.do("PUT", "/locked/o?retention", retentionBody("GOVERNANCE", time.Hour), nil)
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("DELETE", "/locked/o", nil, map[string]string{"X-Amz-Bypass-Governance-Retention": "true"})
	ts.expect(resp, body, 204, "")

	// COMPLIANCE: locked even with bypass until it expires; it can only be
	// extended.
	ts.mustPut("/locked/c", []byte("data"))
	resp, body = ts.do("PUT", "/locked/c?retention", retentionBody("COMPLIANCE", 2*time.Minute), nil)
	ts.expect(resp, body, 200, "")
	expectLocked(t, ts, "c", true)
	bypass := map[string]string{"X-Amz-Bypass-Governance-Retention": "true"}
	for _, b := range [][]byte{retentionBody("COMPLIANCE", time.Minute), retentionBody("GOVERNANCE", time.Hour), []byte("<Retention/>")} {
		resp, body = ts.do("PUT", "/locked/c?retention", b, bypass)
		ts.expect(resp, body, 403, "AccessDenied")
	}
	resp, body = ts.do("PUT", "/locked/c?retention", retentionBody("COMPLIANCE", 3*time.Minute), nil)
	ts.expect(resp, body, 200, "")
	clock.advance(4 * time.Minute)
	resp, body = ts.do("DELETE", "/locked/c", nil, nil)
	ts.expect(resp, body, 204, "")
}

func TestDefaultRetention(t *testing.T) {
	ts, _ := newLockServer(t)
	ts.mustPut("/locked", nil)
	resp, body := ts.do("PUT", "/locked?object-lock", []byte(`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>`), nil)
	ts.expect(resp, body, 200, "")
	ts.mustPut("/locked/p", []byte("data"))
	resp, body = ts.do("PUT", "/locked/c", nil, map[string]string{"X-Amz-Copy-Source": "/locked/p"})
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("POST", "/locked/m?uploads", nil, nil)
	ts.expect(resp, body, 200, "")
	complete(ts, "/locked/m", uploadID(t, body), 200, "")
	// Explicit headers win over the default.
	resp, body = ts.do("PUT", "/locked/e", []byte("x"), map[string]string{"X-Amz-Object-Lock-Mode": "COMPLIANCE", "X-Amz-Object-Lock-Retain-Until-Date": lockDate(time.Hour)})
	ts.expect(resp, body, 200, "")
	want := time.Now().AddDate(0, 0, 1)
	for _, k := range []string{"p", "c", "m", "e"} {
		resp, _ = ts.do("HEAD", "/locked/"+k, nil, nil)
		mode := resp.Header.Get("x-amz-object-lock-mode")
		until, err := time.Parse(time.RFC3339, resp.Header.Get("x-amz-object-lock-retain-until-date"))
		if k == "e" {
			if mode != lockCompliance {
				t.Fatalf("explicit retention: %v", resp.Header)
			}
			continue
		}
		if mode != lockGovernance || err != nil || until.Sub(want).Abs() > time.Minute {
			t.Fatalf("%s: default retention %q until %v, want GOVERNANCE until ~%v", k, mode, until, want)
		}
	}
	resp, body = ts.do("DELETE", "/locked/p", nil, nil)
	ts.expect(resp, body, 403, "AccessDenied")
}

// TestLockUpdatesAreNotLost makes another write land between the read of
// an object's attributes and the write of the updated ones: the update
// must notice, start again from the new attributes, and keep both changes
// (an acknowledged legal hold is never dropped by a stale rewrite).
func TestLockUpdatesAreNotLost(t *testing.T) {
	ts, _ := newLockServer(t)
	ts.do("PUT", "/locked", nil, map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"})
	ts.mustPut("/locked/o", []byte("data"))
	calls := 0
	err := ts.s.updateObjectAttrs(&request{bucket: "locked", key: "o"}, func(a *objectAttrs) error {
		calls++
		if calls == 1 {
			resp, body := ts.do("PUT", "/locked/o?legal-hold", legalHoldBody("ON"), nil)
			ts.expect(resp, body, 200, "")
		}
		a.Tags = []string{"k", "v"}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("update: err=%v calls=%d", err, calls)
	}
	resp, body := ts.do("GET", "/locked/o?legal-hold", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), "<Status>ON</Status>") {
		t.Fatalf("legal hold lost: %s", body)
	}
	resp, body = ts.do("GET", "/locked/o?tagging", nil, nil)
	if !strings.Contains(string(body), "<Key>k</Key>") {
		t.Fatalf("tags lost: %s", body)
	}
	_ = resp

	// Concurrent rewrites of the same object through the API.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 10 {
				ts.do("PUT", "/locked/o?tagging", []byte(fmt.Sprintf(`<Tagging><TagSet><Tag><Key>k%d</Key><Value>%d</Value></Tag></TagSet></Tagging>`, i, n)), nil)
				ts.do("PUT", "/locked/o?retention", retentionBody("GOVERNANCE", time.Hour+time.Duration(n)*time.Second), nil)
			}
		}()
	}
	wg.Wait()
	resp, body = ts.do("GET", "/locked/o?legal-hold", nil, nil)
	ts.expect(resp, body, 200, "")
	if !strings.Contains(string(body), "<Status>ON</Status>") {
		t.Fatalf("legal hold lost under concurrent rewrites: %s", body)
	}
	resp, body = ts.do("GET", "/locked/o", nil, nil)
	if string(body) != "data" || resp.Header.Get("x-amz-object-lock-mode") != lockGovernance {
		t.Fatalf("object after concurrent rewrites: %q %v", body, resp.Header)
	}
}

func FuzzObjectLockBodies(f *testing.F) {
	f.Add([]byte(`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>`))
	f.Add([]byte(`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>100</Years></DefaultRetention></Rule></ObjectLockConfiguration>`))
	f.Add([]byte(`<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2999-01-01T00:00:00Z</RetainUntilDate></Retention>`))
	f.Add([]byte(`<Retention/>`))
	f.Add([]byte(`<LegalHold><Status>ON</Status></LegalHold>`))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := parseLockConfiguration(b); err == nil {
			// What is stored must parse back to the same configuration.
			doc, err := xml.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			c2, err := parseLockConfiguration(doc)
			if err != nil {
				t.Fatalf("stored configuration %s does not parse: %v", doc, err)
			}
			if (c.Rule == nil) != (c2.Rule == nil) || c.Rule != nil && c.Rule.DefaultRetention.until(now) != c2.Rule.DefaultRetention.until(now) {
				t.Fatalf("configuration changed in storage: %s", doc)
			}
		}
		if mode, until, err := parseRetention(b, now); err == nil && mode != "" {
			if mode != lockGovernance && mode != lockCompliance || !until.After(now.Add(-time.Millisecond)) {
				t.Fatalf("accepted retention %q until %v", mode, until)
			}
		}
		if s, err := parseLegalHold(b); err == nil && s != legalHoldOn && s != legalHoldOff {
			t.Fatalf("accepted legal hold %q", s)
		}
	})
}

// TestOverwriteWithPolicyBypass: a bucket policy that allows the
// requester s3:BypassGovernanceRetention lets a PUT, a copy and a
// multipart completion replace a GOVERNANCE-locked object, as deleting it
// with the bypass header would; COMPLIANCE retention, legal holds and an
// explicit Deny still refuse.
func TestOverwriteWithPolicyBypass(t *testing.T) {
	ts, _ := newLockServer(t)
	ts.do("PUT", "/locked", nil, map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"})
	lock := func(key, mode string) {
		ts.mustPut("/locked/"+key, []byte("data"))
		resp, body := ts.do("PUT", "/locked/"+key+"?retention", retentionBody(mode, time.Hour), nil)
		ts.expect(resp, body, 200, "")
	}
	policy := func(effect string) {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"` + effect + `","Principal":{"AWS":["` + testCred.AccessKey +
			`"]},"Action":["s3:BypassGovernanceRetention"],"Resource":"arn:aws:s3:::locked/*"}]}`
		resp, body := ts.do("PUT", "/locked?policy", []byte(doc), nil)
		ts.expect(resp, body, 204, "")
	}
	lock("g", lockGovernance)
	expectLocked(t, ts, "g", false) // no policy yet
	policy("Allow")
	ts.mustPut("/locked/g", []byte("put"))
	lock("g", lockGovernance)
	ts.mustPut("/locked/src", []byte("copied"))
	resp, body := ts.do("PUT", "/locked/g", nil, map[string]string{"X-Amz-Copy-Source": "/locked/src"})
	ts.expect(resp, body, 200, "")
	lock("g", lockGovernance)
	resp, body = ts.do("POST", "/locked/g?uploads", nil, nil)
	ts.expect(resp, body, 200, "")
	complete(ts, "/locked/g", uploadID(t, body), 200, "")

	lock("c", lockCompliance)
	expectLocked(t, ts, "c", true)
	lock("h", lockGovernance)
	resp, body = ts.do("PUT", "/locked/h?legal-hold", legalHoldBody("ON"), nil)
	ts.expect(resp, body, 200, "")
	expectLocked(t, ts, "h", true)

	policy("Deny")
	lock("d", lockGovernance)
	expectLocked(t, ts, "d", false)
}
