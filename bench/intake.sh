#!/usr/bin/env bash
# Benchmark of the intake: durable submissions and the form page, measured with
# wrk against a release build on this machine. Not a test: it prints figures.
#
#   bash bench/intake.sh            # 10 s per run
#   DURATION=30s bash bench/intake.sh
#   MIX_SECS=2 bash bench/intake.sh  # mix every 2 s under load: wrk's p99 holds the waits for a mix
#   SEEDED=/tmp/seeded bash bench/intake.sh   # on a folder made by the review_seed example
#   BIN=/path/to/other/signaal bash bench/intake.sh   # another build, side by side
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
MIX_SECS=${MIX_SECS:-3600}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v age-keygen >/dev/null || { echo "age-keygen is needed: apt-get install age" >&2; exit 1; }

if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=./target/release/signaal
fi
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir -p "$work/keys"
# Two team recipients, as a team with one key per reviewer would have.
{ age-keygen 2>/dev/null | grep '^# public key:' | cut -d' ' -f4
  age-keygen 2>/dev/null | grep '^# public key:' | cut -d' ' -f4; } > "$work/keys/team.pub"
data="$work/data"
if [ -n "${SEEDED:-}" ]; then
  data="$SEEDED/data"
  cp "$SEEDED/keys/team.pub" "$work/keys/team.pub"
fi

export SIGNAAL_DATA_DIR="$data" SIGNAAL_KEYS_DIR="$work/keys" SIGNAAL_MIX_INTERVAL_SECS=$MIX_SECS
export SIGNAAL_INTAKE_ADDR=127.0.0.1:0 SIGNAAL_REVIEW_ADDR=127.0.0.1:0
# Limits raised for the run: the point is the machine, not the limiter.
export SIGNAAL_SUBMIT_BURST=100000000 SIGNAAL_SUBMIT_PER_HOUR=100000000 SIGNAAL_GLOBAL_PER_SECOND=100000000
export SIGNAAL_LOG=${SIGNAAL_LOG:-info}
# Keep every seeded signal: the daily retention purge would thin out the old ones.
for s in NEW IN_PROGRESS FORWARDED CLOSED NOT_ADMISSIBLE; do export "SIGNAAL_RETENTION_${s}_DAYS=0"; done
"$BIN" serve >"$work/out.log" 2>"$work/err.log" &
pid=$!
echo "work folder: $work (KEEP=1 keeps it)"
for _ in $(seq 100); do grep -q "intake listening" "$work/out.log" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^intake listening on //p' "$work/out.log")
[ -n "$url" ] || { cat "$work/err.log" >&2; exit 1; }

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "situation=" .. string.rep("Bij+een+kleine+fout+in+de+aanvraag+wordt+de+hele+toeslag+teruggevorderd.+", 6)
  .. "&rule=Artikel+26+Awir&organisation=Dienst+Toeslagen&domain=benefits&origin=law&scale=many"
LUA

count() { sqlite3 "$data/signaal.db" "SELECT count(*) FROM all_signals" 2>/dev/null \
  || sqlite3 "$data/signaal.db" "SELECT count(*) FROM signals"; }
echo "signaal intake benchmark — $(nproc) cores, wrk on the same machine, $DURATION per run, $BIN, mix every ${MIX_SECS}s, $(count) signals stored"
echo
for conns in 1 16 64; do
  threads=$(( conns < 2 ? 1 : 2 ))
  before=$(count)
  out=$(wrk -t$threads -c$conns -d$DURATION --latency -s "$work/post.lua" "$url/signal")
  after=$(count)
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  echo "POST /signal  c=$conns: ${rps} req/s, p50 ${p50}, p99 ${p99}, stored $((after-before)), non-2xx ${non2xx:-0}"
done
out=$(wrk -t2 -c64 -d$DURATION --latency "$url/")
echo "GET /         c=64: $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s, p50 $(echo "$out" | awk '$1=="50%" {print $2}'), p99 $(echo "$out" | awk '$1=="99%" {print $2}')"
echo "peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
echo "database: $(count) signals, $(du -sh "$data" | cut -f1)"
mixes=$(grep -c "intake summary" "$work/err.log" || true)
echo "mixes during the runs: $mixes"
