#!/usr/bin/env bash
# Review-face benchmark: seeds N signals (default 100,000), logs in, and measures
# the queue page (with the snippets it decrypts and audits), a filtered deep
# page, the work filters (label, mine, needs attention), opening signals, a search over 10,000 signals, and the peak RSS.
# Not a test: run it by hand on a quiet machine. Needs wrk and curl.
#
#   bench/review.sh [N]                      # seeds target/bench/review-N once, reuses it after
#   bench/review.sh 1000000                  # the million (seeding takes several minutes)
#   BENCH_ROOT=/tmp/seeded bench/review.sh   # another folder to seed and reuse
#   BENCH_FRESH=1 bench/review.sh            # a fresh temporary folder, removed afterwards
#   BENCH_HARDSHIPS=500 bench/review.sh 1000000   # also 500 hardships with 5,000 measures
#                                            # (a separate folder: review-N-hH), and their pages
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
H=${BENCH_HARDSHIPS:-0}
PID=
if [ -n "${BENCH_FRESH:-}" ]; then
  ROOT=$(mktemp -d)
  trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$ROOT"' EXIT
else
  ROOT=${BENCH_ROOT:-target/bench/review-$N$( [ "$H" -gt 0 ] && echo "-h$H" || true)}
  mkdir -p "$ROOT"
  trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true' EXIT
fi
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 2; }

cargo build --release --quiet --bin signaal --example review_seed
if [ -f "$ROOT/data/signaal.db" ]; then
  echo "reusing the signals seeded in $ROOT"
else
  echo "seeding $N signals into $ROOT"
  target/release/examples/review_seed "$ROOT" "$N" "$H"
fi

export SIGNAAL_DATA_DIR=$ROOT/data SIGNAAL_KEYS_DIR=$ROOT/keys SIGNAAL_LOG=warn
export SIGNAAL_INTAKE_ADDR=127.0.0.1:0 SIGNAAL_REVIEW_ADDR=127.0.0.1:0
# Keep every seeded signal: the daily retention purge would thin out the old ones.
for s in NEW IN_PROGRESS FORWARDED CLOSED NOT_ADMISSIBLE; do export "SIGNAAL_RETENTION_${s}_DAYS=0"; done
target/release/signaal serve >"$ROOT/out" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "review listening" "$ROOT/out" && break; sleep 0.1; done
BASE=$(sed -n 's/^review listening on //p' "$ROOT/out")
echo "review face at $BASE"

COOKIE=
for _ in 1 2 3 4 5; do
  COOKIE=$(curl -s -o /dev/null -D - -H "Origin: $BASE" \
    --data-urlencode name=bench --data-urlencode "passphrase=bench passphrase" \
    "$BASE/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | paste -sd ';' | sed 's/;/; /g')
  [ -n "$COOKIE" ] && break
  sleep 1
done
[ -n "$COOKIE" ] || { echo "login failed"; exit 1; }
QUEUE=$(curl -s -H "Cookie: $COOKIE" "$BASE/")
CSRF=$(grep -o 'name="csrf" value="[0-9a-f]*"' <<<"$QUEUE" | head -1 | sed 's/.*value="//; s/"//')
# The 25 signals of the first page, opened in turn: each view adds an audit row
# to its signal, and one signal opened ten thousand times is no reviewer's day.
IDS=$(grep -o 'data-signal="[a-z0-9]*"' <<<"$QUEUE" | sed 's/.*="//; s/"//' | sed 's/.*/"&",/' | tr -d '\n')

cat >"$ROOT/cookie.lua" <<LUA
wrk.headers["Cookie"] = "$COOKIE"
LUA
cat >"$ROOT/open-filtered.lua" <<LUA
wrk.headers["Cookie"] = "$COOKIE"
local ids = { $IDS }
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/signals/" .. ids[n % #ids + 1] .. "?from=domain%3Dyouth%26sort%3Dnewest%26page%3D1&pos=" .. (n % 25))
end
LUA
cat >"$ROOT/open.lua" <<LUA
wrk.headers["Cookie"] = "$COOKIE"
local ids = { $IDS }
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/signals/" .. ids[n % #ids + 1])
end
LUA

echo; echo "== queue page (GET /, 25 of $N, newest first, snippets decrypted, one audit row) =="
wrk -t2 -c4 -d10s --latency -s "$ROOT/cookie.lua" "$BASE/" | grep -E "Requests/sec|50%|99%|Non-2xx"
echo; echo "== queue page, filtered and deep (GET /?status=new&sort=oldest&page=200) =="
wrk -t2 -c4 -d10s --latency -s "$ROOT/cookie.lua" "$BASE/?status=new&sort=oldest&page=200" | grep -E "Requests/sec|50%|99%|Non-2xx"
# The work filters, on the seed's mix: a label on one in fifty, the rarest
# label on one in 100,000, the reviewer's own (one in five), needs attention
# (about two in a thousand), a domain (the confirmed ones, and the sender's
# choice of the newest 500 untriaged, read once a session).
for q in "label=spoed" "label=zelden" "who=mine" "attention=1" "attention=1&page=20" "domain=youth"; do
  echo; echo "== queue page, work filter (GET /?$q) =="
  wrk -t2 -c4 -d10s --latency -s "$ROOT/cookie.lua" "$BASE/?$q" | grep -E "Requests/sec|50%|99%|Non-2xx"
done
echo; echo "== open a signal (GET /signals/ID, the first page's 25 in turn: audit row + decrypt) =="
wrk -t2 -c4 -d10s --latency -s "$ROOT/open.lua" "$BASE/" | grep -E "Requests/sec|50%|99%|Non-2xx"
echo; echo "== open a signal from the queue filtered by domain (previous / next within it: the sender's choices, read once a session) =="
wrk -t2 -c4 -d10s --latency -s "$ROOT/open-filtered.lua" "$BASE/" | grep -E "Requests/sec|50%|99%|Non-2xx"
if [ -z "${BENCH_ONLY_HARDSHIPS:-}" ]; then
echo; echo "== search over the newest 10,000 signals (3 runs) =="
for _ in 1 2 3; do
  curl -s -o "$ROOT/search.html" -w "%{time_total} s\n" -H "Cookie: $COOKIE" -H "Origin: $BASE" -H "Accept-Language: en" \
    --data-urlencode "csrf=$CSRF" --data-urlencode "q=no such words here" --data-urlencode scope=10000 \
    "$BASE/search"
  grep -o 'Searched [0-9]* of [0-9]* signals in [0-9]* ms' "$ROOT/search.html"
done
fi
if [ "$H" -gt 0 ]; then
  HIDS=$(curl -s -H "Cookie: $COOKIE" "$BASE/hardships" | grep -o 'data-hardship="[a-z0-9]*"' | sed 's/.*="//; s/"//' | sed -n '1,50p' | sed 's/.*/"&",/' | tr -d '\n')
  cat >"$ROOT/hardship.lua" <<LUA
wrk.headers["Cookie"] = "$COOKIE"
local ids = { $HIDS }
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/hardships/" .. ids[n % #ids + 1])
end
LUA
  echo; echo "== a new session's first overview (GET /hardships: $H titles decrypted) and first organisation filter ($((H * 10)) measures decrypted) =="
  COOKIE2=$(curl -s -o /dev/null -D - -H "Origin: $BASE" \
    --data-urlencode name=bench --data-urlencode "passphrase=bench passphrase" \
    "$BASE/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | paste -sd ';' | sed 's/;/; /g')
  curl -s -o /dev/null -w "first overview %{time_total} s\n" -H "Cookie: $COOKIE2" "$BASE/hardships"
  curl -s -o /dev/null -w "first organisation filter %{time_total} s\n" -H "Cookie: $COOKIE2" "$BASE/hardships?organisation=uwv"
  echo; echo "== monitoring overview (GET /hardships, $H hardships, one audit row) =="
  wrk -t2 -c4 -d10s --latency -s "$ROOT/cookie.lua" "$BASE/hardships" | grep -E "Requests/sec|50%|99%|Non-2xx"
  echo; echo "== overview filtered (organisation, lever, overdue; since a day) =="
  wrk -t2 -c4 -d10s --latency -s "$ROOT/cookie.lua" "$BASE/hardships?organisation=uwv&lever=law&overdue=1&since=2026-01-01" | grep -E "Requests/sec|50%|99%|Non-2xx"
  echo; echo "== a hardship's page (GET /hardships/ID: 20 signals, 10 measures, 30 statuses; 50 in turn) =="
  wrk -t2 -c4 -d10s --latency -s "$ROOT/hardship.lua" "$BASE/" | grep -E "Requests/sec|50%|99%|Non-2xx"
fi
echo; echo "== peak RSS of the server (VmHWM) =="
grep VmHWM "/proc/$PID/status"
