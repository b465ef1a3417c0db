package s3

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/gpucache/gpucache/engine"
)

// Access control lists, as S3 keeps them: a bucket's under the bucket
// sub-resource document "acl", an object's in objectAttrs.ACL. Both are
// stored in the compact JSON form of aclDoc. An object without a stored
// ACL belongs to the bucket owner, who has full control.
//
// Canonical user IDs are access keys: the owner of a bucket is the access
// key that created it, and a grant to "id=<access key>" names an account.
// ACLs are enforced for anonymous requests (AllUsers grants) and for
// accounts that are not root or admin (their own, AuthenticatedUsers and
// AllUsers grants); root and admin accounts already have full access (see
// users.go). LogDelivery grants are validated and stored but change
// nothing.

const (
	permFullControl = "FULL_CONTROL"
	permRead        = "READ"
	permWrite       = "WRITE"
	permReadACP     = "READ_ACP"
	permWriteACP    = "WRITE_ACP"

	granteeUser  = "CanonicalUser"
	granteeGroup = "Group"
	granteeEmail = "AmazonCustomerByEmail"

	groupAllUsers      = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthenticated = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	groupLogDelivery   = "http://acs.amazonaws.com/groups/s3/LogDelivery"

	xsiNS = "http://www.w3.org/2001/XMLSchema-instance"
)

// groupIDs names the predefined groups. S3 identifies a group by its URI
// only; responses also carry this short name as the grantee's ID because
// some clients expect every grantee to have one.
var groupIDs = map[string]string{
	groupAllUsers:      "all-users",
	groupAuthenticated: "authenticated-users",
	groupLogDelivery:   "log-delivery",
}

var (
	errMalformedACL         = &APIError{Code: "MalformedACLError", Status: 400, Message: "The XML you provided was not well-formed or did not validate against our published schema."}
	errACLNotSupported      = &APIError{Code: "AccessControlListNotSupported", Status: 400, Message: "The bucket does not allow ACLs."}
	errCannedAndGrants      = &APIError{Code: "InvalidRequest", Status: 400, Message: "Specifying both Canned ACLs and Header Grants is not allowed."}
	errUnexpectedContent    = &APIError{Code: "UnexpectedContent", Status: 400, Message: "This request does not support content."}
	errMissingACLHeader     = &APIError{Code: "MissingSecurityHeader", Status: 400, Message: "Your request was missing a required header."}
	errUnresolvableEmail    = &APIError{Code: "UnresolvableGrantByEmailAddress", Status: 400, Message: "The e-mail address you provided does not match any account on record."}
	errBucketACLWithEnforce = &APIError{Code: "InvalidBucketAclWithObjectOwnership", Status: 400, Message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"}
)

// aclGrant is one stored grant.
type aclGrant struct {
	Type string `json:"t"`
	ID   string `json:"id,omitempty"`
	URI  string `json:"uri,omitempty"`
	Perm string `json:"p"`
}

// aclDoc is a stored access control list.
type aclDoc struct {
	Owner  string     `json:"o"`
	Grants []aclGrant `json:"g"`
}

// ownerOnly reports whether the ACL grants nothing beyond the owner's own
// full control: the only ACL a bucket with ACLs disabled accepts.
func (d *aclDoc) ownerOnly() bool {
	for _, g := range d.Grants {
		if g.Type != granteeUser || g.ID != d.Owner || g.Perm != permFullControl {
			return false
		}
	}
	return true
}

// allows reports whether the ACL grants perm to the AllUsers group
// (FULL_CONTROL implies every permission).
func (d *aclDoc) allowsPublic(perm string) bool {
	for _, g := range d.Grants {
		if g.Type == granteeGroup && g.URI == groupAllUsers && (g.Perm == perm || g.Perm == permFullControl) {
			return true
		}
	}
	return false
}

// allowsAccount reports whether the ACL grants perm to the account ak:
// by its canonical ID, or through the AuthenticatedUsers or AllUsers
// group.
func (d *aclDoc) allowsAccount(ak, perm string) bool {
	if d.allowsUser(ak, perm) || d.allowsPublic(perm) {
		return true
	}
	for _, g := range d.Grants {
		if g.Type == granteeGroup && g.URI == groupAuthenticated && (g.Perm == perm || g.Perm == permFullControl) {
			return true
		}
	}
	return false
}

// allowsUser reports whether the ACL grants perm to the canonical user id
// (the owner always has full control of what it owns).
func (d *aclDoc) allowsUser(id, perm string) bool {
	if d.Owner == id {
		return true
	}
	for _, g := range d.Grants {
		if g.Type == granteeUser && g.ID == id && (g.Perm == perm || g.Perm == permFullControl) {
			return true
		}
	}
	return false
}

func (d *aclDoc) encode() string {
	b, _ := json.Marshal(d)
	return string(b)
}

func decodeACL(s string) (aclDoc, bool) {
	var d aclDoc
	if s == "" || json.Unmarshal([]byte(s), &d) != nil || d.Owner == "" {
		return aclDoc{}, false
	}
	return d, true
}

// aclCache keeps decoded ACL documents by their stored text. A stored
// document never changes (a new ACL is a new document), so the cache
// needs no invalidation; it is bounded, and starts over when full.
// Callers must not modify a returned document's Grants.
type aclCache struct {
	mu sync.RWMutex
	m  map[string]aclDoc
}

const maxCachedACLs = 4096

// decode is decodeACL through the cache.
func (c *aclCache) decode(doc []byte) (aclDoc, bool) {
	c.mu.RLock()
	d, ok := c.m[string(doc)] // NB: no copy for the lookup
	c.mu.RUnlock()
	if ok {
		return d, true
	}
	return c.add(string(doc))
}

// decodeString is decode of a document held as a string.
func (c *aclCache) decodeString(doc string) (aclDoc, bool) {
	c.mu.RLock()
	d, ok := c.m[doc]
	c.mu.RUnlock()
	if ok {
		return d, true
	}
	return c.add(doc)
}

func (c *aclCache) add(doc string) (aclDoc, bool) {
	d, ok := decodeACL(doc)
	if !ok {
		return aclDoc{}, false
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedACLs {
		c.m = make(map[string]aclDoc)
	}
	c.m[doc] = d
	c.mu.Unlock()
	return d, true
}

// privateACL is the default: the owner has full control.
func privateACL(owner string) aclDoc {
	return aclDoc{Owner: owner, Grants: []aclGrant{{Type: granteeUser, ID: owner, Perm: permFullControl}}}
}

// cannedACL expands a canned ACL. bucketOwner matters for the
// bucket-owner-* forms of object ACLs.
func cannedACL(name, owner, bucketOwner string, forBucket bool) (aclDoc, bool) {
	d := privateACL(owner)
	group := func(uri, perm string) {
		d.Grants = append(d.Grants, aclGrant{Type: granteeGroup, URI: uri, Perm: perm})
	}
	switch name {
	case "private":
	case "public-read":
		group(groupAllUsers, permRead)
	case "public-read-write":
		group(groupAllUsers, permRead)
		group(groupAllUsers, permWrite)
	case "authenticated-read":
		group(groupAuthenticated, permRead)
	case "log-delivery-write":
		if !forBucket {
			return d, false
		}
		group(groupLogDelivery, permWrite)
		group(groupLogDelivery, permReadACP)
	case "aws-exec-read":
		// Read access for EC2 to fetch AMI bundles: no such principal here.
		if forBucket {
			return d, false
		}
	case "bucket-owner-read", "bucket-owner-full-control":
		if forBucket {
			return d, false
		}
		if bucketOwner != owner {
			perm := permRead
			if name == "bucket-owner-full-control" {
				perm = permFullControl
			}
			d.Grants = append(d.Grants, aclGrant{Type: granteeUser, ID: bucketOwner, Perm: perm})
		}
	default:
		return d, false
	}
	return d, true
}

// grantHeaders maps the x-amz-grant-* headers to permissions.
var grantHeaders = [...][2]string{
	{"X-Amz-Grant-Full-Control", permFullControl},
	{"X-Amz-Grant-Read", permRead},
	{"X-Amz-Grant-Read-Acp", permReadACP},
	{"X-Amz-Grant-Write", permWrite},
	{"X-Amz-Grant-Write-Acp", permWriteACP},
}

func hasGrantHeaders(h http.Header) bool {
	for _, gh := range grantHeaders {
		if h.Get(gh[0]) != "" {
			return true
		}
	}
	return false
}

// aclContext is what validating an ACL needs to know.
type aclContext struct {
	owner       string               // owner of the resource the ACL is for
	bucketOwner string               // owner of its bucket
	known       func(id string) bool // whether a canonical ID names an account
	forBucket   bool
}

func invalidGrantee(name, value, msg string) *APIError {
	e := errInvalidArgument.withMessage(msg)
	e.ArgName, e.ArgValue = name, value
	return e
}

// checkGrant validates one grantee: known canonical user, known group.
func (c *aclContext) checkGrant(g *aclGrant) error {
	switch g.Type {
	case granteeUser:
		if !c.known(g.ID) {
			return invalidGrantee("CanonicalUser/ID", g.ID, "Invalid id")
		}
	case granteeGroup:
		if _, ok := groupIDs[g.URI]; !ok {
			return invalidGrantee("Group/URI", g.URI, "Invalid group uri")
		}
	case granteeEmail:
		return errUnresolvableEmail
	default:
		return errMalformedACL
	}
	return nil
}

// parseGrantHeader parses one x-amz-grant-* value: comma-separated
// id="...", uri="..." or emailAddress="..." entries. A bare value is taken
// as a canonical user ID.
func (c *aclContext) parseGrantHeader(name, v, perm string) ([]aclGrant, error) {
	var out []aclGrant
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, val, ok := strings.Cut(item, "=")
		if !ok {
			k, val = "id", item
		}
		val = strings.Trim(strings.TrimSpace(val), `"`)
		g := aclGrant{Perm: perm}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "id":
			g.Type, g.ID = granteeUser, val
		case "uri":
			g.Type, g.URI = granteeGroup, val
		case "emailaddress":
			g.Type = granteeEmail
		default:
			return nil, invalidGrantee(strings.ToLower(name), v, "Argument format not recognized")
		}
		if err := c.checkGrant(&g); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	if len(out) == 0 {
		return nil, invalidGrantee(strings.ToLower(name), v, "Argument format not recognized")
	}
	return out, nil
}

// aclFromHeaders builds the ACL a request's x-amz-acl or x-amz-grant-*
// headers ask for; ok is false when it has neither.
func (c *aclContext) aclFromHeaders(h http.Header) (doc aclDoc, ok bool, err error) {
	canned := h.Get("X-Amz-Acl")
	grants := hasGrantHeaders(h)
	if canned != "" && grants {
		return doc, false, errCannedAndGrants
	}
	if canned != "" {
		d, valid := cannedACL(canned, c.owner, c.bucketOwner, c.forBucket)
		if !valid {
			e := errInvalidArgument.withMessage("")
			e.ArgName, e.ArgValue = "x-amz-acl", canned
			return doc, false, e
		}
		return d, true, nil
	}
	if !grants {
		return doc, false, nil
	}
	doc.Owner = c.owner
	for _, gh := range grantHeaders {
		v := h.Get(gh[0])
		if v == "" {
			continue
		}
		gs, err := c.parseGrantHeader(gh[0], v, gh[1])
		if err != nil {
			return doc, false, err
		}
		doc.Grants = append(doc.Grants, gs...)
	}
	return doc, true, nil
}

// The AccessControlPolicy document, as sent (granteeXML carries the
// xsi:type attribute AWS writes) and as received (granteeIn finds that
// attribute whatever prefix the client bound to its namespace).
type accessControlPolicy struct {
	XMLName xml.Name   `xml:"AccessControlPolicy"`
	NS      string     `xml:"xmlns,attr,omitempty"`
	Owner   owner      `xml:"Owner"`
	Grants  []grantXML `xml:"AccessControlList>Grant"`
}

type grantXML struct {
	Grantee    granteeXML `xml:"Grantee"`
	Permission string     `xml:"Permission"`
}

type granteeXML struct {
	XSI         string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID,omitempty"`
	DisplayName string `xml:"DisplayName,omitempty"`
	URI         string `xml:"URI,omitempty"`
}

type accessControlPolicyIn struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   *struct {
		ID          *string `xml:"ID"`
		DisplayName string  `xml:"DisplayName"`
	} `xml:"Owner"`
	Grants []struct {
		Grantee *struct {
			Attrs        []xml.Attr `xml:",any,attr"`
			ID           *string    `xml:"ID"`
			URI          *string    `xml:"URI"`
			EmailAddress *string    `xml:"EmailAddress"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

// parseACLBody parses and validates an AccessControlPolicy document.
func (c *aclContext) parseACLBody(body []byte) (aclDoc, error) {
	var in accessControlPolicyIn
	if err := xml.Unmarshal(body, &in); err != nil {
		return aclDoc{}, errMalformedACL
	}
	if in.Owner == nil || in.Owner.ID == nil || *in.Owner.ID == "" {
		return aclDoc{}, errMalformedACL
	}
	if *in.Owner.ID != c.owner {
		return aclDoc{}, invalidGrantee("CanonicalUser/ID", *in.Owner.ID, "Invalid id")
	}
	doc := aclDoc{Owner: c.owner, Grants: []aclGrant{}}
	for _, g := range in.Grants {
		if g.Grantee == nil {
			return aclDoc{}, errMalformedACL
		}
		switch g.Permission {
		case permFullControl, permRead, permWrite, permReadACP, permWriteACP:
		default:
			return aclDoc{}, errMalformedACL
		}
		ag := aclGrant{Perm: g.Permission}
		for _, a := range g.Grantee.Attrs {
			if a.Name.Local == "type" {
				ag.Type = a.Value
			}
		}
		str := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		switch ag.Type {
		case granteeUser:
			ag.ID = str(g.Grantee.ID)
			if ag.ID == "" {
				return aclDoc{}, errMalformedACL
			}
		case granteeGroup:
			ag.URI = str(g.Grantee.URI)
			if ag.URI == "" {
				return aclDoc{}, errMalformedACL
			}
		case granteeEmail:
			if str(g.Grantee.EmailAddress) == "" {
				return aclDoc{}, errMalformedACL
			}
		default:
			return aclDoc{}, errMalformedACL
		}
		if err := c.checkGrant(&ag); err != nil {
			return aclDoc{}, err
		}
		doc.Grants = append(doc.Grants, ag)
	}
	return doc, nil
}

// aclResponse renders a stored ACL as an AccessControlPolicy.
func aclResponse(d *aclDoc) accessControlPolicy {
	res := accessControlPolicy{NS: s3NS, Owner: owner{ID: d.Owner, DisplayName: d.Owner}, Grants: []grantXML{}}
	for _, g := range d.Grants {
		ge := granteeXML{XSI: xsiNS, Type: g.Type, ID: g.ID, URI: g.URI}
		if g.Type == granteeUser {
			ge.DisplayName = g.ID
		} else if g.Type == granteeGroup {
			ge.ID = groupIDs[g.URI]
		}
		res.Grants = append(res.Grants, grantXML{Grantee: ge, Permission: g.Perm})
	}
	return res
}

// requester is the canonical ID of the caller ("" when anonymous).
func requester(req *request) string {
	if req.auth == nil || req.auth.AccessKey == "" {
		return ""
	}
	return req.auth.AccessKey
}

// bucketACL returns the bucket's stored ACL; a bucket without one (created
// before ACLs were kept, or emptied by a RESP FLUSHALL) belongs to the
// calling root account, else to the first configured one, with the
// private ACL.
func (s *Server) bucketACL(req *request) (aclDoc, error) {
	doc, ok, err := s.getBucketConfig(req.bucket, cfgACL)
	if err != nil {
		return aclDoc{}, err
	}
	if ok {
		if d, valid := s.acls.decode(doc); valid {
			return d, nil
		}
	}
	own := requester(req)
	if own == "" || s.roleOf(own) != roleRoot {
		own = s.cfg.Credentials[0].AccessKey
	}
	return privateACL(own), nil
}

// bucketOwner is the canonical ID of the bucket's owner.
func (s *Server) bucketOwner(req *request) (string, error) {
	d, err := s.bucketACL(req)
	return d.Owner, err
}

const maxACLBody = 64 << 10

// readSmallBody reads a bounded configuration document through the
// verifying body reader (Content-MD5 and payload hash checked).
func (s *Server) readSmallBody(req *request, limit int) ([]byte, error) {
	body, err := s.newXMLBodyReader(req, true)
	if err != nil {
		if err == errInvalidDigest {
			return nil, errInvalidDigest.withMessage("The Content-Md5 you specified is not valid.")
		}
		return nil, err
	}
	defer body.close()
	data, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		if err == errBadDigest {
			return nil, errBadDigest.withMessage("The Content-MD5 you specified did not match what we received.")
		}
		return nil, bodyErr(err)
	}
	if len(data) > limit {
		return data, errEntityTooLarge
	}
	return data, nil
}

// rewriteAttrs stores new attributes for an existing object by composing
// it from itself: metadata only, no bytes copied.
func (s *Server) rewriteAttrs(ks, key string, m *engine.Meta, a *objectAttrs) error {
	k := []byte(key)
	if _, err := s.eng.Compose(ks, k, []engine.Source{{KS: ks, Key: k, Len: -1, Version: m.Version}},
		engine.PutOptions{Attrs: a.encode(nil)}); err != nil {
		return err
	}
	return s.eng.Sync()
}

func (s *Server) getBucketACL(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	d, err := s.bucketACL(req)
	if err != nil {
		return err
	}
	return writeXML(req.w, http.StatusOK, aclResponse(&d))
}

// newACL works out the ACL a PutBucketAcl or PutObjectAcl request sets:
// exactly one of x-amz-acl, x-amz-grant-* headers or a body.
func (c *aclContext) newACL(h http.Header, body []byte) (aclDoc, error) {
	hasBody := len(strings.TrimSpace(string(body))) > 0
	canned, grants := h.Get("X-Amz-Acl") != "", hasGrantHeaders(h)
	switch {
	case canned && grants:
		return aclDoc{}, errCannedAndGrants
	case (canned || grants) && hasBody:
		return aclDoc{}, errUnexpectedContent
	case hasBody:
		return c.parseACLBody(body)
	case !canned && !grants:
		return aclDoc{}, errMissingACLHeader
	}
	d, _, err := c.aclFromHeaders(h)
	return d, err
}

func (s *Server) putBucketACL(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	body, err := s.readSmallBody(req, maxACLBody)
	if err != nil {
		return err
	}
	cur, err := s.bucketACL(req)
	if err != nil {
		return err
	}
	own, err := s.objectOwnership(req.bucket)
	if err != nil {
		return err
	}
	h := req.r.Header
	if own == ownershipEnforced {
		if hasGrantHeaders(h) || h.Get("X-Amz-Acl") != "" && h.Get("X-Amz-Acl") != "private" {
			return errACLNotSupported
		}
	}
	c := aclContext{owner: cur.Owner, bucketOwner: cur.Owner, known: s.knownAccount, forBucket: true}
	d, err := c.newACL(h, body)
	if err != nil {
		return err
	}
	if own == ownershipEnforced && !d.ownerOnly() {
		return errACLNotSupported
	}
	if err := s.putBucketConfig(req.bucket, cfgACL, []byte(d.encode())); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// anonymousOwner is the canonical ID S3 gives the anonymous principal,
// the owner of objects written anonymously where the writer owns them.
const anonymousOwner = "65a011a29cdf8ec533ec3d1ccaae921c"

// objectACLContext prepares validation of an object ACL written by the
// caller into the request's bucket. The object's owner follows the
// bucket's ObjectOwnership: the bucket owner when enforced (or preferred
// and the request grants the bucket owner full control), else the writer.
func (s *Server) objectACLContext(req *request) (aclContext, string, error) {
	bo, err := s.bucketOwner(req)
	if err != nil {
		return aclContext{}, "", err
	}
	own, err := s.objectOwnership(req.bucket)
	if err != nil {
		return aclContext{}, "", err
	}
	writer := requester(req)
	if writer == "" {
		writer = anonymousOwner
	}
	switch {
	case own == ownershipEnforced,
		own == ownershipPreferred && req.r.Header.Get("X-Amz-Acl") == "bucket-owner-full-control":
		writer = bo
	}
	known := func(id string) bool { return id == anonymousOwner || s.knownAccount(id) }
	return aclContext{owner: writer, bucketOwner: bo, known: known}, own, nil
}

// applyObjectACL sets a.ACL from the x-amz-acl / x-amz-grant-* headers of
// a PUT, CopyObject or CreateMultipartUpload. With ACLs disabled only
// bucket-owner-full-control is accepted, as on S3.
func (s *Server) applyObjectACL(req *request, a *objectAttrs) error {
	h := req.r.Header
	a.ACL = ""
	canned, grants := h.Get("X-Amz-Acl"), hasGrantHeaders(h)
	if canned == "" && !grants && requester(req) != "" && len(s.cfg.Credentials) == 1 && s.users.empty() {
		// NB: the hot path of a single-account server: the writer is
		// the bucket owner, so the object gets the default ACL without
		// looking up the bucket's documents.
		return nil
	}
	c, own, err := s.objectACLContext(req)
	if err != nil {
		return err
	}
	if canned == "" && !grants {
		if c.owner != c.bucketOwner {
			d := privateACL(c.owner)
			a.ACL = d.encode()
		}
		return nil
	}
	if own == ownershipEnforced && (grants || canned != "bucket-owner-full-control") {
		if canned != "" && grants {
			return errCannedAndGrants
		}
		return errACLNotSupported
	}
	d, _, err := c.aclFromHeaders(h)
	if err != nil {
		return err
	}
	if !(d.Owner == c.bucketOwner && d.ownerOnly()) {
		a.ACL = d.encode()
	}
	return nil
}

// objectACL returns an object's effective ACL.
func (s *Server) objectACL(req *request, a *objectAttrs) (aclDoc, error) {
	if d, ok := s.acls.decodeString(a.ACL); ok {
		return d, nil
	}
	bo, err := s.bucketOwner(req)
	if err != nil {
		return aclDoc{}, err
	}
	return privateACL(bo), nil
}

func (s *Server) getObjectACL(req *request) error {
	_, _, a, err := s.statObject(req)
	if err != nil {
		return err
	}
	d, err := s.objectACL(req, &a)
	if err != nil {
		return err
	}
	return writeXML(req.w, http.StatusOK, aclResponse(&d))
}

// putObjectACL rewrites the object's attributes with the new ACL (the
// object is composed from itself: metadata only).
func (s *Server) putObjectACL(req *request) error {
	ks, m, a, err := s.statObject(req)
	if err != nil {
		return err
	}
	body, err := s.readSmallBody(req, maxACLBody)
	if err != nil {
		return err
	}
	c, own, err := s.objectACLContext(req)
	if err != nil {
		return err
	}
	cur, err := s.objectACL(req, &a)
	if err != nil {
		return err
	}
	c.owner = cur.Owner
	h := req.r.Header
	if own == ownershipEnforced && (hasGrantHeaders(h) || h.Get("X-Amz-Acl") != "" && h.Get("X-Amz-Acl") != "bucket-owner-full-control") {
		return errACLNotSupported
	}
	d, err := c.newACL(h, body)
	if err != nil {
		return err
	}
	if own == ownershipEnforced && !d.ownerOnly() {
		return errACLNotSupported
	}
	a.ETag = etagOf(ks, []byte(req.key), &m, &a)
	a.ACL = ""
	if !(d.Owner == c.bucketOwner && d.ownerOnly()) {
		a.ACL = d.encode()
	}
	if err := s.rewriteAttrs(ks, req.key, &m, &a); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusOK)
	return nil
}
