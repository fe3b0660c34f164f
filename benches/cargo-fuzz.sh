#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo-fuzz (libFuzzer) of the targets in fuzz/fuzz_targets/:
#   check     bytes as a Python file through `nanlint check` (decode, parse, analyze, every
#             output format); nothing may panic
#   fix       bytes as a Python file through `--fix` and `--fix --unsafe-fixes`: no new syntax
#             error, a second fix-all changes nothing, a round's edits are disjoint
#   notebook  bytes as a `.ipynb` notebook, checked, rendered and fixed twice
#
#   bash benches/cargo-fuzz.sh                    # `check` for 1,000,000 executions
#   TARGET=fix RUNS=-1 SECONDS_MAX=1500 bash benches/cargo-fuzz.sh   # `fix` for 25 minutes
#   TARGET=notebook RUNS=100000 bash benches/cargo-fuzz.sh
#   SANITIZER=address bash benches/cargo-fuzz.sh  # AddressSanitizer and leak detection (slower)
#
# Env: TARGET (check), RUNS (1000000; -1 for no limit), SECONDS_MAX (0: no limit), MAX_LEN
# (65536 bytes an input), TIMEOUT (10 s: an input slower than that is a failure, a hang),
# RSS_LIMIT_MB (2048), SANITIZER (none; cargo-fuzz's -s), FUZZ_ARGS (more libFuzzer flags).
#
# Installs cargo-fuzz from crates.io if it is missing. Only the stable toolchain is needed: with
# no sanitizer cargo-fuzz passes no -Z flag, and for a sanitizer (-Zsanitizer) the script sets
# RUSTC_BOOTSTRAP=1 (stable's rust-std ships the sanitizer runtimes). The fuzz crate has its own
# workspace (fuzz/Cargo.toml) and starts from the main Cargo.lock, so it builds the versions
# the crate is tested with. Seeds (the rules' fixtures, tests/cases, examples, the test
# notebooks) are copied into fuzz/corpus/TARGET/, which libFuzzer then grows; fuzz/python.dict
# is its dictionary. A crash, panic, timeout or leak stops the run and is written to
# fuzz/artifacts/TARGET/ (crash-*, timeout-*, leak-*, oom-*); reproduce one with
# `cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-...`, shrink it with `cargo fuzz tmin`.
# The last lines are libFuzzer's final stats (executions, exec/s, coverage) and the wall time.
set -euo pipefail

cd "$(dirname "$0")/.."
target="${TARGET:-check}"
runs="${RUNS:-1000000}"
seconds="${SECONDS_MAX:-0}"
max_len="${MAX_LEN:-65536}"
timeout="${TIMEOUT:-10}"
rss="${RSS_LIMIT_MB:-2048}"
sanitizer="${SANITIZER:-none}"
export CARGO_INCREMENTAL=0
if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1
fi

if ! cargo fuzz --version > /dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
[ -f fuzz/Cargo.lock ] || cp Cargo.lock fuzz/Cargo.lock

corpus="fuzz/corpus/$target"
mkdir -p "$corpus"
if [ "$target" = notebook ]; then
    find tests/notebooks -name '*.ipynb' -exec cp -n {} "$corpus/" \;
else
    for f in queries/python/*/*.py tests/cases/*.py examples/*.py; do
        cp -n "$f" "$corpus/$(echo "$f" | tr / _)"
    done
fi

cargo fuzz build -s "$sanitizer" "$target"
start=$(date +%s)
status=0
cargo fuzz run -s "$sanitizer" "$target" "$corpus" -- \
    -runs="$runs" -max_total_time="$seconds" -max_len="$max_len" -timeout="$timeout" \
    -rss_limit_mb="$rss" -dict=fuzz/python.dict -print_final_stats=1 ${FUZZ_ARGS:-} || status=$?
echo "cargo-fuzz $target: exit $status, $(( $(date +%s) - start )) s wall, sanitizer $sanitizer, $(uptime)"
exit "$status"
