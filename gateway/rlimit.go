package gateway

import "syscall"

// reservedFiles are descriptors kept for the process itself, beyond one per
// client: the metadata store's table cache (pebble opens up to 1,000),
// blob segments, devices, listeners and logs.
const reservedFiles = 1024 + 64

// fileLimitClients raises the open-file limit toward what maxclients
// clients need, up to the hard limit, as Redis does at start; if that is
// not enough it returns the number of clients the limit allows, so that
// clients run out before the store does (a client refused with "max
// number of clients reached", never a store that cannot open a file).
func fileLimitClients(maxClients int, logf func(string, ...any)) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return maxClients
	}
	want := uint64(maxClients) + reservedFiles
	if lim.Cur < want {
		old := lim.Cur
		lim.Cur = min(want, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			lim.Cur = old
		}
	}
	if lim.Cur >= want {
		return maxClients
	}
	allowed := max(int(lim.Cur)-reservedFiles, 1)
	if lim.Cur <= reservedFiles {
		allowed = max(int(lim.Cur)/2, 1)
	}
	logf("open-file limit %d (hard %d) is below maxclients %d + %d reserved: serving at most %d clients; raise it with ulimit -n",
		lim.Cur, lim.Max, maxClients, reservedFiles, allowed)
	return allowed
}
