#!/bin/busybox sh
# shellcheck shell=dash
# /init of the XDP test VM (built by tests/vm/xdp.sh). Mounts proc, sys,
# bpffs, a tmpfs on /run (for /run/netns) and /tmp, loads veth, then runs
# the XDP integration tests from /moat exactly as on the host (BUILD_DIR
# "build"). Each test's output lines are printed as "VM: [test] line" and
# its exit code as "VM: RESULT test rc=N"; the host parses those. Powers
# off at the end.
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /proc /sys /dev /tmp /run /sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
mkdir -p /run/netns
ip link set lo up

echo "VM: kernel $(uname -r)"
if insmod /lib/modules/"$(uname -r)"/kernel/drivers/net/veth.ko; then
    echo "VM: veth loaded"
else
    echo "VM: FAIL insmod veth"
fi

cd /moat || exit 1
for t in "datapath.sh native" "datapath.sh generic" "moatd.sh native" "moatd.sh generic" "detect.sh"; do
    # shellcheck disable=SC2086  # split "script mode" into $1 $2
    set -- $t
    s=$(date +%s)
    # Per-test bound, as in tests/integration/xdp/run.sh; the VM as a whole
    # is bounded by the host (MOAT_VM_TIMEOUT).
    { /usr/bin/timeout 120 /usr/bin/bash tests/integration/xdp/"$1" build ${2:+"$2"} 2>&1; echo $? > /tmp/rc; } |
        sed "s/^/VM: [$t] /"
    echo "VM: RESULT $t rc=$(cat /tmp/rc) ($(( $(date +%s) - s )) s)"
done
echo "VM: DONE"
poweroff -f
