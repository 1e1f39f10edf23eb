#!/bin/bash
# Runs every benchmark script tests/bench/*.sh (or those named, e.g.
# `tests/bench/run-all.sh failover_timeline`), each under a time limit,
# its output shown and kept in build/bench/logs/NAME.log. Ends with
#   N ran, N failed
cd "$(dirname "$0")/../.." || exit 2
mkdir -p build/bench/logs
ran=0 failed=0
for t in tests/bench/*.sh; do
	name=$(basename "$t" .sh)
	[ "$name" = run-all ] && continue
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
	echo "== $name"
	timeout "${BENCH_TIMEOUT:-900}" bash "$t" 2>&1 | tee "build/bench/logs/$name.log"
	rc=${PIPESTATUS[0]}
	ran=$((ran + 1))
	[ "$rc" = 0 ] || { failed=$((failed + 1)); echo "== $name: exit $rc"; }
done
echo "$ran ran, $failed failed"
[ "$failed" = 0 ]
