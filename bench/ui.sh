#!/usr/bin/env bash
# bench/ui.sh — the web UI's pages with many credentials in the store,
# measured in a real browser.
#
#   bench/ui.sh [N]          default N=10000 credentials
#
# 1. A SQLite store of N credentials, filled by the engine's `populate`
#    example (see bench/api.sh), or a copy of BENCH_STORE when given.
# 2. `certmgr server` on it as deployed (HTTPS with its own certificate;
#    challenge listeners and the scheduler off, so that nothing else runs),
#    and a user with a password.
# 3. Debian's chromium, headless through chromedriver (the browser tests'
#    harness, certmgr-testkit's `ui-bench`), signs in and loads each page
#    RUNS times, cold (the browser's cache off): time to first byte, time
#    until the page is usable (its data shown: the UI's `certmgr:page`
#    performance mark), the load event, and the bytes transferred (the
#    page, its scripts and styles, the API answers). Medians.
# Prints a markdown table. Everything is written to a temporary directory,
# removed at the end; the server is stopped on exit, failure or Ctrl-C.
#
# Environment:
#   CERTMGR_BIN     the binary to measure (default: `cargo build --release`)
#   EXAMPLES_DIR    where `populate` is (default: built with cargo)
#   UI_BENCH        the `ui-bench` driver (default: built with cargo)
#   BENCH_STORE     a store directory (master.key, certmgr.db) to copy
#   RUNS (7)        loads per page
#   PLAIN_HTTP=1    serve plain HTTP instead of HTTPS
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
RUNS=${RUNS:-7}
PLAIN_HTTP=${PLAIN_HTTP:-0}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/ui.sh [N]" >&2; exit 2; }

die() { echo "bench/ui.sh: $*" >&2; exit 1; }
log() { echo "bench/ui.sh: $*" >&2; }

[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] \
  || die "chromium and chromedriver are missing: sudo apt-get install chromium chromium-driver"
target=${CARGO_TARGET_DIR:-target}
[[ $target == /* ]] || target="$(pwd)/$target"
if [[ -z ${CERTMGR_BIN:-} ]]; then
  log "building certmgr (release)"
  cargo build --release --locked -p certmgr >&2 || die "cargo build failed"
  CERTMGR_BIN="$target/release/certmgr"
fi
if [[ -z ${EXAMPLES_DIR:-} ]]; then
  log "building the engine's examples (release)"
  cargo build --release --locked -p certmgr-engine --examples >&2 || die "cargo build failed"
  EXAMPLES_DIR="$target/release/examples"
fi
if [[ -z ${UI_BENCH:-} ]]; then
  log "building ui-bench (release)"
  cargo build --release --locked -p certmgr-testkit --bin ui-bench >&2 || die "cargo build failed"
  UI_BENCH="$target/release/ui-bench"
fi
bin=$CERTMGR_BIN

work=$(mktemp -d "${TMPDIR:-/tmp}/certmgr-bench-ui.XXXXXX")
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

if [[ -n ${BENCH_STORE:-} ]]; then
  [[ -e $BENCH_STORE/certmgr.db && -e $BENCH_STORE/master.key ]] || die "BENCH_STORE=$BENCH_STORE has no certmgr.db and master.key"
  log "copying $BENCH_STORE"
  cp -a "$BENCH_STORE" "$CERTMGR_DATA_DIR"
else
  log "populating a store with $N credentials"
  "$bin" init >/dev/null
  "$bin" ca create bench >/dev/null
  "$EXAMPLES_DIR/populate" "$CERTMGR_DATA_DIR" "$N" >&2 || die "populate failed"
fi
password="bench-ui-$RANDOM-$RANDOM-password"
printf '%s\n' "$password" >"$work/password"
"$bin" user add bench --role admin --password-file "$work/password" >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_args=(server --listen "127.0.0.1:$port" --http-listen off --https-listen off --renew-interval 0)
scheme=https
if [[ $PLAIN_HTTP == 1 ]]; then server_args+=(--plain-http); scheme=http; fi
base="$scheme://127.0.0.1:$port"
setsid "$bin" "${server_args[@]}" </dev/null >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
deadline=$((SECONDS + 120))
until grep -q "^certmgr server: $scheme://" "$work/server.log" 2>/dev/null; do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; server_pid=; die "the server exited"; }
  ((SECONDS < deadline)) || die "the server did not start in 120 s"
  sleep 0.2
done
count=$("$bin" --json cred list | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')

log "loading pages in chromium ($RUNS cold loads each)"
paths=(/ /credentials "/credentials?sort=expiry" "/credentials?status=failed")
"$UI_BENCH" "$base" bench "$password" "$RUNS" "${paths[@]}" >"$work/results" || die "ui-bench failed"
rows=$(python3 - "$work/results" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    target = {"/": "usable ≤ 300 ms, ≤ 200 kB"}.get(r["path"], "")
    print(f"| `{r['path']}` | {r['ttfb_ms']:.0f} | {r['usable_ms']:.0f} | {r['load_ms']:.0f} | "
          f"{r['kb']:.1f} | {r['requests']:.0f} | {target} |")
PY
)
cat <<TABLE

certmgr web UI, $count credentials, $scheme on 127.0.0.1, headless chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), cold loads (cache off), median of $RUNS, browser and server on the same $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg)):

| page | first byte ms | usable ms | load event ms | kB transferred | requests | target |
|---|---|---|---|---|---|---|
$rows
TABLE
