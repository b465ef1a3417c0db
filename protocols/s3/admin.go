package s3

import (
	"encoding/xml"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// The admin API manages run-time accounts and bucket ownership. Its
// requests are PATCH requests (a method S3 itself never uses) signed with
// SigV4 by a root or admin account; the paths, documents and error codes
// are those of the versitygw admin API, so `versitygw admin` works against
// gpucache:
//
//	PATCH /create-user                         body <Account>; 201
//	PATCH /update-user?access=KEY              body <MutableProps>
//	PATCH /delete-user?access=KEY
//	PATCH /list-users                          <ListUserAccountsResult>
//	PATCH /change-bucket-owner?bucket=B&owner=KEY
//	PATCH /list-buckets                        <ListBucketsResult>
//	PATCH /BUCKET/create                       CreateBucket for the account
//	                                           named by x-vgw-owner; 201

var (
	errAdminAccessDenied = &APIError{Code: "XAdminAccessDenied", Status: 403, Message: "Only admin users have access to this resource."}
	errAdminUserNotFound = &APIError{Code: "XAdminUserNotFound", Status: 404, Message: "No user exists with the provided access key ID."}
	errAdminUserExists   = &APIError{Code: "XAdminUserExists", Status: 409, Message: "A user with the provided access key ID already exists."}
	errAdminInvalidRole  = &APIError{Code: "XAdminInvalidArgument", Status: 400, Message: "User role has to be one of the following: 'user', 'admin', 'userplus'."}
	errAdminMissingKey   = &APIError{Code: "XAdminInvalidArgument", Status: 400, Message: "User access key ID is missing."}
	errAdminInvalidKey   = &APIError{Code: "XAdminInvalidArgument", Status: 400, Message: "The access key ID is invalid: 1 to 128 characters, without '/', ':' or white space."}
	errAdminEmptySecret  = &APIError{Code: "XAdminInvalidArgument", Status: 400, Message: "The secret key is missing."}
	errAdminNoOwner      = &APIError{Code: "XAdminInvalidRequest", Status: 400, Message: "The x-vgw-owner header specifying the new bucket owner access key id is either missing or empty"}
	errAdminRootAccount  = &APIError{Code: "XAdminInvalidArgument", Status: 400, Message: "The access key belongs to a configured root credential, which the admin API cannot change."}
)

// mutableProps is the body of update-user: the fields to change.
type mutableProps struct {
	XMLName   xml.Name `xml:"MutableProps"`
	Secret    *string  `xml:"Secret"`
	Role      string   `xml:"Role"`
	UserID    *int     `xml:"UserID"`
	GroupID   *int     `xml:"GroupID"`
	ProjectID *int     `xml:"ProjectID"`
}

type listUserAccountsResult struct {
	XMLName  xml.Name  `xml:"ListUserAccountsResult"`
	Accounts []account `xml:"Accounts"`
}

type adminBucket struct {
	Name  string `xml:"Name"`
	Owner string `xml:"Owner"`
}

type adminListBucketsResult struct {
	XMLName xml.Name      `xml:"ListBucketsResult"`
	Buckets []adminBucket `xml:"Buckets"`
}

// serveAdmin authenticates and answers one admin API request.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) error {
	req := &request{w: w, r: r}
	if r.URL.RawQuery != "" {
		req.q = r.URL.Query()
	}
	err := s.verifier.VerifyInto(r, &req.verified)
	if errors.Is(err, sigv4.ErrMissingAuth) {
		err = errAdminAccessDenied
	}
	if err == nil {
		req.auth = &req.verified
		if !s.privileged(req) {
			err = errAdminAccessDenied
		}
	}
	if err == nil {
		err = s.adminDispatch(req)
	}
	return err
}

func (s *Server) adminDispatch(req *request) error {
	switch strings.TrimSuffix(req.r.URL.Path, "/") {
	case "/create-user":
		return s.adminCreateUser(req)
	case "/update-user":
		return s.adminUpdateUser(req)
	case "/delete-user":
		return s.adminDeleteUser(req)
	case "/list-users":
		res := listUserAccountsResult{Accounts: s.users.list()}
		for i := range res.Accounts {
			res.Accounts[i].Secret = "" // never sent back
		}
		return writeXML(req.w, http.StatusOK, res)
	case "/change-bucket-owner":
		return s.adminChangeBucketOwner(req)
	case "/list-buckets":
		return s.adminListBuckets(req)
	}
	if b, ok := strings.CutSuffix(strings.TrimPrefix(req.r.URL.Path, "/"), "/create"); ok && b != "" && !strings.Contains(b, "/") {
		return s.adminCreateBucket(req, b)
	}
	return errMethodNotAllowed
}

// parseAccount decodes and validates the body of create-user.
func parseAccount(data []byte) (account, error) {
	var a account
	if err := xml.Unmarshal(data, &a); err != nil {
		return account{}, errMalformedXML
	}
	switch {
	case !validRole(a.Role):
		return account{}, errAdminInvalidRole
	case a.Access == "":
		return account{}, errAdminMissingKey
	case !validAccessKey(a.Access):
		return account{}, errAdminInvalidKey
	case a.Secret == "":
		return account{}, errAdminEmptySecret
	}
	return a, nil
}

// parseMutableProps decodes and validates the body of update-user.
func parseMutableProps(data []byte) (mutableProps, error) {
	var p mutableProps
	if err := xml.Unmarshal(data, &p); err != nil {
		return mutableProps{}, errMalformedXML
	}
	if p.Role != "" && !validRole(p.Role) {
		return mutableProps{}, errAdminInvalidRole
	}
	if p.Secret != nil && *p.Secret == "" {
		return mutableProps{}, errAdminEmptySecret
	}
	return p, nil
}

// apply changes a to carry the properties p sets.
func (p *mutableProps) apply(a *account) {
	if p.Secret != nil {
		a.Secret = *p.Secret
	}
	if p.Role != "" {
		a.Role = p.Role
	}
	if p.UserID != nil {
		a.UserID = *p.UserID
	}
	if p.GroupID != nil {
		a.GroupID = *p.GroupID
	}
	if p.ProjectID != nil {
		a.ProjectID = *p.ProjectID
	}
}

func (s *Server) adminCreateUser(req *request) error {
	data, err := s.readSmallBody(req, maxACLBody)
	if err != nil {
		return err
	}
	a, err := parseAccount(data)
	if err != nil {
		return err
	}
	if _, ok := s.rootSecret(a.Access); ok {
		return errAdminUserExists
	}
	err = s.users.update(func(m map[string]account) error {
		if _, ok := m[a.Access]; ok {
			return errAdminUserExists
		}
		m[a.Access] = a
		return nil
	})
	if err != nil {
		return err
	}
	s.cfg.Logf("s3: account %s created (role %s)", a.Access, a.Role)
	req.w.WriteHeader(http.StatusCreated)
	return nil
}

// adminCreateBucket creates a bucket owned by the account x-vgw-owner
// names, as that account's CreateBucket would (body, ACL, ownership,
// object lock and tag headers included), whatever its role.
func (s *Server) adminCreateBucket(req *request, bucket string) error {
	owner := req.r.Header.Get("X-Vgw-Owner")
	if owner == "" {
		return errAdminNoOwner
	}
	if !s.knownAccount(owner) {
		return errAdminUserNotFound
	}
	auth := *req.auth
	auth.AccessKey = owner
	breq := &request{w: createdWriter{req.w}, r: req.r, bucket: bucket, q: req.q, auth: &auth}
	return s.createBucket(breq)
}

// createdWriter answers 201 Created where a handler answers 200.
type createdWriter struct{ http.ResponseWriter }

func (w createdWriter) WriteHeader(code int) {
	if code == http.StatusOK {
		code = http.StatusCreated
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w createdWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// adminTarget returns the run-time account named by ?access=.
func (s *Server) adminTarget(req *request) (string, error) {
	access := req.q.Get("access")
	if access == "" {
		return "", errAdminMissingKey
	}
	if _, ok := s.rootSecret(access); ok {
		return "", errAdminRootAccount
	}
	return access, nil
}

func (s *Server) adminUpdateUser(req *request) error {
	access, err := s.adminTarget(req)
	if err != nil {
		return err
	}
	data, err := s.readSmallBody(req, maxACLBody)
	if err != nil {
		return err
	}
	p, err := parseMutableProps(data)
	if err != nil {
		return err
	}
	return s.users.update(func(m map[string]account) error {
		a, ok := m[access]
		if !ok {
			return errAdminUserNotFound
		}
		p.apply(&a)
		m[access] = a
		return nil
	})
}

func (s *Server) adminDeleteUser(req *request) error {
	access, err := s.adminTarget(req)
	if err != nil {
		return err
	}
	err = s.users.update(func(m map[string]account) error {
		if _, ok := m[access]; !ok {
			return errAdminUserNotFound
		}
		delete(m, access)
		return nil
	})
	if err == nil {
		s.cfg.Logf("s3: account %s deleted", access)
	}
	return err
}

// adminChangeBucketOwner gives a bucket to another account: the ACL's
// owner, and the full-control grant the old owner held, pass to it.
func (s *Server) adminChangeBucketOwner(req *request) error {
	bucket, owner := req.q.Get("bucket"), req.q.Get("owner")
	if owner == "" {
		return errAdminMissingKey
	}
	if !s.knownAccount(owner) {
		return errAdminUserNotFound
	}
	if bucket == s.cfg.RESPBucket && bucket != "" {
		return errInvalidRequest.withMessage("The bucket mapped onto the Redis keyspace belongs to the root account.")
	}
	if _, err := s.checkBucket(bucket); err != nil {
		return err
	}
	breq := &request{bucket: bucket, auth: req.auth}
	d, err := s.bucketACL(breq)
	if err != nil {
		return err
	}
	old := d.Owner
	d.Owner = owner
	d.Grants = append([]aclGrant(nil), d.Grants...) // NB: decoded documents are shared
	for i := range d.Grants {
		if g := &d.Grants[i]; g.Type == granteeUser && g.ID == old {
			g.ID = owner
		}
	}
	if err := s.putBucketConfig(bucket, cfgACL, []byte(d.encode())); err != nil {
		return err
	}
	s.cfg.Logf("s3: bucket %s now owned by %s (was %s)", bucket, owner, old)
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) adminListBuckets(req *request) error {
	names, err := s.bucketNames()
	if err != nil {
		return err
	}
	res := adminListBucketsResult{Buckets: []adminBucket{}}
	for _, b := range names {
		own, err := s.bucketOwner(&request{bucket: b, auth: req.auth})
		if err != nil {
			return err
		}
		res.Buckets = append(res.Buckets, adminBucket{Name: b, Owner: own})
	}
	return writeXML(req.w, http.StatusOK, res)
}

// bucketNames lists every bucket, sorted.
func (s *Server) bucketNames() ([]string, error) {
	infos, err := s.eng.Keyspaces()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ki := range infos {
		if name, ok := strings.CutPrefix(ki.Name, bucketPrefix); ok {
			out = append(out, name)
		}
	}
	if b := s.cfg.RESPBucket; b != "" {
		out = append(out, b)
	}
	sort.Strings(out)
	return out, nil
}
