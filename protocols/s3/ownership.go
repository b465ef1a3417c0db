package s3

import (
	"bytes"
	"encoding/xml"
	"net/http"

	"github.com/gpucache/gpucache/engine"
)

// Object ownership controls (S3 Object Ownership). The setting is kept as
// the bucket sub-resource document "ownershipControls" holding the bare
// ObjectOwnership value. New buckets get BucketOwnerEnforced (ACLs
// disabled), as on S3 since 2023, unless CreateBucket names another; a
// bucket without the document (deleted controls, or created before they
// were kept) behaves as ObjectWriter with ACLs enabled.

const (
	ownershipEnforced     = "BucketOwnerEnforced"
	ownershipPreferred    = "BucketOwnerPreferred"
	ownershipObjectWriter = "ObjectWriter"

	// Names of the bucket sub-resource documents of this feature set.
	cfgOwnership = "ownershipControls"
	cfgACL       = "acl"
	cfgPolicy    = "policy"
	cfgCORS      = "cors"
	cfgWebsite   = "website"
)

var errOwnershipNotFound = &APIError{Code: "OwnershipControlsNotFoundError", Status: 404, Message: "The bucket ownership controls were not found."}

func validOwnership(v string) bool {
	return v == ownershipEnforced || v == ownershipPreferred || v == ownershipObjectWriter
}

type ownershipControls struct {
	XMLName xml.Name        `xml:"OwnershipControls"`
	NS      string          `xml:"xmlns,attr,omitempty"`
	Rules   []ownershipRule `xml:"Rule"`
}

type ownershipRule struct {
	ObjectOwnership string `xml:"ObjectOwnership"`
}

// objectOwnership returns the bucket's ObjectOwnership setting
// (ObjectWriter when none is stored).
func (s *Server) objectOwnership(bucket string) (string, error) {
	doc, ok, err := s.getBucketConfig(bucket, cfgOwnership)
	if err != nil || !ok {
		return ownershipObjectWriter, err
	}
	return string(doc), nil
}

// parseOwnershipControls validates an OwnershipControls document: exactly
// one rule with a known setting.
func parseOwnershipControls(body []byte) (string, error) {
	var oc ownershipControls
	if len(bytes.TrimSpace(body)) == 0 {
		return "", errMissingRequestBody
	}
	if err := xml.Unmarshal(body, &oc); err != nil {
		return "", errMalformedXML
	}
	if len(oc.Rules) != 1 || !validOwnership(oc.Rules[0].ObjectOwnership) {
		return "", errMalformedXML
	}
	return oc.Rules[0].ObjectOwnership, nil
}

func (s *Server) bucketOwnershipControls(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	switch req.r.Method {
	case http.MethodGet:
		doc, ok, err := s.getBucketConfig(req.bucket, cfgOwnership)
		if err != nil {
			return err
		}
		if !ok {
			return errOwnershipNotFound
		}
		return writeXML(req.w, http.StatusOK, ownershipControls{NS: s3NS, Rules: []ownershipRule{{string(doc)}}})
	case http.MethodPut:
		body, err := s.readSmallBody(req, maxACLBody)
		if err != nil {
			return err
		}
		v, err := parseOwnershipControls(body)
		if err != nil {
			return err
		}
		if v == ownershipEnforced {
			// As on S3: ACLs can be disabled only when the bucket ACL
			// grants nothing beyond the owner's full control.
			d, err := s.bucketACL(req)
			if err != nil {
				return err
			}
			if !d.ownerOnly() {
				return errBucketACLWithEnforce
			}
		}
		if err := s.putBucketConfig(req.bucket, cfgOwnership, []byte(v)); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodDelete:
		if err := s.deleteBucketConfig(req.bucket, cfgOwnership); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethodNotAllowed
}

// createBucketAccess validates the ownership and ACL headers of a
// CreateBucket and returns the documents to store with the new bucket.
func (s *Server) createBucketAccess(req *request) (ownership string, acl aclDoc, err error) {
	h := req.r.Header
	ownership = h.Get("X-Amz-Object-Ownership")
	aclHeaders := h.Get("X-Amz-Acl") != "" || hasGrantHeaders(h)
	switch {
	case ownership == "" && aclHeaders:
		// Asking for an ACL implies wanting ACLs enabled.
		ownership = ownershipPreferred
	case ownership == "":
		ownership = ownershipEnforced
	case !validOwnership(ownership):
		e := errInvalidArgument.withMessage("Invalid x-amz-object-ownership header: " + ownership)
		e.ArgName = "x-amz-object-ownership"
		return "", aclDoc{}, e
	}
	me := requester(req)
	c := aclContext{owner: me, bucketOwner: me, known: s.knownAccount, forBucket: true}
	acl, ok, err := c.aclFromHeaders(h)
	if err != nil {
		return "", aclDoc{}, err
	}
	if !ok {
		acl = privateACL(me)
	}
	if ownership == ownershipEnforced && !acl.ownerOnly() {
		return "", aclDoc{}, errBucketACLWithEnforce
	}
	return ownership, acl, nil
}

// initBucketAccess stores a new bucket's ownership controls and ACL (the
// caller syncs).
func (s *Server) initBucketAccess(bucket, ownership string, acl *aclDoc) error {
	uks := uploadKS(bucket)
	if _, err := s.eng.PutBytes(uks, bucketConfigKey(cfgOwnership), []byte(ownership), engine.PutOptions{}); err != nil {
		return err
	}
	_, err := s.eng.PutBytes(uks, bucketConfigKey(cfgACL), []byte(acl.encode()), engine.PutOptions{})
	return err
}
