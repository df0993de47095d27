#!/bin/sh
# Usage: tests/fuzz/run.sh SECONDS BIN...
# Runs each libFuzzer binary for SECONDS on a scratch copy of its seed
# corpus, tests/fuzz/corpus/<name without "fuzz_">/, so the repository is
# not modified. Crash inputs go to tests/fuzz/findings/ (git-ignored).
# Exits non-zero if any target crashes or fails to run.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 SECONDS BIN..." >&2
    exit 2
fi
secs=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
findings="$here/findings"
mkdir -p "$findings"
fail=0
for bin in "$@"; do
    name=$(basename "$bin")
    corpus="$here/corpus/${name#fuzz_}"
    work=$(mktemp -d "${TMPDIR:-/tmp}/moat-fuzz-${name}.XXXXXX") || exit 1
    if [ -d "$corpus" ]; then
        cp -R "$corpus/." "$work/"
    else
        echo "$0: warning: no seed corpus $corpus for $name" >&2
    fi
    echo "== $name: ${secs}s, corpus $corpus"
    "$bin" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="$findings/$name-" "$work"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "$0: $name FAILED (exit $rc); inputs in $findings/" >&2
        fail=1
    fi
    rm -rf "$work"
done
exit $fail
