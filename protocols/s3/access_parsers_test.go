package s3

import (
	"encoding/xml"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func knownTest(k string) bool { return k == "testkey" || k == "other" }

func TestBucketPolicyValidation(t *testing.T) {
	doc := func(effect, principal, action, resource string) string {
		return `{"Statement":[{"Effect":"` + effect + `","Principal":` + principal + `,"Action":` + action + `,"Resource":` + resource + `}]}`
	}
	bkt := `"arn:aws:s3:::bkt"`
	obj := `"arn:aws:s3:::bkt/*"`
	cond := func(action, c string) string {
		return `{"Statement":[{"Effect":"Allow","Principal":"*","Action":` + action + `,"Resource":"arn:aws:s3:::bkt/*","Condition":` + c + `}]}`
	}
	for _, tc := range []struct {
		doc, msg string
	}{
		{"{true}", polErrJSON},
		{`{"Principal": "*" `, polErrJSON},
		{"false", polErrFirstByte},
		{` {"Statement":[]}`, polErrFirstByte},
		{`{}`, polErrNoStatement},
		{`{"Statement": []}`, polErrEmptyStatement},
		{`{"Version":"2012-10-16","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}`, polErrVersion},
		{doc("Maybe", `"*"`, `"s3:*"`, bkt), "Invalid effect: Maybe"},
		{doc("Allow", `""`, `"s3:*"`, bkt), polErrPrincipal},
		{doc("Allow", `[]`, `"s3:*"`, bkt), polErrPrincipal},
		{doc("Allow", `{"AWS":[]}`, `"s3:*"`, bkt), polErrPrincipal},
		{doc("Allow", `["*","testkey"]`, `"s3:*"`, bkt), polErrPrincipal},
		{doc("Allow", `"stranger"`, `"s3:*"`, bkt), polErrPrincipal},
		{doc("Allow", `{"Service":"s3.amazonaws.com"}`, `"s3:*"`, bkt), polErrPrincipal},
		{doc("Allow", `"*"`, `"s3:*Obj??ect*"`, bkt), polErrAction},
		{doc("Allow", `"*"`, `"s4:GetObject"`, bkt), polErrAction},
		{doc("Allow", `"*"`, `[]`, bkt), polErrAction},
		{doc("Allow", `"*"`, `"s3:*"`, `""`), polErrResource},
		{doc("Allow", `"*"`, `"s3:*"`, `"arn:aws:iam:::bkt"`), polErrResource},
		{doc("Allow", `"*"`, `"s3:*"`, `"arn:aws:s3:::/bkt"`), polErrResource},
		{doc("Allow", `"*"`, `"s3:*"`, `"arn:aws:s3:::prefix-bkt"`), polErrResource},
		{doc("Allow", `"*"`, `"s3:GetObject"`, bkt), polErrActionResource},
		{doc("Allow", `"*"`, `"s3:*Multipart*"`, bkt), polErrActionResource},
		{doc("Allow", `"*"`, `"s3:GetBucket*"`, obj), polErrActionResource},
		{cond(`"s3:GetObject"`, `{"NotARealOperator":{"aws:SourceIp":"1.2.3.4/32"}}`), "Invalid Condition type : NotARealOperator"},
		{cond(`"s3:GetObject"`, `{"NullIfExists":{"aws:UserAgent":"x"}}`), "Invalid Condition type : NullIfExists"},
		{cond(`"s3:GetObject"`, `{"ForSomeValues:StringEquals":{"aws:UserAgent":"x"}}`), "Invalid Condition type : ForSomeValues:StringEquals"},
		{cond(`"s3:GetObject"`, `{"StringEquals":{"s3:NoSuchKey":"x"}}`), polErrConditionKey},
		{cond(`"s3:GetObject"`, `{"StringEquals":{"s3:prefix":"x"}}`), polErrConditionAction},
		{cond(`["s3:GetObject","s3:PutObject"]`, `{"StringEquals":{"s3:x-amz-acl":"public-read"}}`), polErrConditionAction},
		{cond(`"s3:GetObject"`, `{"IpAddress":{"aws:SourceIp":"300.1.1.1/40"}}`), polErrConditionIP},
		{cond(`"s3:GetObject"`, `{"Null":{"aws:SourceIp":"true"}}`), polErrConditionIP},
		// Accepted.
		{doc("Allow", `"*"`, `"s3:*"`, `["arn:aws:s3:::bkt","arn:aws:s3:::bkt"]`), ""},
		{doc("Allow", `{"AWS":["testkey","arn:aws:iam::other:root"]}`, `["s3:DeleteBucket","s3:GetBucketAcl"]`, bkt), ""},
		{doc("Deny", `{"AWS":"*"}`, `"s3:Create*"`, `["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]`), ""},
		{doc("Allow", `"*"`, `"s3:Get*"`, obj), ""},
		{cond(`"s3:PutObject"`, `{"StringEquals":{"s3:x-amz-acl":"public-read"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]}}`), ""},
	} {
		_, err := parseBucketPolicy([]byte(tc.doc), "bkt", knownTest)
		switch {
		case tc.msg == "" && err != nil:
			t.Errorf("%s: %v", tc.doc, err)
		case tc.msg != "" && (err == nil || err.(*APIError).Code != "MalformedPolicy" || err.(*APIError).Message != tc.msg):
			t.Errorf("%s: got %v, want %q", tc.doc, err, tc.msg)
		}
	}
}

func TestBucketPolicyEvaluation(t *testing.T) {
	p, err := parseBucketPolicy([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/pub/*"]},
		{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/pub/secret*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bkt/up/*",
		 "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringLike":{"aws:UserAgent":"good-*"}}},
		{"Effect":"Allow","Principal":"testkey","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::bkt/*"}
	]}`), "bkt", knownTest)
	if err != nil {
		t.Fatal(err)
	}
	ctx := conditionContext{"aws:sourceip": {"10.1.2.3"}, "aws:useragent": {"good-client"}}
	for _, tc := range []struct {
		action, resource string
		ctx              conditionContext
		want             decision
	}{
		{"s3:GetObject", "bkt/pub/a", nil, decisionAllow},
		{"s3:getobject", "bkt/pub/a", nil, decisionAllow},
		{"s3:GetObject", "bkt/pub/secret.txt", nil, decisionDeny},
		{"s3:GetObject", "bkt/other", nil, decisionNone},
		{"s3:ListBucket", "bkt", nil, decisionAllow},
		{"s3:PutObject", "bkt/up/x", ctx, decisionAllow},
		{"s3:PutObject", "bkt/up/x", conditionContext{"aws:sourceip": {"11.0.0.1"}, "aws:useragent": {"good-client"}}, decisionNone},
		{"s3:PutObject", "bkt/up/x", conditionContext{"aws:sourceip": {"10.0.0.1"}}, decisionNone},
		{"s3:DeleteObject", "bkt/pub/a", nil, decisionNone}, // names a credential, not "*"
	} {
		if got := p.evaluatePublic(tc.action, tc.resource, tc.ctx); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.action, tc.resource, got, tc.want)
		}
	}
	if !p.isPublic() {
		t.Error("policy granting to * is public")
	}
	q, _ := parseBucketPolicy([]byte(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*","Condition":{"IpAddress":{"aws:SourceIp":"192.168.1.0/24"}}}]}`), "bkt", knownTest)
	if q == nil || q.isPublic() {
		t.Error("policy limited to a network block is not public")
	}
}

func TestConditionOperators(t *testing.T) {
	for _, tc := range []struct {
		op     string
		values []string
		got    []string // nil: key absent
		want   bool
	}{
		{"StringEquals", []string{"a", "b"}, []string{"b"}, true},
		{"StringNotEquals", []string{"a"}, []string{"a"}, false},
		{"StringNotEquals", []string{"a"}, nil, true},
		{"StringEquals", []string{"a"}, nil, false},
		{"StringEqualsIfExists", []string{"a"}, nil, true},
		{"StringEqualsIgnoreCase", []string{"ABC"}, []string{"abc"}, true},
		{"StringLike", []string{"a*c?"}, []string{"abbbcd"}, true},
		{"StringNotLike", []string{"a*"}, []string{"abc"}, false},
		{"NumericLessThan", []string{"10"}, []string{"9.5"}, true},
		{"NumericGreaterThanEquals", []string{"10"}, []string{"9"}, false},
		{"NumericNotEquals", []string{"10"}, []string{"10"}, false},
		{"DateLessThan", []string{"2030-01-01T00:00:00Z"}, []string{"2029-12-31T23:59:59Z"}, true},
		{"DateGreaterThan", []string{"1700000000"}, []string{"2020-01-01T00:00:00Z"}, false},
		{"Bool", []string{"true"}, []string{"TRUE"}, true},
		{"BinaryEquals", []string{"aGk="}, []string{"hi"}, true},
		{"IpAddress", []string{"10.0.0.0/8", "2001:db8::/32"}, []string{"2001:db8::1"}, true},
		{"NotIpAddress", []string{"10.0.0.0/8"}, []string{"10.9.9.9"}, false},
		{"Null", []string{"true"}, nil, true},
		{"Null", []string{"false"}, nil, false},
		{"ForAllValues:StringEquals", []string{"a", "b"}, []string{"a", "b"}, true},
		{"ForAllValues:StringEquals", []string{"a"}, []string{"a", "c"}, false},
		{"ForAnyValue:StringEquals", []string{"a"}, []string{"c", "a"}, true},
	} {
		op, set, ifExists, ok := parseConditionOp(tc.op)
		if !ok {
			t.Fatalf("%s: unknown", tc.op)
		}
		c := policyCondition{op: op, set: set, ifExists: ifExists, key: "k", values: tc.values}
		ctx := conditionContext{}
		if tc.got != nil {
			ctx["k"] = tc.got
		}
		if got := c.eval(ctx); got != tc.want {
			t.Errorf("%s %v on %v: %v, want %v", tc.op, tc.values, tc.got, got, tc.want)
		}
	}
}

func TestACLBodyValidation(t *testing.T) {
	c := aclContext{owner: "testkey", bucketOwner: "testkey", known: knownTest, forBucket: true}
	acp := func(owner, grants string) string {
		return `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + owner +
			`<AccessControlList>` + grants + `</AccessControlList></AccessControlPolicy>`
	}
	own := `<Owner><ID>testkey</ID></Owner>`
	grant := func(typ, inner, perm string) string {
		return `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="` + typ + `">` + inner +
			`</Grantee><Permission>` + perm + `</Permission></Grant>`
	}
	for _, tc := range []struct {
		body, code string
	}{
		{acp("", grant("CanonicalUser", "<ID>other</ID>", "READ")), "MalformedACLError"},
		{acp("<Owner></Owner>", grant("CanonicalUser", "<ID>other</ID>", "READ")), "MalformedACLError"},
		{acp(own, grant("CanonicalUser", "<ID>other</ID>", "READ_ALL")), "MalformedACLError"},
		{acp(own, grant("Robot", "<ID>other</ID>", "READ")), "MalformedACLError"},
		{acp(own, grant("CanonicalUser", "", "READ")), "MalformedACLError"},
		{acp(own, grant("CanonicalUser", "<ID>stranger</ID>", "READ")), "InvalidArgument"},
		{acp(own, grant("Group", "<URI>http://example.com/group</URI>", "READ")), "InvalidArgument"},
		{acp(`<Owner><ID>other</ID></Owner>`, ""), "InvalidArgument"},
		{acp(own, grant("AmazonCustomerByEmail", "<EmailAddress>a@b.c</EmailAddress>", "READ")), "UnresolvableGrantByEmailAddress"},
		{"<AccessControlPolicy", "MalformedACLError"},
		{acp(own, grant("CanonicalUser", "<ID>other</ID>", "WRITE")+grant("Group", "<URI>"+groupAllUsers+"</URI>", "READ")), ""},
	} {
		d, err := c.parseACLBody([]byte(tc.body))
		if tc.code == "" {
			if err != nil || len(d.Grants) != 2 || !d.allowsPublic(permRead) || d.allowsPublic(permWrite) {
				t.Errorf("%s: %+v %v", tc.body, d, err)
			}
			continue
		}
		if err == nil || err.(*APIError).Code != tc.code {
			t.Errorf("%s: got %v, want %s", tc.body, err, tc.code)
		}
	}
	// Headers: canned and grants are exclusive; grants name known users.
	h := http.Header{}
	h.Set("X-Amz-Acl", "public-read")
	h.Set("X-Amz-Grant-Read", `id="other"`)
	if _, _, err := c.aclFromHeaders(h); err != errCannedAndGrants {
		t.Errorf("canned and grants: %v", err)
	}
	h.Del("X-Amz-Acl")
	h.Set("X-Amz-Grant-Write", `uri="`+groupAllUsers+`", id=other`)
	d, ok, err := c.aclFromHeaders(h)
	if err != nil || !ok || len(d.Grants) != 3 || !d.allowsPublic(permWrite) {
		t.Errorf("grant headers: %+v %v", d, err)
	}
	h = http.Header{}
	h.Set("X-Amz-Acl", "bucket-owner-full-control")
	if _, _, err := c.aclFromHeaders(h); err == nil {
		t.Error("object canned ACL accepted for a bucket")
	}
	// Output carries xsi:type and parses back.
	out, _ := xml.Marshal(aclResponse(&d))
	if !strings.Contains(string(out), `xsi:type="Group"`) || !strings.Contains(string(out), "<ID>all-users</ID>") {
		t.Errorf("response: %s", out)
	}
	if back, err := c.parseACLBody(out); err != nil || len(back.Grants) != 3 {
		t.Errorf("round trip: %+v %v", back, err)
	}
}

func TestCORSAndWebsiteValidation(t *testing.T) {
	rule := func(inner string) string {
		return `<CORSConfiguration><CORSRule>` + inner + `</CORSRule></CORSConfiguration>`
	}
	for _, tc := range []struct {
		body, msg string
	}{
		{`<CORSConfiguration></CORSConfiguration>`, errMalformedXML.Message},
		{rule(`<AllowedMethod>GET</AllowedMethod>`), errMalformedXML.Message},
		{rule(`<AllowedOrigin>*a*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>`), `AllowedOrigin "*a*" can not have more than one wildcard.`},
		{rule(`<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>`), "Found unsupported HTTP method in CORS config. Unsupported method is get"},
		{rule(`<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>a b</ExposeHeader>`), `AllowedHeader "a b" contains invalid character.`},
		{rule(`<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><MaxAgeSeconds>-5</MaxAgeSeconds>`), ""},
	} {
		_, err := parseCORS([]byte(tc.body))
		if tc.msg == "" && err != nil || tc.msg != "" && (err == nil || err.(*APIError).Message != tc.msg) {
			t.Errorf("%s: %v, want %q", tc.body, err, tc.msg)
		}
	}
	c, _ := parseCORS([]byte(`<CORSConfiguration>
		<CORSRule><AllowedOrigin>http://a.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>X-Amz-*</AllowedHeader></CORSRule>
		<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule></CORSConfiguration>`))
	if r, wild := c.match("http://a.com", "GET", []string{"x-amz-date"}); r == nil || wild {
		t.Error("first rule should match")
	}
	if r, _ := c.match("http://a.com", "GET", []string{"authorization"}); r != nil {
		t.Error("header not allowed")
	}
	if r, wild := c.match("http://b.com", "HEAD", nil); r == nil || !wild {
		t.Error("wildcard rule should match")
	}

	ws := func(inner string) string { return `<WebsiteConfiguration>` + inner + `</WebsiteConfiguration>` }
	idx := `<IndexDocument><Suffix>index.html</Suffix></IndexDocument>`
	rr := func(r string) string { return ws(idx + `<RoutingRules>` + r + `</RoutingRules>`) }
	for _, tc := range []struct {
		body, msg string
	}{
		{ws(`<IndexDocument><Suffix>a/b</Suffix></IndexDocument>`), "The IndexDocument Suffix is not well formed"},
		{ws(idx + `<ErrorDocument><Key></Key></ErrorDocument>`), "The ErrorDocument Key is not well formed"},
		{ws(`<RedirectAllRequestsTo><HostName>h</HostName><Protocol>ftp</Protocol></RedirectAllRequestsTo>`), redirectProtocol},
		{ws(idx + `<RedirectAllRequestsTo><HostName>h</HostName></RedirectAllRequestsTo>`), errMalformedXML.Message},
		{rr(`<RoutingRule><Redirect></Redirect></RoutingRule>`), errMalformedXML.Message},
		{rr(`<RoutingRule><Condition></Condition><Redirect><HostName>h</HostName></Redirect></RoutingRule>`), errMalformedXML.Message},
		{rr(`<RoutingRule><Redirect><ReplaceKeyWith>a</ReplaceKeyWith><ReplaceKeyPrefixWith>b</ReplaceKeyPrefixWith></Redirect></RoutingRule>`), errReplaceKeyAndPrefx.Message},
		{rr(`<RoutingRule><Redirect><HttpRedirectCode>306</HttpRedirectCode></Redirect></RoutingRule>`), "The provided HTTP redirect code (306) is not valid. Valid codes are 3XX except 300."},
		{rr(`<RoutingRule><Condition><HttpErrorCodeReturnedEquals>418</HttpErrorCodeReturnedEquals></Condition><Redirect><HostName>h</HostName></Redirect></RoutingRule>`), "The provided HTTP error code (418) is not valid. Valid codes are 4XX or 5XX."},
		{rr(`<RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition><Redirect><ReplaceKeyPrefixWith>d/</ReplaceKeyPrefixWith><HttpRedirectCode>301</HttpRedirectCode></Redirect></RoutingRule>`), ""},
	} {
		_, err := parseWebsite([]byte(tc.body))
		if tc.msg == "" && err != nil || tc.msg != "" && (err == nil || err.(*APIError).Message != tc.msg) {
			t.Errorf("%s: %v, want %q", tc.body, err, tc.msg)
		}
	}
}

func FuzzBucketPolicy(f *testing.F) {
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:Get*","s3:ListBucket"],"Resource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"],"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"ForAnyValue:StringLike":{"aws:UserAgent":["a*",1,true]}}}]}`))
	f.Add([]byte(`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"testkey"},"NotAction":"s3:PutObject","NotResource":"arn:aws:s3:::b?t/x"}}`))
	f.Add([]byte(`{"Statement":[]}`))
	ctx := conditionContext{"aws:sourceip": {"10.1.1.1"}, "aws:useragent": {"agent"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseBucketPolicy(b, "bkt", knownTest)
		if err != nil {
			if ae, ok := err.(*APIError); !ok || ae.Code != "MalformedPolicy" {
				t.Fatalf("error %v", err)
			}
			return
		}
		p.evaluatePublic("s3:GetObject", "bkt/key", ctx)
		p.evaluatePublic("s3:ListBucket", "bkt", nil)
		p.isPublic()
	})
}

func FuzzAccessDocuments(f *testing.F) {
	f.Add([]byte(`<AccessControlPolicy><Owner><ID>testkey</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`))
	f.Add([]byte(`<CORSConfiguration><CORSRule><AllowedOrigin>http://*.a.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>10</MaxAgeSeconds></CORSRule></CORSConfiguration>`))
	f.Add([]byte(`<WebsiteConfiguration><IndexDocument><Suffix>i.html</Suffix></IndexDocument><RoutingRules><RoutingRule><Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition><Redirect><HostName>h</HostName></Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>`))
	f.Add([]byte(`<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>`))
	c := aclContext{owner: "testkey", bucketOwner: "testkey", known: func(id string) bool { return id == "testkey" }}
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := c.parseACLBody(b); err == nil {
			out, err := xml.Marshal(aclResponse(&d))
			if err != nil {
				t.Fatal(err)
			}
			if back, err := c.parseACLBody(out); err != nil || len(back.Grants) != len(d.Grants) {
				t.Fatalf("acl round trip: %v", err)
			}
			if e, ok := decodeACL(d.encode()); !ok || len(e.Grants) != len(d.Grants) {
				t.Fatal("acl encoding round trip")
			}
		}
		if cc, err := parseCORS(b); err == nil {
			out, _ := xml.Marshal(cc)
			if _, err := parseCORS(out); err != nil {
				t.Fatalf("cors round trip: %v", err)
			}
			cc.match("http://x.a.com", "GET", []string{"x-amz-date"})
		}
		if w, err := parseWebsite(b); err == nil {
			out, _ := xml.Marshal(w)
			if _, err := parseWebsite(out); err != nil {
				t.Fatalf("website round trip: %v", err)
			}
		}
		parseOwnershipControls(b)
	})
}

func FuzzGlobMatch(f *testing.F) {
	f.Add("a*b?c", "aXXbYc")
	f.Add("**?", "")
	f.Fuzz(func(t *testing.T, p, s string) {
		globMatch(p, s, true)
		if !strings.ContainsAny(s, "*?") && !globMatch(s, s, false) {
			t.Fatalf("%q does not match itself", s)
		}
		if !globMatch("*", s, false) {
			t.Fatalf("* does not match %q", s)
		}
	})
}

func TestACLCache(t *testing.T) {
	var c aclCache
	encode := func(d aclDoc) string { return d.encode() }
	docs := []string{
		encode(privateACL("alice")),
		`{"o":"bob","g":[{"t":"CanonicalUser","id":"bob","p":"FULL_CONTROL"},{"t":"Group","uri":"` + groupAllUsers + `","p":"READ"}]}`,
	}
	for range 2 { // decoded, then cached
		for _, doc := range docs {
			want, _ := decodeACL(doc)
			got, ok := c.decode([]byte(doc))
			got2, ok2 := c.decodeString(doc)
			if !ok || !ok2 || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got2, want) {
				t.Fatalf("%s: %+v %+v, want %+v", doc, got, got2, want)
			}
		}
	}
	if _, ok := c.decodeString(`{"g":[]}`); ok {
		t.Fatal("a document without an owner decoded")
	}
	for i := range maxCachedACLs + 10 {
		c.decodeString(encode(privateACL(strconv.Itoa(i))))
	}
	if len(c.m) > maxCachedACLs {
		t.Fatalf("cache holds %d documents, bound %d", len(c.m), maxCachedACLs)
	}
	if d, ok := c.decodeString(docs[1]); !ok || d.Owner != "bob" || !d.allowsPublic(permRead) {
		t.Fatalf("after the cache started over: %+v", d)
	}
}
