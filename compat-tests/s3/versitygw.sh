#!/usr/bin/env bash
# Runs the versitygw S3 conformance suite (full-flow) against a real
# gpucache process and prints the pass/fail counts.
#
#   compat-tests/s3/versitygw.sh [extra versitygw test args]
#
# GPUCACHE_BIN selects an already built binary; VERSITYGW_BIN an already
# built versitygw (else `go run` fetches v1.8.0 through the module proxy,
# outside the main module's build). The log goes to $OUT (default
# ./versitygw.log).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
bin=${GPUCACHE_BIN:-$work/gpucache}
[ -n "${GPUCACHE_BIN:-}" ] || go build -o "$bin" ./cmd/gpucache
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
rport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
key=versitykey secret=versitysecret0123456789
"$bin" --port "$rport" --dir "$work/data" --s3-port "$port" --s3-access-key "$key" --s3-secret-key "$secret" \
	>"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
out=$(realpath -m "${OUT:-versitygw.log}")
vgw=${VERSITYGW_BIN:-}
if [ -z "$vgw" ]; then
	vgw=$work/versitygw
	GOBIN=$work go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi
# The suite's account tests run ./versitygw admin against the server.
[ "$vgw" = "$work/versitygw" ] || ln -s "$(realpath "$vgw")" "$work/versitygw"
# NB: the image sets AWS_CA_BUNDLE globally; the suite's SDK chokes on it.
(cd "$work" && env -u AWS_CA_BUNDLE ./versitygw test -a "$key" -s "$secret" -e "http://127.0.0.1:$port" full-flow "$@") >"$out" 2>&1 || true
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
grep -E 'RAN: ' "$out" | tail -1
echo "log: $out"
