#!/usr/bin/env bash
# `make bench`: run every benchmark under bench/ in turn; each prints its own medians/ratios.
# Results are also kept under bench/results/ (not committed). Loopback only, bounded in time.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
PY=.venv/bin/python
status=0
only="${BENCH:-}"
for b in bench/bench_*.py bench/bench_*.sh; do
  [ -e "$b" ] || continue
  name=$(basename "$b"); name=${name%.*}
  if [ -n "$only" ] && [[ ",$only," != *",${name#bench_},"* ]]; then continue; fi
  echo "=== $name ==="
  case "$b" in
    *.py) $PY "$b" 2>&1 | tee "bench/results/$name.txt" ;;
    *.sh) bash "$b" 2>&1 | tee "bench/results/$name.txt" ;;
  esac
  rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || { echo "!!! $name failed ($rc)"; status=1; }
done
exit $status
