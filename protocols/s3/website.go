package s3

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// Bucket website configuration: validated as S3 does and stored,
// re-encoded, as the bucket sub-resource document "website". The server
// has no website endpoint: the configuration is kept for clients that
// read it back, but index and error documents, redirects and routing
// rules are not served.

const (
	maxWebsiteBody   = 128 << 10
	maxRoutingRules  = 50
	redirectProtocol = "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically."
)

var (
	errNoSuchWebsite      = &APIError{Code: "NoSuchWebsiteConfiguration", Status: 404, Message: "The specified bucket does not have a website configuration"}
	errMaxMessageLength   = &APIError{Code: "MaxMessageLengthExceeded", Status: 400, Message: "Your request was too big."}
	errRedirectProtocol   = &APIError{Code: "InvalidRequest", Status: 400, Message: redirectProtocol}
	errReplaceKeyAndPrefx = &APIError{Code: "InvalidRequest", Status: 400, Message: "You can only define ReplaceKeyPrefix or ReplaceKey but not both."}
)

type websiteConfiguration struct {
	XMLName               xml.Name               `xml:"WebsiteConfiguration"`
	NS                    string                 `xml:"xmlns,attr,omitempty"`
	ErrorDocument         *websiteErrorDocument  `xml:"ErrorDocument,omitempty"`
	IndexDocument         *websiteIndexDocument  `xml:"IndexDocument,omitempty"`
	RedirectAllRequestsTo *websiteRedirectAll    `xml:"RedirectAllRequestsTo,omitempty"`
	RoutingRules          *websiteRoutingRuleSet `xml:"RoutingRules,omitempty"`
}

type websiteErrorDocument struct {
	Key string `xml:"Key"`
}

type websiteIndexDocument struct {
	Suffix string `xml:"Suffix"`
}

type websiteRedirectAll struct {
	HostName string `xml:"HostName"`
	Protocol string `xml:"Protocol,omitempty"`
}

type websiteRoutingRuleSet struct {
	Rules []websiteRoutingRule `xml:"RoutingRule"`
}

type websiteRoutingRule struct {
	Condition *websiteCondition `xml:"Condition,omitempty"`
	Redirect  *websiteRedirect  `xml:"Redirect"`
}

type websiteCondition struct {
	HTTPErrorCodeReturnedEquals string `xml:"HttpErrorCodeReturnedEquals,omitempty"`
	KeyPrefixEquals             string `xml:"KeyPrefixEquals,omitempty"`
}

type websiteRedirect struct {
	HostName             string `xml:"HostName,omitempty"`
	HTTPRedirectCode     string `xml:"HttpRedirectCode,omitempty"`
	Protocol             string `xml:"Protocol,omitempty"`
	ReplaceKeyPrefixWith string `xml:"ReplaceKeyPrefixWith,omitempty"`
	ReplaceKeyWith       string `xml:"ReplaceKeyWith,omitempty"`
}

func websiteArg(name, value, msg string) *APIError {
	e := errInvalidArgument.withMessage(msg)
	e.ArgName, e.ArgValue = name, value
	return e
}

func validRedirectProtocol(p string) bool { return p == "" || p == "http" || p == "https" }

// parseWebsite parses and validates a WebsiteConfiguration document.
func parseWebsite(body []byte) (*websiteConfiguration, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errMissingRequestBody
	}
	var c websiteConfiguration
	if err := xml.Unmarshal(body, &c); err != nil {
		return nil, errMalformedXML
	}
	if c.RedirectAllRequestsTo != nil {
		if c.IndexDocument != nil || c.ErrorDocument != nil || c.RoutingRules != nil {
			return nil, errMalformedXML
		}
		if c.RedirectAllRequestsTo.HostName == "" {
			return nil, errMalformedXML
		}
		if !validRedirectProtocol(c.RedirectAllRequestsTo.Protocol) {
			return nil, errRedirectProtocol
		}
		c.NS = s3NS
		return &c, nil
	}
	if c.IndexDocument == nil {
		return nil, errMalformedXML
	}
	if sfx := c.IndexDocument.Suffix; sfx == "" || strings.Contains(sfx, "/") {
		return nil, websiteArg("IndexDocument", sfx, "The IndexDocument Suffix is not well formed")
	}
	if c.ErrorDocument != nil && c.ErrorDocument.Key == "" {
		return nil, websiteArg("ErrorDocument", "", "The ErrorDocument Key is not well formed")
	}
	if c.RoutingRules != nil {
		n := len(c.RoutingRules.Rules)
		if n == 0 {
			return nil, errMalformedXML
		}
		if n > maxRoutingRules {
			return nil, errInvalidRequest.withMessage(strconv.Itoa(n) + " routing rules provided, the number of routing rules in a website configuration is limited to 50.")
		}
		for i := range c.RoutingRules.Rules {
			if err := c.RoutingRules.Rules[i].validate(); err != nil {
				return nil, err
			}
		}
	}
	c.NS = s3NS
	return &c, nil
}

func (r *websiteRoutingRule) validate() error {
	rd := r.Redirect
	if rd == nil || *rd == (websiteRedirect{}) {
		return errMalformedXML
	}
	if rd.ReplaceKeyWith != "" && rd.ReplaceKeyPrefixWith != "" {
		return errReplaceKeyAndPrefx
	}
	if !validRedirectProtocol(rd.Protocol) {
		return errRedirectProtocol
	}
	if rd.HTTPRedirectCode != "" {
		code, err := strconv.Atoi(rd.HTTPRedirectCode)
		if err != nil {
			return errMalformedXML
		}
		if code < 301 || code > 308 || code == 306 {
			return errInvalidRequest.withMessage("The provided HTTP redirect code (" + strconv.Itoa(code) + ") is not valid. Valid codes are 3XX except 300.")
		}
	}
	if c := r.Condition; c != nil {
		if *c == (websiteCondition{}) {
			return errMalformedXML
		}
		if c.HTTPErrorCodeReturnedEquals != "" {
			code, err := strconv.Atoi(c.HTTPErrorCodeReturnedEquals)
			if err != nil {
				return errMalformedXML
			}
			if !(code >= 400 && code <= 417 || code >= 500 && code <= 505) {
				return errInvalidRequest.withMessage("The provided HTTP error code (" + strconv.Itoa(code) + ") is not valid. Valid codes are 4XX or 5XX.")
			}
		}
	}
	return nil
}

func (s *Server) bucketWebsite(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	switch req.r.Method {
	case http.MethodGet:
		doc, ok, err := s.getBucketConfig(req.bucket, cfgWebsite)
		if err != nil {
			return err
		}
		if !ok {
			return errNoSuchWebsite
		}
		var c websiteConfiguration
		if err := xml.Unmarshal(doc, &c); err != nil {
			return err
		}
		c.NS = s3NS
		return writeXML(req.w, http.StatusOK, c)
	case http.MethodPut:
		body, err := s.readSmallBody(req, maxWebsiteBody)
		if err != nil {
			if err == errEntityTooLarge {
				return errMaxMessageLength
			}
			return err
		}
		c, err := parseWebsite(body)
		if err != nil {
			return err
		}
		doc, err := xml.Marshal(c)
		if err != nil {
			return err
		}
		if err := s.putBucketConfig(req.bucket, cfgWebsite, doc); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodDelete:
		if err := s.deleteBucketConfig(req.bucket, cfgWebsite); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethodNotAllowed
}
