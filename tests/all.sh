#!/usr/bin/env bash
# Runs every test nanlint has: formatting, lints, Rust tests, the numeric truth of fixes with
# real libraries, and the editor end-to-end tests. Installs what it needs (pip, npm, apt) into
# a cache outside the repository (NANLINT_DEV_CACHE, default ~/.cache/nanlint-dev).
#
#   bash tests/all.sh            # everything
#   SKIP_EDITORS=1 bash tests/all.sh   # without the VS Code, Neovim and Emacs end-to-end tests
set -euo pipefail
cd "$(dirname "$0")/.."
export NANLINT_DEV_CACHE="${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}"
export NANLINT_REQUIRE_LIBS=1
# insta: a missing or changed snapshot fails instead of writing a new one.
export CI=true
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --check

# The Python venv and the editors' tools download and install while cargo compiles: on a fresh
# 2-core machine most of that time is waiting on PyPI, npm and apt, not on the CPU. One
# background job in its own session, its steps one after another (apt-get takes a lock); its log
# is printed where the Python step would have run, and a failure there fails the run as before.
prefetch_log="$(mktemp)"
prefetch() {
  bash tests/python-env.sh >/dev/null
  if [ "${SKIP_EDITORS:-0}" != 1 ]; then
    install_emacs
    if [ -f editors/vscode/test/run-e2e.sh ]; then
      bash editors/vscode/test/run-e2e.sh --setup-only
    fi
  fi
}
install_emacs() {
  if ! command -v emacs >/dev/null 2>&1 || ! emacs --batch --eval "(require 'eglot)" >/dev/null 2>&1; then
    # Debian 12's Emacs 28 needs Eglot from elpa-eglot (built in from Emacs 29).
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq emacs-nox elpa-eglot >/dev/null
  fi
}
export -f prefetch install_emacs
setsid bash -c 'set -euo pipefail; prefetch' >"$prefetch_log" 2>&1 &
prefetch_pid=$!
# An early failure (fmt, clippy, a Rust test) stops the downloads too.
trap 'kill -- -"$prefetch_pid" 2>/dev/null || true; rm -f "$prefetch_log"' EXIT

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

step "cargo build (debug and release)"
cargo build
cargo build --release

step "cargo test"
cargo test

step "Python test environment (and the editors' tools; installed in the background since the start)"
if ! wait "$prefetch_pid"; then
  cat "$prefetch_log"
  echo "all.sh: installing the test environment failed (its log is above)" >&2
  exit 1
fi
cat "$prefetch_log"
bash tests/python-env.sh >/dev/null
PY="$NANLINT_DEV_CACHE/venv/bin/python"

step "Numeric truth of the fixes (real numpy, scipy, jax, torch)"
# Two pytest-xdist workers: each test waits mostly on a fresh interpreter importing torch or
# TensorFlow, one core's work.
NANLINT_BIN="$PWD/target/debug/nanlint" "$PY" -m pytest tests/numeric -q -n 2

step "SARIF output against the official SARIF 2.1.0 schema (jsonschema); fixed notebooks against nbformat; NL000's indentation verdicts against CPython's compile()"
NANLINT_BIN="$PWD/target/debug/nanlint" "$PY" -m pytest tests/formats -q

step "pip install . into a fresh venv (maturin wheel), nanlint check and server from it; the pre-commit hooks with real pre-commit"
# The wheel builds with the `dist` profile (release with whole-program LTO, what users install):
# every dependency in that profile on a fresh machine, then the crate and its LTO link. pre-commit
# builds its clone in the same target folder, reusing those dependencies.
CARGO_TARGET_DIR="$PWD/target" "$PY" -m pytest tests/packaging -q

if [ -d tests/lsp ]; then
  step "Language server driven by pytest-lsp (recorded VS Code and Neovim capabilities)"
  NANLINT_BIN="$PWD/target/debug/nanlint" "$PY" -m pytest tests/lsp -q
fi

if [ "${SKIP_EDITORS:-0}" != 1 ]; then
  if [ -x editors/nvim/test/run.sh ] || [ -f editors/nvim/test/run.sh ]; then
    step "Neovim end to end (real nvim, headless)"
    NANLINT_BIN="$PWD/target/debug/nanlint" bash editors/nvim/test/run.sh
  fi
  step "Emacs (Eglot) end to end, batch mode"
  install_emacs
  NANLINT_BIN="$PWD/target/debug/nanlint" emacs --batch -l editors/emacs/eglot-test.el

  if [ -f editors/vscode/test/run-e2e.sh ]; then
    step "VS Code end to end (real VS Code via code-server, headless Chromium)"
    bash editors/vscode/test/run-e2e.sh
  fi
fi

step "All tests passed"
