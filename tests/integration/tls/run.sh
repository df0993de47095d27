#!/bin/bash
# TLS listener tests against a running moatd, on loopback only. On this
# host the kernel has no kTLS, so they exercise the userspace transport;
# tests/vm/run.sh runs the kTLS side.
#
#   tests/integration/tls/run.sh [BUILD_DIR]     (or MOATD=path/to/moatd)
#
# Needs openssl, mosquitto-clients; sslscan is used when installed.
# Exit status non-zero on any failure; the last line is "N passed, N failed".
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
B=${1:-$ROOT/build}
MOATD=${MOATD:-$B/moatd}
case $MOATD in /*) ;; *) MOATD=$(pwd)/$MOATD ;; esac
[ -x "$MOATD" ] || { echo "tests/integration/tls: no moatd at $MOATD"; exit 2; }
for t in openssl mosquitto_pub mosquitto_sub; do
    command -v $t >/dev/null || { echo "tests/integration/tls: $t missing (apt-get install -y openssl mosquitto-clients)"; exit 2; }
done

W=$(mktemp -d /tmp/moat-tls-it.XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT INT TERM

pass=0; fail=0
ok()  { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# Ports: a block of 10 below the ephemeral range, chosen from the pid and
# moved on while any port of it is taken.
BASE=$((20000 + ($$ % 1200) * 10))
port_busy() { (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; }
for _ in $(seq 20); do
    busy=0
    for i in $(seq 0 9); do port_busy $((BASE + i)) && busy=1; done
    [ $busy = 0 ] && break
    BASE=$(( (BASE - 20000 + 10) % 12000 + 20000 ))
done
P_PLAIN=$BASE; P_TLS=$((BASE + 1)); P_CERT=$((BASE + 2)); P_TLS13=$((BASE + 3))
P_OPT=$((BASE + 4)); P_CIPH=$((BASE + 5)); P_SNI=$((BASE + 6)); P_SNIS=$((BASE + 7))

# --- PKI: a CA, a server certificate, client certificates (good, revoked,
# expired, from another CA), a CRL. ------------------------------------------
cd "$W" || exit 2
mkdir -p ca/newcerts && : > ca/index.txt && echo 1000 > ca/serial && echo 1000 > ca/crlnumber
cat > ca.cnf <<EOF
[ ca ]
default_ca = moat_ca
[ moat_ca ]
dir = $W/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
certificate = $W/ca.crt
private_key = $W/ca.key
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_days = 2
default_crl_days = 2
policy = pol
unique_subject = no
copy_extensions = copy
[ pol ]
commonName = supplied
[ usr ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
[ srv ]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
EOF
q() { "$@" >/dev/null 2>&1 || { echo "setup failed: $*"; exit 2; }; }
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=moat-test-ca -keyout ca.key -out ca.crt
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=other-ca -keyout other.key -out other.crt
newcert() {   # name cn ext [extra ca args]
    local n=$1 cn=$2 ext=$3; shift 3
    q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
        -keyout "$n.key" -out "$n.csr"
    q openssl ca -batch -config ca.cnf -extensions "$ext" -in "$n.csr" -out "$n.crt" "$@"
}
newcert server localhost srv
newcert rsa-dummy x usr   # keeps serials distinct from the server's
newcert alice alice usr
newcert carol carol usr
newcert mallory mallory usr
newcert sni2 sni.moat.test srv
newcert old old usr -startdate 20200101000000Z -enddate 20200102000000Z
q openssl ca -config ca.cnf -revoke mallory.crt
q openssl ca -config ca.cnf -gencrl -out crl.pem
q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=eve \
    -keyout eve.key -out eve.csr
q openssl x509 -req -in eve.csr -CA other.crt -CAkey other.key -CAcreateserial -days 2 -out eve.crt

cat > moat.conf <<EOF
per_listener_settings false
allow_anonymous true
control_socket $W/moatd.sock
moat_detect tls_failure 3 60s block_ip 60s
listener $P_PLAIN 127.0.0.1

listener $P_TLS 127.0.0.1
certfile $W/server.crt
keyfile $W/server.key

listener $P_CERT 127.0.0.1
certfile $W/server.crt
keyfile $W/server.key
cafile $W/ca.crt
crlfile $W/crl.pem
require_certificate true
use_identity_as_username true

listener $P_TLS13 127.0.0.1
certfile $W/server.crt
keyfile $W/server.key
tls_version tlsv1.3

listener $P_OPT 127.0.0.1
certfile $W/server.crt
keyfile $W/server.key
cafile $W/ca.crt

listener $P_CIPH 127.0.0.1
certfile $W/server.crt
keyfile $W/server.key
ciphers ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384:AES128-SHA
ciphers_tls1.3 TLS_AES_128_CCM_SHA256:TLS_CHACHA20_POLY1305_SHA256

listener $P_SNI 127.0.0.1
certfile $W/server.crt
keyfile $W/server.key
moat_sni_cert sni.moat.test $W/sni2.crt $W/sni2.key

listener $P_SNIS 127.0.0.1
certfile $W/server.crt
keyfile $W/server.key
moat_sni_cert sni.moat.test $W/sni2.crt $W/sni2.key
moat_sni_strict true
EOF

"$MOATD" -c moat.conf > moatd.log 2>&1 &
MPID=$!
PIDS="$PIDS $MPID"
for _ in $(seq 50); do grep -q "running" moatd.log && break; sleep 0.1; done
if ! grep -q running moatd.log; then
    echo "moatd did not start:"; cat moatd.log; exit 1
fi

# A TCP connection that never sends a ClientHello: must be dropped after
# the handshake timeout (checked at the end).
exec 7<>/dev/tcp/127.0.0.1/$P_TLS
T_IDLE=$(date +%s)

# Many silent connections (more than there are handshake workers) must
# not delay a real handshake: waiting handshakes hold no thread.
SILENT=()
for _ in $(seq $(( $(nproc) * 4 + 8 ))); do
    exec {sfd}<>/dev/tcp/127.0.0.1/$P_TLS && SILENT+=("$sfd")
done

log_has() { grep -q -- "$1" moatd.log; }
# Waits up to 3 s for a log line (the worker logs asynchronously).
log_wait() { for _ in $(seq 30); do log_has "$1" && return 0; sleep 0.1; done; return 1; }

# s_client handshake succeeds (prints the negotiated suite) or not.
hs() {   # port args...
    local p=$1; shift
    timeout 10 openssl s_client -connect 127.0.0.1:$p -servername localhost -CAfile ca.crt "$@" \
        < /dev/null > sc.out 2>&1
    grep -q "Cipher is [A-Z]" sc.out && ! grep -q "Cipher is (NONE)" sc.out
}
hs_cipher() { sed -n 's/.*Cipher is \([A-Z0-9_-]*\).*/\1/p' sc.out | head -1; }
refused() { ! hs "$@"; }

pub() {   # port args... (QoS 1, so success means the broker answered)
    local p=$1; shift
    timeout 10 mosquitto_pub -h localhost -p $p --cafile ca.crt -q 1 -t t/x -m x "$@" 2>pub.err
}

fast_hs() {
    local t0=$(date +%s%N)
    hs $P_TLS -tls1_3 || return 1
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    echo "     (handshake took $ms ms beside ${#SILENT[@]} silent connections)"
    [ $ms -lt 2000 ]
}
check "silent connections do not hold up a real handshake" fast_hs
for sfd in "${SILENT[@]}"; do exec {sfd}>&-; done

# --- publish / subscribe over TLS (userspace transport) ---------------------
head -c 200000 /dev/urandom > big.bin
pubsub() {   # name sub-port pub-port [openssl conf]
    local name=$1 sp=$2 pp=$3 conf=${4:-}
    local tls_s="--cafile ca.crt" tls_p="--cafile ca.crt"
    [ "$sp" = "$P_PLAIN" ] && tls_s=""
    OPENSSL_CONF=$conf timeout 15 mosquitto_sub -h localhost -p $sp $tls_s -t "it/$name" -q 1 -C 1 -N \
        -W 12 > got.bin 2>sub.err &
    local s=$!
    sleep 0.5
    OPENSSL_CONF=$conf timeout 10 mosquitto_pub -h localhost -p $pp $tls_p -t "it/$name" -q 1 -f big.bin
    wait $s && cmp -s got.bin big.bin
}
osslconf() {   # file min max cipherstring suites
    printf 'openssl_conf = c\n[c]\nssl_conf = s\n[s]\nsystem_default = d\n[d]\nMinProtocol = %s\nMaxProtocol = %s\nCipherString = %s\nCiphersuites = %s\n' \
        "$2" "$3" "$4" "$5" > "$1"
}
osslconf t12.cnf TLSv1.2 TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305 TLS_AES_128_GCM_SHA256
osslconf t13.cnf TLSv1.3 TLSv1.3 DEFAULT TLS_AES_256_GCM_SHA384
check "TLS 1.3 publish/subscribe, 200 kB payload intact" pubsub tls13 $P_TLS $P_TLS
check "TLS 1.2 ChaCha20 publish/subscribe, 200 kB payload intact" pubsub tls12 $P_TLS $P_TLS "$W/t12.cnf"
check "TLS 1.3 AES-256 publish/subscribe, 200 kB payload intact" pubsub tls13b $P_TLS $P_TLS "$W/t13.cnf"
check "TLS publisher -> plain subscriber (listeners side by side)" pubsub mixed $P_PLAIN $P_TLS
check "startup logs the kernel's kTLS status" log_has "kernel offers"
check "connection mode logged once per connection" log_wait "TLS TLSv1.3 TLS_AES_256_GCM_SHA384, "

# --- protocol versions and suites -------------------------------------------
check "TLS 1.3 accepted" hs $P_TLS -tls1_3
check "TLS 1.2 ECDHE-ECDSA-AES128-GCM accepted" hs $P_TLS -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
check "TLS 1.2 ECDHE-ECDSA-AES256-GCM accepted" hs $P_TLS -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384
check "TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305 accepted" hs $P_TLS -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305
check "TLS 1.1 refused" refused $P_TLS -tls1_1 -cipher DEFAULT@SECLEVEL=0
check "TLS 1.0 refused" refused $P_TLS -tls1 -cipher DEFAULT@SECLEVEL=0
check "refusal logged with peer and reason (unsupported protocol)" \
    log_wait "127.0.0.1:[0-9]*: TLS handshake refused: unsupported protocol"
check "TLS 1.2 CBC only (AES128-SHA) refused" refused $P_TLS -tls1_2 -cipher AES128-SHA
check "TLS 1.2 ECDHE CBC (ECDHE-ECDSA-AES128-SHA) refused" refused $P_TLS -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA
check "TLS 1.2 NULL cipher refused" refused $P_TLS -tls1_2 -cipher 'NULL:@SECLEVEL=0'
check "TLS 1.2 anonymous (aNULL) refused" refused $P_TLS -tls1_2 -cipher 'aNULL:@SECLEVEL=0'
check "refusal logged (no shared cipher)" log_wait "TLS handshake refused: no shared cipher"
check "TLS 1.3 AES-128-CCM only refused" refused $P_TLS -tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256
check "group X25519 accepted" hs $P_TLS -tls1_3 -groups X25519
check "group P-256 accepted" hs $P_TLS -tls1_3 -groups P-256
check "group P-384 only refused" refused $P_TLS -tls1_3 -groups P-384
server_pref() {
    hs $P_TLS -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256 &&
        [ "$(hs_cipher)" = ECDHE-ECDSA-AES128-GCM-SHA256 ]
}
check "server cipher preference (client's first choice AES-256 loses to AES-128)" server_pref
check "tls_version tlsv1.3: TLS 1.2 refused" refused $P_TLS13 -tls1_2
check "tls_version tlsv1.3: TLS 1.3 accepted" hs $P_TLS13 -tls1_3
ciph_list() {
    hs $P_CIPH -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384 &&
        refused $P_CIPH -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA &&
        hs $P_CIPH -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256 &&
        refused $P_CIPH -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256
}
check "operator cipher lists are cut to their AEAD/GCM/ChaCha part" ciph_list
check "cut suites are logged with file:line" log_has "moat.conf:[0-9]*: listener $P_CIPH: ciphers: not offered"

# --- session resumption -------------------------------------------------------
resume() {   # version flag
    (sleep 1) | timeout 10 openssl s_client -connect 127.0.0.1:$P_TLS -CAfile ca.crt $1 \
        -sess_out sess.pem > r1.out 2>&1
    (sleep 1) | timeout 10 openssl s_client -connect 127.0.0.1:$P_TLS -CAfile ca.crt $1 \
        -sess_in sess.pem > r2.out 2>&1
    grep -q "^Reused," r2.out
}
check "TLS 1.2 session resumption" resume -tls1_2
check "TLS 1.3 session resumption (ticket)" resume -tls1_3

# --- client certificates --------------------------------------------------------
check "required client cert: valid cert accepted (MQTT QoS 1 publish)" \
    pub $P_CERT --cert alice.crt --key alice.key
check "certificate identity CN logged" log_wait "certificate identity alice"
check "required client cert: no cert refused" eval '! pub $P_CERT'
check "refusal logged (peer did not return a certificate)" log_wait "TLS handshake refused: .*certificate"
check "revoked client cert (CRL) refused" eval '! pub $P_CERT --cert mallory.crt --key mallory.key'
check "revocation logged" log_wait "certificate: certificate revoked"
check "expired client cert refused" eval '! pub $P_CERT --cert old.crt --key old.key'
check "expiry logged" log_wait "certificate: certificate has expired"
check "client cert from another CA refused" eval '! pub $P_CERT --cert eve.crt --key eve.key'
check "wrong CA logged" log_wait "certificate: unable to get local issuer certificate"
check "wrong server CA refused by the client" eval '! timeout 10 mosquitto_pub -h localhost -p $P_TLS --cafile other.crt -t t -m x 2>/dev/null'
check "optional client cert: no cert accepted" pub $P_OPT
check "optional client cert: valid cert accepted" pub $P_OPT --cert alice.crt --key alice.key
check "optional client cert: revoked-CA-less bad cert refused" eval '! pub $P_OPT --cert eve.crt --key eve.key'

# use_identity_as_username: the certificate's CN is the MQTT username.
check "use_identity_as_username: CONNECT gets the certificate's CN as username" \
    log_wait "connected (protocol 3.1.1.*user alice)"
# SNI from the configuration: the name picks the certificate.
sni_cn() {   # port servername -> subject CN presented
    echo | timeout 10 openssl s_client -connect 127.0.0.1:$1 -servername "$2" 2>/dev/null |
        sed -n 's/^subject=.*CN *= *\([^,/]*\).*/\1/p' | head -1
}
check "moat_sni_cert: server name sni.moat.test gets its own certificate" \
    eval '[ "$(sni_cn $P_SNI sni.moat.test)" = sni.moat.test ]'
check "SNI: another name gets the default certificate" eval '[ "$(sni_cn $P_SNI other.test)" = localhost ]'
check "moat_sni_strict: an unknown name is refused" eval '! hs $P_SNIS -servername nobody.test'
check "moat_sni_strict: the known name is accepted" hs $P_SNIS -servername sni.moat.test
# Failed handshakes feed the detector (loopback is allowlisted: logged only).
check "failed TLS handshakes counted by the detector (kind tls_failure)" \
    log_wait "detect: kind=tls_failure source=127.0.0.1.*(allowlisted)"
# A live connection whose certificate is revoked is closed on reload.
timeout 30 mosquitto_sub -h localhost -p $P_CERT --cafile ca.crt --cert carol.crt --key carol.key \
    -i carol-live -t 'never/#' > carol.out 2>&1 &
CAROL=$!
PIDS="$PIDS $CAROL"
log_wait "client 'carol-live'.*connected" || true
q openssl ca -config ca.cnf -revoke carol.crt
q openssl ca -config ca.cnf -gencrl -out crl.pem
kill -HUP $MPID
check "reload: connection with a now-revoked client certificate closed" \
    log_wait "carol-live.*client certificate no longer valid after reload"
kill $CAROL 2>/dev/null

# --- sslscan (Debian), when installed -----------------------------------------------
if command -v sslscan >/dev/null; then
    timeout 120 sslscan --no-colour 127.0.0.1:$P_TLS > scan.out 2>&1
    check "sslscan: SSLv2/SSLv3/TLS 1.0/TLS 1.1 disabled" \
        eval '[ "$(grep -cE "^(SSLv2|SSLv3|TLSv1.0|TLSv1.1) +disabled" scan.out)" = 4 ]'
    check "sslscan: TLS 1.2 and 1.3 enabled" \
        eval '[ "$(grep -cE "^TLSv1.[23] +enabled" scan.out)" = 2 ]'
    check "sslscan: every accepted suite is GCM or CHACHA20-POLY1305" \
        eval 'grep -E "^(Preferred|Accepted)" scan.out > acc.out && [ -s acc.out ] && ! grep -vE "GCM|CHACHA20_POLY1305|CHACHA20-POLY1305" acc.out'
    check "sslscan: no insecure renegotiation" eval '! grep -qi "insecure session renegotiation supported" scan.out'
else
    echo "skip sslscan (apt-get install -y sslscan)"
fi

# --- reload -------------------------------------------------------------------------
reload_ok() {
    kill -HUP $MPID && log_wait "TLS certificates, keys, CA and CRLs reloaded" && hs $P_TLS -tls1_3
}
check "SIGHUP reload: new context, handshakes still work" reload_ok
reload_bad() {
    cp server.key server.key.good
    echo broken > server.key
    kill -HUP $MPID
    log_wait "reload failed" ; local r=$?
    cp server.key.good server.key
    [ $r = 0 ] && hs $P_TLS -tls1_3
}
check "SIGHUP with a broken key: old context kept, reason logged" reload_bad

# --- handshake timeout --------------------------------------------------------------
left=$((T_IDLE + 11 - $(date +%s)))
[ $left -gt 0 ] && sleep $left
check "silent TCP connection dropped at the 10 s handshake timeout" \
    log_wait "TLS handshake refused: handshake timeout (10000 ms)"
exec 7>&-

# --- config errors -------------------------------------------------------------------
cfg_err() {   # expected-message config-lines...
    local want=$1; shift
    printf '%s\n' "control_socket $W/bad.sock" "listener $((BASE + 9)) 127.0.0.1" "$@" > bad.conf
    timeout 10 "$MOATD" -c bad.conf > bad.log 2>&1
    local rc=$?
    [ $rc -ne 0 ] && grep -q -- "$want" bad.log
}
check "missing keyfile refused with file:line" \
    cfg_err "bad.conf:2: listener $((BASE + 9)): keyfile" "certfile $W/server.crt" "keyfile $W/nonexistent.key"
check "key not matching cert refused" \
    cfg_err "keyfile .*: key values mismatch" "certfile $W/server.crt" "keyfile $W/alice.key"
check "require_certificate without cafile refused" \
    cfg_err "require_certificate needs cafile" "certfile $W/server.crt" "keyfile $W/server.key" "require_certificate true"
check "ciphers with no AEAD suite refused" \
    cfg_err "no ECDHE AEAD suite" "certfile $W/server.crt" "keyfile $W/server.key" "ciphers AES128-SHA:AES256-SHA"

kill $MPID 2>/dev/null
wait $MPID 2>/dev/null
check "moatd survived the run (no crash)" eval '! grep -qiE "AddressSanitizer|LeakSanitizer|runtime error|segfault" moatd.log'
[ $fail -gt 0 ] && { echo "--- moatd.log (tail)"; tail -40 moatd.log; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
