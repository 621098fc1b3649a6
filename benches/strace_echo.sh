#!/usr/bin/env bash
# Syscalls per round trip of one tcp_echo server (issue 23): runs the server
# child under `strace -c -f`, drives it with the bench's own load client for
# a short window, and divides the server's syscall count by the round trips.
# strace slows the server a lot, so compare the counts, not the rates.
#
# Usage: benches/strace_echo.sh <goro|tokio|smol|uring> [measure_ms] [conns]
# (after `cargo bench -p goro-benches --bench tcp_echo --no-run`).
set -euo pipefail
cd "$(dirname "$0")/.."
rt="${1:?server name}"
ms="${2:-3000}"
conns="${3:-200}"
exe=$(ls -t target/release/deps/tcp_echo-* | grep -v '\.d$' | head -1)
out=$(mktemp -d)
strace -c -f -o "$out/strace" "$exe" --child server "$rt" >"$out/server" 2>"$out/server.err" &
spid=$!
for _ in $(seq 100); do grep -q '^LISTEN ' "$out/server" && break; sleep 0.1; done
addr=$(sed -n 's/^LISTEN //p' "$out/server")
pid=$(pgrep -P "$spid" | head -1)
load=$("$exe" --child load tcp "$addr" "$pid" "$conns" 0 "$ms" | grep '^LOAD')
kill -KILL "$pid"  # strace prints its summary once its tracee is gone
wait "$spid" || true
rts=$(sed 's/.*round_trips=\([0-9]*\).*/\1/' <<<"$load")
total=$(awk '$NF == "total" {print $4}' "$out/strace")
echo "$rt: $load"
awk -v rts="$rts" 'NR > 2 && $1 !~ /^-/ && $NF != "total" {
    calls = ($4 ~ /^[0-9]+$/) ? $4 : 0; if (calls > 0) printf "  %-20s %10d  %.3f per round trip\n", $NF, calls, calls / rts }' "$out/strace"
echo "$rt: syscalls=$total round_trips=$rts (no warm-up: the syscalls include the 200 accepts)"
rm -rf "$out"
