#!/usr/bin/env bash
# bench/api.sh — certmgr server's REST API with many credentials in the store.
#
#   bench/api.sh [N]          default N=10000 credentials
#
# 1. A SQLite store of N credentials, filled in one process by the engine's
#    `populate` example (MicroCA-issued ECDSA P-256; 1 % each due, never
#    issued, manual, failed: see crates/certmgr-engine/examples/populate.rs),
#    or a copy of BENCH_STORE when given (never changed).
# 2. Scheduler passes, each timed as a whole process (wall seconds, peak RSS;
#    median of RUNS after one untimed first pass, which plans every new
#    certificate): `certmgr renew --due --dry-run` (every credential) and the
#    server's scheduler pass (the engine's `scheduler_pass` example: the due
#    index only), over the N store and over a second store of BIG_N
#    credentials (100,000; BIG_N=0 skips it).
# 3. `certmgr server` on the N store, as deployed (HTTPS with its own
#    certificate, the scheduler on, so its first pass runs at start; challenge
#    listeners off), an admin token, then wrk (Debian) with the token in a Lua
#    script, THREADS threads, for each of CONNECTIONS, DURATION seconds each, on
#    GET /api/credentials/NAME (a credential in the middle), GET
#    /api/credentials?limit=100 (the first page) and the same page further on
#    (a cursor in the middle): requests/s, p50, p99; any non-2xx answer fails.
#    The server's RSS (VmRSS of /proc/PID/status) at rest after start (once it
#    has not changed for 5 s), its peak (VmHWM) after all the load, and at
#    rest again after it.
# Prints a markdown table. Everything is written to a temporary directory,
# removed at the end; the server is stopped on exit, failure or Ctrl-C.
#
# Environment:
#   CERTMGR_BIN     the binary to measure (default: `cargo build --release` of
#                   this tree in $CARGO_TARGET_DIR, or target/)
#   EXAMPLES_DIR    where `populate` and `scheduler_pass` are (default: built
#                   with `cargo build --release -p certmgr-engine --examples`)
#   BENCH_STORE     a store directory (master.key, certmgr.db) to copy instead of populating
#   BIG_N (100000)  RUNS (5)  DURATION (15)  CONNECTIONS ("8 16")  THREADS (2)
#   PLAIN_HTTP=1    serve and measure plain HTTP instead of HTTPS
#   SERVER_ENV      extra environment for the server, e.g. "MALLOC_ARENA_MAX=2"
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
BIG_N=${BIG_N:-100000}
[[ $N =~ ^[1-9][0-9]*$ && $BIG_N =~ ^[0-9]+$ ]] || { echo "usage: bench/api.sh [N]; BIG_N a number" >&2; exit 2; }
RUNS=${RUNS:-5}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-8 16}
THREADS=${THREADS:-2}
PLAIN_HTTP=${PLAIN_HTTP:-0}

die() { echo "bench/api.sh: $*" >&2; exit 1; }
log() { echo "bench/api.sh: $*" >&2; }

if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing wrk (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >&2
  else
    die "wrk is missing: sudo apt-get install wrk"
  fi
fi
for tool in curl python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done

target=${CARGO_TARGET_DIR:-target}
[[ $target == /* ]] || target="$(pwd)/$target"
if [[ -z ${CERTMGR_BIN:-} ]]; then
  log "building certmgr (release)"
  cargo build --release --locked -p certmgr >&2 || die "cargo build failed"
  CERTMGR_BIN="$target/release/certmgr"
fi
if [[ -z ${EXAMPLES_DIR:-} ]]; then
  # A build of its own: one with both packages would build certmgr with the
  # engine features of its tests.
  log "building the engine's examples (release)"
  cargo build --release --locked -p certmgr-engine --examples >&2 || die "cargo build failed"
  EXAMPLES_DIR="$target/release/examples"
fi
bin=$CERTMGR_BIN
[[ -x $bin ]] || die "no certmgr binary at $bin"
[[ -x $EXAMPLES_DIR/populate && -x $EXAMPLES_DIR/scheduler_pass ]] || die "no populate and scheduler_pass in $EXAMPLES_DIR"

work=$(mktemp -d "${TMPDIR:-/tmp}/certmgr-bench-api.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 250); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export CERTMGR_DATA_DIR="$work/store"
unset CERTMGR_DATABASE_URL CERTMGR_MASTER_KEY CERTMGR_TOKEN CERTMGR_CONFIG

# 1. The store.
populate() { # DIR COUNT
  CERTMGR_DATA_DIR=$1 "$bin" init >/dev/null
  CERTMGR_DATA_DIR=$1 "$bin" ca create bench >/dev/null
  "$EXAMPLES_DIR/populate" "$1" "$2" >&2 || die "populate failed"
}
if [[ -n ${BENCH_STORE:-} ]]; then
  [[ -e $BENCH_STORE/certmgr.db && -e $BENCH_STORE/master.key ]] || die "BENCH_STORE=$BENCH_STORE has no certmgr.db and master.key"
  log "copying $BENCH_STORE"
  cp -a "$BENCH_STORE" "$CERTMGR_DATA_DIR"
else
  log "populating a store with $N credentials"
  populate "$CERTMGR_DATA_DIR" "$N"
fi
names="$work/names"
"$bin" --json cred list | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    if c.get("status") == "valid":
        print(c["name"])' >"$names"
count=$("$bin" --json cred list | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
((count >= N)) || die "the store holds $count credentials, not $N"

# 2. Scheduler passes.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# series CMD... -> "median_seconds median_peak_MiB" over RUNS runs
series() {
  local i out s kb times=() kbs=()
  for ((i = 1; i <= RUNS; i++)); do
    out=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -n 1)
    read -r s kb <<<"$out"
    [[ $s =~ ^[0-9.]+$ ]] || die "$* failed: $out"
    times+=("$s"); kbs+=("$kb")
  done
  echo "$(printf '%s\n' "${times[@]}" | median) $(printf '%s\n' "${kbs[@]}" | median | awk '{ printf "%.0f", $1 / 1024 }')"
}
pass_rows=()
passes() { # DIR COUNT
  CERTMGR_DATA_DIR=$1 "$bin" renew --due --dry-run >/dev/null || die "renew --due --dry-run failed"
  read -r dry_s dry_mib < <(CERTMGR_DATA_DIR=$1 series "$bin" renew --due --dry-run)
  read -r pass_s pass_mib < <(series "$EXAMPLES_DIR/scheduler_pass" "$1")
  pass_rows+=("| scheduler pass of \`certmgr server\` (due index; the engine's \`scheduler_pass\`), $2 credentials | ${pass_s} s, peak RSS ${pass_mib} MiB | ≤ 1 s over 100,000 |")
  pass_rows+=("| \`certmgr renew --due --dry-run\` (every credential), $2 credentials | ${dry_s} s, peak RSS ${dry_mib} MiB | |")
}
log "timing scheduler passes over $count credentials ($RUNS runs each)"
passes "$CERTMGR_DATA_DIR" "$count"
if ((BIG_N > 0)); then
  log "populating a second store with $BIG_N credentials"
  populate "$work/big" "$BIG_N"
  log "timing scheduler passes over $BIG_N credentials ($RUNS runs each)"
  passes "$work/big" "$BIG_N"
  rm -rf "$work/big"
fi

# 3. The server under load.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_args=(server --listen "127.0.0.1:$port" --http-listen off --https-listen off)
scheme=https
if [[ $PLAIN_HTTP == 1 ]]; then server_args+=(--plain-http); scheme=http; fi
base="$scheme://127.0.0.1:$port"
read -r -a server_env <<<"${SERVER_ENV:-}"
env CERTMGR_ADMIN_PASSWORD="bench-$RANDOM-$RANDOM-admin" "${server_env[@]}" \
  setsid "$bin" "${server_args[@]}" </dev/null >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
deadline=$((SECONDS + 120))
until grep -q "^certmgr server: $scheme://" "$work/server.log" 2>/dev/null; do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; server_pid=; die "the server exited"; }
  ((SECONDS < deadline)) || die "the server did not start in 120 s"
  sleep 0.2
done
status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server_pid/status"; }
# RSS at rest: once VmRSS has not changed for 5 s (the first scheduler pass is over).
at_rest() {
  local last=-1 same=0 rss
  for _ in $(seq 240); do
    rss=$(status VmRSS)
    if [[ $rss == "$last" ]]; then same=$((same + 1)); else same=0; last=$rss; fi
    ((same >= 10)) && break
    sleep 0.5
  done
  echo "$last"
}
log "server at $base (pid $server_pid); waiting for its RSS to settle"
rest_kb=$(at_rest)
start_hwm_kb=$(status VmHWM)
threads=$(status Threads)

token=$("$bin" token create bench --role admin 2>/dev/null)
[[ $token == cmt_* ]] || die "no token"
curl_args=(-fsS -o /dev/null -H "Authorization: Bearer $token")
[[ $scheme == https ]] && curl_args+=(-k)
mid=$(sed -n "$(($(wc -l <"$names") / 2))p" "$names")
cursor=$(printf %s "$mid" | base64 -w0 | tr '+/' '-_' | tr -d '=')
cat >"$work/auth.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $token"
EOF
targets=(
  "GET one credential|/api/credentials/$mid|≤ 20 ms"
  "GET a page of 100 (the first)|/api/credentials?limit=100|≤ 50 ms"
  "GET a page of 100 (from the middle, cursor)|/api/credentials?limit=100&cursor=$cursor|≤ 50 ms"
)
for t in "${targets[@]}"; do
  IFS='|' read -r _ path _ <<<"$t"
  curl "${curl_args[@]}" "$base$path" || die "GET $path failed"
done

ms() { # a wrk duration (850.00us, 1.23ms, 1.02s, 2.00m) in ms
  awk -v d="$1" 'BEGIN {
    if (d ~ /us$/) printf "%.2f", substr(d, 1, length(d) - 2) / 1000
    else if (d ~ /ms$/) printf "%.2f", substr(d, 1, length(d) - 2)
    else if (d ~ /m$/) printf "%.0f", substr(d, 1, length(d) - 1) * 60000
    else if (d ~ /s$/) printf "%.2f", substr(d, 1, length(d) - 1) * 1000
    else print d }'
}
rows=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for t in "${targets[@]}"; do
  IFS='|' read -r label path target <<<"$t"
  for c in $CONNECTIONS; do
    log "wrk -t$THREADS -c$c -d${DURATION}s $path"
    out=$(wrk -t"$THREADS" -c"$c" -d"${DURATION}s" --latency -s "$work/auth.lua" "$base$path") || die "wrk failed: $out"
    echo "$out" >>"$work/wrk.log"
    if grep -q "Non-2xx or 3xx responses" <<<"$out"; then echo "$out" >&2; die "non-2xx answers on $path"; fi
    if grep -q "Socket errors" <<<"$out"; then echo "$out" >&2; die "socket errors on $path"; fi
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    p50=$(ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
    p99=$(ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    rows+=("| $label | $c | $rps | $p50 | $p99 | $target |")
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
peak_kb=$(status VmHWM)
after_kb=$(at_rest)

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
cat <<TABLE

certmgr server, $count credentials, $scheme on 127.0.0.1, wrk -t$THREADS -d${DURATION}s, client and server on the same $(nproc) cores (load average $load_before before the load, $load_after after):

| request | connections | requests/s | p50 ms | p99 ms | p99 target |
|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")

| measurement | value | target |
|---|---|---|
| server RSS at rest after start (first scheduler pass over) | $(mib "$rest_kb") MiB ($threads threads) | ≤ 40 MB |
| server peak RSS (VmHWM) at start | $(mib "$start_hwm_kb") MiB | |
| server peak RSS (VmHWM) under the load above | $(mib "$peak_kb") MiB | |
| server RSS at rest after the load | $(mib "$after_kb") MiB | |
$(printf '%s\n' "${pass_rows[@]}")
TABLE
