#!/usr/bin/env bash
# Instructions per element of one poll_cost shape, counted by callgrind:
# (Ir(N2) - Ir(N1)) / (N2 - N1), so start-up and shutdown cancel out.
#
#   cargo build --release -p goro-benches --bin poll_cost
#   benches/callgrind_count.sh target/release/poll_cost chained 20000 40000
#
# Shapes: see src/bin/poll_cost.rs (yield, chan, spawn, remote, chained,
# pingpong, and smol-spawn / smol-remote / smol-chained on smol's
# StaticExecutor; bare-spawn / bare-remote / bare-chained on a bare
# async-task queue, the floor). Threads are serialised under valgrind and
# idle threads' spinning is counted too: expect +-5-10 % between runs.
set -euo pipefail
bin=$1 shape=$2 n1=$3 n2=$4
ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$shape" "$1" 2>&1 |
        sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
a=$(ir "$n1")
b=$(ir "$n2")
echo "$shape $(((b - a) / (n2 - n1)))"
