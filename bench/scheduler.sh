#!/usr/bin/env bash
# bench/scheduler.sh — a renewal pass over a large store: `certmgr renew --due --dry-run`
# (every credential reported) and the server's scheduler pass (the due index only).
#
#   bench/scheduler.sh [N] [RUNS]        defaults: N=100000 credentials, RUNS=5
#
# 1. A SQLite store of N credentials, filled in one process by the engine's `populate`
#    example (crates/certmgr-engine/examples/populate.rs: MicroCA-issued ECDSA P-256, with
#    1 % each due by policy, never issued, manual, failed): about 1.2 ms per credential.
# 2. The first `renew --due --dry-run`, timed on its own: it plans every certificate issued
#    since the last pass (reads its certificates, records its renewal time).
# 3. RUNS more `renew --due --dry-run` (the steady state), and RUNS scheduler passes (the
#    engine's `scheduler_pass` example: what `certmgr server` runs between its hourly full
#    passes), each timed as a whole process with /usr/bin/time: wall seconds, peak RSS.
# Prints a markdown table (min / median / max). Work files in a temp dir, removed
# (BENCH_KEEP=DIR keeps the populated store there instead, to time other binaries on it).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
RUNS=${2:-5}
[[ $N =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/scheduler.sh [N] [RUNS]" >&2; exit 2; }
# Two builds: one with both packages would build certmgr with its tests' engine features.
cargo build --release --locked -p certmgr >&2
cargo build --release --locked -p certmgr-engine --examples >&2
target="$(pwd)/${CARGO_TARGET_DIR:-target}"
[[ "${CARGO_TARGET_DIR:-}" == /* ]] && target="$CARGO_TARGET_DIR"
bin="$target/release/certmgr"
examples="$target/release/examples"
if [[ -n "${BENCH_KEEP:-}" ]]; then
  work=$BENCH_KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
export CERTMGR_DATA_DIR="$work/store"
unset CERTMGR_DATABASE_URL CERTMGR_MASTER_KEY
[[ -e "$CERTMGR_DATA_DIR" ]] && { echo "$CERTMGR_DATA_DIR exists: remove it first" >&2; exit 1; }

"$bin" init >/dev/null
"$bin" ca create bench >/dev/null
echo "populating $N credentials" >&2
"$examples/populate" "$CERTMGR_DATA_DIR" "$N" >&2

measure() { # prints "wall_seconds peak_kb" for one run of "$@"
  { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -n 1
}
stats() { # reads numbers, prints "min median max"
  sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
    printf "%s / %s / %s", v[1], m, v[NR] }'
}
series() { # RUNS runs of "$@": "wall min/median/max s | peak RSS median MiB"
  local walls=() kbs=() wall kb
  for _ in $(seq "$RUNS"); do
    read -r wall kb < <(measure "$@")
    walls+=("$wall"); kbs+=("$kb")
  done
  printf '%s s | %s MiB' "$(printf '%s\n' "${walls[@]}" | stats)" \
    "$(printf '%s\n' "${kbs[@]}" | awk '{ print $1 / 1024 }' | stats | awk -F' / ' '{ printf "%.1f", $2 }')"
}

read -r first_s first_kb < <(measure "$bin" renew --due --dry-run)
due=$("$bin" renew --due --dry-run | awk 'NR > 1 && $2 == "due"' | wc -l)
dry=$(series "$bin" renew --due --dry-run)
pass=$(series "$examples/scheduler_pass" "$CERTMGR_DATA_DIR")

cat <<TABLE

| $N credentials ($due due), SQLite | wall min / median / max | peak RSS (median) |
|---|---|---|
| first \`renew --due --dry-run\` (plans every new certificate) | ${first_s} s (one run) | $((first_kb / 1024)) MiB |
| \`renew --due --dry-run\`, $RUNS runs | $dry |
| scheduler pass (due index only, dry run), $RUNS runs | $pass |
TABLE
