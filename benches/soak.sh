#!/usr/bin/env bash
# Soak test (not CI): runs examples/ws_echo under examples/ws_load with
# connection churn for 10 minutes, sampling the server every 10 s: its RSS
# (and its two parts, anonymous memory and file pages), its open
# descriptors, its live task count (the `tasks` of its status line) and
# its OS threads. After the load it keeps sampling for SOAK_SETTLE seconds
# and checks:
# - descriptors and tasks are back at their baseline exactly;
# - the heap in use (ws_echo's status line: glibc's `mallinfo2`, what the
#   program holds allocated, without what malloc keeps free) is back
#   within SOAK_HEAP_SLACK_KIB of the warm baseline (below): a leak grows
#   it, the allocator's retention does not. glibc's per-thread caches
#   count as in use, and fill as the load goes on, so the server runs with
#   them off (GLIBC_TUNABLES=glibc.malloc.tcache_count=0) unless
#   SOAK_TCACHE=1 or GLIBC_TUNABLES is set;
# - anonymous RSS (heap, stacks) is back within SOAK_ANON_SLACK_KIB of its
#   warm baseline: the server idle after a first SOAK_WARM seconds of the
#   same load, once it has settled (SOAK_WARM_SETTLE). glibc's malloc keeps
#   some freed memory that malloc_trim cannot return (its per-thread caches
#   and the pages they pin, the top of each thread's arena); the first load
#   fills those, so the warm baseline is what a leak would grow from. The
#   cold start-up baseline is reported beside it and checked against the
#   looser SOAK_COLD_SLACK_KIB; benches/README.md ("Soak") shows what
#   glibc keeps and how much.
#   File pages (code of ws_echo and libc first run under load) are
#   reported, not checked: they are clean, shared and reclaimable;
# - RSS did not grow under steady load by more than SOAK_RSS_SLACK_KIB
#   (end of the first quarter of the load to its end), nor after it.
# Results: a CSV (SOAK_OUT) and a summary on stdout; benches/README.md has
# the last run's numbers.
#
#   bash benches/soak.sh                   # 10 minutes
#   SOAK_SECS=60 bash benches/soak.sh      # a quick look
#
# Churn: two staggered clients, each in a loop of ws_load runs of
# SOAK_CONNS connections for SOAK_ROUND seconds, so every few seconds a
# few hundred connections open and a few hundred close.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SOAK_SECS:-600}
CONNS=${SOAK_CONNS:-300}
ROUND=${SOAK_ROUND:-15}
EVERY=${SOAK_EVERY:-10}
SETTLE=${SOAK_SETTLE:-60}
RSS_SLACK_KIB=${SOAK_RSS_SLACK_KIB:-8192}
ANON_SLACK_KIB=${SOAK_ANON_SLACK_KIB:-3072}
COLD_SLACK_KIB=${SOAK_COLD_SLACK_KIB:-3072}
HEAP_SLACK_KIB=${SOAK_HEAP_SLACK_KIB:-256}
WARM=${SOAK_WARM:-$ROUND}
WARM_SETTLE=${SOAK_WARM_SETTLE:-40}
PORT=${SOAK_PORT:-19001}
OUT=${SOAK_OUT:-target/soak.csv}
URL="ws://127.0.0.1:$PORT"

cargo build --release --example ws_echo --example ws_load >&2
ECHO=target/release/examples/ws_echo
LOAD=target/release/examples/ws_load

log=$(mktemp)
server_env=()
if [ "${SOAK_TCACHE:-0}" = 0 ] && [ -z "${GLIBC_TUNABLES:-}" ]; then
    server_env=(GLIBC_TUNABLES=glibc.malloc.tcache_count=0)
fi
env "${server_env[@]}" "$ECHO" --addr "127.0.0.1:$PORT" >"$log" 2>&1 &
server=$!
clients=()
cleanup() {
    for pid in "${clients[@]}"; do kill "$pid" 2>/dev/null || true; done
    kill "$server" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT

# VmRSS, RssAnon, RssFile and Threads, comma-separated.
mem() { awk '/^(VmRSS|RssAnon|RssFile|Threads):/ { v[$1] = $2 } END { printf "%s,%s,%s,%s", v["VmRSS:"], v["RssAnon:"], v["RssFile:"], v["Threads:"] }' "/proc/$server/status"; }
fds() { ls "/proc/$server/fd" | wc -l; }
# The task count of the last status line (printed every 5 s):
# "ws_echo: N connections | M msg/s | B buffered | T tasks | H threads | K KiB heap"
# (the heap only with glibc; "-" without).
tasks() { grep -o '[0-9]* tasks' "$log" | tail -1 | cut -d' ' -f1; }
heap() { h=$(grep -o '[0-9]* KiB heap' "$log" | tail -1 | cut -d' ' -f1); echo "${h:--}"; }
sample() { # phase
    printf '%s,%s,%s,%s,%s,%s\n' "$(($(date +%s) - start))" "$1" "$(mem)" "$(fds)" "$(tasks)" "$(heap)" | tee -a "$OUT"
}

# Wait for the server, and its first status line.
for _ in $(seq 100); do
    grep -q ' tasks ' "$log" 2>/dev/null && break
    sleep 0.1
done
sleep 6
start=$(date +%s)
echo "seconds,phase,rss_kib,anon_kib,file_kib,threads,fds,tasks,heap_kib" >"$OUT"
read -r _ _ base_rss base_anon base_file base_threads base_fds base_tasks base_heap < <(sample baseline | tr ',' ' ')

# The warm-up: both clients' load once, then idle until ws_echo's second
# trim (15 s after connections last fell) and the spare threads' exit (10 s
# keep-alive) are behind it.
warm_anon=$base_anon warm_heap=$base_heap
if [ "$WARM" -gt 0 ]; then
    "$LOAD" --url "$URL" --connections "$CONNS" --duration "${WARM}s" >/dev/null 2>&1 &
    warm_client=$!
    "$LOAD" --url "$URL" --connections "$CONNS" --duration "${WARM}s" >/dev/null 2>&1 || true
    wait "$warm_client" || true
    sleep "$WARM_SETTLE"
    read -r _ _ _ warm_anon _ _ _ _ warm_heap < <(sample warm | tr ',' ' ')
fi

client_loop() { # delay
    sleep "$1"
    while :; do
        "$LOAD" --url "$URL" --connections "$CONNS" --duration "${ROUND}s" >/dev/null 2>&1 || true
    done
}
client_loop 0 &
clients+=($!)
client_loop $((ROUND / 2)) &
clients+=($!)

load_start=$(date +%s)
end=$((load_start + SECS))
warm_at=$((load_start + SECS / 4))
warm_rss=
peak_rss=$base_rss peak_fds=$base_fds peak_tasks=$base_tasks peak_threads=$base_threads
while [ "$(date +%s)" -lt "$end" ]; do
    sleep "$EVERY"
    read -r _ _ r _ _ th f t _ < <(sample load | tr ',' ' ')
    if [ -z "$warm_rss" ] && [ "$(date +%s)" -ge "$warm_at" ]; then warm_rss=$r; fi
    [ "$r" -gt "$peak_rss" ] && peak_rss=$r
    [ "$f" -gt "$peak_fds" ] && peak_fds=$f
    [ "$t" -gt "$peak_tasks" ] && peak_tasks=$t
    [ "$th" -gt "$peak_threads" ] && peak_threads=$th
done
load_end_rss=$r
for pid in "${clients[@]}"; do
    pkill -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
done
wait "${clients[@]}" 2>/dev/null || true
clients=()

settle_end=$(($(date +%s) + SETTLE))
while [ "$(date +%s)" -lt "$settle_end" ]; do
    sleep "$EVERY"
    read -r _ _ r a fl th f t hp < <(sample after | tr ',' ' ')
done
messages=$(grep -o '[0-9,]* msg/s' "$log" | tr -d ',' | awk '{ s += $1; n++ } END { if (n) printf "%d", s / n; else print 0 }')

echo
echo "soak: ${SECS} s of churn ($CONNS-connection ws_load rounds of ${ROUND} s, two staggered), sampled every ${EVERY} s"
echo "  baseline: RSS ${base_rss} KiB (anon ${base_anon}, file ${base_file}), ${base_fds} fds, ${base_tasks} tasks, ${base_threads} threads, heap in use ${base_heap} KiB"
echo "  warm baseline (idle after ${WARM} s of load): anon ${warm_anon} KiB, heap in use ${warm_heap} KiB"
echo "  peak:     RSS ${peak_rss} KiB, ${peak_fds} fds, ${peak_tasks} tasks, ${peak_threads} threads (mean ${messages} msg/s over the status lines)"
echo "  RSS after a quarter of the load ${warm_rss} KiB, at its end ${load_end_rss} KiB"
echo "  after ${SETTLE} s idle: RSS ${r} KiB (anon ${a}, file ${fl}), ${f} fds, ${t} tasks, ${th} threads, heap in use ${hp} KiB"
status=0
if [ "$f" -ne "$base_fds" ]; then echo "soak: FAIL: descriptors ${f}, baseline ${base_fds}"; status=1; fi
if [ "$t" -ne "$base_tasks" ]; then echo "soak: FAIL: tasks ${t}, baseline ${base_tasks}"; status=1; fi
if [ "$hp" = - ] || [ "$warm_heap" = - ]; then
    echo "soak: heap in use not reported (not glibc): not checked"
elif [ "$hp" -gt $((warm_heap + HEAP_SLACK_KIB)) ]; then
    echo "soak: FAIL: heap in use ${hp} KiB after the load, warm baseline ${warm_heap} KiB (slack ${HEAP_SLACK_KIB})"
    status=1
fi
if [ "$a" -gt $((warm_anon + ANON_SLACK_KIB)) ]; then
    echo "soak: FAIL: anonymous RSS ${a} KiB after the load, warm baseline ${warm_anon} KiB (slack ${ANON_SLACK_KIB})"
    status=1
fi
if [ "$a" -gt $((base_anon + COLD_SLACK_KIB)) ]; then
    echo "soak: FAIL: anonymous RSS ${a} KiB after the load, start-up baseline ${base_anon} KiB (slack ${COLD_SLACK_KIB})"
    status=1
fi
if [ "$load_end_rss" -gt $((warm_rss + RSS_SLACK_KIB)) ] || [ "$r" -gt "$load_end_rss" ]; then
    echo "soak: FAIL: RSS grew under steady load (${warm_rss} -> ${load_end_rss} KiB, slack ${RSS_SLACK_KIB}) or after it (${r} KiB)"
    status=1
fi
[ "$status" = 0 ] && echo "soak: ok: descriptors and tasks back to the baseline, heap in use within ${HEAP_SLACK_KIB} KiB of the warm baseline, anonymous RSS within ${ANON_SLACK_KIB} KiB of the warm baseline and ${COLD_SLACK_KIB} KiB of the start-up one; RSS flat under steady load (within ${RSS_SLACK_KIB} KiB) and not growing after it"
exit "$status"
