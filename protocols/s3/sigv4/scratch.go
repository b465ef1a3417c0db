package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// scratch is the working memory of one verification: the canonical
// request and string to sign are built in buf, hashed and signed with a
// reused SHA-256 state, so that verifying a request allocates nothing
// once the signing key is cached.
type scratch struct {
	buf    []byte
	h      hash.Hash
	pad    [sha256.BlockSize]byte
	sum    [sha256.Size]byte
	hex    [2 * sha256.Size]byte
	name   []byte     // canonical header name being looked up
	signed [32]string // backing array of authFields.signed
	params []queryParam
}

type queryParam struct{ k, v string }

var scratchPool = sync.Pool{New: func() any {
	return &scratch{buf: make([]byte, 0, 1024), h: sha256.New(), name: make([]byte, 0, 64)}
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(sc *scratch) {
	if cap(sc.buf) > 64<<10 {
		return // an outsized request; let it go
	}
	clear(sc.signed[:])
	clear(sc.params)
	sc.params = sc.params[:0]
	scratchPool.Put(sc)
}

// hmacHex computes the HMAC-SHA256 of msg under key (at most one SHA-256
// block long, as signing keys are) into sc.hex and returns it.
func (sc *scratch) hmacHex(key, msg []byte) []byte {
	sc.pad = [sha256.BlockSize]byte{}
	copy(sc.pad[:], key)
	for i := range sc.pad {
		sc.pad[i] ^= 0x36
	}
	sc.h.Reset()
	sc.h.Write(sc.pad[:])
	sc.h.Write(msg)
	inner := sc.h.Sum(sc.sum[:0])
	for i := range sc.pad {
		sc.pad[i] ^= 0x36 ^ 0x5c
	}
	sc.h.Reset()
	sc.h.Write(sc.pad[:])
	sc.h.Write(inner)
	hex.Encode(sc.hex[:], sc.h.Sum(sc.sum[:0]))
	return sc.hex[:]
}

// sha256Hex hashes b into sc.hex and returns it.
func (sc *scratch) sha256Hex(b []byte) []byte {
	sc.h.Reset()
	sc.h.Write(b)
	hex.Encode(sc.hex[:], sc.h.Sum(sc.sum[:0]))
	return sc.hex[:]
}

// signature returns the hex signature of request r (see
// appendCanonicalRequest) at time t in scope under key. The result lives
// in sc until its next use.
func (sc *scratch) signature(r *http.Request, signed []string, payloadHash, skipQuery string, t time.Time, scope string, key []byte) []byte {
	sc.buf = sc.appendCanonicalRequest(sc.buf[:0], r, signed, payloadHash, skipQuery)
	crHash := sc.sha256Hex(sc.buf)
	sc.buf = appendStringToSign(sc.buf[:0], t, scope, crHash)
	return sc.hmacHex(key, sc.buf)
}

// appendStringToSign appends the request string to sign.
func appendStringToSign(dst []byte, t time.Time, scope string, canonicalHash []byte) []byte {
	dst = append(dst, Algorithm...)
	dst = append(dst, '\n')
	dst = t.UTC().AppendFormat(dst, TimeFormat)
	dst = append(dst, '\n')
	dst = append(dst, scope...)
	dst = append(dst, '\n')
	return append(dst, canonicalHash...)
}

// appendCanonicalRequest appends the canonical request of r. signed are
// the lower-case signed header names in order; skipQuery names a query
// parameter to leave out (X-Amz-Signature of a presigned URL).
func (sc *scratch) appendCanonicalRequest(dst []byte, r *http.Request, signed []string, payloadHash, skipQuery string) []byte {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	if r.URL.Path == "" {
		dst = append(dst, '/')
	} else {
		dst = appendEncoded(dst, r.URL.Path, true)
	}
	dst = append(dst, '\n')
	dst = sc.appendCanonicalQuery(dst, r.URL.RawQuery, skipQuery)
	dst = append(dst, '\n')
	for _, name := range signed {
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = sc.appendHeaderValue(dst, r, name)
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	for i, name := range signed {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, name...)
	}
	dst = append(dst, '\n')
	return append(dst, payloadHash...)
}

// appendHeaderValue appends the canonical value of one signed header:
// each value trimmed with inner runs of spaces collapsed, several values
// joined by commas.
func (sc *scratch) appendHeaderValue(dst []byte, r *http.Request, name string) []byte {
	switch name {
	case "host", authority:
		return append(dst, r.Host...)
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return append(dst, v...)
		}
		if r.ContentLength >= 0 && !(r.ContentLength == 0 && len(r.TransferEncoding) > 0) {
			return strconv.AppendInt(dst, r.ContentLength, 10)
		}
		return dst
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			for i, te := range r.TransferEncoding {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, te...)
			}
			return dst
		}
	}
	for i, v := range sc.headerValues(r.Header, name) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTrimmed(dst, v)
	}
	return dst
}

// headerValues is h.Values(name) for a lower-case name, canonicalising
// the name in sc instead of in a new string.
func (sc *scratch) headerValues(h http.Header, name string) []string {
	b := append(sc.name[:0], name...)
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
		upper = c == '-'
	}
	sc.name = b
	return h[string(b)]
}

// appendTrimmed appends s without leading and trailing spaces and with
// inner runs of spaces collapsed to one.
func appendTrimmed(dst []byte, s string) []byte {
	s = strings.TrimSpace(s)
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			space = true
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// appendCanonicalQuery appends the query parameters sorted and strictly
// re-encoded.
func (sc *scratch) appendCanonicalQuery(dst []byte, raw, skip string) []byte {
	if raw == "" {
		return dst
	}
	params := sc.params[:0]
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if k == skip {
			continue
		}
		params = append(params, queryParam{k, v})
	}
	sc.params = params
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	for i, p := range params {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = appendEncoded(dst, p.k, false)
		dst = append(dst, '=')
		dst = appendEncoded(dst, p.v, false)
	}
	return dst
}

// queryUnescape decodes a query component, or returns it as it is when
// it is not validly escaped.
func queryUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// appendEncoded appends the strict SigV4 URI encoding of s, keeping '/'
// when keepSlash.
func appendEncoded(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperhex[c>>4], upperhex[c&15])
	}
	return dst
}

// equalHex compares a computed hex signature with a presented one in
// time independent of where they differ.
func equalHex[S string | []byte](want []byte, got S) bool {
	if len(want) != len(got) {
		return false
	}
	var d byte
	for i := range want {
		d |= want[i] ^ got[i]
	}
	return d == 0
}
