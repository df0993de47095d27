#!/bin/bash
# XDP benchmarks (issue 3, "Benchmarks"): moat's filter vs the same policy
# in nftables vs no filter.
#   tests/bench/xdp.sh BUILD_DIR [smoke|full]
# 1. ns/packet of the filter's hot paths (BPF_PROG_TEST_RUN, repeat count),
#    tests/bench/xdp_prog_bench.c linked against BUILD_DIR/libmoat.a.
# 2. SYN flood on a veth (tests/bench/xdp_flood.c, AF_PACKET, bounded in
#    packets and seconds): packets/s the receiver handles and its softirq CPU.
# 3. MQTT connect latency of a good client (tests/bench/xdp_connect_lat.py)
#    against moatd during the flood.
# full (~3 min) writes docs/benchmarks-xdp.md; smoke (~15 s) writes a temp file.
# Root only. Namespaces, veths, pins, nft tables live in namespaces this
# script creates and are removed on exit, failure or signal.
set -eu

B=${1:?usage: $0 BUILD_DIR [smoke|full]}
MODE=${2:-smoke}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
B=$(cd "$B" && pwd)

[ "$(id -u)" = 0 ] || { echo "$0: needs root (namespaces, XDP, nftables)" >&2; exit 1; }
for t in ip nsenter nft ethtool cc taskset $PY; do
    command -v "$t" >/dev/null || { echo "$0: $t missing (apt-get install iproute2 nftables ethtool gcc util-linux python3)" >&2; exit 1; }
done
for f in moatd moatctl libmoat.a; do
    [ -e "$B/$f" ] || { echo "$0: $B/$f not built (make)" >&2; exit 1; }
done

case $MODE in
smoke) REPEAT=100000; ROUNDS=1; FLOOD_S=0.5; FLOOD_MAX=2000000; LAT_N=30; REPS=1
       OUT=$(mktemp /tmp/benchmarks-xdp.XXXXXX.md) ;;
full)  REPEAT=1000000; ROUNDS=5; FLOOD_S=2; FLOOD_MAX=20000000; LAT_N=200; REPS=3
       OUT=$ROOT/docs/benchmarks-xdp.md ;;
*) echo "$0: mode must be smoke or full, not '$MODE'" >&2; exit 2 ;;
esac
# Latency runs: the flood outlives the client by design, but never this.
LAT_FLOOD_S=20
LAT_DEADLINE=15

WORK=$(mktemp -d /tmp/moat-xdpbench.XXXXXX)
NC=mxbc$$
NS=mxbs$$
PIN=/sys/fs/bpf/moat-bench-$$
BG_PIDS=""
cleanup() {
    for p in $BG_PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $BG_PIDS; do wait "$p" 2>/dev/null || true; done
    ip netns del "$NC" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$PIN" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_c() { nsenter --net=/run/netns/"$NC" "$@"; }
in_s() { nsenter --net=/run/netns/"$NS" "$@"; }
log()  { echo "xdp.sh: $*" >&2; }
die()  { echo "xdp.sh: FAIL: $*" >&2; exit 1; }

# ---- build ---------------------------------------------------------------
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter"
cc $CFLAGS -I"$ROOT/include" -I"$ROOT/user" -I"$B" -o "$WORK/prog_bench" \
    "$HERE/xdp_prog_bench.c" "$B/libmoat.a" -lbpf -lelf -lz
cc $CFLAGS -o "$WORK/flood" "$HERE/xdp_flood.c"

# ---- machine -------------------------------------------------------------
NCPU=$(nproc)
FLOOD_CPU=$((NCPU - 1))
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
[ -n "$CPU_MODEL" ] || CPU_MODEL=unknown
KERNEL=$(uname -r)
NFT_VER=$(nft --version | head -1)

# A shared machine: in full mode wait (at most 120 s) for the 1-min load
# average to fall below 1, and record it either way.
if [ "$MODE" = full ]; then
    for _ in $(seq 60); do
        awk '{exit !($1 < 1.0)}' /proc/loadavg && break
        sleep 2
    done
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 1. BPF_PROG_TEST_RUN --------------------------------------------------
log "1/3 test-run ns/packet (repeat $REPEAT x $ROUNDS)"
"$WORK/prog_bench" "$REPEAT" "$ROUNDS" > "$WORK/prog.tsv"

# ---- network ---------------------------------------------------------------
ip netns add "$NC"
ip netns add "$NS"
ip link add vc netns "$NC" type veth peer name vs netns "$NS"
ip -n "$NC" addr add 198.18.0.1/24 dev vc
ip -n "$NC" addr add 198.18.0.3/24 dev vc
ip -n "$NS" addr add 198.18.0.2/24 dev vs
for n in "$NC" "$NS"; do ip -n "$n" link set lo up; done
ip -n "$NC" link set vc up
ip -n "$NS" link set vs up
# XDP frames carry no checksum offload state: checksums complete on the wire.
in_c ethtool -K vc tx off >/dev/null
in_s ethtool -K vs tx off >/dev/null
VS_MAC=$(ip -n "$NS" -o link show vs | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$VS_MAC" ] || die "no MAC on vs"
# Static neighbour: the good client must not wait on ARP behind the flood.
ip -n "$NC" neigh replace 198.18.0.2 lladdr "$VS_MAC" dev vc nud permanent

# ---- moatd -----------------------------------------------------------------
MOATD_PID=""
# start_moatd plain|xdp|xdp_generic
start_moatd() {
    rm -rf "$PIN" "$WORK/blocks" "$WORK/ctl"
    {
        echo "listener 1883"
        echo "allow_anonymous true"
        echo "control_socket $WORK/ctl"
        echo "moat_block_state_file $WORK/blocks"
        echo "bpf_pin_path $PIN"
        echo "sys_interval 0"
        # Measure the filters alone: no escalation of the flooder into the
        # blocklist (syn_flood) and no block of the good client, which
        # connects hundreds of times a run (connect_flood).
        echo "moat_detect syn_flood off"
        echo "moat_detect connect_flood off"
        if [ "$1" != plain ]; then
            if [ "$1" = xdp ]; then echo "xdp_interface vs native"; else echo "xdp_interface vs generic"; fi
            echo "xdp_syn_rate 100"
            echo "xdp_syn_burst 100"
            echo "xdp_block_mode all"
        fi
    } > "$WORK/moatd.conf"
    : > "$WORK/moatd.log"
    # Pinned to CPU 0: the flood sender owns the last CPU.
    nsenter --net=/run/netns/"$NS" taskset -c 0 "$B/moatd" -c "$WORK/moatd.conf" \
        >> "$WORK/moatd.log" 2>&1 &
    MOATD_PID=$!
    BG_PIDS="$BG_PIDS $MOATD_PID"
    for _ in $(seq 100); do
        grep -q ' running (' "$WORK/moatd.log" && break
        sleep 0.1
    done
    grep -q ' running (' "$WORK/moatd.log" || { cat "$WORK/moatd.log" >&2; die "moatd did not start"; }
    local want=native
    [ "$1" = xdp_generic ] && want=generic
    if [ "$1" != plain ]; then
        grep -q "filter attached to vs in $want mode" "$WORK/moatd.log" ||
            { cat "$WORK/moatd.log" >&2; die "moatd did not attach XDP to vs in $want mode"; }
    fi
}
stop_moatd() {
    [ -n "$MOATD_PID" ] || return 0
    kill -TERM "$MOATD_PID" 2>/dev/null || true
    wait "$MOATD_PID" 2>/dev/null || true
    MOATD_PID=""
    rm -rf "$PIN"
}
dctl() { in_s "$B/moatctl" --pin-path "$PIN" -s "$WORK/ctl" "$@"; }
xdp_stat() { in_s "$B/moatctl" --pin-path "$PIN" --no-daemon -j stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# ---- nftables (server namespace) -------------------------------------------
# nft_policy none|input_drop|ingress_drop|meter
nft_policy() {
    in_s nft flush ruleset
    case $1 in
    none) ;;
    input_drop) in_s nft -f - <<'NFT' ;;
table inet moatbench {
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr 198.18.0.1 counter drop
  }
}
NFT
    ingress_drop) in_s nft -f - <<'NFT' ;;
table netdev moatbench {
  chain ingress {
    type filter hook ingress device vs priority -500; policy accept;
    ip saddr 198.18.0.1 counter drop
  }
}
NFT
    meter) in_s nft -f - <<'NFT' ;;
table inet moatbench {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 1883 tcp flags & (syn|ack) == syn meter synrate4 { ip saddr limit rate over 100/second burst 100 packets } counter drop
    tcp dport 1883 tcp flags & (syn|ack) == syn meter synrate6 { ip6 saddr and ffff:ffff:ffff:ffff:: limit rate over 100/second burst 100 packets } counter drop
  }
}
NFT
    *) die "nft_policy $1" ;;
    esac
}
nft_drops() { in_s nft list ruleset | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}'; }

# ---- counters --------------------------------------------------------------
# "rx_packets rx_dropped" of vs, from the server namespace's /proc/net/dev.
# (":" becomes a blank first: a long byte count is glued to "vs:".)
vs_rx() { in_s cat /proc/net/dev | tr ':' ' ' | awk '$1 == "vs" {print $3, $5}'; }
vc_tx() { in_c cat /proc/net/dev | tr ':' ' ' | awk '$1 == "vc" {print $11, $13}'; }
tcp_in() { in_s awk '$1 == "Tcp:" && $2 ~ /^[0-9]/ {print $11}' /proc/net/snmp; }
syncookies() {
    in_s awk '$1 == "TcpExt:" { if (!h) { for (i = 2; i <= NF; i++) n[$i] = i; h = 1 } else print $n["SyncookiesSent"] }' /proc/net/netstat
}
# Packets dropped by the per-CPU backlog queues (netdev_max_backlog), all
# namespaces: /proc/net/softnet_stat column 2, hex.
softnet_drops() {
    local s=0 _cpu b _rest
    while read -r _cpu b _rest; do s=$((s + 0x$b)); done < /proc/net/softnet_stat
    echo "$s"
}

# moatd's user+system CPU time so far, in clock ticks.
CLK_TCK=$(getconf CLK_TCK)
moatd_ticks() { awk '{print $14 + $15}' /proc/"$MOATD_PID"/stat; }

# cpu_pct STAT0 STAT1: "softirq% busy%" for all CPUs, then per CPU
# (cpu0 .. cpuN-1), each as a share of that scope's elapsed jiffies.
cpu_pct() {
    awk 'FNR == NR && $1 ~ /^cpu/ { s[$1] = $8; b[$1] = $2+$3+$4+$7+$8; t[$1] = $2+$3+$4+$5+$6+$7+$8+$9; next }
         $1 ~ /^cpu/ { ds = $8 - s[$1]; db = $2+$3+$4+$7+$8 - b[$1]; dt = $2+$3+$4+$5+$6+$7+$8+$9 - t[$1]
                       printf "%.1f\t%.1f\t", dt ? 100 * ds / dt : 0, dt ? 100 * db / dt : 0 }' "$1" "$2"
}

# flood_cell NAME DROPS_FN: one bounded flood from 198.18.0.1, one TSV line:
# name offered rx filter-drops to-TCP syncookies lost (all /s), moatd CPU %,
# then softirq% busy% for all CPUs, cpu0, cpu1...
flood_cell() {
    local name=$1 dfn=$2 r0 r1 t0 t1 i0 i1 k0 k1 d0 d1 m0 m1 n0 n1 out
    r0=$(vs_rx); t0=$(vc_tx); i0=$(tcp_in); k0=$(syncookies); d0=$($dfn); m0=$(moatd_ticks)
    n0=$(softnet_drops)
    cat /proc/stat > "$WORK/stat0"
    out=$(in_c taskset -c "$FLOOD_CPU" timeout 40 "$WORK/flood" vc "$VS_MAC" 198.18.0.1 198.18.0.2 1883 \
          "$FLOOD_MAX" "$FLOOD_S")
    cat /proc/stat > "$WORK/stat1"
    sleep 0.2
    m1=$(moatd_ticks); n1=$(softnet_drops)
    r1=$(vs_rx); t1=$(vc_tx); i1=$(tcp_in); k1=$(syncookies); d1=$($dfn)
    echo "$name $out $r0 $r1 $t0 $t1 $i0 $i1 $k0 $k1 $d0 $d1 $m0 $m1 $CLK_TCK $n0 $n1" | awk '{
        sent = $2; secs = $3
        rx = $6 - $4; rxdrop = $7 - $5; txdrop = $11 - $9 + $22 - $21
        tcp = $13 - $12; ck = $15 - $14; fd = $17 - $16
        printf "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f\t", $1, sent / secs, rx / secs,
            fd / secs, tcp / secs, ck / secs, (rxdrop + txdrop) / secs,
            100 * ($19 - $18) / $20 / secs }'
    cpu_pct "$WORK/stat0" "$WORK/stat1" | sed 's/\t$//'
    echo
}
zero() { echo 0; }
xdp_drops() { xdp_stat xdp_drop; }

# ---- 2. flood on the veth --------------------------------------------------
log "2/3 SYN flood on the veth ($FLOOD_S s, at most $FLOOD_MAX packets per run, $REPS run(s) per cell)"
: > "$WORK/flood.tsv"
for _ in $(seq "$REPS"); do
    start_moatd plain
    for p in none input_drop ingress_drop meter; do
        nft_policy "$p"
        fn=zero; [ "$p" = none ] || fn=nft_drops
        flood_cell "nft_$p" "$fn" >> "$WORK/flood.tsv"
    done
    nft_policy none
    stop_moatd
    start_moatd xdp
    flood_cell xdp_rate xdp_drops >> "$WORK/flood.tsv"
    dctl block add 198.18.0.1/32 --ttl 10m --reason flood >/dev/null || die "moatctl block add"
    flood_cell xdp_block xdp_drops >> "$WORK/flood.tsv"
    stop_moatd
    start_moatd xdp_generic
    flood_cell xdpg_rate xdp_drops >> "$WORK/flood.tsv"
    dctl block add 198.18.0.1/32 --ttl 10m --reason flood >/dev/null || die "moatctl block add"
    flood_cell xdpg_block xdp_drops >> "$WORK/flood.tsv"
    stop_moatd
done

# ---- 3. connect latency during a flood -------------------------------------
log "3/3 MQTT connect latency, $LAT_N connects per run, $REPS run(s) per cell"
# lat_cell NAME FLOOD(yes|no): moatd must be running, the policy set.
lat_cell() {
    local fpid="" res
    if [ "$2" = yes ]; then
        # nsenter directly, not in_c: $! must be the sender itself (nsenter
        # and taskset exec), or the kill below would miss it.
        nsenter --net=/run/netns/"$NC" taskset -c "$FLOOD_CPU" "$WORK/flood" vc "$VS_MAC" \
            198.18.0.1 198.18.0.2 1883 50000000 "$LAT_FLOOD_S" > "$WORK/latflood.out" &
        fpid=$!
        BG_PIDS="$BG_PIDS $fpid"
        sleep 0.3
    fi
    res=$(in_c taskset -c 0 "$PY" "$HERE/xdp_connect_lat.py" 198.18.0.3 198.18.0.2 1883 \
          "$LAT_N" "$LAT_DEADLINE")
    local fpps=0
    if [ -n "$fpid" ]; then
        kill -TERM "$fpid" 2>/dev/null || true
        wait "$fpid" 2>/dev/null || true
        fpps=$(awk '$2 > 0 {printf "%.0f", $1 / $2; exit} END {if (!NR) print 0}' "$WORK/latflood.out")
    fi
    echo "$1 $res $fpps" | sed 's/[a-z0-9_]*=//g' | tr ' ' '\t'
}
: > "$WORK/lat.tsv"
CELLS="xdp xdp_generic nft_meter none"
for _ in $(seq "$REPS"); do
    # Rotate the order each repeat so drift (thermal, page cache) spreads out.
    set -- $CELLS
    for c in "$@"; do
        case $c in
        xdp)       start_moatd xdp; lat_cell xdp yes >> "$WORK/lat.tsv"; stop_moatd ;;
        xdp_generic) start_moatd xdp_generic; lat_cell xdp_generic yes >> "$WORK/lat.tsv"; stop_moatd ;;
        nft_meter) start_moatd plain; nft_policy meter; lat_cell nft_meter yes >> "$WORK/lat.tsv"
                   nft_policy none; stop_moatd ;;
        none)      start_moatd plain; lat_cell none yes >> "$WORK/lat.tsv"
                   lat_cell idle no >> "$WORK/lat.tsv"; stop_moatd ;;
        esac
    done
    CELLS="$2 $3 $4 $1"
done

# ---- 4. document -----------------------------------------------------------
FLOOD_ROWS="nft_none nft_input_drop nft_ingress_drop nft_meter xdp_block xdp_rate xdpg_block xdpg_rate"
log "writing $OUT"
# median over repeats of column $2 for rows named $1 in file $3
med() { awk -v n="$1" -v c="$2" '$1 == n {print $c}' "$3" | sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "n/a"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }

{
    cat "$HERE/xdp-intro.md"
    echo
    echo "## Machine and run"
    echo
    echo "- Kernel $KERNEL, $NCPU CPU(s): $CPU_MODEL"
    echo "- $NFT_VER; moatd and moatctl from \`$(basename "$B")/\`"
    echo "- Mode \`$MODE\`: test run repeat $REPEAT x $ROUNDS round(s); floods $FLOOD_S s / at most $FLOOD_MAX packets; $LAT_N connects per latency run; $REPS repeat(s) per cell, medians shown"
    echo "- Load average (1/5/15 min) at start: $LOAD_START; at end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this host shows here and in the busy % columns)"
    echo "- Generated $(date -u '+%Y-%m-%d %H:%M UTC') by \`tests/bench/xdp.sh BUILD_DIR $MODE\`"
    echo
    echo "## 1. ns per packet (BPF_PROG_TEST_RUN)"
    echo
    echo "Median of $ROUNDS round(s) of $REPEAT runs each; min and max over the rounds."
    echo "The first row is an empty \`return XDP_PASS\` program: the harness's own cost,"
    echo "included in every other row."
    echo
    echo "| Path | ns/packet | min | max | verdict |"
    echo "|---|---:|---:|---:|---|"
    awk -F'\t' '{printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5}' "$WORK/prog.tsv"
    echo
    echo "## 2. SYN flood on the veth (packets/s)"
    echo
    echo "One sender (198.18.0.1, AF_PACKET, pinned to CPU $FLOOD_CPU) floods SYNs to"
    echo "198.18.0.2:1883 where moatd listens (pinned to CPU 0). Columns: **offered** ="
    echo "sender's rate; **rx** = packets the receiving veth counted (with no filter"
    echo "this includes the client namespace's RSTs answering each SYN-ACK, hence up"
    echo "to 2x offered); **filter drops** = the policy's own drop counter (moat"
    echo "\`xdp_drop\`, nft \`counter\`); **to TCP** = segments that reached TCP in the"
    echo "server namespace (\`Tcp InSegs\`); **syncookies** = SYN cookies sent;"
    echo "**lost** = dropped before any filter (veth rx_dropped + peer tx_dropped +"
    echo "backlog drops from \`/proc/net/softnet_stat\`);"
    echo "**softirq / busy %** = share of CPU time over the flood: all CPUs, then"
    echo "per CPU (cpu0 / cpu1 ...). Sender and receiver are one host, so these add"
    echo "up both sides of the wire."
    echo
    hdr="| Policy | offered pps | rx pps | filter drops/s | to TCP/s | syncookies/s | lost/s | moatd CPU % | softirq % all"
    sep="|---|---:|---:|---:|---:|---:|---:|---:|---:"
    for c in $(seq 0 $((NCPU - 1))); do hdr="$hdr | softirq % cpu$c"; sep="$sep|---:"; done
    hdr="$hdr | busy % all"; sep="$sep|---:"
    for c in $(seq 0 $((NCPU - 1))); do hdr="$hdr | busy % cpu$c"; sep="$sep|---:"; done
    echo "$hdr |"
    echo "$sep|"
    for n in $FLOOD_ROWS; do
        case $n in
        nft_none) label="no filter" ;;
        nft_input_drop) label="nftables: \`ip saddr drop\`, inet input hook" ;;
        nft_ingress_drop) label="nftables: \`ip saddr drop\`, netdev ingress hook" ;;
        nft_meter) label="nftables: per-source SYN \`meter\`, 100/s" ;;
        xdp_block) label="moat XDP (native): source blocklisted" ;;
        xdp_rate) label="moat XDP (native): SYN rate 100/s per source" ;;
        xdpg_block) label="moat XDP (generic): source blocklisted" ;;
        xdpg_rate) label="moat XDP (generic): SYN rate 100/s per source" ;;
        esac
        printf '| %s' "$label"
        cols="2 3 4 5 6 7 8 9"
        for c in $(seq 0 $((NCPU - 1))); do cols="$cols $((11 + 2 * c))"; done
        cols="$cols 10"
        for c in $(seq 0 $((NCPU - 1))); do cols="$cols $((12 + 2 * c))"; done
        for col in $cols; do printf ' | %s' "$(med $n $col "$WORK/flood.tsv")"; done
        echo " |"
    done
    echo
    # Receiver cost: softirq CPU time (all CPUs) per packet the veth received.
    spp() { awk -v s="$(med "$1" 9 "$WORK/flood.tsv")" -v r="$(med "$1" 3 "$WORK/flood.tsv")" -v n="$NCPU" \
            'BEGIN { if (r + 0 > 0) printf "%.0f", s / 100 * n * 1e9 / r; else print "n/a" }'; }
    echo "Softirq CPU time per received packet (softirq % all x CPUs / rx pps): the"
    echo "receive path's cost, which the pps columns hide when the sender is the"
    echo "bottleneck. Ratio = that policy's cost / moat XDP blocklist's cost."
    echo
    echo "| Policy | softirq ns/packet | ratio to XDP blocklist |"
    echo "|---|---:|---:|"
    XB=$(spp xdp_block)
    for n in $FLOOD_ROWS; do
        v=$(spp $n)
        echo "| $n | $v | $(ratio "$v" "$XB") |"
    done
    echo
    echo "Ratios of rx pps: XDP blocklist / nft input drop = $(ratio "$(med xdp_block 3 "$WORK/flood.tsv")" "$(med nft_input_drop 3 "$WORK/flood.tsv")"),"
    echo "XDP blocklist / nft ingress drop = $(ratio "$(med xdp_block 3 "$WORK/flood.tsv")" "$(med nft_ingress_drop 3 "$WORK/flood.tsv")"),"
    echo "XDP blocklist / no filter = $(ratio "$(med xdp_block 3 "$WORK/flood.tsv")" "$(med nft_none 3 "$WORK/flood.tsv")"),"
    echo "XDP rate limit / nft meter = $(ratio "$(med xdp_rate 3 "$WORK/flood.tsv")" "$(med nft_meter 3 "$WORK/flood.tsv")")."
    echo
    echo "## 3. MQTT connect latency of a good client during the flood"
    echo
    echo "moatd listens on 198.18.0.2:1883. The good client (198.18.0.3, Python, CPU 0)"
    echo "does $LAT_N sequential TCP connect + CONNECT/CONNACK + DISCONNECT while"
    echo "198.18.0.1 floods SYNs at full speed (CPU $FLOOD_CPU). Latency = connect() to"
    echo "CONNACK. **fail** = attempts that did not get a CONNACK within 3 s."
    echo "Medians over $REPS repeat(s); cell order rotated between repeats. A max near"
    echo "1,000 ms is a SYN retransmission (initial RTO 1 s): one of the good client's"
    echo "SYNs was lost in a queue shared with the flood."
    echo
    echo "| Policy | ok | fail | p50 ms | p99 ms | max ms | flood pps sent |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for n in idle xdp xdp_generic nft_meter none; do
        case $n in
        idle) label="no flood, no filter (reference)" ;;
        xdp) label="flood; moat XDP native, xdp_syn_rate 100" ;;
        xdp_generic) label="flood; moat XDP generic, xdp_syn_rate 100" ;;
        nft_meter) label="flood; nftables SYN meter 100/s, moatd without XDP" ;;
        none) label="flood; no filter" ;;
        esac
        printf '| %s' "$label"
        for col in 2 3 4 5 6 7; do printf ' | %s' "$(med $n $col "$WORK/lat.tsv")"; done
        echo " |"
    done
    echo
    for q in 4:p50 5:p99; do
        col=${q%%:*}; nm=${q#*:}
        x=$(med xdp "$col" "$WORK/lat.tsv")
        echo "Ratios of $nm to moat XDP native: XDP generic $(ratio "$(med xdp_generic "$col" "$WORK/lat.tsv")" "$x"),"
        echo "nftables meter $(ratio "$(med nft_meter "$col" "$WORK/lat.tsv")" "$x"), no filter $(ratio "$(med none "$col" "$WORK/lat.tsv")" "$x"),"
        echo "no flood $(ratio "$(med idle "$col" "$WORK/lat.tsv")" "$x")."
        echo
    done
    echo "## Raw rows"
    echo
    echo "Flood (name, offered, rx, filter drops, to TCP, syncookies, lost /s, moatd CPU %, then softirq % and busy % for all CPUs, cpu0, cpu1...):"
    echo
    sed 's/^/    /' "$WORK/flood.tsv"
    echo
    echo "Latency (name, ok, fail, p50, p99, max ms, flood pps):"
    echo
    sed 's/^/    /' "$WORK/lat.tsv"
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
log "done: $OUT"
