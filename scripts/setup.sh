#!/usr/bin/env bash
# Install what is missing, and only that: the wasm32 target, wasm-bindgen-cli at the version in
# Cargo.lock, the npm packages (binaryen for wasm-opt, playwright-core), and with --browser
# Debian's chromium. Idempotent: a second run installs nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

say() { echo "setup: $*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
lock_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock")
have_version=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_version" != "$lock_version" ]; then
  say "installing wasm-bindgen-cli $lock_version (have: ${have_version:-none}); this takes a few minutes"
  # No --locked: the registry mirror lacks some of the newest transitive versions it would pin.
  cargo install wasm-bindgen-cli --version "$lock_version"
fi

npm_install() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing npm packages in ${dir#"$root"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_install "$root/npm"

if [ "$want_browser" = 1 ]; then
  npm_install "$root/playwright"
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v unshare >/dev/null || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
  fi
fi
