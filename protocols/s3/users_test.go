package s3

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// doAs sends a request signed by cred (cred.AccessKey "" sends it
// unsigned) and returns the response with its body read.
func (ts *testServer) doAs(cred Credential, method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	ts.t.Helper()
	r, err := http.NewRequest(method, ts.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if cred.AccessKey != "" {
		sigv4.Sign(r, cred, "us-east-1", time.Now(), sha256hex(body))
	}
	return ts.roundTrip(r)
}

// createAccount adds an account through the admin API as the root.
func (ts *testServer) createAccount(access, secret, role string) Credential {
	ts.t.Helper()
	body := []byte("<Account><Access>" + access + "</Access><Secret>" + secret + "</Secret><Role>" + role + "</Role></Account>")
	resp, out := ts.doAs(testCred, http.MethodPatch, "/create-user", body, nil)
	ts.expect(resp, out, http.StatusCreated, "")
	return Credential{AccessKey: access, SecretKey: secret}
}

func TestAdminAPIAccounts(t *testing.T) {
	usersFile := filepath.Join(t.TempDir(), "users.json")
	ts := newTestServer(t, func(c *Config) { c.UsersFile = usersFile })
	alice := ts.createAccount("alice", "alicesecret", roleUserPlus)
	admin := ts.createAccount("boss", "bosssecret", roleAdmin)

	for _, tc := range []struct {
		name   string
		cred   Credential
		path   string
		body   string
		status int
		code   string
	}{
		{"duplicate", testCred, "/create-user", "<Account><Access>alice</Access><Secret>x</Secret><Role>user</Role></Account>", 409, "XAdminUserExists"},
		{"root key", testCred, "/create-user", "<Account><Access>testkey</Access><Secret>x</Secret><Role>user</Role></Account>", 409, "XAdminUserExists"},
		{"bad role", testCred, "/create-user", "<Account><Access>carol</Access><Secret>x</Secret><Role>god</Role></Account>", 400, "XAdminInvalidArgument"},
		{"no secret", testCred, "/create-user", "<Account><Access>carol</Access><Role>user</Role></Account>", 400, "XAdminInvalidArgument"},
		{"bad key", testCred, "/create-user", "<Account><Access>a/b</Access><Secret>x</Secret><Role>user</Role></Account>", 400, "XAdminInvalidArgument"},
		{"malformed", testCred, "/create-user", "<Account><Access>", 400, "MalformedXML"},
		{"not admin", alice, "/list-users", "", 403, "XAdminAccessDenied"},
		{"anonymous", Credential{}, "/list-users", "", 403, "XAdminAccessDenied"},
		{"delete unknown", testCred, "/delete-user?access=nobody", "", 404, "XAdminUserNotFound"},
		{"delete root", testCred, "/delete-user?access=testkey", "", 400, "XAdminInvalidArgument"},
		{"unknown path", testCred, "/no-such-thing", "", 405, "MethodNotAllowed"},
	} {
		resp, out := ts.doAs(tc.cred, http.MethodPatch, tc.path, []byte(tc.body), nil)
		if resp.StatusCode != tc.status || !strings.Contains(string(out), "<Code>"+tc.code+"</Code>") {
			t.Errorf("%s: status %d, want %d %s: %s", tc.name, resp.StatusCode, tc.status, tc.code, out)
		}
	}

	// An admin account may use the admin API; listings carry no secrets.
	resp, out := ts.doAs(admin, http.MethodPatch, "/list-users", nil, nil)
	ts.expect(resp, out, 200, "")
	var list listUserAccountsResult
	if err := xml.Unmarshal(out, &list); err != nil || len(list.Accounts) != 2 ||
		list.Accounts[0].Access != "alice" || list.Accounts[0].Role != roleUserPlus || strings.Contains(string(out), "secret") {
		t.Fatalf("list-users: %v %s", err, out)
	}

	// A new secret replaces the old one at once.
	resp, out = ts.doAs(testCred, http.MethodPatch, "/update-user?access=alice", []byte("<MutableProps><Secret>newsecret</Secret></MutableProps>"), nil)
	ts.expect(resp, out, 200, "")
	resp, out = ts.doAs(alice, http.MethodGet, "/", nil, nil)
	ts.expect(resp, out, 403, "SignatureDoesNotMatch")
	alice.SecretKey = "newsecret"
	resp, out = ts.doAs(alice, http.MethodGet, "/", nil, nil)
	ts.expect(resp, out, 200, "")

	// Accounts survive a restart; a deleted one is gone for good.
	resp, out = ts.doAs(testCred, http.MethodPatch, "/delete-user?access=boss", nil, nil)
	ts.expect(resp, out, 200, "")
	resp, out = ts.doAs(admin, http.MethodGet, "/", nil, nil)
	ts.expect(resp, out, 403, "InvalidAccessKeyId")
	us, err := loadUsers(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := us.get("alice"); !ok || a.Secret != "newsecret" || a.Role != roleUserPlus {
		t.Fatalf("reloaded alice: %+v %v", a, ok)
	}
	if _, ok := us.get("boss"); ok {
		t.Fatal("deleted account reloaded")
	}
}

func TestAccountsAreIsolated(t *testing.T) {
	ts := newTestServer(t, nil)
	alice := ts.createAccount("alice", "alicesecret", roleUserPlus)
	bob := ts.createAccount("bob", "bobsecret", roleUser)
	expect := func(cred Credential, method, path string, body string, hdr map[string]string, status int, code string) []byte {
		t.Helper()
		resp, out := ts.doAs(cred, method, path, []byte(body), hdr)
		if resp.StatusCode != status || code != "" && !strings.Contains(string(out), "<Code>"+code+"</Code>") {
			t.Fatalf("%s %s as %q: status %d, want %d %s: %s", method, path, cred.AccessKey, resp.StatusCode, status, code, out)
		}
		return out
	}

	expect(alice, "PUT", "/alice-b", "", nil, 200, "")
	expect(bob, "PUT", "/bob-b", "", nil, 403, "AccessDenied") // role user
	expect(testCred, "PUT", "/alice-b", "", nil, 409, "BucketAlreadyExists")
	expect(alice, "PUT", "/alice-b/pub/x", "public", nil, 200, "")
	expect(alice, "PUT", "/alice-b/priv/y", "private", nil, 200, "")

	// Nothing of alice's is bob's: not the objects, not the listing.
	expect(bob, "GET", "/alice-b/priv/y", "", nil, 403, "AccessDenied")
	expect(bob, "GET", "/alice-b?list-type=2", "", nil, 403, "AccessDenied")
	expect(bob, "PUT", "/alice-b/z", "x", nil, 403, "AccessDenied")
	expect(bob, "DELETE", "/alice-b", "", nil, 403, "AccessDenied")
	if out := expect(bob, "GET", "/", "", nil, 200, ""); strings.Contains(string(out), "alice-b") {
		t.Fatalf("bob lists alice's bucket: %s", out)
	}
	if out := expect(alice, "GET", "/", "", nil, 200, ""); !strings.Contains(string(out), "<Name>alice-b</Name>") {
		t.Fatalf("alice does not list her bucket: %s", out)
	}

	// The root reads everything; an admin creates a bucket bob owns.
	expect(testCred, "GET", "/alice-b/priv/y", "", nil, 200, "")
	expect(testCred, "PATCH", "/bob-b/create", "", nil, 400, "XAdminInvalidRequest")
	expect(testCred, "PATCH", "/bob-b/create", "", map[string]string{"X-Vgw-Owner": "nobody"}, 404, "XAdminUserNotFound")
	expect(testCred, "PATCH", "/bob-b/create", "", map[string]string{"X-Vgw-Owner": "bob"}, 201, "")
	expect(bob, "PUT", "/bob-b/own", "mine", nil, 200, "")
	expect(alice, "GET", "/bob-b/own", "", nil, 403, "AccessDenied")

	// A policy grants bob reads and deletes under pub/ only, and denies
	// alice deletes of her own priv/ objects.
	policy := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":["bob"]},"Action":["s3:GetObject","s3:DeleteObject"],"Resource":["arn:aws:s3:::alice-b/pub/*"]},
	 {"Effect":"Deny","Principal":{"AWS":["alice"]},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::alice-b/priv/*"}]}`
	expect(alice, "PUT", "/alice-b?policy", policy, nil, 204, "")
	if got := string(expect(bob, "GET", "/alice-b/pub/x", "", nil, 200, "")); got != "public" {
		t.Fatalf("bob reads %q", got)
	}
	expect(bob, "GET", "/alice-b/priv/y", "", nil, 403, "AccessDenied")
	out := expect(alice, "DELETE", "/alice-b/priv/y", "", nil, 403, "AccessDenied")
	if !strings.Contains(string(out), "explicit deny") {
		t.Fatalf("explicit deny message: %s", out)
	}

	// A copy needs read access to its source.
	expect(bob, "PUT", "/bob-b/c1", "", map[string]string{"X-Amz-Copy-Source": "/alice-b/priv/y"}, 403, "AccessDenied")
	expect(bob, "PUT", "/bob-b/c2", "", map[string]string{"X-Amz-Copy-Source": "/alice-b/pub/x"}, 200, "")

	// DeleteObjects decides key by key.
	del := `<Delete><Object><Key>pub/x</Key></Object><Object><Key>priv/y</Key></Object></Delete>`
	out = expect(bob, "POST", "/alice-b?delete", del, nil, 200, "")
	if !strings.Contains(string(out), "<Deleted><Key>pub/x</Key>") || !strings.Contains(string(out), "<Key>priv/y</Key><Code>AccessDenied</Code>") {
		t.Fatalf("DeleteObjects: %s", out)
	}
	expect(alice, "GET", "/alice-b/priv/y", "", nil, 200, "")

	// Tags on a new object need s3:PutObjectTagging too.
	policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::alice-b/*"}]}`
	expect(alice, "PUT", "/alice-b?policy", policy, nil, 204, "")
	expect(bob, "PUT", "/alice-b/t", "x", map[string]string{"X-Amz-Tagging": "k=v"}, 403, "AccessDenied")
	expect(bob, "PUT", "/alice-b/t", "x", nil, 200, "")

	// A bucket handed to bob is bob's alone.
	expect(testCred, "PATCH", "/change-bucket-owner?bucket=alice-b&owner=bob", "", nil, 200, "")
	expect(testCred, "DELETE", "/alice-b?policy", "", nil, 204, "")
	expect(bob, "GET", "/alice-b/priv/y", "", nil, 200, "")
	expect(alice, "GET", "/alice-b/priv/y", "", nil, 403, "AccessDenied")
	if out := expect(bob, "GET", "/", "", nil, 200, ""); !strings.Contains(string(out), "<Name>alice-b</Name>") {
		t.Fatalf("bob does not list the bucket he was given: %s", out)
	}
	out = expect(testCred, "PATCH", "/list-buckets", "", nil, 200, "")
	if !strings.Contains(string(out), "<Name>alice-b</Name><Owner>bob</Owner>") {
		t.Fatalf("admin list-buckets: %s", out)
	}
}

// TestBucketWithoutACLIsRoots: a bucket whose ACL document is missing
// (made before ACLs were kept, or emptied by a RESP FLUSHALL) belongs to
// the root, never to the account that happens to ask.
func TestBucketWithoutACLIsRoots(t *testing.T) {
	ts := newTestServer(t, nil)
	bob := ts.createAccount("bob", "bobsecret", roleUserPlus)
	ts.mustPut("/old", nil)
	ts.mustPut("/old/k", []byte("root's"))
	if _, err := ts.eng.Delete(uploadKS("old"), [][]byte{bucketConfigKey(cfgACL)}); err != nil {
		t.Fatal(err)
	}
	resp, out := ts.doAs(bob, "GET", "/old/k", nil, nil)
	ts.expect(resp, out, 403, "AccessDenied")
	resp, out = ts.doAs(bob, "GET", "/", nil, nil)
	ts.expect(resp, out, 200, "")
	if strings.Contains(string(out), "<Name>old</Name>") {
		t.Fatalf("bob lists the root's bucket: %s", out)
	}
	resp, out = ts.doAs(testCred, "GET", "/old/k", nil, nil)
	ts.expect(resp, out, 200, "")
}

// TestAccountPostObject holds a browser upload signed by an account to
// the same rules as its PUT.
func TestAccountPostObject(t *testing.T) {
	ts := newTestServer(t, nil)
	alice := ts.createAccount("alice", "alicesecret", roleUserPlus)
	ts.createAccount("bob", "bobsecret", roleUser)
	resp, out := ts.doAs(alice, "PUT", "/alice-b", nil, nil)
	ts.expect(resp, out, 200, "")
	resp, out = ts.postForm(postForm{bucket: "alice-b", key: "from-bob", file: []byte("x"), access: "bob", secret: "bobsecret"})
	ts.expect(resp, out, 403, "AccessDenied")
	resp, out = ts.doAs(alice, "GET", "/alice-b/from-bob", nil, nil)
	ts.expect(resp, out, 404, "NoSuchKey")
	resp, out = ts.postForm(postForm{bucket: "alice-b", key: "from-alice", file: []byte("x"), access: "alice", secret: "alicesecret"})
	ts.expect(resp, out, 204, "")
}

func FuzzAdminBodies(f *testing.F) {
	f.Add([]byte(`<Account><Access>alice</Access><Secret>s</Secret><Role>userplus</Role><UserID>3</UserID></Account>`))
	f.Add([]byte(`<Account><Access>a b</Access><Secret>s</Secret><Role>user</Role></Account>`))
	f.Add([]byte(`<MutableProps><Secret>x</Secret><Role>admin</Role><GroupID>-1</GroupID></MutableProps>`))
	f.Add([]byte(`<MutableProps><Secret></Secret></MutableProps>`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseAccount(b)
		if err != nil {
			if toAPIError(err).Status != 400 {
				t.Fatalf("create-user error %v is not a client error", err)
			}
		} else {
			if !validAccessKey(a.Access) || a.Secret == "" || !validRole(a.Role) {
				t.Fatalf("accepted account %+v", a)
			}
			// What the users file keeps reads back the same.
			path := filepath.Join(dir, "users.json")
			us := &userStore{path: path, accounts: map[string]account{}}
			if err := us.update(func(m map[string]account) error { m[a.Access] = a; return nil }); err != nil {
				t.Fatal(err)
			}
			back, err := loadUsers(path)
			if err != nil {
				t.Fatalf("users file of %+v does not load: %v", a, err)
			}
			if got, _ := back.get(a.Access); got != a {
				t.Fatalf("account changed in the users file: %+v -> %+v", a, got)
			}
		}
		if p, err := parseMutableProps(b); err == nil {
			acc := account{Access: "k", Secret: "s", Role: roleUser}
			p.apply(&acc)
			if acc.Secret == "" || !validRole(acc.Role) {
				t.Fatalf("update made account %+v", acc)
			}
		} else if toAPIError(err).Status != 400 {
			t.Fatalf("update-user error %v is not a client error", err)
		}
	})
}

// TestAccountChangesWhileServing changes accounts while other accounts'
// requests are being verified and authorized (run with -race).
func TestAccountChangesWhileServing(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.UsersFile = filepath.Join(t.TempDir(), "users.json") })
	alice := ts.createAccount("alice", "alicesecret", roleUserPlus)
	resp, out := ts.doAs(alice, "PUT", "/alice-b", nil, nil)
	ts.expect(resp, out, 200, "")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			key := "churn" + strings.Repeat("x", i%3)
			body := []byte("<Account><Access>" + key + "</Access><Secret>s</Secret><Role>user</Role></Account>")
			ts.doAs(testCred, http.MethodPatch, "/create-user", body, nil)
			ts.doAs(testCred, http.MethodPatch, "/delete-user?access="+key, nil, nil)
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		default:
		}
		resp, out := ts.doAs(alice, "PUT", "/alice-b/k", []byte("v"), nil)
		ts.expect(resp, out, 200, "")
		if i%2 == 0 {
			resp, out = ts.doAs(alice, "GET", "/", nil, nil)
			ts.expect(resp, out, 200, "")
		}
	}
}
