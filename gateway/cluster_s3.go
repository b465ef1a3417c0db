package gateway

import (
	"bufio"
	"context"
	"fmt"
	"net"
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
func s3ClusterOptions(cfg *Config, rs *resp.Server) []s3.Option {
	cs := rs.ClusterState()
	if cs == nil {
		return nil
	}
	return []s3.Option{s3.WithCluster(s3.Cluster{
		State: cs,
		PeerS3Addr: func(ctx context.Context, n *cluster.Node) (string, error) {
			port, err := peerS3Port(ctx, n.Addr(), cfg.Get("requirepass"))
			if err != nil {
				return "", err
			}
			return net.JoinHostPort(n.Host, port), nil
		},
	})}
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
