#!/usr/bin/env bash
# benches/ws_scale.sh: 100,000 idle WebSocket connections on one machine,
# over 6 `ws_echo --reuseport` processes sharing one port (one process may
# hold only 20,000 descriptors here) and 6 `ws_load --idle` clients. A
# documented benchmark, not CI: it needs ~3 GB of RAM and ~2 minutes.
#
#   bash benches/ws_scale.sh                         # 100,000 connections
#   N=12000 SERVERS=2 CLIENTS=2 HOLD=5s bash benches/ws_scale.sh   # smoke run
#
# Each client connects to its own destination address (127.0.0.2,
# 127.0.0.3, ...; the servers listen on 0.0.0.0), so that no address pair
# needs more than the ~28,000 ephemeral ports it has. It reports the time to
# open them all and the accept rate (from the clients), failed connections
# and the connections that echoed at the end (every one must), the servers'
# RSS per connection (summed over the servers, at the peak, minus their
# baseline), the kernel's TCP buffer memory (/proc/net/sockstat) and its
# slab growth (/proc/meminfo: socket structures, files, epoll entries; the
# whole machine's, so other work adds noise).
set -euo pipefail

N=${N:-100000}
SERVERS=${SERVERS:-6}
CLIENTS=${CLIENTS:-6}
HOLD=${HOLD:-30s}
PORT=${PORT:-9600}
RATE=${RATE:-1000}   # new connections per second per client
cd "$(dirname "$0")/.."
cargo build --release --example ws_echo --example ws_load >&2
bin=${CARGO_TARGET_DIR:-target}/release/examples
out=$(mktemp -d /tmp/ws_scale.XXXXXX)
page=$(getconf PAGESIZE)

servers=()
cleanup() {
    for p in "${servers[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

for i in $(seq 1 "$SERVERS"); do
    "$bin/ws_echo" --quiet --reuseport --addr "0.0.0.0:$PORT" \
        --max-connections 19800 --handshake-timeout 60s >"$out/server$i.log" 2>&1 &
    servers+=($!)
done
sleep 1
rss_sum() {
    local sum=0 kb
    for p in "${servers[@]}"; do
        kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status")
        sum=$((sum + kb))
    done
    echo "$sum"
}
slab_kb() { awk '/^Slab:/ {print $2}' /proc/meminfo; }
tcp_pages() { awk '/^TCP:/ {for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1)}' /proc/net/sockstat; }
base_rss=$(rss_sum)
base_tcp=$(tcp_pages)
base_slab=$(slab_kb)
echo "ws_scale: $N connections, $SERVERS servers on :$PORT, $CLIENTS clients, hold $HOLD; logs in $out"
echo "baseline: servers' RSS $((base_rss / 1024)) MiB, kernel TCP memory $((base_tcp * page / 1048576)) MiB"

clients=()
per=$((N / CLIENTS))
for c in $(seq 1 "$CLIENTS"); do
    n=$per
    [ "$c" -eq "$CLIENTS" ] && n=$((N - per * (CLIENTS - 1)))
    "$bin/ws_load" --url "ws://127.0.0.$((c + 1)):$PORT" --idle "$n" --hold "$HOLD" \
        --connect-rate "$RATE" --connect-concurrency 256 --timeout 60s \
        >"$out/client$c.log" 2>/dev/null &
    clients+=($!)
done

# Sample while the clients run: the peak of the servers' RSS, and the
# kernel's TCP memory and socket count at that moment.
peak_rss=0 peak_tcp=0 peak_open=0 peak_slab=$base_slab
while kill -0 "${clients[@]}" 2>/dev/null; do
    open=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
    rss=$(rss_sum)
    if [ "$open" -gt "$peak_open" ] || { [ "$open" -eq "$peak_open" ] && [ "$rss" -gt "$peak_rss" ]; }; then
        peak_open=$open peak_rss=$rss peak_tcp=$(tcp_pages) peak_slab=$(slab_kb)
        sockstat=$(grep '^TCP:' /proc/net/sockstat)
    fi
    sleep 2
done
status=0
for p in "${clients[@]}"; do wait "$p" || status=1; done

grep -h '^idle:\|^connections:\|^FAILED' "$out"/client*.log | sed 's/^/  /'
made=$(awk '/^connections:/ {s += $2} END {print s + 0}' "$out"/client*.log)
failed=$(awk '/^connections:/ {s += $4} END {print s + 0}' "$out"/client*.log)
echoed=$(awk '/^idle:/ {for (i = 1; i < NF; i++) if ($(i + 1) == "of") s += $i} END {print s + 0}' "$out"/client*.log)
slowest=$(awk '/^idle:/ {print $5}' "$out"/client*.log | sort -n | tail -1)
per_conn=$(( (peak_rss - base_rss) * 1024 / (peak_open > 0 ? peak_open : 1) ))
tcp_per=$(( (peak_tcp - base_tcp) * page / (peak_open > 0 ? peak_open : 1) ))
slab_per=$(( (peak_slab - base_slab) * 1024 / (peak_open > 0 ? peak_open : 1) ))
echo "result: $made made, $failed failed, $echoed echoed at the end; all open in ${slowest}; peak $peak_open established server-side"
echo "servers' RSS: $((peak_rss / 1024)) MiB at the peak, +$(( (peak_rss - base_rss) / 1024 )) MiB = $per_conn bytes per connection"
echo "kernel TCP buffer memory at the peak: $sockstat (pages of $page bytes) = $tcp_per bytes per connection (both ends)"
echo "kernel slab (/proc/meminfo Slab, whole machine, noisy): +$(( (peak_slab - base_slab) / 1024 )) MiB = $slab_per bytes per connection (both ends: 2 sockets, files, epoll entries)"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$echoed" -ne "$N" ]; then
    echo "FAILED"
    exit 1
fi
