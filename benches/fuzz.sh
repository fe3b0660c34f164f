#!/usr/bin/env bash
# The long fuzzing campaign: tests/fuzz.rs in release mode, one thread, in chunks with a fresh
# random seed each, until at least TOTAL generated programs have run (each chunk also runs a
# quarter as many notebooks and a quarter as many mutated files).
#
#   bash benches/fuzz.sh                          # 1,000,000 programs in chunks of 20,000
#   TOTAL=100000 CHUNK=10000 bash benches/fuzz.sh
#   NANLINT_FUZZ_CORPUS=~/corpus bash benches/fuzz.sh   # mutate that folder's .py files too
#   PROFILE=dev bash benches/fuzz.sh              # the debug build (dependencies optimized)
#
# A failing chunk's output (proptest's shrunk case) goes to target/fuzz/failure-N.log and the
# campaign goes on; failures are not written to tests/fuzz.proptest-regressions (replaying a
# known failure first would stop every later chunk at it). The last line sums it up.
set -euo pipefail

cd "$(dirname "$0")/.."
total="${TOTAL:-1000000}"
chunk="${CHUNK:-20000}"
profile="${PROFILE:-release}"
export CARGO_INCREMENTAL=0
cargo test --profile "$profile" --test fuzz --no-run
mkdir -p target/fuzz
ran=0
failed=0
start=$(date +%s)
while [ "$ran" -lt "$total" ]; do
    if NANLINT_FUZZ_PROGRAMS="$chunk" NANLINT_FUZZ_CAMPAIGN=1 RUST_TEST_THREADS=1 \
        cargo test --profile "$profile" --test fuzz -q -- --skip reach_every_rule > target/fuzz/chunk.log 2>&1; then
        :
    else
        failed=$((failed + 1))
        cp target/fuzz/chunk.log "target/fuzz/failure-$failed.log"
        echo "chunk after $ran programs failed: target/fuzz/failure-$failed.log" >&2
    fi
    ran=$((ran + chunk))
    echo "$ran programs, $(( $(date +%s) - start )) s, $failed failing chunks" >&2
done
echo "fuzz campaign: $ran programs (+$((ran / 4)) notebooks, +$((ran / 4)) mutated files) in $(( $(date +%s) - start )) s on 1 thread ($profile), $failed failing chunks"
