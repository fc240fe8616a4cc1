#!/usr/bin/env bash
# The end-to-end tests (all of tests/, or the files given), one file at a time, in a private
# network namespace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/*.test.js)
exec bash "$here/netns.sh" node --test --test-concurrency=1 --test-timeout=180000 "${files[@]}"
