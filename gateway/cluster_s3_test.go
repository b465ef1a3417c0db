package gateway

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestReadS3PortReply(t *testing.T) {
	for _, tc := range []struct {
		in   string
		auth bool
		want string // "" for an error
	}{
		{"*2\r\n$7\r\ns3-port\r\n$4\r\n9000\r\n", false, "9000"},
		{"+OK\r\n*2\r\n$7\r\ns3-port\r\n$5\r\n19000\r\n", true, "19000"},
		{"-WRONGPASS invalid username-password pair\r\n", true, ""},
		{"*2\r\n$7\r\ns3-port\r\n$1\r\n0\r\n", false, ""},
		{"*0\r\n", false, ""},
		{"*2\r\n$7\r\ns3-port\r\n$9\r\n9000\r\n", false, ""},
		{"*2\r\n$7\r\ns3-port\r\n$4\r\n90", false, ""},
		{"*2\r\n$7\r\nmaxport\r\n$4\r\n9000\r\n", false, ""},
	} {
		got, err := readS3PortReply(bufio.NewReader(strings.NewReader(tc.in)), "n1", tc.auth)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("%q: %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestPeerS3Port asks a fake RESP server, checking what is sent.
func TestPeerS3Port(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		want := "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$7\r\ns3-port\r\n"
		buf := make([]byte, len(want))
		n, _ := io.ReadFull(c, buf)
		got <- string(buf[:n])
		c.Write([]byte("+OK\r\n*2\r\n$7\r\ns3-port\r\n$4\r\n9123\r\n"))
	}()
	port, err := peerS3Port(context.Background(), ln.Addr().String(), "pw")
	if err != nil || port != "9123" {
		t.Fatalf("peerS3Port: %q %v", port, err)
	}
	if s := <-got; s != "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$7\r\ns3-port\r\n" {
		t.Fatalf("sent %q", s)
	}
}

func FuzzReadS3PortReply(f *testing.F) {
	f.Add([]byte("*2\r\n$7\r\ns3-port\r\n$4\r\n9000\r\n"), false)
	f.Add([]byte("+OK\r\n*2\r\n$7\r\ns3-port\r\n$5\r\n19000\r\n"), true)
	f.Add([]byte("*2\r\n$-1\r\n"), false)
	f.Fuzz(func(t *testing.T, in []byte, auth bool) {
		port, err := readS3PortReply(bufio.NewReader(strings.NewReader(string(in))), "n", auth)
		if err == nil {
			p, perr := strconv.Atoi(port)
			if perr != nil || p <= 0 || p > 65535 {
				t.Fatalf("accepted port %q", port)
			}
		}
	})
}
