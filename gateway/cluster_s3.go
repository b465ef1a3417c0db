package gateway

import (
	"bufio"
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/protocols/resp"
	"github.com/gpucache/gpucache/protocols/s3"
)

// s3ClusterOptions puts the S3 front end in the cluster when cluster mode
// is on: it learns a peer's S3 port by asking the peer's RESP port
// (CONFIG GET s3-port, after AUTH with this node's requirepass: the nodes
// of a cluster share it, as slot migration needs), once per topology
// version, and reaches it at the host the topology names.
func s3ClusterOptions(cfg *Config, rs *resp.Server, logf func(string, ...any)) []s3.Option {
	cs := rs.ClusterState()
	if cs == nil {
		return nil
	}
	roots, err := peerRoots(cfg)
	if err != nil {
		// A peer's certificate then fails verification and the request
		// answers 503; nothing else depends on it.
		logf("cluster: S3 forwarding over TLS trusts the system's roots only: %v", err)
	}
	return []s3.Option{s3.WithCluster(s3.Cluster{
		State:   cs,
		RootCAs: roots,
		PeerS3Addr: func(ctx context.Context, n *cluster.Node) (string, error) {
			port, err := peerS3Port(ctx, n.Addr(), cfg.Get("requirepass"))
			if err != nil {
				return "", err
			}
			return net.JoinHostPort(n.Host, port), nil
		},
	})}
}

// peerRoots is what verifies a peer's S3 certificate when a TLS request
// is forwarded: the system's roots, the CAs of tls-ca-cert-file and
// tls-ca-cert-dir, and the certificates of this node's own
// s3-tls-cert-file (the nodes serve the same certificate, so a
// self-signed one, or one whose file carries its CA, verifies its peers).
// Nil without S3 TLS.
func peerRoots(cfg *Config) (*x509.CertPool, error) {
	certFile := cfg.Get("s3-tls-cert-file")
	if certFile == "" {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if b, err := os.ReadFile(certFile); err != nil {
		return pool, err
	} else if !pool.AppendCertsFromPEM(b) {
		return pool, fmt.Errorf("s3-tls-cert-file %s holds no certificate", certFile)
	}
	if _, err := addCAs(pool, cfg.Get("tls-ca-cert-file"), cfg.Get("tls-ca-cert-dir")); err != nil {
		return pool, err
	}
	return pool, nil
}

// peerS3Port asks the RESP server at addr for its s3-port.
func peerS3Port(ctx context.Context, addr, password string) (string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	var req []byte
	if password != "" {
		req = appendCommand(req, "AUTH", password)
	}
	req = appendCommand(req, "CONFIG", "GET", "s3-port")
	if _, err := c.Write(req); err != nil {
		return "", err
	}
	return readS3PortReply(bufio.NewReader(c), addr, password != "")
}

// readS3PortReply reads the replies to [AUTH and] CONFIG GET s3-port.
func readS3PortReply(br *bufio.Reader, addr string, auth bool) (string, error) {
	if auth {
		line, err := readLine(br)
		if err != nil {
			return "", err
		}
		if line != "+OK" {
			return "", fmt.Errorf("AUTH at %s: %s", addr, strings.TrimPrefix(line, "-"))
		}
	}
	line, err := readLine(br)
	if err != nil {
		return "", err
	}
	if line != "*2" {
		return "", fmt.Errorf("CONFIG GET s3-port at %s: unexpected reply %q", addr, line)
	}
	var vals [2]string
	for i := range vals {
		hdr, err := readLine(br)
		if err != nil {
			return "", err
		}
		n, err := strconv.Atoi(strings.TrimPrefix(hdr, "$"))
		if err != nil || !strings.HasPrefix(hdr, "$") || n < 0 || n > 64 {
			return "", fmt.Errorf("CONFIG GET s3-port at %s: unexpected reply %q", addr, hdr)
		}
		if vals[i], err = readLine(br); err != nil {
			return "", err
		}
		if len(vals[i]) != n {
			return "", fmt.Errorf("CONFIG GET s3-port at %s: bad bulk length", addr)
		}
	}
	if vals[0] != "s3-port" {
		return "", fmt.Errorf("CONFIG GET s3-port at %s: unexpected reply %q", addr, vals[0])
	}
	if p, err := strconv.Atoi(vals[1]); err != nil || p <= 0 || p > 65535 {
		return "", fmt.Errorf("node %s serves no S3 (s3-port %q)", addr, vals[1])
	}
	return vals[1], nil
}

func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}
