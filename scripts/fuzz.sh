#!/usr/bin/env bash
# Runs every Fuzz target in the module for a short time each.
#
# Usage: scripts/fuzz.sh [fuzztime]   (default 10s; e.g. 1m, 500x)
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-10s}
status=0
found=0
# Each line: <package dir> <FuzzName>
while read -r dir name; do
	found=1
	echo "== fuzz $name in ./$dir ($fuzztime)"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir"; then
		status=1
	fi
done < <(git ls-files -co --exclude-standard '*_test.go' |
	xargs grep -H -o -E '^func Fuzz[A-Za-z0-9_]*\(' |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#; s#^[^/ ]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#. \1#' |
	sort -u)
if [ $found -eq 0 ]; then
	echo "no fuzz targets"
fi
exit $status
