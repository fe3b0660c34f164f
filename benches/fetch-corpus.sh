#!/usr/bin/env bash
# Downloads a benchmark corpus: pinned pure-Python wheels of ML projects from PyPI, with only
# their `*.py` files extracted.
#
#   bash benches/fetch-corpus.sh            # the library corpus: large ML libraries, ~90 MB
#   bash benches/fetch-corpus.sh training   # the training corpus: projects that write losses,
#                                           # training loops and probabilistic models, ~41 MB
#
# Idempotent: a no-op when the stamp matches the pins.
#
# The corpus lives outside the repository:
#   ${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}/corpus/<name>-<version>/...
#   ${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}/corpus-training/<name>-<version>/...
# The last line on stdout is the corpus folder (progress goes to stderr), so callers can do
#   CORPUS="$(bash benches/fetch-corpus.sh | tail -n 1)"
#
# Environment:
#   NANLINT_DEV_CACHE  cache root (default: $HOME/.cache/nanlint-dev)
#   NANLINT_PYTHON     interpreter whose pip downloads and unpacks (default: python3)
set -euo pipefail

cache="${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}"
python="${NANLINT_PYTHON:-python3}"

# Pure-Python wheels (py3-none-any). Changing a pin makes the next run fetch again.
case "${1:-library}" in
library)
    corpus="$cache/corpus"
    # Large libraries: layers, models and their numerics.
    pins="$(cat <<'EOF'
transformers==5.23.0
keras==3.15.1
jax==0.10.2
tf-models-official==2.20.0
flax==0.12.8
optax==0.2.8
EOF
)"
    ;;
training)
    corpus="$cache/corpus-training"
    # Code nearer to what users write: losses and metrics (segmentation, metric learning,
    # contrastive, focal), training loops and textbook models (d2l, tensorlayer, allennlp),
    # reinforcement learning (stable-baselines3) and probabilistic programs (pyro, numpyro).
    pins="$(cat <<'EOF'
allennlp==2.10.1
d2l==1.0.3
kornia==0.9.0
monai==1.6.1
numpyro==0.22.0
pyro-ppl==1.9.2
pytorch-metric-learning==2.9.0
segmentation-models-pytorch==0.6.0
sentence-transformers==6.2.0
stable-baselines3==2.9.2
tensorlayer==2.2.5
timm==1.0.31
torchmetrics==1.9.0
EOF
)"
    ;;
*)
    echo "fetch-corpus: unknown corpus '$1' (library or training)" >&2
    exit 2
    ;;
esac

stamp="$corpus/.stamp"
want="$(printf '%s\n' "$pins" | sha256sum | cut -d' ' -f1)"

if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "fetch-corpus: downloading $(printf '%s\n' "$pins" | wc -l) wheels into $corpus" >&2
    rm -rf "$corpus"
    mkdir -p "$corpus"
    wheels="$(mktemp -d)"
    trap 'rm -rf "$wheels"' EXIT
    # shellcheck disable=SC2086 # one argument per pin
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        $pins -d "$wheels" >&2
    # A wheel is a zip; keep only the Python sources, each wheel in its own folder.
    "$python" - "$wheels" "$corpus" <<'EOF'
import pathlib, sys, zipfile

wheels, corpus = map(pathlib.Path, sys.argv[1:])
for wheel in sorted(wheels.glob("*.whl")):
    name, version = wheel.name.split("-")[:2]
    dest = corpus / f"{name}-{version}"
    with zipfile.ZipFile(wheel) as z:
        for member in z.infolist():
            if member.filename.endswith(".py") and not member.is_dir():
                z.extract(member, dest)
EOF
    printf '%s\n' "$want" > "$stamp"
fi

# Files, MB and lines of what the benchmark reads.
"$python" - "$corpus" >&2 <<'EOF'
import pathlib, sys

files = size = lines = 0
for p in pathlib.Path(sys.argv[1]).rglob("*.py"):
    data = p.read_bytes()
    files += 1
    size += len(data)
    lines += data.count(b"\n")
print(f"fetch-corpus: {files} files, {size / 1e6:.1f} MB, {lines:,} lines")
EOF
echo "$corpus"
