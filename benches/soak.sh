#!/usr/bin/env bash
# The language-server soak test (tests/lsp_soak.rs) for a long time, in a release build:
#
#   bash benches/soak.sh                          # 10 minutes per client profile, seed 14
#   NANLINT_SOAK_SECONDS=60 NANLINT_SOAK_SEED=7 bash benches/soak.sh
#
# Each of the two client profiles (VS Code-like: UTF-16, pushed diagnostics; Neovim-like: UTF-8,
# pulled diagnostics) runs for NANLINT_SOAK_SECONDS or until it has sent NANLINT_SOAK_MESSAGES
# messages, whichever comes first; pastes reach NANLINT_SOAK_PASTE_KB. The test fails on a hang,
# a crash, a divergence from `nanlint check`, an unlogged refusal or RSS above its bound; the
# figures (messages per second, RSS at start and end) go to stderr, one line per profile.
set -euo pipefail

cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" >&2
export NANLINT_SOAK_SECONDS="${NANLINT_SOAK_SECONDS:-600}"
export NANLINT_SOAK_MESSAGES="${NANLINT_SOAK_MESSAGES:-100000000}"
export NANLINT_SOAK_PASTE_KB="${NANLINT_SOAK_PASTE_KB:-2048}"
export NANLINT_SOAK_SEED="${NANLINT_SOAK_SEED:-14}"
cargo test --release --test lsp_soak soak_utf16_push_and_utf8_pull -- --nocapture
