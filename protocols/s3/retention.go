package s3

import (
	"encoding/xml"
	"errors"
	"net/http"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// Per-object retention and legal hold (PutObjectRetention,
// GetObjectRetention, PutObjectLegalHold, GetObjectLegalHold). The rules
// for changing a retention are S3's: it may always be extended in the same
// mode; a COMPLIANCE retention can be neither shortened, nor removed, nor
// changed to GOVERNANCE until it expires; weakening a GOVERNANCE retention
// (shorter date, removal, change of mode) needs
// x-amz-bypass-governance-retention: true.

type objectRetention struct {
	XMLName         xml.Name `xml:"Retention"`
	NS              string   `xml:"xmlns,attr,omitempty"`
	Mode            string   `xml:"Mode,omitempty"`
	RetainUntilDate string   `xml:"RetainUntilDate,omitempty"`
}

type objectLegalHold struct {
	XMLName xml.Name `xml:"LegalHold"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	Status  string   `xml:"Status"`
}

// parseRetention parses a PutObjectRetention body. An empty Retention
// (no mode, no date) asks to remove the retention: mode is "".
func parseRetention(data []byte, now time.Time) (mode string, until time.Time, err error) {
	var r objectRetention
	if err := xml.Unmarshal(data, &r); err != nil {
		return "", until, errMalformedXML
	}
	if r.Mode == "" && r.RetainUntilDate == "" {
		return "", until, nil
	}
	if r.Mode == "" || r.RetainUntilDate == "" {
		return "", until, errMalformedXML
	}
	until, err = time.Parse(time.RFC3339, r.RetainUntilDate)
	if err != nil {
		return "", until, errMalformedXML
	}
	if !until.After(now) {
		return "", until, invalidLockArg("The retain until date must be in the future!", "x-amz-object-lock-retain-until-date", r.RetainUntilDate)
	}
	if r.Mode != lockGovernance && r.Mode != lockCompliance {
		return "", until, errMalformedXML
	}
	return r.Mode, until.UTC().Truncate(time.Millisecond), nil
}

// parseLegalHold parses a PutObjectLegalHold body.
func parseLegalHold(data []byte) (string, error) {
	var l objectLegalHold
	if err := xml.Unmarshal(data, &l); err != nil {
		return "", errMalformedXML
	}
	if l.Status != legalHoldOn && l.Status != legalHoldOff {
		return "", errMalformedXML
	}
	return l.Status, nil
}

// retentionChangeAllowed applies S3's rules to replacing the retention of
// an object with attributes cur by (mode, until); mode "" removes it.
func retentionChangeAllowed(cur *objectAttrs, mode string, until, now time.Time, bypass bool) error {
	if cur.LockMode == "" {
		return nil
	}
	old := lockUntil(cur)
	if !old.After(now) {
		return nil // expired: it protects nothing any more
	}
	if mode == cur.LockMode && !until.Before(old) {
		return nil // extended (or rewritten as is)
	}
	if cur.LockMode == lockGovernance && bypass {
		return nil
	}
	return errObjectLocked
}

// checkVersionID accepts the versionId of an unversioned object: none,
// empty, or "null".
func checkVersionID(req *request) error {
	if v := req.q.Get("versionId"); v != "" && v != "null" {
		e := *errInvalidVersionID
		e.ArgValue = v
		return &e
	}
	return nil
}

// objectLockTarget checks what the retention and legal-hold calls share,
// in S3's order after the body: the object exists, then the bucket has
// Object Lock.
func (s *Server) objectLockTarget(req *request) (string, engine.Meta, objectAttrs, error) {
	ks, m, a, err := s.statObject(req)
	if err != nil {
		return ks, m, a, err
	}
	c, err := s.lockConfig(req.bucket)
	if err != nil {
		return ks, m, a, err
	}
	if c == nil {
		return ks, m, a, errBucketLockMissing
	}
	return ks, m, a, nil
}

// unchangedSince is the engine Check of a metadata rewrite: the object
// must still be the version whose attributes were read, else the write is
// refused with ConditionalRequestConflict.
func unchangedSince(version uint64) func(engine.Meta, bool) error {
	return func(cur engine.Meta, exists bool) error {
		if !exists || cur.Version != version {
			return errConditionalConflict
		}
		return nil
	}
}

// maxAttrRetries bounds retries of an attribute update that keeps racing
// with other writes of the object.
const maxAttrRetries = 8

// updateObjectAttrs rewrites an object's attributes (metadata only: the
// object is composed from itself). fn sees the current attributes and
// changes them or refuses; the new attributes are written only if the
// object is still the version fn saw, so fn's decision holds at the write.
func (s *Server) updateObjectAttrs(req *request, fn func(a *objectAttrs) error) error {
	key := []byte(req.key)
	for range maxAttrRetries {
		ks, m, a, err := s.statObject(req)
		if err != nil {
			return err
		}
		a.ETag = etagOf(ks, key, &m, &a)
		if err := fn(&a); err != nil {
			return err
		}
		_, err = s.eng.Compose(ks, key, []engine.Source{{KS: ks, Key: key, Len: -1, Version: m.Version}},
			engine.PutOptions{Attrs: a.encode(nil), Check: unchangedSince(m.Version)})
		switch {
		case err == nil:
			return s.eng.Sync()
		case err == errConditionalConflict, errors.Is(err, engine.ErrChanged), errors.Is(err, engine.ErrNotFound):
			continue // re-read: statObject reports a deleted object
		default:
			return err
		}
	}
	return errConditionalConflict
}

// lockRequestBody checks the bucket and version of a Put retention or
// legal hold request and reads its XML body (required).
func (s *Server) lockRequestBody(req *request) ([]byte, error) {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return nil, err
	}
	if err := checkVersionID(req); err != nil {
		return nil, err
	}
	body, err := s.newXMLBodyReader(req, true)
	if err != nil {
		return nil, err
	}
	data, err := readSmallBody(body)
	body.close()
	if err == errMissingRequestBody {
		err = errMalformedXML
	}
	return data, err
}

func (s *Server) putObjectRetention(req *request) error {
	data, err := s.lockRequestBody(req)
	if err != nil {
		return err
	}
	mode, until, err := parseRetention(data, s.now())
	if err != nil {
		return err
	}
	if _, _, _, err := s.objectLockTarget(req); err != nil {
		return err
	}
	bypass := bypassGovernance(req)
	err = s.updateObjectAttrs(req, func(a *objectAttrs) error {
		if err := retentionChangeAllowed(a, mode, until, s.now(), bypass); err != nil {
			return err
		}
		a.LockMode, a.LockUntil = mode, ""
		if mode != "" {
			a.LockUntil = formatLockTime(until)
		}
		return nil
	})
	if err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// lockedObjectAttrs checks the bucket, version and object of a Get
// retention or legal hold request and returns the object's attributes.
func (s *Server) lockedObjectAttrs(req *request) (objectAttrs, error) {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return objectAttrs{}, err
	}
	if err := checkVersionID(req); err != nil {
		return objectAttrs{}, err
	}
	_, _, a, err := s.objectLockTarget(req)
	return a, err
}

func (s *Server) getObjectRetention(req *request) error {
	a, err := s.lockedObjectAttrs(req)
	if err != nil {
		return err
	}
	if a.LockMode == "" {
		return errNoObjectLockConfig
	}
	return writeXML(req.w, http.StatusOK, objectRetention{NS: s3NS, Mode: a.LockMode, RetainUntilDate: formatLockTime(lockUntil(&a))})
}

func (s *Server) putObjectLegalHold(req *request) error {
	data, err := s.lockRequestBody(req)
	if err != nil {
		return err
	}
	status, err := parseLegalHold(data)
	if err != nil {
		return err
	}
	if _, _, _, err := s.objectLockTarget(req); err != nil {
		return err
	}
	if err := s.updateObjectAttrs(req, func(a *objectAttrs) error {
		a.LegalHold = status
		return nil
	}); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getObjectLegalHold(req *request) error {
	a, err := s.lockedObjectAttrs(req)
	if err != nil {
		return err
	}
	if a.LegalHold == "" {
		return errNoObjectLockConfig
	}
	return writeXML(req.w, http.StatusOK, objectLegalHold{NS: s3NS, Status: a.LegalHold})
}
