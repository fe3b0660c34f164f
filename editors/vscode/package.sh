#!/usr/bin/env bash
# Builds the nanlint VS Code extension into a .vsix, bundling the nanlint server binary.
#
#   editors/vscode/package.sh            # -> editors/vscode/nanlint-<target>-<version>.vsix
#
# The server binary is taken from $NANLINT_BIN if set, else the newest of
# target/dist/nanlint, target/release/nanlint and target/debug/nanlint (build one first with
# `cargo build --profile dist`, the profile of the installed binary, or `--release`). Without any, the .vsix is built without a server and the
# extension uses `nanlint` from PATH or the nanlint.path setting. A .vsix with a bundled
# server is marked for this platform (vsce --target), since the binary only runs here.
#
# $NANLINT_VSIX_OUT overrides the output path. Needs only the packages in
# package-lock.json: after `npm ci` (run here when node_modules is missing) it works offline.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$HERE"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

exe=nanlint
case "$(uname -s)" in MINGW*|MSYS*|CYGWIN*) exe=nanlint.exe ;; esac

bin="${NANLINT_BIN:-}"
if [ -z "$bin" ]; then
  # The newest of the dist, release and debug builds, so that a stale build is not shipped.
  for candidate in "$ROOT/target/dist/$exe" "$ROOT/target/release/$exe" "$ROOT/target/debug/$exe"; do
    if [ -x "$candidate" ] && { [ -z "$bin" ] || [ "$candidate" -nt "$bin" ]; }; then bin="$candidate"; fi
  done
fi

rm -rf bundled
target_args=()
if [ -n "$bin" ]; then
  [ -x "$bin" ] || { echo "package.sh: $bin is not an executable file" >&2; exit 1; }
  mkdir -p bundled
  cp "$bin" "bundled/$exe"
  chmod 755 "bundled/$exe"
  target="$(node -p 'process.platform + "-" + process.arch')"
  if [ "$(uname -s)" = Linux ] && ldd --version 2>&1 | grep -qi musl; then
    target="alpine-${target#linux-}"
  fi
  target_args=(--target "$target")
  echo "package.sh: bundling $bin for $target"
else
  echo "package.sh: no server binary found (target/dist, target/release or target/debug); packaging without one" >&2
fi

version="$(node -p 'require("./package.json").version')"
out="${NANLINT_VSIX_OUT:-$HERE/nanlint-${target:+$target-}$version.vsix}"

# vscode:prepublish compiles the TypeScript.
node_modules/.bin/vsce package \
  --allow-missing-repository --skip-license --no-rewrite-relative-links \
  "${target_args[@]}" --out "$out"

echo "$out"
