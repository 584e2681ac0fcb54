#!/usr/bin/env bash
# Results-page benchmark: seeds N signals (default 1,000,000) and 500
# hardships (450 published) with ten measures each, then measures GET /resultaten (the
# first page, with this year's changes) and a later page with wrk at c=64.
# Not a test: run it by hand on a quiet machine. Needs wrk and curl.
#
#   bash bench/results.sh                    # seeds target/bench/results-1000000 once, reuses it after
#   bash bench/results.sh 100000             # fewer signals, quicker to seed
#   HARDSHIPS=50 bash bench/results.sh
#   DURATION=30s bash bench/results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
HARDSHIPS=${HARDSHIPS:-500}
DURATION=${DURATION:-10s}
ROOT=${BENCH_ROOT:-target/bench/results-$N-$HARDSHIPS}
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true' EXIT
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 2; }

cargo build --release --quiet --bin signaal --example review_seed
if [ -f "$ROOT/data/signaal.db" ]; then
  echo "reusing the folder seeded in $ROOT"
else
  mkdir -p "$ROOT"
  echo "seeding $N signals and $HARDSHIPS hardships (ten measures each, nine in ten published) into $ROOT"
  target/release/examples/review_seed "$ROOT" "$N" "$HARDSHIPS"
fi

export SIGNAAL_DATA_DIR=$ROOT/data SIGNAAL_KEYS_DIR=$ROOT/keys SIGNAAL_LOG=warn
export SIGNAAL_INTAKE_ADDR=127.0.0.1:0 SIGNAAL_REVIEW_ADDR=127.0.0.1:0
# Keep every seeded signal: the daily retention purge would thin out the old ones.
for s in NEW IN_PROGRESS FORWARDED CLOSED NOT_ADMISSIBLE; do export "SIGNAAL_RETENTION_${s}_DAYS=0"; done
rm -f "$ROOT/out"  # not the address of an earlier run
target/release/signaal serve >"$ROOT/out" 2>&1 &
PID=$!
for _ in $(seq 600); do grep -qs "intake listening" "$ROOT/out" && break; sleep 0.1; done
URL=$(sed -n 's/^intake listening on //p' "$ROOT/out")
[ -n "$URL" ] || { cat "$ROOT/out" >&2; exit 1; }
PATHS=("/resultaten" "/results?page=2")
# Each page once before it is measured: the first reading of the store (about
# half a second at 500 hardships) is not what a visitor waits for.
echo "intake at $URL; first page $(curl -s "$URL${PATHS[0]}" | wc -c) bytes, page 2 $(curl -s "$URL${PATHS[1]}" | wc -c) bytes"

for path in "${PATHS[@]}"; do
  echo; echo "== GET $path, c=64 =="
  wrk -t2 -c64 -d"$DURATION" --latency "$URL$path" | grep -E "Requests/sec|50%|99%|Non-2xx"
done
echo; echo "== peak RSS of the server (VmHWM) =="
grep VmHWM "/proc/$PID/status"
