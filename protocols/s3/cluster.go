package s3

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/engine"
)

// Cluster puts the S3 front end in a Redis Cluster (WithCluster). An
// object's key is hashed as a RESP key (cluster.KeySlot of the object key,
// hash tags included, the bucket name not part of it), so an object of
// the s3-resp-bucket lives where the RESP string of the same name lives.
// A node that does not serve the slot forwards the request, signature and
// Host untouched, to the S3 endpoint of the node that does; bucket-level
// writes apply on every master, and listings merge every master's keys.
type Cluster struct {
	// State is the node's cluster state (the RESP front end's).
	State *cluster.State
	// PeerS3Addr returns the S3 address (host:port) of node n. It is
	// called once per node and topology version; errors are not cached.
	PeerS3Addr func(ctx context.Context, n *cluster.Node) (string, error)
	// RootCAs verifies a peer's S3 certificate when a TLS request is
	// forwarded (the nodes serve one certificate for the name clients
	// use). Nil: the system's roots.
	RootCAs *x509.CertPool
}

// WithCluster makes the server route by slot (see Cluster).
func WithCluster(c Cluster) Option {
	return func(s *Server) {
		if c.State != nil && c.PeerS3Addr != nil {
			s.cl = newClusterRouter(s, c)
		}
	}
}

const (
	// hdrHops counts the forwards a request went through; a node stops
	// forwarding at maxHops (topologies that disagree would loop).
	hdrHops = "X-Gpucache-Cluster-Hops"
	// hdrLocal asks a peer to answer from its own keys only: a listing,
	// a bucket-level write or a DeleteObjects replayed to every node.
	hdrLocal = "X-Gpucache-Cluster-Local"
	// hdrCheck asks a peer whether it would delete the bucket (it is
	// empty there) without deleting it.
	hdrCheck = "X-Gpucache-Cluster-Check"
	maxHops  = 2
	// maxReplayBody bounds the body of a request replayed to every node
	// (bucket configuration documents, DeleteObjects lists).
	maxReplayBody = 2 << 20
)

type clusterRouter struct {
	cfg    Cluster
	client *http.Client
	proxy  *httputil.ReverseProxy

	mu      sync.Mutex
	version int64
	addrs   map[string]string // node id -> S3 host:port, for version
}

type ctxKey int

const (
	ctxTarget ctxKey = iota // the peer's S3 address, for the proxy
	ctxServerName
)

func newClusterRouter(s *Server, c Cluster) *clusterRouter {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		// A forwarded TLS request is checked against the name the client
		// asked for: the nodes serve the same certificate.
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			raw, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			name, _ := ctx.Value(ctxServerName).(string)
			tc := tls.Client(raw, &tls.Config{ServerName: name, RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12})
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			return tc, nil
		},
	}
	cr := &clusterRouter{cfg: c, client: &http.Client{Transport: tr}, version: -2}
	cr.proxy = &httputil.ReverseProxy{
		Transport:     tr,
		FlushInterval: -1,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Host, _ = pr.In.Context().Value(ctxTarget).(string)
			pr.Out.Host = pr.In.Host // signed: it stays the client's
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Retry-After", "1")
			s.writeError(w, r, nil, errServiceUnavailable.withMessage("The node serving this key did not answer: "+err.Error()))
		},
	}
	return cr
}

// peerAddr is the S3 address of node n under view v.
func (c *clusterRouter) peerAddr(ctx context.Context, v *cluster.View, n *cluster.Node) (string, error) {
	c.mu.Lock()
	if c.version != v.Version {
		c.version, c.addrs = v.Version, map[string]string{}
	}
	a, ok := c.addrs[n.ID]
	c.mu.Unlock()
	if ok {
		return a, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	a, err := c.cfg.PeerS3Addr(ctx, n)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.version == v.Version {
		c.addrs[n.ID] = a
	}
	c.mu.Unlock()
	return a, nil
}

// peers are the other masters of view v.
func peers(v *cluster.View) []*cluster.Node {
	if v.Topology == nil {
		return nil
	}
	var out []*cluster.Node
	for _, n := range v.Topology.Nodes {
		if n.Role == cluster.Master && n != v.Myself {
			out = append(out, n)
		}
	}
	return out
}

// nodeByAddr finds the node of a RESP address (a MOVED target).
func nodeByAddr(v *cluster.View, addr string) *cluster.Node {
	if v.Topology == nil {
		return nil
	}
	for _, n := range v.Topology.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

// objectOp reports whether the request addresses one object (or its
// multipart upload), routed by its key.
func objectOp(req *request) bool {
	return req.key != "" && req.op != opPostObject
}

// replayOp reports whether a request must apply on every master: writes
// of bucket state (create, delete, configuration documents) and
// DeleteObjects, whose keys any node may hold.
func replayOp(req *request) bool {
	if req.bucket == "" || req.key != "" {
		return false
	}
	switch req.r.Method {
	case http.MethodPut, http.MethodDelete:
		return true
	}
	return req.op == opDeleteObjects
}

// route answers, or forwards, a request this node does not serve alone.
// It returns handled true when the response was written.
func (c *clusterRouter) route(s *Server, req *request) (handled bool, err error) {
	r := req.r
	local := r.Header.Get(hdrLocal) != ""
	switch {
	case objectOp(req):
		return c.routeObject(req)
	case replayOp(req) && !local:
		return c.replay(s, req)
	}
	return false, nil
}

func (c *clusterRouter) routeObject(req *request) (bool, error) {
	r := req.r
	v := c.cfg.State.View()
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	verdict, addr := c.cfg.State.Route(v, cluster.KeySlot([]byte(req.key)), cluster.Request{Write: write})
	switch verdict {
	case cluster.Serve:
		if req.op == opCopyObject || req.op == opUploadPartCopy {
			return false, c.checkCopySource(v, req)
		}
		return false, nil
	case cluster.TryAgain:
		// RESP answers TRYAGAIN: the slot takes no writes for the last
		// milliseconds of its migration.
		req.w.Header().Set("Retry-After", "1")
		return false, errSlowDown
	case cluster.Down:
		return false, errServiceUnavailable.withMessage("The hash slot of this key is not served by any node of the cluster.")
	}
	hops := 0
	if h := r.Header.Get(hdrHops); h != "" {
		fmt.Sscan(h, &hops)
	}
	if hops >= maxHops {
		req.w.Header().Set("Retry-After", "1")
		return false, errSlowDown.withMessage("The cluster's nodes disagree on who serves this key; try again.")
	}
	n := nodeByAddr(v, addr)
	if n == nil {
		return false, errServiceUnavailable.withMessage("The node serving this key is not in the topology.")
	}
	target, err := c.peerAddr(r.Context(), v, n)
	if err != nil {
		req.w.Header().Set("Retry-After", "1")
		return false, errServiceUnavailable.withMessage("Cannot find the S3 address of the node serving this key: " + err.Error())
	}
	ctx := context.WithValue(r.Context(), ctxTarget, target)
	ctx = context.WithValue(ctx, ctxServerName, stripPort(r.Host))
	out := r.WithContext(ctx)
	out.URL = cloneURL(r.URL, target, r.TLS != nil)
	out.Header = r.Header.Clone()
	out.Header.Set(hdrHops, fmt.Sprint(hops+1))
	// The owner sets its own request id and Server header.
	h := req.w.Header()
	h.Del("X-Amz-Request-Id")
	h.Del("Server")
	c.proxy.ServeHTTP(req.w, out)
	return true, nil
}

// checkCopySource refuses a copy whose source this node does not serve:
// the copy composes the source's stored extents, which only its node has.
func (c *clusterRouter) checkCopySource(v *cluster.View, req *request) error {
	_, key, err := parseCopySource(req.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return nil // the handler answers it
	}
	if verdict, _ := c.cfg.State.Route(v, cluster.KeySlot([]byte(key)), cluster.Request{}); verdict != cluster.Serve {
		return errNotImplemented.withMessage("In cluster mode, a copy's source must be served by the node of its destination: give both keys the same hash tag {...}.")
	}
	return nil
}

func cloneURL(u *url.URL, host string, tls bool) *url.URL {
	out := *u
	out.Scheme = "http"
	if tls {
		out.Scheme = "https"
	}
	out.Host = host
	return &out
}

// peerResponse is what a peer answered a replayed request.
type peerResponse struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// send replays r (with body) to every other master, answering from its
// own keys only, and returns their answers.
func (c *clusterRouter) send(r *http.Request, body []byte) []peerResponse {
	v := c.cfg.State.View()
	ps := peers(v)
	out := make([]peerResponse, len(ps))
	var wg sync.WaitGroup
	for i, n := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = c.sendOne(r, body, v, n)
		}()
	}
	wg.Wait()
	return out
}

func (c *clusterRouter) sendOne(r *http.Request, body []byte, v *cluster.View, n *cluster.Node) peerResponse {
	target, err := c.peerAddr(r.Context(), v, n)
	if err != nil {
		return peerResponse{err: fmt.Errorf("node %s: %w", n.Addr(), err)}
	}
	ctx := context.WithValue(r.Context(), ctxServerName, stripPort(r.Host))
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, cloneURL(r.URL, target, r.TLS != nil).String(), rd)
	if err != nil {
		return peerResponse{err: err}
	}
	out.Header = r.Header.Clone()
	out.Header.Set(hdrLocal, "1")
	out.Host = r.Host
	out.ContentLength = int64(len(body))
	if body == nil {
		out.ContentLength = 0
		out.Body = http.NoBody
	}
	res, err := c.client.Do(out)
	if err != nil {
		return peerResponse{err: fmt.Errorf("node %s: %w", n.Addr(), err)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return peerResponse{err: fmt.Errorf("node %s: %w", n.Addr(), err)}
	}
	return peerResponse{status: res.StatusCode, header: res.Header, body: b}
}

// replay applies a bucket-level write on every other master, then lets
// this node serve it. The first failure of a peer is the answer (the
// nodes that applied it keep it: a repeated CreateBucket or DeleteBucket
// brings them together again).
func (c *clusterRouter) replay(s *Server, req *request) (bool, error) {
	r := req.r
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength > maxReplayBody {
			return false, errEntityTooLarge
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, maxReplayBody+1))
		if err != nil {
			return false, errIncompleteBody
		}
		if len(b) > maxReplayBody {
			return false, errEntityTooLarge
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	if req.op == opDeleteBucket {
		// Every node first says whether it could drop the bucket, so a
		// bucket with keys on one node stays on all.
		check := r.Clone(r.Context())
		check.Header.Set(hdrCheck, "1")
		for _, p := range c.send(check, nil) {
			if handled, err := c.peerFailed(req, p); handled || err != nil {
				return handled, err
			}
		}
		if ks := s.bucketKS(req.bucket); ks != "" && !s.keyspaceEmpty(ks) {
			return false, errBucketNotEmpty
		}
	}
	var keyErrs []deleteError // DeleteObjects: the keys other nodes could not delete
	for _, p := range c.send(r, body) {
		if p.err == nil && p.status == http.StatusOK && req.op == opDeleteObjects {
			var res deleteResult
			if err := xml.Unmarshal(p.body, &res); err != nil {
				return false, errInternal
			}
			keyErrs = append(keyErrs, res.Errors...)
			continue
		}
		if handled, err := c.peerFailed(req, p); handled || err != nil {
			return handled, err
		}
	}
	if len(keyErrs) == 0 {
		return false, nil
	}
	return true, s.deleteObjectsMerged(req, keyErrs)
}

// deleteObjectsMerged runs DeleteObjects here and reports, for the keys
// another node could not delete, that node's error instead of this
// node's (which holds no such key and deleted nothing).
func (s *Server) deleteObjectsMerged(req *request, keyErrs []deleteError) error {
	w := req.w
	rec := &recorder{h: w.Header(), status: http.StatusOK}
	req.w = rec
	err := s.serve(req)
	req.w = w
	if err != nil {
		s.writeError(w, req.r, req, err)
		return nil
	}
	var res deleteResult
	if rec.status != http.StatusOK || xml.Unmarshal(rec.body.Bytes(), &res) != nil {
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())
		return nil
	}
	failed := map[string]bool{}
	for _, e := range keyErrs {
		failed[e.Key] = true
	}
	deleted := res.Deleted[:0]
	for _, d := range res.Deleted {
		if !failed[d.Key] {
			deleted = append(deleted, d)
		}
	}
	res.Deleted, res.Errors = deleted, append(res.Errors, keyErrs...)
	return writeXML(w, http.StatusOK, res)
}

// recorder keeps a handler's status and body; headers go to the real
// writer's map.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

// peerFailed answers the client with a peer's failure, if p is one.
func (c *clusterRouter) peerFailed(req *request, p peerResponse) (handled bool, err error) {
	if p.err != nil {
		req.w.Header().Set("Retry-After", "1")
		return false, errServiceUnavailable.withMessage("A node of the cluster did not answer: " + p.err.Error())
	}
	if p.status < 300 || acceptedPeerError(req, p) {
		return false, nil
	}
	h := req.w.Header()
	for k, vs := range p.header {
		if k == "Content-Length" || k == "Date" || k == "X-Amz-Request-Id" || k == "Server" {
			continue
		}
		h[k] = vs
	}
	req.w.WriteHeader(p.status)
	req.w.Write(p.body)
	return true, nil
}

// keyspaceEmpty reports whether ks holds no key.
func (s *Server) keyspaceEmpty(ks string) bool {
	empty := true
	s.eng.Scan(ks, engine.ScanOptions{Limit: 1, LimitMatches: true}, func([]byte, *engine.Meta) bool {
		empty = false
		return false
	})
	return empty
}

// deleteBucketCheck answers a peer's dry run of DeleteBucket (hdrCheck):
// 204 when this node could drop the bucket, BucketNotEmpty otherwise.
func (s *Server) deleteBucketCheck(req *request, ks string) error {
	if !s.keyspaceEmpty(ks) {
		return errBucketNotEmpty
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

// acceptedPeerError: a peer that already has the bucket (an earlier
// CreateBucket reached it) or no longer has it (an earlier DeleteBucket
// did) agrees with the outcome.
func acceptedPeerError(req *request, p peerResponse) bool {
	if p.status != http.StatusConflict && p.status != http.StatusNotFound {
		return false
	}
	var e struct{ Code string }
	if xml.Unmarshal(p.body, &e) != nil {
		return false
	}
	switch {
	case req.op == opCreateBucket:
		return e.Code == errBucketAlreadyOwnedByYou.Code
	case req.op == opDeleteBucket:
		return e.Code == errNoSuchBucket.Code
	}
	return false
}

// mergeListing adds the other masters' keys to l, this node's page of a
// listing of up to max entries. Every node answers the same signed
// request from its own keys; the merged page is the first max entries of
// the union, which is exact: a node that stopped early (truncated) did so
// after max entries, all in the union.
func (s *Server) mergeListing(req *request, l *listing, max int) (*listing, error) {
	if s.cl == nil || req.r.Header.Get(hdrLocal) != "" || max == 0 {
		return l, nil
	}
	decode := req.q.Get("encoding-type") == "url"
	prefixes := map[string]bool{}
	for _, p := range l.prefixes {
		prefixes[p.Prefix] = true
	}
	for _, p := range s.cl.send(req.r, nil) {
		if p.err != nil {
			req.w.Header().Set("Retry-After", "1")
			return nil, errServiceUnavailable.withMessage("A node of the cluster did not answer the listing: " + p.err.Error())
		}
		if p.status != http.StatusOK {
			var e struct{ Code, Message string }
			xml.Unmarshal(p.body, &e)
			return nil, errServiceUnavailable.withMessage(fmt.Sprintf("A node of the cluster refused the listing: %d %s %s", p.status, e.Code, e.Message))
		}
		var res listBucketResult
		if err := xml.Unmarshal(p.body, &res); err != nil {
			return nil, errInternal
		}
		if res.IsTruncated {
			l.truncated = true
		}
		for _, o := range res.Contents {
			if decode {
				k, err := url.PathUnescape(o.Key)
				if err != nil {
					return nil, errInternal
				}
				o.Key = k
			}
			l.objects = append(l.objects, o)
		}
		for _, cp := range res.CommonPrefixes {
			if decode {
				k, err := url.PathUnescape(cp.Prefix)
				if err != nil {
					return nil, errInternal
				}
				cp.Prefix = k
			}
			if !prefixes[cp.Prefix] {
				prefixes[cp.Prefix] = true
				l.prefixes = append(l.prefixes, cp)
			}
		}
	}
	// One sorted run of keys and prefixes, cut at max.
	type entry struct {
		name string
		obj  int // index into l.objects, -1 for a prefix
	}
	all := make([]entry, 0, len(l.objects)+len(l.prefixes))
	for i, o := range l.objects {
		all = append(all, entry{o.Key, i})
	}
	for _, p := range l.prefixes {
		all = append(all, entry{p.Prefix, -1})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	if len(all) > max {
		all = all[:max]
		l.truncated = true
	}
	out := &listing{truncated: l.truncated}
	for _, e := range all {
		if e.obj >= 0 {
			out.objects = append(out.objects, l.objects[e.obj])
		} else {
			out.prefixes = append(out.prefixes, commonPrefix{e.name})
		}
		out.last = e.name
	}
	return out, nil
}

// ClusterMode reports whether the server routes by slot.
func (s *Server) ClusterMode() bool { return s.cl != nil }
