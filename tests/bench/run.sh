#!/bin/bash
# Side-by-side benchmark: moatd and Debian's mosquitto on loopback, every
# scenario against both in alternation, plus the machine's physical
# references (AES-128-GCM per core, loopback TCP message ceiling).
#
#   tests/bench/run.sh BUILD_DIR full    5 repeats, writes docs/benchmarks.md (+ PNG)
#   tests/bench/run.sh BUILD_DIR smoke   1 short repeat (< ~60 s), writes to a temp dir
#                                        (both include the durable-persistence scenarios, 1 repeat)
#   tests/bench/run.sh BUILD_DIR persist only the durable-persistence scenarios (3 repeats);
#                                        replaces (or appends) their section of docs/benchmarks.md
#
# Exit status: non-zero only if moat-bench itself cannot run (missing,
# usage error, crash, or the broker-less sink reference fails). A broker
# that fails to start or errors is reported in the output and skipped;
# speed never fails the run.
set -u

usage() { echo "usage: $0 BUILD_DIR full|smoke|persist" >&2; exit 2; }
[ $# -eq 2 ] || usage
BUILD=$1
MODE=$2
case "$MODE" in full|smoke|persist) ;; *) usage ;; esac

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$BUILD/moat-bench
MOATD=$BUILD/moatd
MOSQ=${MOSQUITTO:-/usr/sbin/mosquitto}
WORK=$(mktemp -d /tmp/moat-bench.XXXXXX)
RESULTS=$WORK/results.tsv          # broker scenario repeat key value
: > "$RESULTS"
FATAL=0
declare -A BPID BPORT BTLS BDOWN BNOTLS
declare -A BEXTRA                  # broker instance -> extra configuration lines

# PREPEATS/PDUR: the durable-persistence scenarios (see persist_run).
PREPEATS=1; PDUR=3
if [ "$MODE" = smoke ]; then
    REPEATS=1; DUR=1; DRAIN=1; CONNS=2000; TLS_CONNS=300; IDLE_N=1000; IDLE_PROCS=1; HOLD=3
    OUT=$WORK/benchmarks.md; PNG=$WORK/benchmarks.png; AES_SECONDS=1
    PREPEATS=1; PDUR=1
elif [ "$MODE" = persist ]; then
    REPEATS=0; DUR=5; DRAIN=2; CONNS=0; TLS_CONNS=0; IDLE_N=0; IDLE_PROCS=1; HOLD=0; PREPEATS=3; PDUR=5
    AES_SECONDS=0; PNG=
    OUT=$ROOT/docs/benchmarks.md
else
    REPEATS=5; DUR=5; DRAIN=2; CONNS=10000; TLS_CONNS=3000; IDLE_N=19000; IDLE_PROCS=4; HOLD=20
    OUT=$ROOT/docs/benchmarks.md; PNG=$ROOT/docs/benchmarks.png; AES_SECONDS=3
fi
DEADLINE=$(awk -v d="$DUR" -v r="$DRAIN" 'BEGIN { print d + r + 20 }')
CLK_TCK=$(getconf CLK_TCK)
STORM_CONNS=100000   # bounded in time by the storm's --deadline (DUR)

log() { printf 'bench: %s\n' "$*" >&2; }

cleanup() {
    local b
    for b in "${!BPID[@]}"; do
        kill "${BPID[$b]}" 2>/dev/null && wait "${BPID[$b]}" 2>/dev/null
    done
    if [ "$MODE" = smoke ] && [ "${KEEP_WORK:-0}" = 0 ]; then
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x "$BENCH" ]; then
    log "$BENCH: not built (make $BENCH)"
    exit 1
fi

# Brokers and clients need a descriptor per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# Listening ports come from below the ephemeral range (32768-60999 here),
# where no client connection can already hold them, and must not be in use
# by any TCP socket.
port_free() { ! ss -tanH "sport = :$1" 2>/dev/null | grep -q .; }
PICKED=" "
# pick_port: sets PORT_OUT (not echoed: PICKED must survive, no subshell).
pick_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 12000))
        case "$PICKED" in *" $p "*) continue ;; esac
        port_free "$p" && { PICKED="$PICKED$p "; PORT_OUT=$p; return 0; }
    done
    return 1
}

# utime + stime of PID in seconds (fields 14 and 15 of /proc/PID/stat,
# counted after the parenthesised command name, which may contain spaces).
cpu_s() {
    local s
    s=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    set -- $s
    awk -v u="${12}" -v k="${13}" -v t="$CLK_TCK" 'BEGIN { printf "%.3f", (u + k) / t }'
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# start_broker NAME: writes its config, starts it, waits until it accepts
# an MQTT connection. On failure marks it down with the reason.
# start_broker NAME [KIND]: KIND (moat|mosquitto) defaults to NAME; NAME
# keys BPID/BPORT/BTLS/BDOWN, so a second, fresh instance can run as
# "moat-idle". If the broker refuses the TLS listener it is started again
# without it (BNOTLS says why) and only the TLS scenarios fail.
start_broker() {
    local name=$1 kind=${2:-$1}
    unset 'BDOWN[$name]' 'BNOTLS[$name]'
    launch_broker "$name" "$kind" tls && return 0
    if [ -z "${BDOWN[$name]##*TLS*}" ] || [ -z "${BDOWN[$name]##*tls*}" ]; then
        BNOTLS[$name]=${BDOWN[$name]}
        unset 'BDOWN[$name]'
        log "$name: retrying without the TLS listener (${BNOTLS[$name]})"
        launch_broker "$name" "$kind" plain && return 0
    fi
    return 1
}

launch_broker() {
    local name=$1 kind=$2 mode=$3 port tport conf bin tls=
    pick_port || { BDOWN[$name]="no free port"; return 1; }
    port=$PORT_OUT
    pick_port || { BDOWN[$name]="no free port"; return 1; }
    tport=$PORT_OUT
    # One directory per instance, holding its configuration and (moatd) its
    # control socket: two instances may run at once (main and idle), and
    # the default /run/moat/moatd.sock may belong to a real moatd.
    mkdir -p "$WORK/$name"
    chmod 755 "$WORK/$name"
    conf=$WORK/$name/$name.conf
    # The same TLS listener block for both (mosquitto.conf keys, which moatd
    # reads with the same meaning).
    if [ "$mode" = tls ]; then
        tls="listener $tport 127.0.0.1
certfile $WORK/cert.pem
keyfile $WORK/key.pem"
        BTLS[$name]=$tport
    else
        unset 'BTLS[$name]'
    fi
    if [ "$kind" = moat ]; then
        bin=$MOATD
        printf 'listener %s 127.0.0.1\nallow_anonymous true\ncontrol_socket %s\n%s\n%s\n' "$port" "$WORK/$name/moatd.ctl" "$tls" \
            "${BEXTRA[$name]:-}" > "$conf"
    else
        bin=$MOSQ
        # set_tcp_nodelay: moatd sets TCP_NODELAY on every client socket;
        # mosquitto leaves Nagle on unless told, which costs it ~30 ms p99.
        # BEXTRA (if any) replaces "persistence false".
        printf 'listener %s 127.0.0.1\nallow_anonymous true\n%s\nset_tcp_nodelay true\nlog_dest stderr\nlog_type error\nlog_type warning\n%s\n' \
            "$port" "${BEXTRA[$name]:-persistence false}" "$tls" > "$conf"
    fi
    if [ ! -x "$bin" ]; then
        BDOWN[$name]="$bin not found"
        return 1
    fi
    "$bin" -c "$conf" > "$WORK/$name.log" 2>&1 &
    BPID[$name]=$!
    BPORT[$name]=$port
    for _ in $(seq 1 50); do
        if "$BENCH" --scenario conn --conns 1 --port "$port" --deadline 0.5 --no-progress \
            > /dev/null 2>&1; then
            log "$name: pid ${BPID[$name]} on 127.0.0.1:$port${BTLS[$name]:+, TLS on ${BTLS[$name]}}"
            return 0
        fi
        kill -0 "${BPID[$name]}" 2>/dev/null || break
        sleep 0.1
    done
    BDOWN[$name]="did not accept MQTT connections: $(grep -v ' notice: ' "$WORK/$name.log" | tail -n 3 | tr '\n' ' ' | cut -c1-300)"
    kill "${BPID[$name]}" 2>/dev/null
    wait "${BPID[$name]}" 2>/dev/null
    unset 'BPID[$name]'
    return 1
}

stop_broker() {
    local name=$1
    [ -n "${BPID[$name]:-}" ] || return 0
    kill "${BPID[$name]}" 2>/dev/null
    wait "${BPID[$name]}" 2>/dev/null
    unset 'BPID[$name]'
}

broker_alive() {
    local name=$1
    [ -z "${BDOWN[$name]:-}" ] || return 1
    if ! kill -0 "${BPID[$name]}" 2>/dev/null; then
        BDOWN[$name]="exited during the run: $(tail -n 3 "$WORK/$name.log" | tr '\n' ' ' | cut -c1-200)"
        log "$name: ${BDOWN[$name]}"
        return 1
    fi
}

# record BROKER SCENARIO REPEAT "key=value ..." : appends to RESULTS.
record() {
    local b=$1 sc=$2 rep=$3 line=$4
    echo "$line" | tr ' ' '\n' | awk -F= -v b="$b" -v s="$sc" -v r="$rep" \
        'NF >= 2 && $1 != "" { k = $1; sub(/^[^=]*=/, ""); printf "%s\t%s\t%s\t%s\t%s\n", b, s, r, k, $0 }' \
        >> "$RESULTS"
}

# Interprets a moat-bench exit status: 2 (usage) or a signal means the tool
# itself is broken.
check_tool_rc() {
    local rc=$1 what=$2
    if [ "$rc" -eq 2 ] || [ "$rc" -ge 124 ]; then
        log "moat-bench failed to run ($what): exit $rc"
        FATAL=1
    fi
}

# run_one BROKER SCENARIO REPEAT ARGS... : one moat-bench run with broker CPU.
run_one() {
    local b=$1 sc=$2 rep=$3 c0 c1 out rc port storm=
    shift 3
    broker_alive "$b" || return 0
    port=${BPORT[$b]}
    case " $* " in *" --tls"*) port=${BTLS[$b]:-} ;; esac
    if [ -z "$port" ] || { [ "$sc" = storm ] && [ -z "${BTLS[$b]:-}" ]; }; then
        record "$b" "$sc" "$rep" "status=error error=no_TLS_listener"
        return 0
    fi
    c0=$(cpu_s "${BPID[$b]}")
    if [ "$sc" = storm ]; then
        # A storm of full TLS handshakes from a second process while this
        # run measures the latency of a plain 10k msg/s stream.
        timeout -k 2 $((${DEADLINE%.*} + 10)) "$BENCH" --scenario conn --tls --port "${BTLS[$b]}" \
            --conns "$STORM_CONNS" --deadline "$DUR" --no-progress > "$WORK/storm.out" 2>&1 &
        storm=$!
    fi
    out=$(timeout -k 2 "$(awk -v d="$DEADLINE" 'BEGIN { print d + 10 }')" \
        "$BENCH" --port "$port" --label "$b" --deadline "$DEADLINE" --no-progress "$@" \
        2> "$WORK/last.err")
    rc=$?
    if [ -n "$storm" ]; then
        wait "$storm"
        # The storm is cut by its own --deadline on purpose; report its rate.
        out="$out storm_ok=$(grep -o ' ok=[0-9]*' "$WORK/storm.out" | cut -d= -f2) storm_conn_rate=$(grep -o 'conn_rate=[^ ]*' "$WORK/storm.out" | cut -d= -f2)"
    fi
    c1=$(cpu_s "${BPID[$b]}")
    check_tool_rc "$rc" "$b $sc"
    [ "$rc" -ne 0 ] && log "$b $sc #$rep: $(head -c 300 "$WORK/last.err")"
    record "$b" "$sc" "$rep" "$out broker_cpu_s=$(awk -v a="$c0" -v z="$c1" 'BEGIN { printf "%.3f", z - a }')"
    if [ -t 2 ]; then printf '\r\033[K%s %s #%s %s' "$b" "$sc" "$rep" "$(echo "$out" | grep -o 'recv_rate=[^ ]*\|conn_rate=[^ ]*' | head -1)" >&2; fi
}

# run_idle BROKER REPEAT : N idle connections over IDLE_PROCS processes;
# RSS of the broker before and after all are up. A fresh broker instance
# each time: a broker that already served other scenarios reuses freed heap
# and would show (almost) no growth.
run_idle() {
    local b=$1 rep=$2 sc=${3:-idle} per r0 r1 i n pids=() rc ok=1 held=0 key=$1-idle port
    shift 3 2>/dev/null || shift $#
    [ -z "${BDOWN[$b]:-}" ] || return 0
    case " $* " in *" --tls"*)
        if [ -n "${BNOTLS[$b]:-}" ]; then
            record "$b" "$sc" "$rep" "status=error error=no_TLS_listener"
            return 0
        fi ;;
    esac
    if ! start_broker "$key" "$b"; then
        log "$b idle #$rep: ${BDOWN[$key]}"
        record "$b" "$sc" "$rep" "status=error"
        return 0
    fi
    port=${BPORT[$key]}
    case " $* " in *" --tls"*) port=${BTLS[$key]:-} ;; esac
    if [ -z "$port" ]; then
        stop_broker "$key"
        record "$b" "$sc" "$rep" "status=error error=no_TLS_listener"
        return 0
    fi
    per=$((IDLE_N / IDLE_PROCS))
    sleep 0.2
    r0=$(rss_kb "${BPID[$key]}")
    rm -f "$WORK"/ready.*
    for i in $(seq 1 "$IDLE_PROCS"); do
        timeout -k 2 $((HOLD + 60)) "$BENCH" --scenario idle --port "$port" --conns "$per" \
            --hold "$HOLD" --keepalive 0 --ready-file "$WORK/ready.$i" --deadline $((HOLD + 50)) \
            --label "$b" --no-progress "$@" > "$WORK/idle.$i.out" 2> "$WORK/idle.$i.err" &
        pids+=($!)
    done
    # Wait (bounded) until every process has all its connections up.
    for _ in $(seq 1 400); do
        [ "$(ls "$WORK"/ready.* 2>/dev/null | wc -l)" -ge "$IDLE_PROCS" ] && break
        sleep 0.1
    done
    sleep 0.5
    r1=$(rss_kb "${BPID[$key]}")
    for i in $(seq 1 "$IDLE_PROCS"); do
        wait "${pids[$((i - 1))]}"
        rc=$?
        check_tool_rc "$rc" "$b $sc"
        [ "$rc" -eq 0 ] || { ok=0; log "$b $sc #$rep: $(head -c 300 "$WORK/idle.$i.err")"; }
        n=$(grep -o 'held=[0-9]*' "$WORK/idle.$i.out" | cut -d= -f2)
        held=$((held + ${n:-0}))
    done
    stop_broker "$key"
    [ "$held" -eq "$IDLE_N" ] || { ok=0; log "$b $sc #$rep: held $held of $IDLE_N"; }
    record "$b" "$sc" "$rep" "status=$([ $ok = 1 ] && echo ok || echo error) conns=$IDLE_N held=$held rss_before_kb=$r0 rss_after_kb=$r1 rss_per_conn_b=$(awk -v a="$r0" -v z="$r1" -v n="$IDLE_N" 'BEGIN { printf "%.0f", (z - a) * 1024 / n }')"
}

# ---- scenarios: NAME|moat-bench flags ----
COMMON="--duration $DUR --drain $DRAIN"
SCENARIOS=(
    "q0_1to1|--qos 0"
    "q1_1to1|--qos 1"
    "q2_1to1|--qos 2"
    "q0_8x8|--qos 0 --pubs 8 --subs 8"
    "q0_fan50|--qos 0 --topics shared --subs 50 --window 1000"
    "q0_fan1000|--qos 0 --topics shared --subs 1000 --window 50"
    "q1_fan50|--qos 1 --topics shared --subs 50 --window 1000"
    "lat_q0_10k|--qos 0 --rate 10000"
    "lat_q1_10k|--qos 1 --rate 10000"
    "conn|--scenario conn --conns $CONNS"
    "q0_1to1_tls|--qos 0 --tls"
    "conn_tls|--scenario conn --tls --conns $TLS_CONNS"
    "conn_tls_resume|--scenario conn --tls-resume --conns $TLS_CONNS"
    "storm|--qos 0 --rate 10000"
)

# ---- the unit test of moat-bench's own accounting ----
if cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -I"$ROOT/tools/bench" -o "$WORK/test_bench" \
    "$ROOT/tests/bench/test_bench.c" "$ROOT/tools/bench/seqtrack.c" "$ROOT/tools/bench/hist.c" \
    -lcmocka 2> "$WORK/test_bench.err"; then
    "$WORK/test_bench" > "$WORK/test_bench.out" 2>&1 || { cat "$WORK/test_bench.out" >&2; log "test_bench failed"; FATAL=1; }
else
    cat "$WORK/test_bench.err" >&2
    log "test_bench does not compile"
    FATAL=1
fi

# ---- moat-bench against a deliberately faulty broker: exact counts ----
# fake_broker.py drops, duplicates and reorders by a fixed rule; moat-bench
# must report exactly the numbers the rule implies, or it cannot be trusted.
selftest() {
    local port fpid q out want got
    pick_port || { log "selftest: no free port"; FATAL=1; return; }
    port=$PORT_OUT
    /usr/bin/python3 "$ROOT/tests/bench/fake_broker.py" "$port" 20 > "$WORK/fake.out" 2>&1 &
    fpid=$!
    for _ in $(seq 1 50); do grep -q ready "$WORK/fake.out" 2>/dev/null && break; sleep 0.1; done
    want=$(/usr/bin/python3 "$ROOT/tests/bench/fake_broker.py" --expect 2000)
    for q in 0 1; do
        out=$("$BENCH" --port "$port" --count 2000 --duration 0 --qos "$q" --drain 0.5 \
            --deadline 15 --no-progress 2>&1)
        got=$(echo "$out" | tr ' ' '\n' | grep -E '^(lost|dup|reordered)=' | tr '\n' ' ' | sed 's/ $//')
        if [ "$got" != "$want" ]; then
            log "selftest QoS $q: moat-bench counted '$got', the faulty broker did '$want': $out"
            FATAL=1
        fi
    done
    kill "$fpid" 2>/dev/null
    wait "$fpid" 2>/dev/null
}
selftest

# ---- physical references (not in persist mode, whose section has no ceiling column) ----
AES=; SINK=; CEIL=
if [ "$MODE" != persist ]; then
log "references: openssl speed, loopback TCP ceiling"
AES=$(timeout 60 openssl speed -evp aes-128-gcm -seconds "$AES_SECONDS" -bytes 16384 2>/dev/null |
    awk '/^AES-128-GCM/ { v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 }')
SINK=$("$BENCH" --scenario sink --duration "$DUR" --deadline "$DEADLINE" --no-progress 2> "$WORK/sink.err")
rc=$?
check_tool_rc "$rc" sink
[ "$rc" -eq 0 ] || { log "sink reference failed: $(cat "$WORK/sink.err")"; FATAL=1; }
record ref sink 1 "$SINK"
CEIL=$(echo "$SINK" | grep -o 'recv_rate=[^ ]*' | cut -d= -f2)
fi

# ---- machine ----
CORES=$(nproc)
KERNEL=$(uname -r)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
if [ -e /proc/net/tls_stat ]; then
    KTLS="available (/proc/net/tls_stat present)"
elif modprobe tls 2>/dev/null && [ -e /proc/net/tls_stat ]; then
    KTLS="available (after modprobe tls)"
else
    KTLS="not available (no /proc/net/tls_stat; modprobe tls failed)"
fi

# ---- brokers ----
# A throwaway certificate for the TLS listeners. mosquitto drops root
# privileges before it reads the key, so the directory and key are readable.
chmod 755 "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
    -subj /CN=127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" > /dev/null 2>&1 ||
    log "openssl req failed: TLS scenarios will fail"
chmod 644 "$WORK/key.pem" "$WORK/cert.pem" 2>/dev/null
if [ "$MODE" != persist ]; then
    for b in moat mosquitto; do
        start_broker "$b" || log "$b: not benchmarked: ${BDOWN[$b]}"
    done
fi

# ---- durable persistence: QoS 1 to a persistent (clean session 0) subscriber ----
# One broker instance per store configuration, each with a fresh store
# directory; moat-memory (no persistence) is the in-memory reference.
PBROKERS=(moat-memory moat-durable moat-encrypted moat-nofsync mosquitto-persist)
declare -A PKIND=([moat-memory]=moat [moat-durable]=moat [moat-encrypted]=moat [moat-nofsync]=moat
    [mosquitto-persist]=mosquitto)
declare -A PDESC=(
    [moat-memory]="moatd, no persistence (reference)|no: nothing is stored"
    [moat-durable]="moatd, \`persistence true\`|yes: LMDB commit with fsync before PUBACK"
    [moat-encrypted]="moatd, \`persistence true\` + \`persistence_key_file\` (AES-256-GCM)|yes: LMDB commit with fsync before PUBACK"
    [moat-nofsync]="moatd, \`persistence true\` + \`moat_persistence_fsync false\`|survives a moatd crash, not an OS crash or power loss: committed before PUBACK, not synced"
    [mosquitto-persist]="mosquitto, \`persistence true\` (autosave_interval 1800 s)|no: its database is written only every autosave_interval and at shutdown; a crash loses every message since"
)
declare -A PSTORE                   # broker instance -> store size after the run
PSYNC=                              # synced 4 KiB writes per second where the stores are
PSCEN=q1_persist
PARGS="--qos 1 --size 64 --clean-session 0"

# persist_start NAME: a fresh store directory and configuration, then start.
persist_start() {
    local b=$1 st=$WORK/$1/store
    rm -rf "${WORK:?}/$b"
    mkdir -p "$WORK/$b"
    case $b in
    moat-memory) BEXTRA[$b]= ;;
    moat-durable) BEXTRA[$b]="persistence true
persistence_location $st" ;;
    moat-encrypted)
        # moatd refuses a key file that is not owner-only.
        (umask 077 && openssl rand -hex 32 > "$WORK/$b/store.key") || log "$b: openssl rand failed"
        BEXTRA[$b]="persistence true
persistence_location $st
persistence_key_file $WORK/$b/store.key" ;;
    moat-nofsync) BEXTRA[$b]="persistence true
persistence_location $st
moat_persistence_fsync false" ;;
    mosquitto-persist)
        # mosquitto drops root privileges to its own user before writing.
        mkdir -p "$st"
        chown mosquitto "$st" 2>/dev/null || chmod 777 "$st"
        BEXTRA[$b]="persistence true
persistence_location $st/" ;;
    esac
    start_broker "$b" "${PKIND[$b]}" || log "$b: not benchmarked: ${BDOWN[$b]}"
}

# persist_run: PREPEATS rounds over every instance in alternation; the
# subscriber's client id is fixed per instance, so from the second round
# on it resumes its stored session. Store size is read after shutdown
# (mosquitto writes its database then).
persist_run() {
    local b rep
    [ "$PREPEATS" -gt 0 ] || return 0
    log "durable persistence: ${#PBROKERS[@]} instances, $PREPEATS repeat(s) of ${PDUR} s"
    # The disk's reference for the durable rows: 200 synchronous 4 KiB
    # writes (each waits like an fdatasync) in the stores' filesystem.
    PSYNC=$(timeout 30 dd if=/dev/zero of="$WORK/sync.test" bs=4096 count=200 oflag=dsync 2>&1 |
        awk '/copied/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^s,?$/) { if ($i > 0) printf "%.0f", 200 / $i; exit } }')
    rm -f "$WORK/sync.test"
    for b in "${PBROKERS[@]}"; do persist_start "$b"; done
    for rep in $(seq 1 "$PREPEATS"); do
        for b in "${PBROKERS[@]}"; do
            # shellcheck disable=SC2086
            run_one "$b" "$PSCEN" "$rep" --duration "$PDUR" --drain "$DRAIN" $PARGS --client-prefix "mb-$b"
        done
    done
    for b in "${PBROKERS[@]}"; do
        stop_broker "$b"
        [ -d "$WORK/$b/store" ] && PSTORE[$b]="$(du -sk "$WORK/$b/store" | cut -f1) KiB"
        [ "${KEEP_WORK:-0}" = 0 ] && rm -rf "${WORK:?}/$b/store" "$WORK/$b/store.key"
    done
}

# ---- runs, alternating brokers ----
for rep in $(seq 1 "$REPEATS"); do
    for s in "${SCENARIOS[@]}"; do
        name=${s%%|*}
        args=${s#*|}
        for b in moat mosquitto; do
            # shellcheck disable=SC2086
            run_one "$b" "$name" "$rep" $COMMON $args
        done
    done
    for b in moat mosquitto; do
        run_idle "$b" "$rep" idle
        run_idle "$b" "$rep" idle_tls --tls
    done
done
persist_run
[ -t 2 ] && printf '\r\033[K' >&2

# ---- medians and the report ----
# median BROKER SCENARIO KEY: median over repeats with status=ok, or "".
median() {
    awk -F'\t' -v b="$1" -v s="$2" -v k="$3" '
        $1 == b && $2 == s && $4 == "status" { st[$3] = $5 }
        $1 == b && $2 == s && $4 == k { v[$3] = $5 }
        END { n = 0; for (r in v) if (st[r] == "ok") a[++n] = v[r] + 0
              if (n == 0) exit
              for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
              m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
              printf "%.6g", m }' "$RESULTS"
}
# total BROKER SCENARIO KEY: sum over all repeats.
total() {
    awk -F'\t' -v b="$1" -v s="$2" -v k="$3" '$1 == b && $2 == s && $4 == k { t += $5; f = 1 }
        END { if (f) printf "%.0f", t; else if (k != "broker_cpu_s" && k != "held") printf "-" }' "$RESULTS"
}
errors() {
    awk -F'\t' -v b="$1" -v s="$2" '$1 == b && $2 == s && $4 == "status" && $5 != "ok" { n++ }
        END { print n + 0 }' "$RESULTS"
}
fmt() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { if (v >= 1e6) printf "%.2fM", v / 1e6; else if (v >= 1e4) printf "%.1fk", v / 1e3; else printf "%.4g", v }' || echo "n/a"; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }' || echo "n/a"; }
pct() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "-" }' || echo "-"; }
# per_cpu BROKER SCENARIO: median over repeats of unique deliveries / broker CPU s.
per_cpu() {
    awk -F'\t' -v b="$1" -v s="$2" '
        $1 == b && $2 == s { d[$3, $4] = $5; r[$3] = 1 }
        END { n = 0; for (x in r) if (d[x, "status"] == "ok" && d[x, "broker_cpu_s"] > 0)
                  a[++n] = d[x, "unique"] / d[x, "broker_cpu_s"]
              if (n == 0) exit
              for (i = 2; i <= n; i++) { y = a[i]; for (j = i - 1; j >= 1 && a[j] > y; j--) a[j + 1] = a[j]; a[j + 1] = y }
              printf "%.6g", (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }' "$RESULTS"
}

nz() { echo "${1:-0}"; }   # chart data: a missing value (broker down) plots as 0
row() {  # scenario metric moat mosq [ceiling-able]
    local m=$3 q=$4 cm="-" cq="-"
    if [ "${5:-}" = ceil ]; then cm=$(pct "$m" "$CEIL"); cq=$(pct "$q" "$CEIL"); fi
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$(fmt "$m")" "$(fmt "$q")" "$(ratio "$m" "$q")" "$cm" "$cq"
}

# persist_section: the markdown section of the durable-persistence runs.
PHEAD="## Durable persistence (QoS 1 to a persistent subscriber)"
persist_section() {
    local b desc dur qm qc mm mc
    qm=$(median mosquitto-persist "$PSCEN" recv_rate)
    qc=$(per_cpu mosquitto-persist "$PSCEN")
    echo "$PHEAD"
    echo
    echo "Written by \`tests/bench/run.sh BUILD_DIR persist\` (3 repeats; the full and smoke runs write it"
    echo "too, with 1). This one: **$MODE** run, $(date -u '+%Y-%m-%d %H:%M UTC'), $PREPEATS repeat(s) of ${PDUR} s of"
    echo "publishing per instance, instances in alternation, medians. Machine: $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)),"
    echo "kernel $(uname -r); each store in a fresh directory on $(df -T "$WORK" | awk 'NR == 2 { print $2 " (" $1 ")" }')."
    echo "Disk reference in the same run: $(fmt "$PSYNC") synchronous 4 KiB writes per second"
    echo "(\`dd oflag=dsync\`, 200 writes) in that filesystem. The machine is shared with other jobs, so"
    echo "durable rates (bound by the disk's write and sync latency) vary from run to run; compare rows"
    echo "of the same run."
    echo
    echo "QoS 1, 64-byte payload, one publisher (at most 20 unacknowledged, window 1000) to one"
    echo "subscriber that connects with clean session 0 and a fixed client id (\`--clean-session 0"
    echo "--client-prefix\`; from the second repeat on it resumes its stored session) and acknowledges at"
    echo "once. Every message is queued for a persistent session, so a persistent broker stores it, and"
    echo "moatd acknowledges the PUBLISH only after the loop iteration's transaction committed."
    echo "\"vs mosquitto\" divides by the mosquitto row; \"per CPU-s\" divides deliveries by broker CPU time."
    echo
    echo "| Broker / store | Durable when acknowledged | msg/s | msg per CPU-s | p99 µs (saturated) | msg/s vs mosquitto | per CPU-s vs mosquitto | lost / dup | runs with errors | store after run |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for b in "${PBROKERS[@]}"; do
        desc=${PDESC[$b]%%|*}
        dur=${PDESC[$b]#*|}
        if [ -z "$(total "$b" "$PSCEN" broker_cpu_s)" ]; then
            printf '| %s | %s | not measured: %s | | | | | | | |\n' "$desc" "$dur" "${BDOWN[$b]:-no run}"
            continue
        fi
        mm=$(median "$b" "$PSCEN" recv_rate)
        mc=$(per_cpu "$b" "$PSCEN")
        printf '| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |\n' "$desc" "$dur" "$(fmt "$mm")" \
            "$(fmt "$mc")" "$(fmt "$(median "$b" "$PSCEN" lat_p99_us)")" "$(ratio "$mm" "$qm")" "$(ratio "$mc" "$qc")" \
            "$(total "$b" "$PSCEN" lost)" "$(total "$b" "$PSCEN" dup)" "$(errors "$b" "$PSCEN")" "${PSTORE[$b]:-none}"
    done
    echo
    echo "mosquitto keeps the queued messages in memory and writes its database only every"
    echo "\`autosave_interval\` and at shutdown, so its row is comparable to moatd's in speed, not in what"
    echo "survives a crash: only moatd's durable rows have synced every acknowledged message to disk."
    echo "\"store after run\" is the store directory's size after the instance shut down."
}

# persist_splice FILE SECTION_FILE: replaces the section headed PHEAD (up to
# the next "## " heading) in FILE, or appends it; the rest is untouched.
persist_splice() {
    local f=$1 sec=$2 tmp
    tmp=$WORK/splice.md
    if [ -f "$f" ] && grep -qxF "$PHEAD" "$f"; then
        awk -v h="$PHEAD" -v sec="$sec" '
            $0 == h { while ((getline l < sec) > 0) print l; skip = 1; next }
            skip && /^## / { skip = 0; print ""; }
            !skip { print }' "$f" > "$tmp"
    else
        { [ -s "$f" ] && { cat "$f"; echo; }; cat "$sec"; } > "$tmp"
    fi
    cat "$tmp" > "$f"
}

if [ "$MODE" = persist ]; then
    persist_section > "$WORK/persist.md"
    persist_splice "$OUT" "$WORK/persist.md"
    log "report: $OUT (section \"${PHEAD#\#\# }\")"
    cat "$WORK/persist.md"
    echo
    echo "raw results: $RESULTS"
    if [ "$FATAL" -ne 0 ]; then
        log "moat-bench failed to run (see above)"
        exit 1
    fi
    exit 0
fi

DAT=$WORK/chart.dat
: > "$DAT"
{
    cat "$ROOT/tests/bench/intro.md"
    echo
    echo "## This run"
    echo
    echo "- Mode: **$MODE** ($REPEATS repeat(s), ${DUR} s of publishing per run), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: $CORES cores ($CPU_MODEL), kernel $KERNEL, kTLS $KTLS"
    echo "- mosquitto: $($MOSQ -h 2>/dev/null | awk 'NR == 1 { print $3 }'); moatd: $MOATD"
    for b in moat mosquitto; do
        [ -n "${BDOWN[$b]:-}" ] && echo "- **$b was not measured**: ${BDOWN[$b]}"
        [ -n "${BNOTLS[$b]:-}" ] && echo "- **$b has no TLS results**: ${BNOTLS[$b]}"
    done
    echo
    echo "### Physical references"
    echo
    echo "| Reference | Value |"
    echo "|---|---|"
    echo "| AES-128-GCM, 16 KiB blocks, one core (\`openssl speed -evp\`) | $(fmt "$AES") B/s |"
    echo "| Loopback TCP, QoS 0 PUBLISH packets ($(echo "$SINK" | grep -o 'msg_bytes=[0-9]*' | cut -d= -f2) B) to a trivial sink | $(fmt "$CEIL") msg/s |"
    echo
    echo "### Medians"
    echo
    echo "Rates are messages delivered to subscribers per second (fan-out counts every copy)."
    echo "\"per CPU-s\" divides deliveries by the broker's CPU time (utime+stime) during the run."
    echo
    echo "| Scenario | Metric | moat | mosquitto | moat/mosquitto | moat/ceiling | mosquitto/ceiling |"
    echo "|---|---|---|---|---|---|---|"
    for s in "${SCENARIOS[@]}"; do
        name=${s%%|*}
        case $name in
        conn*)
            row "$name" "connections/s" "$(median moat "$name" conn_rate)" "$(median mosquitto "$name" conn_rate)"
            row "$name" "CONNACK p99 µs" "$(median moat "$name" connack_p99_us)" "$(median mosquitto "$name" connack_p99_us)"
            row "$name" "moat-bench CPU util" "$(median moat "$name" client_cpu_util)" "$(median mosquitto "$name" client_cpu_util)"
            [ "$name" = conn_tls_resume ] &&
                row "$name" "resumed handshakes" "$(median moat "$name" tls_resumed)" "$(median mosquitto "$name" tls_resumed)"
            ;;
        storm)
            row storm "p99 µs (10k msg/s during TLS storm)" "$(median moat storm lat_p99_us)" "$(median mosquitto storm lat_p99_us)"
            row storm "storm handshakes/s" "$(median moat storm storm_conn_rate)" "$(median mosquitto storm storm_conn_rate)"
            ;;
        lat_*)
            row "$name" "p50 µs" "$(median moat "$name" lat_p50_us)" "$(median mosquitto "$name" lat_p50_us)"
            row "$name" "p99 µs" "$(median moat "$name" lat_p99_us)" "$(median mosquitto "$name" lat_p99_us)"
            row "$name" "p99.9 µs" "$(median moat "$name" lat_p999_us)" "$(median mosquitto "$name" lat_p999_us)"
            printf '%s %s %s %s %s\n' "$name" "$(nz "$(median moat "$name" lat_p50_us)")" \
                "$(nz "$(median mosquitto "$name" lat_p50_us)")" "$(nz "$(median moat "$name" lat_p99_us)")" \
                "$(nz "$(median mosquitto "$name" lat_p99_us)")" >> "$DAT.lat"
            ;;
        *)
            row "$name" "msg/s" "$(median moat "$name" recv_rate)" "$(median mosquitto "$name" recv_rate)" ceil
            row "$name" "msg per CPU-s" "$(per_cpu moat "$name")" "$(per_cpu mosquitto "$name")"
            row "$name" "p99 µs (saturated)" "$(median moat "$name" lat_p99_us)" "$(median mosquitto "$name" lat_p99_us)"
            printf '%s %s %s\n' "$name" "$(nz "$(median moat "$name" recv_rate)")" \
                "$(nz "$(median mosquitto "$name" recv_rate)")" >> "$DAT"
            ;;
        esac
    done
    if [ "$PREPEATS" -gt 0 ]; then
        row "$PSCEN (durable)" "msg/s, persistent subscriber" "$(median moat-durable "$PSCEN" recv_rate)" \
            "$(median mosquitto-persist "$PSCEN" recv_rate)"
        row "$PSCEN (durable)" "msg per CPU-s" "$(per_cpu moat-durable "$PSCEN")" "$(per_cpu mosquitto-persist "$PSCEN")"
    fi
    row idle "RSS bytes per idle conn" "$(median moat idle rss_per_conn_b)" "$(median mosquitto idle rss_per_conn_b)"
    row idle_tls "RSS bytes per idle TLS conn" "$(median moat idle_tls rss_per_conn_b)" "$(median mosquitto idle_tls rss_per_conn_b)"
    echo
    echo "### Correctness of every run (sums over repeats)"
    echo
    echo "\"moat-bench CPU\" is the load generator's own CPU time over the run's wall time (median):"
    echo "near 1.0 means its one thread was saturated and the broker may have had more to give."
    echo
    echo "| Scenario | Broker | runs with errors | lost | duplicates | reordered | foreign | moat-bench CPU |"
    echo "|---|---|---|---|---|---|---|---|"
    for s in "${SCENARIOS[@]}" "idle|" "idle_tls|"; do
        name=${s%%|*}
        for b in moat mosquitto; do
            if [ -z "$(total "$b" "$name" broker_cpu_s)$(total "$b" "$name" held)" ]; then
                printf '| %s | %s | not run | | | | | |\n' "$name" "$b"
                continue
            fi
            printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$b" "$(errors "$b" "$name")" \
                "$(total "$b" "$name" lost)" "$(total "$b" "$name" dup)" "$(total "$b" "$name" reordered)" \
                "$(total "$b" "$name" foreign)" "$(fmt "$(median "$b" "$name" client_cpu_util)")"
        done
    done
    if [ "$PREPEATS" -gt 0 ]; then
        for b in "${PBROKERS[@]}"; do
            if [ -z "$(total "$b" "$PSCEN" broker_cpu_s)" ]; then
                printf '| %s | %s | not run | | | | | |\n' "$PSCEN" "$b"
                continue
            fi
            printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$PSCEN" "$b" "$(errors "$b" "$PSCEN")" \
                "$(total "$b" "$PSCEN" lost)" "$(total "$b" "$PSCEN" dup)" "$(total "$b" "$PSCEN" reordered)" \
                "$(total "$b" "$PSCEN" foreign)" "$(fmt "$(median "$b" "$PSCEN" client_cpu_util)")"
        done
    fi
    echo
    echo "QoS 0 loss in saturated runs is what the broker had not delivered when the drain window"
    echo "(${DRAIN} s) closed, or dropped; at QoS 1 and 2 any loss or duplicate is a broker bug."
    echo
    if [ -s "$DAT" ] && command -v gnuplot > /dev/null; then
        echo "![throughput and latency]($(basename "$PNG"))"
    fi
    if [ "$PREPEATS" -gt 0 ]; then
        echo
        persist_section
    fi
} > "$OUT"

# ---- chart ----
if [ -s "$DAT" ] && command -v gnuplot > /dev/null; then
    [ -s "$DAT.lat" ] || echo "none 0 0 0 0" > "$DAT.lat"
    gnuplot 2> "$WORK/gnuplot.err" <<EOF || log "gnuplot failed: $(head -c 300 "$WORK/gnuplot.err")"
set terminal pngcairo size 1100,700 font "sans,9" noenhanced
set output "$PNG"
set yrange [0:*]
set multiplot layout 2,1
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set key top right
set title "Delivered messages per second (median, $MODE run)"
set ylabel "msg/s"
set xtics rotate by -20
plot "$DAT" using 2:xtic(1) title "moat", "" using 3 title "mosquitto"
set title "Latency at 10k msg/s (median, µs)"
set ylabel "µs"
plot "$DAT.lat" using 2:xtic(1) title "moat p50", "" using 3 title "mosquitto p50", \
     "" using 4 title "moat p99", "" using 5 title "mosquitto p99"
unset multiplot
EOF
fi

log "report: $OUT"
[ "$MODE" = smoke ] && { cat "$OUT"; echo; echo "raw results: $RESULTS (kept with KEEP_WORK=1)"; }
if [ "$FATAL" -ne 0 ]; then
    log "moat-bench failed to run (see above)"
    exit 1
fi
exit 0
