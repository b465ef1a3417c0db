#!/usr/bin/env bash
# Runs the fabric-tagged tests (go test -tags fabric): the libfabric
# binding, the fast path, the Go client, and the compat tests against a
# gpucache built with -tags fabric ($GPUCACHE_FABRIC_BIN, else built by
# the tests).
#
# NB: the compat tests that open tcp;ofi_rxm endpoints in the test process
# run one per process. After such endpoints are closed, libfabric 1.17
# sometimes breaks unrelated TCP connections the same process opens later
# (resets, EOF on RESP connections to a server that logged nothing);
# with no tcp;ofi_rxm endpoint in the process, the same tests pass run
# after run. Root cause not found yet.
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
args=(-tags fabric -count=1 -timeout "${TEST_TIMEOUT:-20m}")
"$go" test "${args[@]}" ./protocols/fastpath/... ./client/...
"$go" test "${args[@]}" -run '/shm|TestBlobWithoutFabric|TestBlobLimits|TestBlobOneKeyspace|TestCExample' ./compat-tests/fastpath/
for t in 'TestBlobRoundTrip/tcp' 'TestBlobFailures/tcp'; do
	"$go" test "${args[@]}" -run "$t" ./compat-tests/fastpath/
done
