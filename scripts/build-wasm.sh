#!/usr/bin/env bash
# Build the browser node into npm/dist/wasm: cargo (wasm-release profile) → wasm-bindgen
# (--target web, ESM, no bundler) → wasm-opt -Oz (binaryen from npm; Debian's 108 breaks tables).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/meshwork/target}
out="$root/npm/dist/wasm"
cd "$root"
cargo build -p meshwork-browser --target wasm32-unknown-unknown --profile wasm-release
raw="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/meshwork_browser.wasm"
mkdir -p "$out"
wasm-bindgen --target web --out-dir "$out" --out-name meshwork_browser "$raw"
"$root/npm/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$out/meshwork_browser_bg.wasm" -o "$out/meshwork_browser_bg.wasm.opt"
mv "$out/meshwork_browser_bg.wasm.opt" "$out/meshwork_browser_bg.wasm"
echo "built $(du -h "$out/meshwork_browser_bg.wasm" | cut -f1) → $out"
