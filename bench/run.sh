#!/usr/bin/env bash
# The benchmark command (not part of the tests): build what it needs, then measure inside a
# private network namespace. `bash bench/run.sh --write` appends the figures to BENCHMARKS.md.
# BENCH_RUNS (default 7), BENCH_MESSAGES (default 300), BENCH_PERF_MIB (64) and BENCH_PERF_RUNS (3)
# set the sample sizes (BENCH_LOAD_MESSAGES, BENCH_LOAD_LATENCY_MESSAGES for gossip load;
# BENCH_B2B_* for browser to browser; BENCH_SCALE_SIZES, default 1000,10000, for relay scale;
# BENCH_DHT_NODES, default 200, BENCH_DHT_PRUNED=1, BENCH_DHT_GRACE_SECS, BENCH_DHT_IDLE_SECS and
# BENCH_DHT_JOIN_MS for DHT lookups of full nodes (see tests/examples/dht_lookup.rs),
# BENCH_DHT_ROUTING_NODES, default 1000, for DHT routing at scale (tests/examples/dht_routing.rs);
# BENCH_RESTART_RUNS, default 5, and
# BENCH_RESTART_DOWN_MS, default 5000, for the relay restart);
# BENCH_ONLY=size,load,latency,rss,throughput,gossipload,b2b,restart,reach,circuit,scale,dht,compare picks
# sections; `compare` is meshwork next to js-libp2p (bench/compare.js; BENCH_COMPARE_RUNS,
# BENCH_COMPARE_MESSAGES, BENCH_COMPARE_LOAD_MESSAGES).
#
# `--smoke`: every section once with small sizes (a check that every scenario still works, not
# figures; the test command runs it so the benchmark cannot rot). Never written to BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/meshwork/target}
args=()
for a in "$@"; do
  if [ "$a" = --smoke ]; then
    export BENCH_SMOKE=1 BENCH_PERF_MIB=4 BENCH_PERF_RUNS=1 BENCH_LOAD_MESSAGES=200 \
      BENCH_LOAD_LATENCY_MESSAGES=20 BENCH_B2B_RUNS=1 BENCH_B2B_MESSAGES=200 \
      BENCH_B2B_LATENCY_MESSAGES=20
  else
    args+=("$a")
  fi
done
bash scripts/setup.sh --browser
# Same feature set as the test build (see scripts/test.sh), so the two share one cache.
cargo build --release --workspace --all-targets
bash scripts/build-wasm.sh
# The scale section holds 10,000 connections in each of two processes.
ulimit -n "$(ulimit -Hn)"
exec bash playwright/netns.sh node bench/run.js "${args[@]}"
