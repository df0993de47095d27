# Shared by the VM harnesses (sourced, bash): the tls module for the guest,
# packing the initramfs and booting it. Callers set R (initramfs root),
# W (work dir), KERNEL, MODDIR, KVER, BUSYBOX, VM_TIMEOUT and die().

# The tls module and the kernel crypto it uses, decompressed.
vm_tls_modules() {
    local d
    for d in net/tls crypto arch/x86/crypto lib/crypto; do
        [ -d "$MODDIR/kernel/$d" ] || continue
        mkdir -p "$R/lib/modules/$KVER/kernel/$d"
        cp -r "$MODDIR/kernel/$d/." "$R/lib/modules/$KVER/kernel/$d/"
    done
    cp "$MODDIR"/modules.order "$MODDIR"/modules.builtin* "$R/lib/modules/$KVER/" 2>/dev/null || true
    find "$R/lib/modules" -name '*.ko.xz' -exec xz -d {} + 2>/dev/null || true
    find "$R/lib/modules" -name '*.ko.zst' -exec zstd -q -d --rm {} + 2>/dev/null || true
    find "$R/lib/modules" -name '*.ko.gz' -exec gzip -d {} + 2>/dev/null || true
    [ -e "$R/lib/modules/$KVER/kernel/net/tls/tls.ko" ] || die "tls.ko missing from $MODDIR"
}

# vm_boot LABEL INFO: packs $R, boots it (bounded by VM_TIMEOUT), leaves the
# guest's "VM:" lines in $W/vm.log (printed) and qemu's status in qrc.
vm_boot() {
    local label=$1 info=$2 cpio start
    if command -v cpio >/dev/null 2>&1; then cpio=cpio; else cpio="$BUSYBOX cpio"; fi
    (cd "$R" && find . | $cpio -o -H newc 2>/dev/null) | gzip -1 > "$W/initrd.gz"
    echo "$label: booting $KERNEL ($KVER) under $(qemu-system-x86_64 --version | head -1)"
    echo "$label: $info; timeout ${VM_TIMEOUT}s"
    start=$(date +%s)
    set +e
    timeout "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 -nographic \
        -no-reboot -kernel "$KERNEL" -initrd "$W/initrd.gz" \
        -append "console=ttyS0 quiet panic=-1 rdinit=/init" < /dev/null > "$W/serial.log" 2>&1
    qrc=$?
    set -e
    echo "$label: VM finished in $(( $(date +%s) - start )) s (qemu rc $qrc)"
    tr -d '\r' < "$W/serial.log" | grep '^VM:' > "$W/vm.log" || true
    cat "$W/vm.log"
    [ -z "${MOAT_VM_KEEP_LOG:-}" ] || cp "$W/serial.log" "$MOAT_VM_KEEP_LOG"
}
