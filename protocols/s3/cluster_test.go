package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// testCluster is two S3 servers in one cluster: a serves slots 0-8191, b
// the rest.
type testCluster struct {
	a, b   *testServer
	sa, sb *cluster.State
}

var (
	nodeA = strings.Repeat("a", 40)
	nodeB = strings.Repeat("b", 40)
)

func newTestCluster(t *testing.T) *testCluster {
	t.Helper()
	tc := &testCluster{a: newTestServer(t, nil), b: newTestServer(t, nil)}
	topo := nodeA + " 127.0.0.1 7001 master - 0-8191\n" + nodeB + " 127.0.0.1 7002 master - 8192-16383\n"
	addrs := map[string]string{}
	for _, n := range []struct {
		ts   *testServer
		st   **cluster.State
		id   string
		port int
	}{{tc.a, &tc.sa, nodeA, 7001}, {tc.b, &tc.sb, nodeB, 7002}} {
		st := cluster.NewState(n.port, []string{"127.0.0.1"})
		if err := st.SetNodeID(n.id); err != nil {
			t.Fatal(err)
		}
		if err := st.SetNodes(topo, 1, false); err != nil {
			t.Fatal(err)
		}
		*n.st = st
		u, _ := url.Parse(n.ts.ts.URL)
		addrs[n.id] = u.Host
		WithCluster(Cluster{State: st, PeerS3Addr: func(_ context.Context, n *cluster.Node) (string, error) {
			if a, ok := addrs[n.ID]; ok {
				return a, nil
			}
			return "", fmt.Errorf("no node %s", n.ID)
		}})(n.ts.s)
	}
	return tc
}

// keyOn returns a key (with prefix) whose slot a (owner 'a') or b serves.
func keyOn(prefix string, owner byte, i int) string {
	for j := 0; ; j++ {
		k := fmt.Sprintf("%s%d-%d", prefix, i, j)
		if (cluster.KeySlot([]byte(k)) < 8192) == (owner == 'a') {
			return k
		}
	}
}

func listKeys(t *testing.T, ts *testServer, query string) (keys []string, prefixes []string) {
	t.Helper()
	token := ""
	for range 100 {
		q := query
		if token != "" {
			q += "&continuation-token=" + url.QueryEscape(token)
		}
		resp, body := ts.do("GET", "/bkt?list-type=2&"+q, nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		var res listBucketResult
		if err := xml.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Contents {
			keys = append(keys, o.Key)
		}
		for _, p := range res.CommonPrefixes {
			prefixes = append(prefixes, p.Prefix)
		}
		if !res.IsTruncated {
			return
		}
		token = res.NextContinuationToken
	}
	t.Fatal("listing does not end")
	return
}

func TestClusterRoutesObjectsAndMergesListings(t *testing.T) {
	tc := newTestCluster(t)
	resp, body := tc.a.do("PUT", "/bkt", nil, nil)
	tc.a.expect(resp, body, 200, "")
	for _, ts := range []*testServer{tc.a, tc.b} {
		resp, body := ts.do("HEAD", "/bkt", nil, nil)
		ts.expect(resp, body, 200, "")
	}
	var want []string
	for i := range 10 {
		for _, owner := range []byte{'a', 'b'} {
			k := keyOn("k", owner, i)
			if i%3 == 0 {
				k = "d" + string(owner) + "/" + k
			}
			want = append(want, k)
			via := tc.a
			if owner == 'a' {
				via = tc.b // through the node that does not serve it
			}
			via.mustPut("/bkt/"+k, []byte("v:"+k))
		}
	}
	// Each object is stored on its slot's node only.
	for _, k := range want {
		owner := tc.a
		if cluster.KeySlot([]byte(k)) >= 8192 {
			owner = tc.b
		}
		for _, ts := range []*testServer{tc.a, tc.b} {
			if _, err := ts.eng.Stat(ts.s.bucketKS("bkt"), []byte(k)); (err == nil) != (ts == owner) {
				t.Fatalf("%s on the wrong node: %v", k, err)
			}
			resp, body := ts.do("GET", "/bkt/"+k, nil, nil)
			if resp.StatusCode != 200 || string(body) != "v:"+k {
				t.Fatalf("GET %s: %d %q", k, resp.StatusCode, body)
			}
		}
	}
	sortStrings(want)
	for _, ts := range []*testServer{tc.a, tc.b} {
		got, _ := listKeys(t, ts, "max-keys=3")
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("merged listing:\n%v\nwant\n%v", got, want)
		}
		keys, prefixes := listKeys(t, ts, "delimiter=/&max-keys=2")
		if strings.Join(prefixes, ",") != "da/,db/" || len(keys) != len(want)-8 {
			t.Fatalf("listing with a delimiter: %d keys, prefixes %v", len(keys), prefixes)
		}
	}
	// A request that asks a node alone sees its keys only.
	r, _ := http.NewRequest("GET", tc.a.ts.URL+"/bkt?list-type=2", nil)
	r.Header.Set(hdrLocal, "1")
	signTest(r, nil)
	resp, body = tc.a.roundTrip(r)
	if resp.StatusCode != 200 || bytes.Count(body, []byte("<Key>")) != len(want)/2 {
		t.Fatalf("local listing: %d, %d keys", resp.StatusCode, bytes.Count(body, []byte("<Key>")))
	}
	// A non-empty bucket cannot go; an emptied one goes from every node.
	resp, body = tc.b.do("DELETE", "/bkt", nil, nil)
	tc.b.expect(resp, body, 409, "BucketNotEmpty")
	for _, k := range want {
		resp, body := tc.a.do("DELETE", "/bkt/"+k, nil, nil)
		tc.a.expect(resp, body, 204, "")
	}
	resp, body = tc.b.do("DELETE", "/bkt", nil, nil)
	tc.b.expect(resp, body, 204, "")
	for _, ts := range []*testServer{tc.a, tc.b} {
		resp, body := ts.do("HEAD", "/bkt", nil, nil)
		ts.expect(resp, body, 404, "")
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func signTest(r *http.Request, body []byte) {
	sigv4.Sign(r, testCred, "us-east-1", time.Now(), sha256hex(body))
}

func TestClusterMigrationStates(t *testing.T) {
	tc := newTestCluster(t)
	resp, body := tc.a.do("PUT", "/bkt", nil, nil)
	tc.a.expect(resp, body, 200, "")
	k := keyOn("m", 'a', 0)
	tc.b.mustPut("/bkt/"+k, []byte("old"))
	slot := cluster.KeySlot([]byte(k))
	rng := cluster.SlotRange{Start: slot, End: slot}

	// The last phase of a migration: reads served, writes SlowDown, as
	// RESP answers TRYAGAIN.
	if err := tc.sa.SetSlotState(rng, cluster.SlotWriteForbidden, nodeB); err != nil {
		t.Fatal(err)
	}
	for _, ts := range []*testServer{tc.a, tc.b} {
		resp, body := ts.do("PUT", "/bkt/"+k, []byte("new"), nil)
		ts.expect(resp, body, 503, "SlowDown")
		resp, body = ts.do("GET", "/bkt/"+k, nil, nil)
		if resp.StatusCode != 200 || string(body) != "old" {
			t.Fatalf("GET while write-forbidden: %d %q", resp.StatusCode, body)
		}
	}
	// Migrated, the topology not yet updated: a follows b, which serves
	// the slot it imported.
	if err := tc.sa.SetSlotState(rng, cluster.SlotMigrated, nodeB); err != nil {
		t.Fatal(err)
	}
	// b does not know yet: a and b send the request to each other until
	// the hop limit.
	resp, body = tc.a.do("PUT", "/bkt/"+k, []byte("new"), nil)
	tc.a.expect(resp, body, 503, "SlowDown")
	if err := tc.sb.SetSlotState(rng, cluster.SlotImported, nodeA); err != nil {
		t.Fatal(err)
	}
	tc.a.mustPut("/bkt/"+k, []byte("new"))
	if _, err := tc.b.eng.Stat(tc.b.s.bucketKS("bkt"), []byte(k)); err != nil {
		t.Fatalf("the write did not reach the importing node: %v", err)
	}
}

func TestClusterDeleteObjectsReportsOwnersErrors(t *testing.T) {
	tc := newTestCluster(t)
	resp, body := tc.a.do("PUT", "/bkt", nil, map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"})
	tc.a.expect(resp, body, 200, "")
	held, free := keyOn("h", 'b', 0), keyOn("f", 'b', 0)
	resp, body = tc.a.do("PUT", "/bkt/"+held, []byte("x"), map[string]string{"X-Amz-Object-Lock-Legal-Hold": "ON", "X-Amz-Checksum-Crc32": crc32Base64([]byte("x"))})
	tc.a.expect(resp, body, 200, "")
	tc.a.mustPut("/bkt/"+free, []byte("y"))
	del := []byte("<Delete><Object><Key>" + held + "</Key></Object><Object><Key>" + free + "</Key></Object></Delete>")
	resp, body = tc.a.do("POST", "/bkt?delete", del, map[string]string{"X-Amz-Checksum-Crc32": crc32Base64(del)})
	if resp.StatusCode != 200 {
		t.Fatalf("DeleteObjects: %d %s", resp.StatusCode, body)
	}
	var res deleteResult
	if err := xml.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Key != held || len(res.Deleted) != 1 || res.Deleted[0].Key != free {
		t.Fatalf("DeleteObjects through a non-owner: %s", body)
	}
	if _, err := tc.b.eng.Stat(tc.b.s.bucketKS("bkt"), []byte(held)); err != nil {
		t.Fatalf("held object deleted: %v", err)
	}
}

func crc32Base64(b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(b))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestClusterDeleteBucketKeepsNonEmpty: a bucket with keys on any node,
// the node asked included, stays on every node.
func TestClusterDeleteBucketKeepsNonEmpty(t *testing.T) {
	tc := newTestCluster(t)
	resp, body := tc.a.do("PUT", "/bkt", nil, nil)
	tc.a.expect(resp, body, 200, "")
	k := keyOn("k", 'a', 0)
	tc.b.mustPut("/bkt/"+k, []byte("v"))
	for _, via := range []*testServer{tc.a, tc.b} {
		resp, body := via.do("DELETE", "/bkt", nil, nil)
		via.expect(resp, body, 409, "BucketNotEmpty")
		for _, ts := range []*testServer{tc.a, tc.b} {
			resp, body := ts.do("HEAD", "/bkt", nil, nil)
			ts.expect(resp, body, 200, "")
		}
	}
	// Unsigned, the dry run is refused like the delete.
	r, _ := http.NewRequest("DELETE", tc.b.ts.URL+"/bkt", nil)
	r.Header.Set(hdrCheck, "1")
	r.Header.Set(hdrLocal, "1")
	resp, body = tc.b.roundTrip(r)
	tc.b.expect(resp, body, 403, "AccessDenied")
}
