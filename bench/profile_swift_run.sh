#!/usr/bin/env bash
# One paced run of ../shared/bench's loadgen against a fresh clpr (release build, SQLite, Redis bus), with the
# server (and only the server) optionally profiled: for finding where its CPU goes and for interleaved A/B runs of
# two builds, which on this shared machine need several rounds each (single runs vary by ±20 %).
#
#   BENCH=/tmp/clpr-sse-bench bench/profile_swift_run.sh                      # one run, a JSON line into $OUT
#   PERF=/tmp/p.data PERF_DELAY=5.5 PERF_SECS=9 bench/profile_swift_run.sh    # perf record of the delivery phase
#   PERF=/tmp/p.data PERF_SECS=3 bench/profile_swift_run.sh                   # … of the opening phase
#   TASK_CLOCK=/tmp/t.txt CLPR=<build> LABEL=a bench/profile_swift_run.sh     # perf stat task-clock of the whole run
# then e.g. `perf report -i /tmp/p.data --no-children --sort dso -g none`.
# Needs $BENCH set up (its ./setup.sh) and its Redis on 7379 running (`$BENCH/redis.sh start`).
# Knobs: N (10000), RATE (1000 msg/s), CLPR (.build/release/clpr), LABEL, OUT, SERVER_ENV (VAR=value words),
# PORT (7803), KEEP (keep the data directory and server log).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH:?set BENCH to the bench copy}
N=${N:-10000}
RATE=${RATE:-1000}
CLPR=${CLPR:-.build/release/clpr}
PORT=${PORT:-7803}
OUT=${OUT:-$BENCH/results/profile.jsonl}
DATA=$(mktemp -d /tmp/clpr-profile-data.XXXXXX)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
CLPR_DATA_DIR=$DATA CLPR_LOG_LEVEL=warning "$CLPR" bench-seed --count "$N" --tokens-file "$DATA/tokens.tsv" >&2
# shellcheck disable=SC2086  # SERVER_ENV is a list of words
env ${SERVER_ENV:-} CLPR_DATA_DIR=$DATA CLPR_PORT=$PORT CLPR_PLANNER=none CLPR_PLAN_TIMEOUT_S=3600 \
    CLPR_LOG_LEVEL=warning CLPR_MAX_STREAMS=25000 CLPR_REDIS_URL=redis://127.0.0.1:7379/0 \
    "$CLPR" serve >>"$DATA/server.log" 2>&1 &
SERVER_PID=$!
STAT_PID=""
PERF_PID=""
cleanup() {
    # A profiler that already ended (PERF_SECS) is not an error.
    [ -z "$PERF_PID" ] || { kill -INT "$PERF_PID" 2>/dev/null || true; wait "$PERF_PID" 2>/dev/null || true; }
    [ -z "$STAT_PID" ] || { kill -INT "$STAT_PID" 2>/dev/null || true; wait "$STAT_PID" 2>/dev/null || true; }
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    redis-cli -p 7379 flushall >/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "kept $DATA" >&2; else rm -rf "$DATA"; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
if [ -n "${TASK_CLOCK:-}" ]; then
    perf stat -e task-clock -p "$SERVER_PID" -o "$TASK_CLOCK" &
    STAT_PID=$!
fi
if [ -n "${PERF:-}" ]; then
    (
        sleep "${PERF_DELAY:-0}"
        exec perf record -F 999 -g -p "$SERVER_PID" -o "$PERF" ${PERF_SECS:+-- sleep "$PERF_SECS"} >/dev/null 2>&1
    ) &
    PERF_PID=$!
fi
"$BENCH/.venv/bin/python" bench/clpr_loadgen.py --bench-dir "$BENCH" --clpr-db "$DATA/clpr.sqlite3" -- \
    --url-base "http://127.0.0.1:$PORT" --publish redis --label "${LABEL:-profile}" --tokens-file "$DATA/tokens.tsv" \
    --redis-url redis://127.0.0.1:7379/0 --redis-pid "$(cat /tmp/bench-redis-7379.pid)" --server-pid "$SERVER_PID" \
    --concurrency-open 200 --publishers 8 --out "$OUT" --n "$N" --rate "$RATE" --settle-s 2 | tail -1
