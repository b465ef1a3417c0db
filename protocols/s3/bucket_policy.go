package s3

import (
	"encoding/xml"
	"net/http"
	"strconv"
)

// loadPolicy returns the bucket's parsed policy, nil when none is set.
func (s *Server) loadPolicy(bucket string) (*bucketPolicy, error) {
	doc, ok, err := s.getBucketConfig(bucket, cfgPolicy)
	if err != nil || !ok {
		return nil, err
	}
	p, err := parseBucketPolicy(doc, bucket, s.knownAccount)
	if err != nil {
		// Stored policies were validated; one naming a credential since
		// removed from the configuration no longer parses. Its public
		// statements still count.
		p, err = parseBucketPolicy(doc, bucket, func(string) bool { return true })
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

type policyStatus struct {
	XMLName  xml.Name `xml:"PolicyStatus"`
	NS       string   `xml:"xmlns,attr"`
	IsPublic bool     `xml:"IsPublic"`
}

func (s *Server) bucketPolicyHandler(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	switch req.r.Method {
	case http.MethodGet:
		doc, ok, err := s.getBucketConfig(req.bucket, cfgPolicy)
		if err != nil {
			return err
		}
		if !ok {
			return errNoSuchBucketPolicy
		}
		h := req.w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(doc)))
		req.w.WriteHeader(http.StatusOK)
		req.w.Write(doc)
		return nil
	case http.MethodPut:
		body, err := s.readSmallBody(req, maxPolicyBody)
		if err != nil {
			if err == errEntityTooLarge {
				return malformedPolicy("Policies must not exceed 20480 bytes")
			}
			return err
		}
		if _, err := parseBucketPolicy(body, req.bucket, s.knownAccount); err != nil {
			return err
		}
		if err := s.putBucketConfig(req.bucket, cfgPolicy, body); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodDelete:
		if err := s.deleteBucketConfig(req.bucket, cfgPolicy); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethodNotAllowed
}

func (s *Server) getBucketPolicyStatus(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	p, err := s.loadPolicy(req.bucket)
	if err != nil {
		return err
	}
	if p == nil {
		return errNoSuchBucketPolicy
	}
	return writeXML(req.w, http.StatusOK, policyStatus{NS: s3NS, IsPublic: p.isPublic()})
}
