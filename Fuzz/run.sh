#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Fuzz/Package.swift, the app's modules instrumented with -sanitize=fuzzer,address)
# and runs each target for a fixed time, starting from Fuzz/seeds/<target> (the working corpus is a temporary copy).
# A crash stops the run with libFuzzer's report and the input that caused it; the script then fails.
#   Fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default 5 s each, every target)
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:-5}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(phone initdata plan headers json)

# -use-ld=lld: gold prints ~140 harmless "Cannot export local symbol '__asan_…'" warnings.
if ! BUILD_OUTPUT=$(swift build -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld 2>&1); then
    echo "$BUILD_OUTPUT"
    echo "fuzz build failed"
    exit 1
fi
BIN=.build/debug/ClprFuzz

WORK=$(mktemp -d /tmp/clpr-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
status=0
for target in "${TARGETS[@]}"; do
    mkdir -p "$WORK/$target/corpus" "$WORK/$target/artifacts"
    cp seeds/"$target"/* "$WORK/$target/corpus/"
    # Swift's backtracer must be off under ASan (it trips a false report); -max_len covers a whole request body.
    if SWIFT_BACKTRACE=enable=no CLPR_FUZZ_TARGET="$target" "$BIN" -max_total_time="$SECONDS_EACH" -max_len=4096 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$WORK/$target/artifacts/" \
        "$WORK/$target/corpus" >"$WORK/$target/log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$WORK/$target/log" | grep -o '[0-9]*$' || echo "?")
        echo "fuzz $target: ${SECONDS_EACH} s, $runs inputs, no crash"
    else
        status=1
        echo "fuzz $target: FAILED"
        tail -40 "$WORK/$target/log"
        for crash in "$WORK/$target"/artifacts/*; do
            [ -f "$crash" ] || continue
            echo "input ($crash), base64:"
            base64 -w0 "$crash"
            echo
        done
    fi
done
exit $status
