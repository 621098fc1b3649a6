#!/usr/bin/env bash
# Instructions and syscalls per request of one http_hello server (issue 15),
# free of wall-clock noise: runs the server child under callgrind (or strace
# -c -f), sends it N keep-alive requests with h2load, and divides the
# server's total by N (start-up included; it is small next to N requests).
#
# Usage: benches/callgrind_http.sh <goro|goro-notimer|tokio|tokio-timer> [requests] [callgrind|strace]
# (after `cargo bench -p goro-benches --bench http_hello --no-run`).
set -euo pipefail
cd "$(dirname "$0")/.."
rt="${1:?server name}"
n="${2:-20000}"
tool="${3:-callgrind}"
exe=$(ls -t target/release/deps/http_hello-* | grep -v '\.d$' | head -1)
out=${CG_OUT:-$(mktemp -d)}; mkdir -p "$out"
case "$tool" in
callgrind) valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$exe" --child server "$rt" >"$out/server" 2>"$out/server.err" & ;;
strace) strace -c -f -o "$out/strace" "$exe" --child server "$rt" >"$out/server" 2>"$out/server.err" & ;;
*) echo "tool: callgrind or strace" >&2; exit 2 ;;
esac
spid=$!
for _ in $(seq 600); do grep -q '^LISTEN ' "$out/server" && break; sleep 0.1; done
addr=$(sed -n 's/^LISTEN //p' "$out/server")
h2load --h1 -n "$n" -c 64 -t 1 "http://$addr/" | grep -E '^(finished|requests:|status codes:)' || true
# The server child runs until killed; callgrind and strace write their
# totals when it dies on SIGTERM/SIGKILL respectively.
if [ "$tool" = callgrind ]; then kill -TERM "$spid"; else kill -KILL "$(pgrep -P "$spid" | head -1)"; fi
wait "$spid" || true
case "$tool" in
callgrind)
    ir=$(callgrind_annotate "$out/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    echo "$rt: instructions=$ir requests=$n per_request=$((ir / n))"
    callgrind_annotate "$out/cg" 2>/dev/null | sed -n '/file:function/,$p' | head -25
    ;;
strace)
    total=$(awk '$NF == "total" {print $4}' "$out/strace")
    awk -v n="$n" 'NR > 2 && $1 !~ /^-/ && $NF != "total" {
        calls = ($4 ~ /^[0-9]+$/) ? $4 : 0; if (calls > 0) printf "  %-20s %10d  %.3f per request\n", $NF, calls, calls / n }' "$out/strace"
    echo "$rt: syscalls=$total requests=$n per_request=$(awk -v t="$total" -v n="$n" 'BEGIN {printf "%.2f", t / n}')"
    ;;
esac
[ -n "${CG_OUT:-}" ] || rm -rf "$out"
