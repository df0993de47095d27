#!/bin/sh
# Runs every cmocka unit test binary given; fails if any fails.
#   run.sh [--valgrind] BIN...
vg=""
if [ "${1:-}" = "--valgrind" ]; then
    shift
    vg="valgrind -q --suppressions=$(dirname "$0")/valgrind.supp --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
fi
fail=0 failed=""
for t in "$@"; do
    echo "== $t"
    if ! $vg "$t"; then
        fail=1
        failed="$failed $(basename "$t")"
    fi
done
[ $fail -eq 0 ] || echo "unit tests failed:$failed"
exit $fail
