# Shared setup for the XDP datapath tests (sourced, bash).
# Two namespaces joined by a veth pair:
#   $NC (client): vc  198.18.0.1, 198.18.0.3  2001:2::1, 2001:2::3
#   $NS (server): vs  198.18.0.2              2001:2::2   <- XDP here
# Pins live in the host's bpffs under $PIN, reached with nsenter (which,
# unlike ip netns exec, does not remount /sys).

B=${1:-build}
MOATCTL=${MOATCTL:-$B/moatctl}
[ -x "$MOATCTL" ] || { echo "$0: $MOATCTL not built (make)" >&2; exit 1; }
for t in ip ethtool nsenter nc socat bpftool timeout cc clang; do
    command -v $t >/dev/null || { echo "$0: $t missing (apt-get install iproute2 ethtool netcat-openbsd socat bpftool)" >&2; exit 1; }
done

NC=moatc$$
NS=moats$$
PIN=/sys/fs/bpf/moat-test-$$
BG_PIDS=""

SF=""
cleanup() {
    for p in $BG_PIDS; do kill "$p" 2>/dev/null || true; done
    [ -n "$SF" ] && rm -rf "$SF"
    ip netns del "$NC" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$PIN"
}
trap cleanup EXIT INT TERM

in_c() { nsenter --net=/run/netns/"$NC" "$@"; }
in_s() { nsenter --net=/run/netns/"$NS" "$@"; }
ctl()  { in_s "$MOATCTL" --pin-path "$PIN" --no-daemon "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

setup_net() {
    ip netns add "$NC"
    ip netns add "$NS"
    ip link add vc netns "$NC" type veth peer name vs netns "$NS"
    ip -n "$NC" addr add 198.18.0.1/24 dev vc
    ip -n "$NC" addr add 198.18.0.3/24 dev vc
    ip -n "$NC" addr add 2001:2::1/64 dev vc nodad
    ip -n "$NC" addr add 2001:2::3/64 dev vc nodad
    ip -n "$NS" addr add 198.18.0.2/24 dev vs
    ip -n "$NS" addr add 2001:2::2/64 dev vs nodad
    for n in "$NC" "$NS"; do ip -n "$n" link set lo up; done
    ip -n "$NC" link set vc up
    ip -n "$NS" link set vs up
    # Checksums must be complete on the wire: XDP frames carry no offload state.
    in_c ethtool -K vc tx off >/dev/null
    in_s ethtool -K vs tx off >/dev/null
}

# TCP listener on 1883 in the server namespace (stand-in for moatd).
start_listener() {
    # nsenter execs socat, so $! is socat itself and cleanup can kill it.
    nsenter --net=/run/netns/"$NS" socat TCP6-LISTEN:1883,ipv6only=0,reuseaddr,fork \
        SYSTEM:'echo moat' </dev/null >/dev/null 2>&1 &
    BG_PIDS="$BG_PIDS $!"
    for _ in $(seq 50); do
        in_s ss -ltn 2>/dev/null | grep -q ':1883 ' && return 0
        sleep 0.1
    done
    fail "listener did not start"
}

# connect SRC DST: a full TCP handshake and the banner, within 2 s.
connect_ok() { in_c timeout 3 nc -w 2 -s "$1" "$2" 1883 </dev/null 2>/dev/null | grep -q moat; }

stat_of() { ctl -j stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# Name of the XDP program on vs in the server namespace, or empty.
xdp_prog_on_vs() {
    local id
    id=$(in_s bpftool net show dev vs | sed -n 's/.*vs([0-9]*) [a-z]* id \([0-9]*\).*/\1/p' | head -1)
    [ -n "$id" ] || return 0
    bpftool prog show id "$id" | sed -n 's/^[0-9]*: xdp *name \([^ ]*\).*/\1/p'
}
