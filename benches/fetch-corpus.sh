#!/usr/bin/env bash
# Downloads a benchmark corpus: pinned pure-Python wheels (and, for projects that publish no
# wheel, source distributions) of ML projects from PyPI, with only their `*.py` files extracted.
#
#   bash benches/fetch-corpus.sh            # the library corpus: large ML libraries, ~90 MB
#   bash benches/fetch-corpus.sh training   # the training corpus: projects that write losses,
#                                           # training loops and probabilistic models, ~41 MB
#   bash benches/fetch-corpus.sh scripts    # the scripts corpus: code written the way users
#                                           # write training code (RL agents, TF1-era models,
#                                           # recommender losses, model zoos, examples), ~37 MB
#
# Idempotent: a no-op when the stamp matches the pins.
#
# The corpus lives outside the repository:
#   ${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}/corpus/<name>-<version>/...
#   ${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}/corpus-training/<name>-<version>/...
#   ${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}/corpus-scripts/<name>-<version>/...
# The last line on stdout is the corpus folder (progress goes to stderr), so callers can do
#   CORPUS="$(bash benches/fetch-corpus.sh | tail -n 1)"
#
# Environment:
#   NANLINT_DEV_CACHE  cache root (default: $HOME/.cache/nanlint-dev)
#   NANLINT_PYTHON     interpreter whose pip downloads and unpacks (default: python3)
set -euo pipefail

cache="${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}"
python="${NANLINT_PYTHON:-python3}"

# Pure-Python wheels (py3-none-any) in `pins`; source distributions in `sdists`, for projects
# whose last release has no wheel (pip builds only their metadata, in an isolated environment,
# then the `*.py` files are taken from the archive). Changing a pin makes the next run fetch
# again.
sdists=""
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
scripts)
    corpus="$cache/corpus-scripts"
    # Code written the way users write training code, for the rules that library code seldom
    # reaches (log of softmax, cross-entropy on probabilities, softmax into a with-logits loss):
    # reinforcement learning (stable-baselines 2 and baselines on TF1, dopamine, trfl, keras-rl,
    # keras-rl2, learn2learn), TF1-era models and layers with `tf.log` (tensor2tensor, tflearn,
    # edward), recommender and knowledge-graph losses (recbole, pykeen, pytorch-widedeep,
    # deepctr-torch), GANs and self-supervised models (torchgan, lightning-bolts), model zoos and
    # their examples (keras-hub, keras-cv, deepchem, deepxde), training loops, metrics and
    # continual learning (fastai, pytorch-ignite, catalyst, avalanche), Gaussian processes (gpflow).
    pins="$(cat <<'EOF'
avalanche-lib==0.6.0
catalyst==22.4
deepchem==2.8.0
deepctr-torch==0.3.0
deepxde==1.15.0
dopamine-rl==4.1.2
fastai==2.8.12
gpflow==2.11.2
keras-cv==0.9.0
keras-hub==0.32.0
keras-rl2==1.0.5
lightning-bolts==0.7.0
pykeen==1.11.1
pytorch-ignite==0.5.5
pytorch-widedeep==1.7.0
recbole==1.2.1
stable-baselines==2.10.2
tensor2tensor==1.15.7
torchgan==0.1.0
trfl==1.2.0
EOF
)"
    sdists="$(cat <<'EOF'
baselines==0.1.5
edward==1.3.5
keras-rl==0.4.2
learn2learn==0.2.0
tflearn==0.5.0
EOF
)"
    ;;
*)
    echo "fetch-corpus: unknown corpus '$1' (library, training or scripts)" >&2
    exit 2
    ;;
esac

stamp="$corpus/.stamp"
want="$(printf '%s\n' "$pins" ${sdists:+"$sdists"} | sha256sum | cut -d' ' -f1)"

if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "fetch-corpus: downloading $(printf '%s\n' "$pins" "$sdists" | grep -c .) distributions into $corpus" >&2
    rm -rf "$corpus"
    mkdir -p "$corpus"
    wheels="$(mktemp -d)"
    trap 'rm -rf "$wheels"' EXIT
    # shellcheck disable=SC2086 # one argument per pin
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        $pins -d "$wheels" >&2
    if [[ -n "$sdists" ]]; then
        # shellcheck disable=SC2086 # one argument per pin
        "$python" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary=:all: \
            $sdists -d "$wheels" >&2
    fi
    # A wheel is a zip; keep only the Python sources, each wheel in its own folder. An sdist is
    # a .tar.gz (or .zip) with one top folder `<name>-<version>/`, which is dropped.
    "$python" - "$wheels" "$corpus" <<'EOF'
import pathlib, sys, tarfile, zipfile

wheels, corpus = map(pathlib.Path, sys.argv[1:])
for wheel in sorted(wheels.glob("*.whl")):
    name, version = wheel.name.split("-")[:2]
    dest = corpus / f"{name}-{version}"
    with zipfile.ZipFile(wheel) as z:
        for member in z.infolist():
            if member.filename.endswith(".py") and not member.is_dir():
                z.extract(member, dest)


def keep(inner, data):
    # The top folder is dropped; a path that would leave the destination is skipped.
    if inner.endswith(".py") and ".." not in inner.split("/") and not inner.startswith("/"):
        (dest / inner).parent.mkdir(parents=True, exist_ok=True)
        (dest / inner).write_bytes(data())


for sdist in sorted([*wheels.glob("*.tar.gz"), *wheels.glob("*.zip")]):
    dest = corpus / sdist.name.removesuffix(".tar.gz").removesuffix(".zip")
    if sdist.name.endswith(".zip"):
        with zipfile.ZipFile(sdist) as z:
            for member in z.infolist():
                if not member.is_dir():
                    keep(member.filename.partition("/")[2], lambda: z.read(member))
    else:
        with tarfile.open(sdist) as t:
            for member in t.getmembers():
                if member.isfile():
                    keep(member.name.partition("/")[2], lambda: t.extractfile(member).read())
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
