package s3

import (
	"encoding/xml"
	"errors"
	"net"
	"net/http"
	"sort"
	"strings"

	"github.com/gpucache/gpucache/engine"
)

const (
	// bucketPrefix namespaces bucket keyspaces away from RESP namespaces.
	bucketPrefix = "s3:"
	// uploadPrefix names a bucket's hidden keyspace of pending multipart
	// uploads, their parts, and pieces of large PUTs in flight.
	uploadPrefix = "s3mp:"
)

// bucketKS is the engine keyspace of a bucket.
func (s *Server) bucketKS(bucket string) string {
	if bucket == s.cfg.RESPBucket && bucket != "" {
		return ""
	}
	return bucketPrefix + bucket
}

func uploadKS(bucket string) string { return uploadPrefix + bucket }

// validBucketName applies the S3 naming rules.
func validBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) || strings.Contains(b, "..") ||
		strings.Contains(b, ".-") || strings.Contains(b, "-.") || net.ParseIP(b) != nil ||
		strings.HasPrefix(b, "xn--") || strings.HasSuffix(b, "-s3alias") {
		return false
	}
	return true
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// checkBucket returns the keyspace of an existing bucket, or NoSuchBucket.
func (s *Server) checkBucket(bucket string) (string, error) {
	ks := s.bucketKS(bucket)
	if ks == "" {
		return ks, nil
	}
	if _, err := s.eng.Keyspace(ks); err != nil {
		if errors.Is(err, engine.ErrKeyspaceNotFound) {
			return "", errNoSuchBucket
		}
		return "", err
	}
	return ks, nil
}

type listAllMyBucketsResult struct {
	XMLName xml.Name     `xml:"ListAllMyBucketsResult"`
	NS      string       `xml:"xmlns,attr"`
	Owner   owner        `xml:"Owner"`
	Buckets []bucketInfo `xml:"Buckets>Bucket"`
	// ContinuationToken is the last bucket name of a truncated page.
	ContinuationToken string `xml:"ContinuationToken,omitempty"`
	Prefix            string `xml:"Prefix,omitempty"`
}

type bucketInfo struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion"`
}

func (s *Server) listBuckets(req *request) error {
	infos, err := s.eng.Keyspaces()
	if err != nil {
		return err
	}
	max, err := intParam(req, "max-buckets", 10000, 1<<31-1)
	if err != nil || req.has("max-buckets") && (max < 1 || max > 10000) {
		return errInvalidArgument.withMessage("Argument max-buckets must be an integer between 1 and 10000.")
	}
	prefix, after := req.q.Get("prefix"), req.q.Get("continuation-token")
	res := listAllMyBucketsResult{NS: s3NS, Owner: s.owner(req), Buckets: []bucketInfo{}, Prefix: prefix}
	var all []bucketInfo
	mine := "" // a non-admin account lists the buckets it owns
	if !s.privileged(req) {
		mine = requester(req)
	}
	for _, ki := range infos {
		if name, ok := strings.CutPrefix(ki.Name, bucketPrefix); ok {
			if mine != "" {
				if own, err := s.bucketOwner(&request{bucket: name, auth: req.auth}); err != nil || own != mine {
					continue
				}
			}
			region := string(ki.Attrs)
			if region == "" {
				region = s.cfg.Region
			}
			all = append(all, bucketInfo{Name: name, CreationDate: isoTime(ki.Created.UnixNano()), BucketRegion: region})
		}
	}
	if b := s.cfg.RESPBucket; b != "" && mine == "" {
		all = append(all, bucketInfo{Name: b, CreationDate: isoTime(0), BucketRegion: s.cfg.Region})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	for _, b := range all {
		if !strings.HasPrefix(b.Name, prefix) || b.Name <= after {
			continue
		}
		if len(res.Buckets) == max {
			res.ContinuationToken = res.Buckets[len(res.Buckets)-1].Name
			break
		}
		res.Buckets = append(res.Buckets, b)
	}
	return writeXML(req.w, http.StatusOK, res)
}

type createBucketConfiguration struct {
	LocationConstraint string `xml:"LocationConstraint"`
	Tags               []tag  `xml:"Tags>Tag"`
}

func (s *Server) createBucket(req *request) error {
	if !validBucketName(req.bucket) {
		return errInvalidBucketName
	}
	body, err := s.newXMLBodyReader(req, true)
	if err != nil {
		return err
	}
	defer body.close()
	var conf createBucketConfiguration
	if err := readXML(body, &conf, false); err != nil {
		return err
	}
	tags, err := checkTags(conf.Tags, maxBucketTags)
	if err != nil {
		return err
	}
	region := conf.LocationConstraint
	if region == "" {
		region = s.cfg.Region
	} else if region == "us-east-1" || region != req.auth.Region && !(region == "EU" && req.auth.Region == "eu-west-1") {
		// NB: us-east-1 is never named: it is the region of an empty
		// constraint, and S3 refuses it spelled out.
		// As on S3: a bucket is created in the region the request was
		// signed for (any region is accepted for signing).
		return errInvalidLocation.withFields("LocationConstraint", region)
	}
	if req.bucket == s.cfg.RESPBucket {
		return errBucketAlreadyOwnedByYou
	}
	ownership, acl, err := s.createBucketAccess(req)
	if err != nil {
		return err
	}
	if err := s.eng.CreateKeyspace(s.bucketKS(req.bucket), []byte(region)); err != nil {
		if errors.Is(err, engine.ErrKeyspaceExists) {
			// The configured root credentials are one owner; any other
			// account's bucket exists for everyone else.
			me := requester(req)
			if own, oerr := s.bucketOwner(req); oerr == nil && own != me && (s.roleOf(own) != roleRoot || s.roleOf(me) != roleRoot) {
				return errBucketAlreadyExists
			}
		}
		return err
	}
	if err := s.initBucketAccess(req.bucket, ownership, &acl); err != nil {
		return err
	}
	if err := s.enableObjectLockOnCreate(req); err != nil {
		return err
	}
	if len(tags) > 0 {
		if err := s.setBucketTags(req.bucket, tags); err != nil {
			return err
		}
	}
	if err := s.eng.Sync(); err != nil {
		return err
	}
	req.w.Header().Set("Location", "/"+req.bucket)
	req.w.Header().Set("X-Amz-Bucket-Arn", "arn:aws:s3:::"+req.bucket)
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) headBucket(req *request) error {
	ks, err := s.checkBucket(req.bucket)
	if err != nil {
		return err
	}
	req.w.Header().Set("X-Amz-Bucket-Region", s.bucketRegion(ks))
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) bucketRegion(ks string) string {
	if ks != "" {
		if ki, err := s.eng.Keyspace(ks); err == nil && len(ki.Attrs) > 0 {
			return string(ki.Attrs)
		}
	}
	return s.cfg.Region
}

func (s *Server) deleteBucket(req *request) error {
	ks, err := s.checkBucket(req.bucket)
	if err != nil {
		return err
	}
	if ks == "" {
		return errAccessDenied.withMessage("The bucket mapped onto the Redis keyspace cannot be deleted.")
	}
	if s.cl != nil && req.r.Header.Get(hdrCheck) != "" {
		return s.deleteBucketCheck(req, ks)
	}
	if err := s.eng.DeleteKeyspace(ks); err != nil {
		if errors.Is(err, engine.ErrKeyspaceNotFound) {
			return errNoSuchBucket
		}
		return err
	}
	// Pending uploads go with the bucket.
	s.dropUploads(req.bucket)
	if err := s.eng.Sync(); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	NS      string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

func (s *Server) getBucketLocation(req *request) error {
	ks, err := s.checkBucket(req.bucket)
	if err != nil {
		return err
	}
	region := s.bucketRegion(ks)
	if region == "us-east-1" {
		region = ""
	}
	return writeXML(req.w, http.StatusOK, locationConstraint{NS: s3NS, Region: region})
}

type versioningConfiguration struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	NS      string   `xml:"xmlns,attr"`
}

func (s *Server) getBucketVersioning(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	return writeXML(req.w, http.StatusOK, versioningConfiguration{NS: s3NS})
}

// dropUploads deletes every key of the bucket's upload keyspace.
func (s *Server) dropUploads(bucket string) {
	uks := uploadKS(bucket)
	for {
		var keys [][]byte
		_, err := s.eng.Scan(uks, engine.ScanOptions{Limit: 1000, LimitMatches: true}, func(k []byte, _ *engine.Meta) bool {
			keys = append(keys, append([]byte(nil), k...))
			return true
		})
		if err != nil || len(keys) == 0 {
			return
		}
		if _, err := s.eng.Delete(uks, keys); err != nil {
			return
		}
	}
}
