#!/usr/bin/env bash
# Runs ../shared/bench's loadgen against clpr (release build, SQLite, Redis bus) the way run_peers.sh runs a
# peer: a fresh server per run, publish via Redis `PUBLISH claim:plan:{token}`, a fresh tokens file per run
# (`clpr bench-seed`), results appended to $OUT. Usage (BENCH = a writable copy of ../shared/bench, after its
# ./setup.sh; its Redis on 7379 must be running: `$BENCH/redis.sh start`):
#   BENCH=/tmp/sse-bench OUT=/tmp/sse-bench/results/swift.jsonl bench/run_swift_peer.sh
# Knobs: NS (1000 5000 10000), BURST_NS (5000), RATE (1000), RACE_N (200; 0 skips the races), PORT (7803), CLPR (binary),
# LABEL (swift: the peer name in the results), MAX_STREAMS (25000: CLPR_MAX_STREAMS), SERVER_ENV (extra VAR=value words for the server, e.g.
# "CLPR_HTTP_THREADS=2" for an A/B run), DATABASE_URL (a postgres:// URL: clpr stores in that PostgreSQL instead of
# SQLite; PostgreSQL's CPU then shows in the results as "other", outside the server's).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH:?set BENCH to the bench copy}
OUT=${OUT:-$BENCH/results/swift.jsonl}
NS=${NS:-1000 5000 10000}
BURST_NS=${BURST_NS:-5000}
RATE=${RATE:-1000}
RACE_N=${RACE_N:-200}
PORT=${PORT:-7803}
LABEL=${LABEL:-swift}
SERVER_ENV=${SERVER_ENV:-}
CLPR=${CLPR:-.build/release/clpr}
REDIS_PORT=${REDIS_PORT:-7379}
DATA=$(mktemp -d /tmp/clpr-bench-data.XXXXXX)
TOKENS=$BENCH/results/tmp
mkdir -p "$TOKENS"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$DATA"
}
trap cleanup EXIT
# 20,000 streams need more than the usual hard limit of 20,000 descriptors (root may raise it).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

DATABASE_URL=${DATABASE_URL:-}
STORE_ENV=""
CLAIMS_DB=$DATA/clpr.sqlite3
if [ -n "$DATABASE_URL" ]; then STORE_ENV="CLPR_DATABASE_URL=$DATABASE_URL"; CLAIMS_DB=$DATABASE_URL; fi

start_server() {
    # shellcheck disable=SC2086  # SERVER_ENV and STORE_ENV are lists of words
    env $SERVER_ENV $STORE_ENV CLPR_DATA_DIR=$DATA CLPR_PORT=$PORT CLPR_PLANNER=none CLPR_PLAN_TIMEOUT_S=3600 CLPR_LOG_LEVEL=warning \
        CLPR_MAX_STREAMS=${MAX_STREAMS:-25000} CLPR_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0 "$CLPR" serve >>"$DATA/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "clpr did not become ready" >&2; tail "$DATA/server.log" >&2; return 1
}
stop_server() {
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    redis-cli -p "$REDIS_PORT" flushall >/dev/null
}
seed() {  # seed N NAME -> tokens file path
    # shellcheck disable=SC2086
    env $STORE_ENV CLPR_DATA_DIR=$DATA CLPR_LOG_LEVEL=warning "$CLPR" bench-seed --count "$1" --tokens-file "$TOKENS/$LABEL-$2.tsv" >&2
    echo "$TOKENS/$LABEL-$2.tsv"
}
loadgen() {  # loadgen TOKENS-FILE ARGS...
    local file=$1; shift
    "$BENCH/.venv/bin/python" bench/clpr_loadgen.py --bench-dir "$BENCH" --clpr-db "$CLAIMS_DB" -- \
        --url-base "http://127.0.0.1:$PORT" --publish redis --label "$LABEL" --tokens-file "$file" \
        --redis-url "redis://127.0.0.1:$REDIS_PORT/0" --redis-pid "$(cat /tmp/bench-redis-$REDIS_PORT.pid)" \
        --server-pid "$SERVER_PID" --concurrency-open 200 --publishers 8 --out "$OUT" "$@" >/dev/null
}

for n in $NS; do
    file=$(seed "$n" "swift-load-$n")
    start_server
    loadgen "$file" --n "$n" --rate "$RATE" --settle-s 2 || echo "loadgen failed (n=$n)" >&2
    stop_server
done
for n in $BURST_NS; do
    file=$(seed "$n" "swift-burst-$n")
    start_server
    loadgen "$file" --n "$n" --rate 0 --settle-s 2 || echo "loadgen failed (burst n=$n)" >&2
    stop_server
done
if [ "$RACE_N" -gt 0 ]; then
    pre=$(seed "$RACE_N" swift-race-pre)
    post=$(seed "$RACE_N" swift-race-post)
    start_server
    loadgen "$pre" --n "$RACE_N" --mode race-pre --race-offset-ms 50 || true
    loadgen "$post" --n "$RACE_N" --mode race-post-headers || true
    stop_server
fi
echo "wrote $OUT" >&2
