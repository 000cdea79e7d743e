#!/usr/bin/env bash
# bench/metrics.sh — certmgr server's GET /metrics with many credentials.
#
#   bench/metrics.sh [N]      default N=10000 credentials
#
# 1. A SQLite store of N credentials, filled in one process by the engine's
#    `populate` example (as bench/api.sh: MicroCA-issued ECDSA P-256; 1 % each
#    due, never issued, manual, failed), or a copy of BENCH_STORE when given
#    (never changed).
# 2. `certmgr server` on it, plain HTTP (the scrape's own cost, not TLS's),
#    the scheduler on (its first pass runs at start; the scrape waits for it,
#    so renewal plans are recorded), challenge listeners off. A viewer token
#    (as Prometheus would use) and a token scoped to a tag no credential has.
# 3. RUNS scrapes, one after the other, with curl: wall time per scrape
#    (median, 90th percentile, max), bytes, samples; the server's peak RSS
#    (VmHWM) before and after. The text is checked: `promtool check metrics`
#    (when installed), one expiry series per issued credential, three ready
#    series per credential. Then the same for the scoped token (it reads every
#    row and keeps none: the cost of the scope filter).
# Prints a markdown table. Everything is written to a temporary directory,
# removed at the end; the server is stopped on exit, failure or Ctrl-C.
#
# Environment:
#   CERTMGR_BIN     the binary to measure (default: `cargo build --release` of
#                   this tree in $CARGO_TARGET_DIR, or target/)
#   EXAMPLES_DIR    where `populate` is (default: built with
#                   `cargo build --release -p certmgr-engine --examples`)
#   BENCH_STORE     a store directory (master.key, certmgr.db) to copy instead of populating
#   RUNS (20)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/metrics.sh [N]" >&2; exit 2; }
RUNS=${RUNS:-20}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench/metrics.sh: RUNS must be a number" >&2; exit 2; }

die() { echo "bench/metrics.sh: $*" >&2; exit 1; }
log() { echo "bench/metrics.sh: $*" >&2; }

for tool in curl python3; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done

target=${CARGO_TARGET_DIR:-target}
[[ $target == /* ]] || target="$(pwd)/$target"
if [[ -z ${CERTMGR_BIN:-} ]]; then
  log "building certmgr (release)"
  cargo build --release --locked -p certmgr >&2 || die "cargo build failed"
  CERTMGR_BIN="$target/release/certmgr"
fi
if [[ -z ${EXAMPLES_DIR:-} && -z ${BENCH_STORE:-} ]]; then
  log "building the engine's examples (release)"
  cargo build --release --locked -p certmgr-engine --examples >&2 || die "cargo build failed"
  EXAMPLES_DIR="$target/release/examples"
fi
bin=$CERTMGR_BIN
[[ -x $bin ]] || die "no certmgr binary at $bin"

work=$(mktemp -d "${TMPDIR:-/tmp}/certmgr-bench-metrics.XXXXXX")
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
if [[ -n ${BENCH_STORE:-} ]]; then
  [[ -e $BENCH_STORE/certmgr.db && -e $BENCH_STORE/master.key ]] || die "BENCH_STORE=$BENCH_STORE has no certmgr.db and master.key"
  log "copying $BENCH_STORE"
  cp -a "$BENCH_STORE" "$CERTMGR_DATA_DIR"
else
  [[ -x $EXAMPLES_DIR/populate ]] || die "no populate in $EXAMPLES_DIR"
  log "populating a store with $N credentials"
  "$bin" init >/dev/null
  "$bin" ca create bench >/dev/null
  "$EXAMPLES_DIR/populate" "$CERTMGR_DATA_DIR" "$N" >&2 || die "populate failed"
fi
read -r count issued < <("$bin" --json cred list | python3 -c '
import json, sys
creds = json.load(sys.stdin)
print(len(creds), sum(1 for c in creds if c.get("not_after")))')
((count >= N)) || die "the store holds $count credentials, not $N"

# 2. The server.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env CERTMGR_ADMIN_PASSWORD="bench-$RANDOM-$RANDOM-admin" \
  setsid "$bin" server --listen "127.0.0.1:$port" --plain-http --http-listen off --https-listen off \
  </dev/null >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
base="http://127.0.0.1:$port"
deadline=$((SECONDS + 120))
until grep -q "^certmgr server: http://" "$work/server.log" 2>/dev/null; do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; server_pid=; die "the server exited"; }
  ((SECONDS < deadline)) || die "the server did not start in 120 s"
  sleep 0.2
done
status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server_pid/status"; }
viewer=$("$bin" token create bench-viewer --role viewer 2>/dev/null)
scoped=$("$bin" token create bench-scoped --role viewer --tag bench=nothing 2>/dev/null)
[[ $viewer == cmt_* && $scoped == cmt_* ]] || die "no tokens"
log "server at $base (pid $server_pid); waiting for the scheduler's first pass"
until curl -fsS -H "Authorization: Bearer $viewer" "$base/metrics" \
  | grep -Eq '^certmgr_scheduler_last_pass_timestamp_seconds [1-9]'; do
  ((SECONDS < deadline + 300)) || die "no scheduler pass within 300 s"
  sleep 1
done
hwm_before_kb=$(status VmHWM)

# 3. Scrapes.
curl -fsS -H "Authorization: Bearer $viewer" "$base/metrics" >"$work/metrics.txt"
promtool_result="not installed"
if command -v promtool >/dev/null; then
  if said=$(promtool check metrics <"$work/metrics.txt" 2>&1) && [[ -z $said ]]; then
    promtool_result="clean"
  else
    die "promtool check metrics: $said"
  fi
fi
expiry=$(grep -c '^certmanager_certificate_expiration_timestamp_seconds{' "$work/metrics.txt" || true)
ready=$(grep -c '^certmanager_certificate_ready_status{' "$work/metrics.txt" || true)
samples=$(grep -vc '^#' "$work/metrics.txt" || true)
((ready == 3 * count)) || die "$ready ready series for $count credentials"
# The scheduler's first pass issues the never-issued and due ones: at least
# as many have a certificate as before the server started.
((expiry >= issued)) || die "$expiry expiry series for $issued issued credentials"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pct() { sort -g | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }'; }
scrapes() { # TOKEN -> "median p90 max bytes" (ms, ms, ms, bytes)
  local i out times=() bytes=0
  for ((i = 1; i <= RUNS; i++)); do
    out=$(curl -fsS -o /dev/null -w '%{time_total} %{size_download}' -H "Authorization: Bearer $1" "$base/metrics") \
      || die "a scrape failed"
    times+=("$(awk '{ printf "%.1f", $1 * 1000 }' <<<"$out")")
    bytes=$(awk '{ print $2 }' <<<"$out")
  done
  echo "$(printf '%s\n' "${times[@]}" | median) $(printf '%s\n' "${times[@]}" | pct 90) $(printf '%s\n' "${times[@]}" | pct 100) $bytes"
}
log "scraping $RUNS times as a viewer"
read -r v_med v_p90 v_max v_bytes < <(scrapes "$viewer")
log "scraping $RUNS times with a token scoped to a tag no credential has"
read -r s_med s_p90 s_max s_bytes < <(scrapes "$scoped")
hwm_after_kb=$(status VmHWM)
rss_after_kb=$(status VmRSS)
mib() { awk '{ printf "%.1f", $1 / 1024 }' <<<"$1"; }

cat <<EOF

### /metrics at $count credentials ($RUNS scrapes each, one at a time; plain HTTP; $(nproc) cores)

| scrape | median ms | p90 ms | max ms | bytes | samples |
|---|---|---|---|---|---|
| viewer token (every credential) | $v_med | $v_p90 | $v_max | $v_bytes | $samples |
| token scoped to a tag no credential has | $s_med | $s_p90 | $s_max | $s_bytes | |

| check | result |
|---|---|
| promtool check metrics | $promtool_result |
| expiry series / credentials with a certificate before the server started | $expiry / $issued |
| ready series / credentials | $ready / $count |
| server peak RSS (VmHWM) after the scrapes that waited for the first pass / after all | $(mib "$hwm_before_kb") / $(mib "$hwm_after_kb") MiB |
| server RSS after the scrapes | $(mib "$rss_after_kb") MiB |
EOF
