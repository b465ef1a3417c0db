package gateway

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/fastpath"
)

// fabricProviders are the fabric-provider values gpucache knows.
var fabricProviders = []string{"verbs;ofi_rxm", "efa", "tcp;ofi_rxm", "tcp", "shm"}

func checkFabricProvider(v string) error {
	if v == "" {
		return nil
	}
	for _, p := range fabricProviders {
		if v == p {
			return nil
		}
	}
	return fmt.Errorf("fabric-provider must be one of %s", strings.Join(fabricProviders, ", "))
}

// startFastPath opens the fabric that fabric-provider names. A fabric
// that cannot open leaves the server TCP-only, and says so in the log and
// in INFO fastpath (never silently).
func startFastPath(cfg *Config, eng *engine.Engine, logf func(string, ...any)) *fastpath.Server {
	fc := fastpath.Config{
		Provider:     cfg.Get("fabric-provider"),
		MaxSessions:  int(cfg.Int("fabric-max-sessions")),
		MaxTransfers: int(cfg.Int("fabric-max-transfers")),
		Timeout:      time.Duration(cfg.Int("fabric-transfer-timeout")) * time.Millisecond,
	}
	if fc.Provider == "" {
		return fastpath.New(eng, fc)
	}
	fc.Interfaces = strings.FieldsFunc(cfg.Get("fabric-interfaces"), func(r rune) bool { return r == ',' || r == ' ' })
	if fc.Provider != "shm" {
		fc.Node, fc.Interfaces = fabricNode(strings.Fields(cfg.Get("bind")), fc.Interfaces)
	}
	fp := fastpath.New(eng, fc)
	if fp.Available() {
		logf("fast path: %s", fp.Describe())
		if eng.SendsByReference() && (strings.HasPrefix(fc.Provider, "verbs") || fc.Provider == "efa") {
			logf("fast path: WARNING: %s pins registered pages; set dram-send-by-reference no, or values sent by reference may be read stale", fc.Provider)
		}
	} else {
		logf("fast path: WARNING: fabric-provider %q is set but the fabric is unavailable, clients stay on TCP: %v", fc.Provider, fp.Reason())
	}
	return fp
}

// fabricNode picks the address the endpoints bind to: the first IPv4
// address of the first named interface, or else the first bind address,
// whose interface becomes the domain. So a server bound to 127.0.0.1 puts
// its fabric on lo too.
func fabricNode(binds, ifaces []string) (string, []string) {
	if len(ifaces) > 0 {
		if ifc, err := net.InterfaceByName(ifaces[0]); err == nil {
			if addrs, err := ifc.Addrs(); err == nil {
				for _, a := range addrs {
					if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
						return n.IP.String(), ifaces
					}
				}
			}
		}
		return "", ifaces
	}
	if len(binds) == 0 {
		return "", nil
	}
	ip := net.ParseIP(binds[0])
	if ip == nil || ip.IsUnspecified() {
		return "", nil
	}
	all, _ := net.Interfaces()
	for _, ifc := range all {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return ip.String(), []string{ifc.Name}
			}
		}
	}
	return ip.String(), nil
}
