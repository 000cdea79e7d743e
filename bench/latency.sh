#!/usr/bin/env bash
# bench/latency.sh - how long ONE certificate takes: `certmgr cred issue` (one name, HTTP-01)
# against a local Pebble with PEBBLE_VA_NOSLEEP=1, RUNS times; optionally the same for a second
# certmgr binary (before/after a change) and for lego (the peer), in the same run.
#
#   bench/latency.sh [RUNS]     default 10
#
# Environment:
#   CERTMGR_BIN    the binary to time (default: a release build of this tree)
#   BASELINE_BIN   a second certmgr binary timed the same way, e.g. an older commit's
#   CLIENTS        "certmgr" (default) or "certmgr lego"
#   BENCH_WORK     work dir, wiped at start (default /tmp/certmgr-bench-latency)
#   PEBBLE_PORT PEBBLE_MGMT_PORT CTS_DNS_PORT CTS_MGMT_PORT HTTP01_PORT TLSALPN01_PORT
#                  (defaults 14200 15200 8253 8255 5202 5201; all on 127.0.0.1)
# Each run: `cred create` (not timed), then `cred issue` timed as a whole process with
# date +%s.%N. Prints min / median / max per client as a markdown table.
set -euo pipefail

BENCH_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_HOME/.." && pwd)"
# shellcheck source=lib/acme-peers.sh
. "$BENCH_HOME/lib/acme-peers.sh"

RUNS=${1:-10}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
CLIENTS=${CLIENTS:-certmgr}
PEBBLE_PORT=${PEBBLE_PORT:-14200}
PEBBLE_MGMT_PORT=${PEBBLE_MGMT_PORT:-15200}
CTS_DNS_PORT=${CTS_DNS_PORT:-8253}
CTS_MGMT_PORT=${CTS_MGMT_PORT:-8255}
HTTP01_PORT=${HTTP01_PORT:-5202}
TLSALPN01_PORT=${TLSALPN01_PORT:-5201}
WORK=${BENCH_WORK:-/tmp/certmgr-bench-latency}
DIRECTORY="https://127.0.0.1:$PEBBLE_PORT/dir"

trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages pebble:pebble pebble-challtestsrv:pebble openssl:openssl curl:curl
[[ " $CLIENTS " == *" lego "* ]] && ensure_packages lego:lego
case $WORK in /tmp/* | /var/tmp/*) ;; *) die "BENCH_WORK must be under /tmp or /var/tmp" ;; esac
rm -rf -- "$WORK"; mkdir -p "$WORK"

if [[ -z ${CERTMGR_BIN:-} ]]; then
  target=${BENCH_CARGO_TARGET_DIR:-/var/tmp/certmgr-target-bench}
  log "building certmgr (release) in $target"
  (cd "$REPO" && CARGO_TARGET_DIR="$target" cargo build --release --locked -p certmgr >&2) || die "cargo build failed"
  CERTMGR_BIN="$target/release/certmgr"
fi

start_pebble "$WORK"
ROOT="$WORK/ca/pebble-root.pem"

# time_certmgr LABEL BIN -> one line "LABEL t1 t2 ..."
time_certmgr() {
  local label=$1 bin=$2 d="$WORK/$1" i t0 t1 times=()
  export CERTMGR_DATA_DIR="$d/store"
  unset CERTMGR_DATABASE_URL CERTMGR_MASTER_KEY
  "$bin" init >/dev/null
  "$bin" trust add "$ROOT" >/dev/null
  "$bin" acme account create pb --directory "$DIRECTORY" --ca-bundle "$WORK/ca/tls-ca.pem" \
    --email bench@example.test --agree-tos >/dev/null
  for ((i = 1; i <= RUNS; i++)); do
    "$bin" cred create "c$i" --host "$label-$i.example.test" --issuer acme:pb >/dev/null
    t0=$(now)
    "$bin" cred issue "c$i" --http01-listen "127.0.0.1:$HTTP01_PORT" >"$d.log" 2>&1 ||
      { cat "$d.log" >&2; die "$label: cred issue c$i failed"; }
    t1=$(now)
    times+=("$(elapsed "$t0" "$t1")")
  done
  echo "$label ${times[*]}"
}

time_lego() {
  local d="$WORK/lego" i t0 t1 times=()
  mkdir -p "$d"
  for ((i = 0; i <= RUNS; i++)); do   # run 0 registers the account, untimed
    t0=$(now)
    LEGO_CA_CERTIFICATES="$WORK/ca/tls-ca.pem" lego --accept-tos --email bench@example.test \
      --server "$DIRECTORY" --path "$d" --key-type ec256 --http --http.port "127.0.0.1:$HTTP01_PORT" \
      -d "lego-$i.example.test" run >"$d.log" 2>&1 || { tail -n 5 "$d.log" >&2; die "lego run $i failed"; }
    t1=$(now)
    ((i == 0)) || times+=("$(elapsed "$t0" "$t1")")
  done
  echo "lego ${times[*]}"
}

results=()
results+=("$(time_certmgr certmgr "$CERTMGR_BIN")")
[[ -n ${BASELINE_BIN:-} ]] && results+=("$(time_certmgr baseline "$BASELINE_BIN")")
[[ " $CLIENTS " == *" lego "* ]] && results+=("$(time_lego)")

echo
echo "One certificate, one name, HTTP-01, Pebble with PEBBLE_VA_NOSLEEP=1, $RUNS runs (seconds per process)"
echo
echo "| client | min | median | max |"
echo "|---|---|---|---|"
for line in "${results[@]}"; do
  read -r label rest <<<"$line"
  tr ' ' '\n' <<<"$rest" | sort -n | awk -v l="$label" '{ v[NR] = $1 }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf "| %s | %.3f | %.3f | %.3f |\n", l, v[1], m, v[NR] }'
done
