#!/usr/bin/env bash
# The main job: install what is missing, build, and run meshwork-relay serving the demo page.
# It prints the URL to open. Extra arguments go to meshwork-relay (see `--help`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/meshwork/target}

bash scripts/setup.sh
# Same feature set as the test build (see scripts/test.sh), so the two share one cache.
cargo build --release --workspace --all-targets
bash scripts/build-wasm.sh
exec "$CARGO_TARGET_DIR/release/meshwork-relay" --web-dir web --npm-dir npm "$@"
