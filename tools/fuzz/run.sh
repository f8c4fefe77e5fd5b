#!/usr/bin/env bash
# Fuzz the parsers with libFuzzer (cargo-fuzz, nightly Rust):
#   bash tools/fuzz/run.sh [SECONDS_PER_TARGET=600] [TARGET…]   (targets: fuzz/targets.txt)
# Seeds come from the test files (tools/fuzz/seeds.py); corpora, crashes and logs go to
# $CORTEXLENS_FUZZ_DIR (default /var/tmp/cortexlens-fuzz), results to its results.tsv:
# target, seconds, executions, coverage (edges), features, findings. Findings worth keeping go to
# tests/data/fuzz/<target>/, replayed by data/tests/fuzz_regressions.rs (see docs/robustness.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-600}
shift || true
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < fuzz/targets.txt; fi
work=${CORTEXLENS_FUZZ_DIR:-/var/tmp/cortexlens-fuzz}
mkdir -p "$work/logs" "$work/artifacts"
export CARGO_TARGET_DIR="$work/target"
python3 tools/fuzz/seeds.py "$work/corpus"
cargo +nightly fuzz build --fuzz-dir fuzz -O --debug-assertions
[ -f "$work/results.tsv" ] || printf 'target\tseconds\texecutions\tcoverage\tfeatures\tfindings\tdate\n' > "$work/results.tsv"
for t in "${targets[@]}"; do
  mkdir -p "$work/artifacts/$t"
  before=$(ls "$work/artifacts/$t" | wc -l)
  echo "== $t ($secs s)"
  cargo +nightly fuzz run --fuzz-dir fuzz -O --debug-assertions "$t" "$work/corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/$t/" > "$work/logs/$t.log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/logs/$t.log" | grep -o '[0-9]*$' | tail -n1)
  cov=$(grep -o 'cov: [0-9]*' "$work/logs/$t.log" | tail -n1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "$work/logs/$t.log" | tail -n1 | grep -o '[0-9]*')
  found=$(( $(ls "$work/artifacts/$t" | wc -l) - before ))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$found" "$(date -u +%F)" | tee -a "$work/results.tsv"
done
