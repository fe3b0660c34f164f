#!/usr/bin/env bash
# Times `nanlint check` on the pathological inputs of benches/pathological.py (issue 14):
#
#   bash benches/pathological.sh [NANLINT] [SHAPE:SIZE ...]
#
# NANLINT defaults to target/release/nanlint (build it first: `cargo build --release`). Each row:
# shape, size, input bytes, wall and user seconds, peak resident memory (VmHWM, from
# /usr/bin/time -v), and the findings by code. Inputs go to a temporary folder, removed at the end.
set -euo pipefail

cd "$(dirname "$0")/.."
bin="${1:-target/release/nanlint}"
shift || true
shapes=("$@")
if [ ${#shapes[@]} -eq 0 ]; then
    shapes=(nest:100 nest:100000 line:10000 line:90000 plus:1000 plus:2000 div:1000 div:2000
        mb:1 mb:5 mb:10 mb:20 mb:50 minus:100000 lambda:100000)
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '%-8s %8s %10s %8s %8s %9s  %s\n' shape size bytes wall_s user_s peak_MB findings
for s in "${shapes[@]}"; do
    file="$(python3 benches/pathological.py "$out" "${s%%:*}" "${s##*:}")"
    # A size cap of 100 MB, so that the 50 MB input is checked.
    printf 'max-file-size = 100_000_000\n' > "$out/nanlint.toml"
    /usr/bin/time -v -o "$out/time" "$bin" check --config "$out/nanlint.toml" --output-format concise -q \
        "$file" > "$out/findings" 2> /dev/null || true
    wall=$(awk -F': ' '/Elapsed/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$out/time")
    user=$(awk -F': ' '/User time/ {print $2}' "$out/time")
    peak=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$out/time")
    codes=$(awk '{print $2}' "$out/findings" | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')
    printf '%-8s %8s %10s %8s %8s %9s  %s\n' "${s%%:*}" "${s##*:}" "$(stat -c %s "$file")" "$wall" "$user" "$peak" "${codes%, }"
    rm -f "$file"
done
