#!/bin/bash
# Runs every XDP datapath test. Usage: tests/integration/xdp/run.sh [BUILD_DIR]
# Needs root, bpffs, veth, cc, clang, socat, nc (netcat-openbsd), ethtool.
# Non-zero if any fails.
set -u
B=${1:-build}
D=$(dirname "$0")
rc=0 passed=0 failed=0
for t in "datapath.sh $B native" "datapath.sh $B generic" "foreign.sh $B" \
         "moatd.sh $B native" "moatd.sh $B generic" "detect.sh $B"; do
    echo "== xdp: $t"
    # shellcheck disable=SC2086
    if timeout 120 bash "$D"/$t; then
        passed=$((passed + 1))
    else
        echo "== xdp: $t FAILED"; rc=1; failed=$((failed + 1))
    fi
done
echo "xdp: $passed passed, $failed failed"
exit $rc
