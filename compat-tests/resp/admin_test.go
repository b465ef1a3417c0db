package resp_test

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestAdminPort: /debug/pprof is not served by default; with admin-pprof
// yes it is served only with the admin password; /healthz answers ok.
func TestAdminPort(t *testing.T) {
	hc := &http.Client{Timeout: 10 * time.Second}
	get := func(url, password string) (int, string) {
		req, _ := http.NewRequest("GET", url, nil)
		if password != "" {
			req.SetBasicAuth("", password)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The admin port opens after the RESP port the start waits for.
	waitAdmin := func(port int) {
		waitFor(t, 10*time.Second, "the admin port", func() bool {
			c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
	port := internal.FreePort(t)
	internal.Start(t, internal.Options{Args: []string{"--admin-port", strconv.Itoa(port)}})
	waitAdmin(port)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if code, _ := get(base+"/debug/pprof/", ""); code != 404 {
		t.Errorf("/debug/pprof/ served by default: %d", code)
	}
	if code, body := get(base+"/healthz", ""); code != 200 || !strings.HasPrefix(body, "ok") {
		t.Errorf("/healthz: %d %q", code, body)
	}

	port = internal.FreePort(t)
	internal.Start(t, internal.Options{Password: "pw", Args: []string{"--admin-port", strconv.Itoa(port), "--admin-pprof", "yes", "--requirepass", "pw"}})
	waitAdmin(port)
	base = "http://127.0.0.1:" + strconv.Itoa(port)
	if code, _ := get(base+"/debug/pprof/cmdline", ""); code != 401 {
		t.Errorf("pprof without the password: %d, want 401", code)
	}
	if code, body := get(base+"/debug/pprof/cmdline", "pw"); code != 200 || !strings.Contains(body, "gpucache") {
		t.Errorf("pprof with the password: %d %q", code, body)
	}
}
