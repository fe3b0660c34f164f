#!/usr/bin/env bash
# Fetches the benchmark corpus (if needed) and runs the corpus benchmark, in one command:
#
#   bash benches/run.sh                      # 5 runs per figure, median
#   NANLINT_BENCH_RUNS=3 bash benches/run.sh
#
# The figures go to stdout; see benches/README.md for what each row measures.
set -euo pipefail

cd "$(dirname "$0")/.."
corpus="$(bash benches/fetch-corpus.sh | tail -n 1)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" >&2
# `cargo bench` builds the release `nanlint` binary too; the benchmark times it end to end.
cargo bench --bench corpus -- "$corpus"
