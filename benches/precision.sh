#!/usr/bin/env bash
# Draws findings at random from the benchmark corpus, per rule, for judging by hand.
#
#   bash benches/precision.sh [CODE ...]      # default: every rule; 30 per rule, seed 7
#   NANLINT_SAMPLE=30 NANLINT_SEED=7 bash benches/precision.sh NL101
#   NANLINT_CORPUS=training bash benches/precision.sh        # the training corpus
#   NANLINT_CORPUS=scripts bash benches/precision.sh         # the scripts corpus
#   NANLINT_BIN=/path/to/nanlint bash benches/precision.sh   # that binary; no build
#   NANLINT_PREVIEW=1 bash benches/precision.sh NL201        # with the preview forms
#   NANLINT_CORPUS="library training scripts DIR" bash benches/precision.sh   # one draw over all
#
# Prints, per rule: how many findings the corpus has, then each drawn finding as
# `path:row:col`, the message, and the source lines around it (the judge's material). The
# draw is a fixed-seed `random.sample` over the findings sorted by path and position, so the
# same build and corpus give the same sample. Write the verdicts in benches/README.md.
#
# A notebook's finding is shown with the lines of its cell. Environment: NANLINT_CORPUS (one or
# more of library, training, scripts or a directory, space-separated; default library), NANLINT_SAMPLE,
# NANLINT_SEED, NANLINT_PREVIEW, NANLINT_BIN (a nanlint binary to run instead of building
# target/release/nanlint), and those of benches/fetch-corpus.sh.
set -euo pipefail
bin="${NANLINT_BIN:+$(realpath "$NANLINT_BIN")}" # before the cd: a relative path is the caller's
cd "$(dirname "$0")/.."
corpora=()
for c in ${NANLINT_CORPUS:-library}; do
    if [[ -d "$c" ]]; then
        corpora+=("$(realpath "$c")")
    else
        corpora+=("$(bash benches/fetch-corpus.sh "$c" | tail -n 1)")
    fi
done
if [[ -z "$bin" ]]; then
    cargo build --release --quiet
    bin=./target/release/nanlint
fi
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
preview=()
[ "${NANLINT_PREVIEW:-0}" = 1 ] && preview=(--preview)
"$bin" check --isolated "${preview[@]}" --output-format json "${corpora[@]}" >"$out" || [ $? -eq 1 ]
python3 - "$out" "$@" <<'PY'
import json, os, random, sys
findings, codes = json.load(open(sys.argv[1])), sys.argv[2:]
n = int(os.environ.get("NANLINT_SAMPLE", "30"))
seed = int(os.environ.get("NANLINT_SEED", "7"))
by_code = {}
for f in findings:
    by_code.setdefault(f["code"], []).append(f)
for code in sorted(codes or by_code):
    found = sorted(by_code.get(code, []), key=lambda f: (f["filename"], f["location"]["row"], f["location"]["column"]))
    drawn = random.Random(seed).sample(found, min(n, len(found)))
    print(f"## {code}: {len(found)} findings in the corpus, {len(drawn)} drawn (seed {seed})\n")
    for i, f in enumerate(drawn, 1):
        row = f["location"]["row"]
        text = open(f["filename"], encoding="utf-8", errors="replace").read()
        cell = f.get("cell")
        if cell is not None:  # a notebook: rows count within the code cell
            cells = json.loads(text)["cells"]
            source = cells[cell - 1]["source"] if cell <= len(cells) else ""
            text = "".join(source) if isinstance(source, list) else source
        where = f"{f['filename']}" + (f" cell {cell}" if cell is not None else "")
        print(f"{i}. {where}:{row}:{f['location']['column']}: {f['message']}")
        lines = text.splitlines()
        for r in range(max(1, row - 6), min(len(lines), row + 3) + 1):
            print(f"   {'>' if r == row else ' '}{r:5} {lines[r - 1]}")
        print()
PY
