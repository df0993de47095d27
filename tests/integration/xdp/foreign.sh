#!/bin/bash
# moat never replaces someone else's XDP program, and never detaches it.
# Usage: foreign.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
setup_net
TMP=$(mktemp -d)
BG_PIDS=""
trap 'cleanup; rm -rf "$TMP"' EXIT INT TERM
# A foreign pass-all program, attached in generic mode.
printf '%s\n' '#define SEC(n) __attribute__((section(n), used))' \
    'SEC("xdp") int other_xdp(void *ctx) { return 2; }' \
    'char LICENSE[] SEC("license") = "GPL";' > "$TMP/other.c"
clang -target bpf -O2 -g -c "$TMP/other.c" -o "$TMP/other.o"
in_s ip link set dev vs xdpgeneric obj "$TMP/other.o" sec xdp
[ "$(xdp_prog_on_vs)" = other_xdp ] || fail "foreign program not attached"
if err=$(ctl attach vs auto 2>&1); then fail "moat replaced a foreign program"; fi
echo "$err" | grep -q "another XDP program" || fail "unclear error: $err"
if ctl detach vs 2>/dev/null; then fail "moatctl detached a foreign program"; fi
[ "$(xdp_prog_on_vs)" = other_xdp ] || fail "foreign program gone"
pass "foreign program left alone: $err"
echo "foreign: PASS"
