#!/usr/bin/env bash
# bench/wizard/run_clpr.sh - the shared "wizard submit" / "draft lookup" harness (/work/shared/bench, section
# "Wizard submit" of its README) with clpr as a peer (PEERS=cmd), in one invocation with the original (fastapi_seed).
#
# The harness needs its peers and its venv, so it runs from a copy: BENCH_DIR (default /tmp/bench, made from
# /work/shared/bench and set up with its setup.sh if missing); this directory's files (clpr's submit.lua: answers
# valid for clpr's catalog) are laid over its wizard/. clpr takes the person from a session cookie, so the hooks run
# `clpr bench-seed` on clpr's database after it is up: --people (submit: PHONE<TAB>COOKIE for the harness's people)
# and --users (drafts: UNIFIED_ID<TAB>COOKIE for random users of the data set). clpr runs first, so the seed peer
# reads the same files (it ignores the cookies).
#
# Usage: bench/wizard/run_clpr.sh                      (env knobs of run_wizard.sh pass through, e.g. DURATION)
# Env: CLPR_BIN [.build/release/clpr]  CLPR_PLANNER [builtin]  DRAFT_SESSIONS [20000]  PEERS ["cmd fastapi_seed"]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/bench}"
CLPR_BIN="${CLPR_BIN:-$REPO/.build/release/clpr}"
[ -x "$CLPR_BIN" ] || { echo "build clpr first: swift build -c release --product clpr" >&2; exit 1; }
if [ ! -x "$BENCH_DIR/.venv/bin/python" ]; then
    rm -rf "$BENCH_DIR" && cp -r /work/shared/bench "$BENCH_DIR" && "$BENCH_DIR/setup.sh"
fi
cp "$HERE"/*.lua "$HERE"/*.py "$HERE"/*.sh "$HERE"/*.sql "$BENCH_DIR/wizard/"
rm -f "$BENCH_DIR/wizard/run_clpr.sh"
cd "$BENCH_DIR"
mkdir -p results/tmp
PEOPLE_FILE="$BENCH_DIR/results/tmp/clpr-people.tsv"
IDS_FILE="$BENCH_DIR/results/tmp/clpr-drafts-ids.tsv"
export WIZARD_PEOPLE="${WIZARD_PEOPLE:-20000}"
CLPR_URL=http://127.0.0.1:7803
# The hooks seed only clpr's database (the seed peer's database is left exactly as the harness made it).
export SUBMIT_HOOK="[ \"\$BASE_URL\" != $CLPR_URL ] || CLPR_DATABASE_URL=\"\$DATABASE_URL\" CLPR_LOG_LEVEL=warning \
$CLPR_BIN bench-seed --people $WIZARD_PEOPLE --people-file $PEOPLE_FILE"
export DRAFTS_HOOK="[ \"\$BASE_URL\" != $CLPR_URL ] || CLPR_DATABASE_URL=\"\$DATABASE_URL\" CLPR_LOG_LEVEL=warning \
$CLPR_BIN bench-seed --users ${DRAFT_SESSIONS:-20000} --ids-file $IDS_FILE"
export WIZARD_PEOPLE_FILE="$PEOPLE_FILE" DRAFTS_IDS_FILE="$IDS_FILE"
export CMD_LABEL=clpr CMD_URL=$CLPR_URL CMD_HEALTH=/healthz CMD_WORKERS=1
# The data directory holds only the secret key here (the store is PostgreSQL).
export CMD_START="mkdir -p /tmp/bench-clpr-data && CLPR_DATABASE_URL=\"\$DATABASE_URL\" \
CLPR_DATABASE_POOL_SIZE=\${POOL_SIZE:-10} CLPR_PORT=7803 CLPR_DATA_DIR=/tmp/bench-clpr-data \
CLPR_WEB_DIR=$REPO/web CLPR_PLANNER=${CLPR_PLANNER:-builtin} CLPR_LOG_LEVEL=warning \
nohup $CLPR_BIN serve >/tmp/bench-clpr-7803.log 2>&1 & echo \$!"
PEERS="${PEERS-cmd fastapi_seed}" exec wizard/run_wizard.sh
