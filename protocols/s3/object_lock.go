package s3

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// Object Lock (write once, read many). A bucket's configuration is the
// bucket sub-resource "object-lock" (bucket_config.go), stored as the XML
// document GetObjectLockConfiguration returns; an object's retention and
// legal hold are its objectAttrs.LockMode, LockUntil and LegalHold.
//
// The server keeps one version per key, so where S3 (whose Object Lock
// buckets are always versioned) would add a new version or a delete marker
// and leave the locked version in place, here an overwrite or delete of a
// locked object is refused with AccessDenied: replacing the only copy would
// defeat the lock. Every such write tests the lock under the engine's key
// lock (PutOptions.Check, Engine.DeleteIf), so a retention or legal hold
// set concurrently is never lost or bypassed.
//
// Object Lock can be enabled when a bucket is created
// (x-amz-bucket-object-lock-enabled) or later with
// PutObjectLockConfiguration; as on S3 it cannot be disabled again. S3
// requires versioning for the latter; with no versioning here there is
// nothing to require.

const (
	lockGovernance = "GOVERNANCE"
	lockCompliance = "COMPLIANCE"
	legalHoldOn    = "ON"
	legalHoldOff   = "OFF"

	lockConfigName = "object-lock"

	maxRetentionDays  = 36500
	maxRetentionYears = 100
)

var (
	errObjectLocked            = &APIError{Code: "AccessDenied", Status: 403, Message: "Access Denied because object protected by object lock."}
	errLockConfigNotFound      = &APIError{Code: "ObjectLockConfigurationNotFoundError", Status: 404, Message: "Object Lock configuration does not exist for this bucket."}
	errNoObjectLockConfig      = &APIError{Code: "NoSuchObjectLockConfiguration", Status: 400, Message: "The specified object does not have a ObjectLock configuration."}
	errBucketLockMissing       = &APIError{Code: "InvalidRequest", Status: 400, Message: "Bucket is missing Object Lock Configuration"}
	errBucketLockMissingHeader = &APIError{Code: "InvalidRequest", Status: 400, Message: "Bucket is missing ObjectLockConfiguration"}
	errLockOnRESPBucket        = &APIError{Code: "InvalidRequest", Status: 400, Message: "Object Lock cannot be enabled on the bucket mapped onto the Redis keyspace: Redis writes would bypass it."}
	errInvalidVersionID        = &APIError{Code: "InvalidArgument", Status: 400, Message: "Invalid version id specified", ArgName: "versionId"}
)

// invalidLockArg is an InvalidArgument naming the offending lock argument.
func invalidLockArg(msg, name, value string) *APIError {
	return &APIError{Code: "InvalidArgument", Status: 400, Message: msg, ArgName: name, ArgValue: value}
}

type objectLockConfiguration struct {
	XMLName           xml.Name        `xml:"ObjectLockConfiguration"`
	NS                string          `xml:"xmlns,attr,omitempty"`
	ObjectLockEnabled string          `xml:"ObjectLockEnabled,omitempty"`
	Rule              *objectLockRule `xml:"Rule,omitempty"`
}

type objectLockRule struct {
	DefaultRetention *defaultRetention `xml:"DefaultRetention"`
}

type defaultRetention struct {
	Mode  string `xml:"Mode,omitempty"`
	Days  *int64 `xml:"Days,omitempty"`
	Years *int64 `xml:"Years,omitempty"`
}

// parseLockConfiguration parses and validates a PutObjectLockConfiguration
// body, with S3's errors.
func parseLockConfiguration(data []byte) (*objectLockConfiguration, error) {
	var c objectLockConfiguration
	if err := xml.Unmarshal(data, &c); err != nil {
		return nil, errMalformedXML
	}
	if c.ObjectLockEnabled != "Enabled" {
		return nil, errMalformedXML
	}
	if c.Rule == nil {
		return &c, nil
	}
	d := c.Rule.DefaultRetention
	if d == nil || d.Mode != lockGovernance && d.Mode != lockCompliance || (d.Days == nil) == (d.Years == nil) {
		return nil, errMalformedXML
	}
	if d.Days != nil {
		v := strconv.FormatInt(*d.Days, 10)
		if *d.Days <= 0 {
			return nil, invalidLockArg("Default retention period must be a positive integer value.", "Days", v)
		}
		if *d.Days > maxRetentionDays {
			return nil, invalidLockArg("Default retention period too large.", "Days", v)
		}
	}
	if d.Years != nil {
		v := strconv.FormatInt(*d.Years, 10)
		if *d.Years <= 0 {
			return nil, invalidLockArg("Default retention period must be a positive integer value.", "Years", v)
		}
		if *d.Years > maxRetentionYears {
			return nil, invalidLockArg("Default retention period too large.", "Years", v)
		}
	}
	return &c, nil
}

// defaultUntil is the retain-until date the rule gives an object created
// at now.
func (d *defaultRetention) until(now time.Time) time.Time {
	if d.Years != nil {
		return now.AddDate(int(*d.Years), 0, 0)
	}
	return now.AddDate(0, 0, int(*d.Days))
}

// lockConfig returns the bucket's Object Lock configuration, nil when
// Object Lock is not enabled on it.
func (s *Server) lockConfig(bucket string) (*objectLockConfiguration, error) {
	doc, ok, err := s.getBucketConfig(bucket, lockConfigName)
	if err != nil || !ok {
		return nil, err
	}
	c, err := parseLockConfiguration(doc)
	if err != nil {
		// Only validated documents are stored.
		return nil, errInternal
	}
	return c, nil
}

// objectLockConfig answers PutObjectLockConfiguration and
// GetObjectLockConfiguration.
func (s *Server) objectLockConfig(req *request) error {
	ks, err := s.checkBucket(req.bucket)
	if err != nil {
		return err
	}
	switch req.r.Method {
	case http.MethodGet:
		c, err := s.lockConfig(req.bucket)
		if err != nil {
			return err
		}
		if c == nil {
			return errLockConfigNotFound
		}
		c.NS = s3NS
		return writeXML(req.w, http.StatusOK, c)
	case http.MethodPut:
		body, err := s.newXMLBodyReader(req, true)
		if err != nil {
			return err
		}
		data, err := readSmallBody(body)
		body.close()
		if err != nil {
			return err
		}
		c, err := parseLockConfiguration(data)
		if err != nil {
			return err
		}
		if ks == "" {
			return errLockOnRESPBucket
		}
		return s.storeLockConfig(req.bucket, c, req.w)
	}
	return errMethodNotAllowed
}

func (s *Server) storeLockConfig(bucket string, c *objectLockConfiguration, w http.ResponseWriter) error {
	c.NS = ""
	doc, err := xml.Marshal(c)
	if err != nil {
		return err
	}
	if err := s.putBucketConfig(bucket, lockConfigName, doc); err != nil {
		return err
	}
	if w != nil {
		w.WriteHeader(http.StatusOK)
	}
	return nil
}

// enableObjectLockOnCreate stores the configuration of a bucket created
// with x-amz-bucket-object-lock-enabled: true.
func (s *Server) enableObjectLockOnCreate(req *request) error {
	if !strings.EqualFold(req.r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled"), "true") {
		return nil
	}
	return s.storeLockConfig(req.bucket, &objectLockConfiguration{ObjectLockEnabled: "Enabled"}, nil)
}

// objectLockHeaders are the x-amz-object-lock-* headers of a write.
type objectLockHeaders struct {
	mode      string
	until     time.Time
	legalHold string
}

// parseLockHeaders validates the Object Lock headers of PutObject,
// CopyObject and CreateMultipartUpload, in the order S3 checks them.
func parseLockHeaders(h http.Header, now time.Time) (objectLockHeaders, error) {
	var l objectLockHeaders
	mode, date, hold := h.Get("X-Amz-Object-Lock-Mode"), h.Get("X-Amz-Object-Lock-Retain-Until-Date"), h.Get("X-Amz-Object-Lock-Legal-Hold")
	const pair = "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied."
	if date != "" && mode == "" {
		return l, invalidLockArg(pair, "x-amz-object-lock-mode", "")
	}
	if date == "" && mode != "" {
		return l, invalidLockArg(pair, "x-amz-object-lock-retain-until-date", "")
	}
	if date != "" {
		t, err := time.Parse(time.RFC3339, date)
		if err != nil {
			return l, invalidLockArg("The retain until date must be provided in ISO 8601 format", "x-amz-object-lock-retain-until-date", date)
		}
		if !t.After(now) {
			return l, invalidLockArg("The retain until date must be in the future!", "x-amz-object-lock-retain-until-date", date)
		}
		l.until = t
	}
	if mode != "" && mode != lockGovernance && mode != lockCompliance {
		return l, invalidLockArg("Unknown wormMode directive.", "x-amz-object-lock-mode", mode)
	}
	l.mode = mode
	if hold != "" && hold != legalHoldOn && hold != legalHoldOff {
		return l, invalidLockArg("Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold", hold)
	}
	l.legalHold = hold
	return l, nil
}

// lockTimeFormat is how retain-until dates are stored and sent.
const lockTimeFormat = "2006-01-02T15:04:05.000Z"

func formatLockTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(lockTimeFormat)
}

// lockUntil parses a stored retain-until date.
func lockUntil(a *objectAttrs) time.Time {
	t, err := time.Parse(time.RFC3339, a.LockUntil)
	if err != nil {
		// A retention whose date cannot be read protects forever rather
		// than not at all.
		return time.Unix(1<<62, 0)
	}
	return t
}

// newObjectLock sets the Object Lock attributes of a new object (PutObject,
// CopyObject, CreateMultipartUpload): those the request's headers ask for,
// else, with applyDefault, the bucket's default retention (a multipart
// object gets it when the upload completes: completedLock). It reports
// whether the bucket has Object Lock.
func (s *Server) newObjectLock(req *request, a *objectAttrs, applyDefault bool) (bool, error) {
	l, err := parseLockHeaders(req.r.Header, s.now())
	if err != nil {
		return false, err
	}
	a.LockMode, a.LockUntil, a.LegalHold = "", "", ""
	c, err := s.lockConfig(req.bucket)
	if err != nil {
		return false, err
	}
	if c == nil {
		if l.mode != "" || l.legalHold == legalHoldOn {
			return false, errBucketLockMissingHeader
		}
		return false, nil
	}
	if l.mode != "" {
		a.LockMode, a.LockUntil = l.mode, formatLockTime(l.until)
	} else if applyDefault {
		applyDefaultRetention(c, a, s.now())
	}
	a.LegalHold = l.legalHold
	return true, nil
}

// applyDefaultRetention gives a without a retention the bucket's default.
func applyDefaultRetention(c *objectLockConfiguration, a *objectAttrs, now time.Time) {
	if a.LockMode != "" || c == nil || c.Rule == nil || c.Rule.DefaultRetention == nil {
		return
	}
	d := c.Rule.DefaultRetention
	a.LockMode, a.LockUntil = d.Mode, formatLockTime(d.until(now))
}

// completedLock applies the bucket's default retention to a multipart
// object at completion, when it comes into existence. It reports whether
// the bucket has Object Lock.
func (s *Server) completedLock(bucket string, a *objectAttrs) (bool, error) {
	c, err := s.lockConfig(bucket)
	if err != nil {
		return false, err
	}
	applyDefaultRetention(c, a, s.now())
	return c != nil, nil
}

// bypassGovernance reports whether the request asks to override GOVERNANCE
// retention. Root and admin accounts have every permission, so asking is
// enough; other accounts also need s3:BypassGovernanceRetention, which
// authorizeAccount checks (impliedActions).
func bypassGovernance(req *request) bool {
	return strings.EqualFold(req.r.Header.Get("X-Amz-Bypass-Governance-Retention"), "true")
}

// lockedBy reports why the object with attributes a cannot be deleted or
// replaced at now: a legal hold, an unexpired COMPLIANCE retention, or an
// unexpired GOVERNANCE retention without bypass.
func lockedBy(a *objectAttrs, now time.Time, bypass bool) error {
	if a.LegalHold == legalHoldOn {
		return errObjectLocked
	}
	if a.LockMode == "" || !lockUntil(a).After(now) {
		return nil
	}
	if a.LockMode == lockGovernance && bypass {
		return nil
	}
	return errObjectLocked
}

// checkNotLocked tests the current value of a key about to be replaced or
// deleted. It runs under the engine's key lock.
func (s *Server) checkNotLocked(cur engine.Meta, bypass bool) error {
	if cur.Type != engine.TypeString || len(cur.Attrs) == 0 {
		return nil
	}
	a, err := decodeAttrs(cur.Attrs)
	if err != nil {
		return err
	}
	return lockedBy(&a, s.now(), bypass)
}

// overwriteBypass reports whether a write (PUT, copy, multipart
// completion) may replace an object under GOVERNANCE retention. On S3 the
// bucket is versioned and an overwrite never touches the locked version;
// here an overwrite replaces it, so it takes what a delete of it takes:
// the x-amz-bypass-governance-retention header (S3 defines it for
// deletes, not writes), or, in a bucket with Object Lock, a bucket policy
// that explicitly allows the requester s3:BypassGovernanceRetention on
// the object. (An account that sends the header still needs that
// permission: impliedActions.)
func (s *Server) overwriteBypass(req *request, lockEnabled bool) (bool, error) {
	if bypassGovernance(req) {
		return true, nil
	}
	if !lockEnabled {
		return false, nil
	}
	policy, err := s.loadPolicy(req.bucket)
	if err != nil || policy == nil {
		return false, err
	}
	d := policy.evaluateFor(requester(req), "s3:BypassGovernanceRetention", req.bucket+"/"+req.key, s.requestConditions(req))
	return d == decisionAllow, nil
}

// overwriteCheck returns the engine Check of a write that replaces key:
// the object lock test (bypass: overwriteBypass), then the request's
// write conditions (If-Match, If-None-Match), both under the key's lock.
func (s *Server) overwriteCheck(req *request, ks string, key []byte, bypass bool) func(engine.Meta, bool) error {
	conds := writeConditions(req.r.Header, ks, key)
	return func(cur engine.Meta, exists bool) error {
		if exists {
			if err := s.checkNotLocked(cur, bypass); err != nil {
				return err
			}
		}
		if conds != nil {
			return conds(cur, exists)
		}
		return nil
	}
}

// deleteUnlocked deletes key unless the object is locked; the test and the
// delete are atomic. A missing key is not an error.
func (s *Server) deleteUnlocked(ks string, key []byte, bypass bool) error {
	_, err := s.eng.DeleteIf(ks, key, func(cur engine.Meta) error {
		return s.checkNotLocked(cur, bypass)
	})
	return err
}

// deleteKeysUnlocked deletes the keys that are not locked (DeleteObjects)
// and returns them; each refused or failed key is added to errs.
func (s *Server) deleteKeysUnlocked(ks string, keys [][]byte, bypass bool, errs []deleteError) ([][]byte, []deleteError) {
	done := keys[:0]
	for _, k := range keys {
		if err := s.deleteUnlocked(ks, k, bypass); err != nil {
			ae := toAPIError(err)
			errs = append(errs, deleteError{Key: string(k), Code: ae.Code, Message: ae.Message})
			continue
		}
		done = append(done, k)
	}
	return done, errs
}

// setLockHeaders adds an object's retention and legal hold to GET and HEAD
// responses.
func setLockHeaders(h http.Header, a *objectAttrs) {
	if a.LockMode != "" {
		h.Set("X-Amz-Object-Lock-Mode", a.LockMode)
		h.Set("X-Amz-Object-Lock-Retain-Until-Date", formatLockTime(lockUntil(a)))
	}
	if a.LegalHold != "" {
		h.Set("X-Amz-Object-Lock-Legal-Hold", a.LegalHold)
	}
}

// readSmallBody reads an XML request body of at most maxXMLBody bytes; an
// empty body is MissingRequestBodyError.
func readSmallBody(body io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxXMLBody+1))
	if err != nil {
		return nil, bodyErr(err)
	}
	if len(data) > maxXMLBody {
		return nil, errEntityTooLarge
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errMissingRequestBody
	}
	return data, nil
}
