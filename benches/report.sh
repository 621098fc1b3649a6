#!/usr/bin/env bash
# Runs the goro / tokio / smol / smol_static benches twice (system allocator, then mimalloc)
# and prints one markdown table per allocator: median ns per element, ratio of
# goro to the best peer, target and pass/fail.
#
#   benches/report.sh            # criterion --warm-up-time 1 --measurement-time 3 (~6 min on 2 cores)
#   benches/report.sh quick      # --warm-up-time 0.5 --measurement-time 1 (sanity run, rough figures)
#
# Environment: CARGO_TARGET_DIR (default /tmp/target-bench), WARMUP, MEASURE
# (seconds), ALLOCATORS (default "system mimalloc"), FILTER (criterion filter
# regex, e.g. FILTER=ping_pong). The tables are also written to
# $CARGO_TARGET_DIR/goro-bench-report/report.md, with the raw logs beside them.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/target-bench}"
WARMUP="${WARMUP:-1}"
MEASURE="${MEASURE:-3}"
if [[ "${1:-}" == "quick" ]]; then
    WARMUP=0.5
    MEASURE=1
fi
ALLOCATORS="${ALLOCATORS:-system mimalloc}"
OUT="$CARGO_TARGET_DIR/goro-bench-report"
mkdir -p "$OUT"
: >"$OUT/report.md"

cargo build -q --release -p goro-benches --bin report
REPORT="$CARGO_TARGET_DIR/release/report"

for alloc in $ALLOCATORS; do
    features=()
    if [[ "$alloc" == "mimalloc" ]]; then
        features=(--features mimalloc)
    fi
    echo "=== allocator: $alloc ===" >&2
    # shellcheck disable=SC2086 # FILTER is intentionally word-split (may be empty)
    cargo bench -p goro-benches "${features[@]}" --bench rt_multi_threaded -- \
        --warm-up-time "$WARMUP" --measurement-time "$MEASURE" --noplot \
        --save-baseline "$alloc" ${FILTER:-} 2>&1 | tee "$OUT/rt_multi_threaded-$alloc.log" >&2
    cargo bench -p goro-benches "${features[@]}" --bench idle_memory 2>&1 |
        tee "$OUT/idle_memory-$alloc.log" >&2
    "$REPORT" --criterion-dir "$CARGO_TARGET_DIR/criterion" --baseline "$alloc" \
        --idle "$OUT/idle_memory-$alloc.log" --allocator "$alloc" | tee -a "$OUT/report.md"
    echo | tee -a "$OUT/report.md"
done

echo "report written to $OUT/report.md" >&2
