#!/usr/bin/env bash
# Runs the fabric-tagged tests (go test -tags fabric): the libfabric
# binding, the fast path, the Go client, and the compat tests against a
# gpucache built with -tags fabric ($GPUCACHE_FABRIC_BIN, else built by
# the tests).
#
# NB: each compat test runs in a process of its own. After fabric
# endpoints were opened and closed in a process (tcp;ofi_rxm most often,
# shm too), libfabric 1.17 sometimes breaks unrelated TCP connections of
# that process (resets, EOF on RESP connections to a server that logged
# nothing, even one built without the fabric); a test alone in its
# process passes run after run. Root cause not found yet.
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
args=(-tags fabric -count=1 -timeout "${TEST_TIMEOUT:-20m}")
"$go" test "${args[@]}" ./protocols/fastpath/... ./client/...
# The compat test binary is built once and run once per test, in the
# package's directory as go test would.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
"$go" test -tags fabric -c -o "$bin/fastpath.test" ./compat-tests/fastpath/
for t in '^TestCExample$' '^TestBlobRoundTrip$/^shm$' '^TestBlobRoundTrip$/^tcp' '^TestBlobFailures$/^shm$' \
	'^TestBlobFailures$/^tcp' '^TestBlobBadAddress$/^shm$' '^TestBlobBadAddress$/^tcp' '^TestBlobVanish$' '^TestBlobLimits$' '^TestBlobOneKeyspace$' '^TestBlobWithoutFabric$'; do
	echo "== compat-tests/fastpath -run $t"
	(cd compat-tests/fastpath && "$bin/fastpath.test" -test.count=1 -test.timeout "${TEST_TIMEOUT:-20m}" -test.run "$t")
done
