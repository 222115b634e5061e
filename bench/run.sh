#!/usr/bin/env bash
# `make bench`: run every benchmark under bench/ in turn, then build the one table.
# Each bench prints its own lines (kept in bench/results/<name>.txt) and writes its figures to
# bench/results/<name>.json; bench/summary.py turns them into bench/results/summary.md and
# summary.json and prints the table. Results are not committed. Loopback only, bounded in time
# (about 15 minutes on 2 cores with the defaults below; each can be raised from the
# environment). `BENCH=token,esia_connector make bench` runs only those (names without bench_).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
PY=.venv/bin/python
# The bounded sizes of a full run (each bench's own defaults are for running it alone).
export AUDIT_BENCH_EVENTS="${AUDIT_BENCH_EVENTS:-200000}"
export BENCH_GATE_ROUNDS="${BENCH_GATE_ROUNDS:-3}"
export BENCH_GATE_SECONDS="${BENCH_GATE_SECONDS:-4}"
export BENCH_GATE_N="${BENCH_GATE_N:-2000}"
export BENCH_GATE_SHORT="${BENCH_GATE_SHORT:-1}"
export BENCH_LIVENESS_SOURCES="${BENCH_LIVENESS_SOURCES:-2}"
export BENCH_FACES_REPEAT="${BENCH_FACES_REPEAT:-1}"
status=0
only="${BENCH:-}"
for b in bench/bench_*.py bench/bench_*.sh; do
  [ -e "$b" ] || continue
  name=$(basename "$b"); name=${name%.*}
  if [ -n "$only" ] && [[ ",$only," != *",${name#bench_},"* ]]; then continue; fi
  echo "=== $name ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg)) ==="
  rm -f "bench/results/${name#bench_}.json"
  case "$b" in
    *.py) $PY "$b" 2>&1 | tee "bench/results/$name.txt" ;;
    *.sh) bash "$b" 2>&1 | tee "bench/results/$name.txt" ;;
  esac
  rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || { echo "!!! $name failed ($rc)"; status=1; }
done
echo "=== summary (bench/results/summary.md) ==="
$PY bench/summary.py || status=1
exit $status
