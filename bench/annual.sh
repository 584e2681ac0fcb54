#!/usr/bin/env bash
# Annual-report benchmark: seeds N signals (default 1,000,000) and 500
# hardships (450 published) with ten measures each and three statuses to a
# measure, then times `signaal report hardships` for this year in each
# format: public (the published hardships) and with `--reviewer bench` (the
# unpublished ones opened too). Not a test: run it by hand on a quiet machine.
#
#   bash bench/annual.sh                 # seeds target/bench/annual-1000000-500 once, reuses it after
#   bash bench/annual.sh 100000          # fewer signals, quicker to seed
#   HARDSHIPS=50 RUNS=5 bash bench/annual.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
HARDSHIPS=${HARDSHIPS:-500}
RUNS=${RUNS:-3}
ROOT=${BENCH_ROOT:-target/bench/annual-$N-$HARDSHIPS}
YEAR=${YEAR:-$(date -u +%Y)}

cargo build --release --quiet --bin signaal --example review_seed
if [ -f "$ROOT/data/signaal.db" ]; then
  echo "reusing the folder seeded in $ROOT"
else
  mkdir -p "$ROOT"
  echo "seeding $N signals and $HARDSHIPS hardships (ten measures each, nine in ten published) into $ROOT"
  target/release/examples/review_seed "$ROOT" "$N" "$HARDSHIPS"
fi
export SIGNAAL_DATA_DIR=$ROOT/data SIGNAAL_KEYS_DIR=$ROOT/keys SIGNAAL_LOG=warn

# Seconds (wall clock) of one report; its size in bytes goes to $ROOT/size.
one() {
  local start end
  start=$(date +%s.%N)
  if [ "$1" = public ]; then
    target/release/signaal report hardships --year "$YEAR" --format "$2" >"$ROOT/report.$2"
  else
    echo "bench passphrase" |
      target/release/signaal report hardships --year "$YEAR" --format "$2" --reviewer bench >"$ROOT/report.$2"
  fi
  end=$(date +%s.%N)
  wc -c <"$ROOT/report.$2" >"$ROOT/size"
  echo "$end - $start" | bc
}

echo "year $YEAR, $RUNS runs each (seconds, wall clock, the whole command)"
printf '%-9s %-5s %10s %s\n' who format bytes seconds
for who in public reviewer; do
  for format in html md csv; do
    times=()
    for _ in $(seq "$RUNS"); do times+=("$(one "$who" "$format")"); done
    printf '%-9s %-5s %10s %s\n' "$who" "$format" "$(cat "$ROOT/size")" "${times[*]}"
  done
done
rm -f "$ROOT"/report.* "$ROOT/size"
