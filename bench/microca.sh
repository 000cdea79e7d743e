#!/usr/bin/env bash
# bench/microca.sh — MicroCA throughput, `cred list` at scale, store size.
#
#   bench/microca.sh [N] [LIST_N]        defaults: N=1000, LIST_N=10000; PAR=2 processes at a time
#
# 1. certmgr: N credentials (ECDSA P-256), each `cred create` + `cred issue`, as a
#    user would script it, PAR at a time; the same N with openssl as the peer
#    (`openssl req -newkey ec` + `openssl x509 -req` signed by an openssl CA).
# 2. The store grown to LIST_N issued credentials; `cred list` and `cred list --json`
#    timed with /usr/bin/time (wall, peak RSS).
# 3. Store size per credential (SQLite file + WAL, after a checkpoint by reopening).
# Prints a markdown table. Leaves nothing running; work files in a temp dir, removed.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
LIST_N=${2:-10000}
PAR=${PAR:-2}
cargo build --release --locked -p certmgr >&2
bin="$(pwd)/${CARGO_TARGET_DIR:-target}/release/certmgr"
[[ "${CARGO_TARGET_DIR:-}" == /* ]] && bin="$CARGO_TARGET_DIR/release/certmgr"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CERTMGR_DATA_DIR="$work/store"
unset CERTMGR_DATABASE_URL CERTMGR_MASTER_KEY

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s }'; }

"$bin" init >/dev/null
"$bin" ca create bench --intermediate >/dev/null

issue_range() { # FIRST LAST
  seq "$1" "$2" | xargs -P "$PAR" -I{} sh -c \
    "'$bin' cred create c{} --host c{}.example.test --issuer ca:bench >/dev/null && '$bin' cred issue c{} >/dev/null"
}

echo "certmgr: issuing $N credentials, $PAR at a time" >&2
t0=$(now); issue_range 1 "$N"; t1=$(now)
certmgr_s=$(elapsed "$t0" "$t1")
count=$("$bin" --json cred list | grep -c '"name"')
[[ "$count" == "$N" ]] || { echo "expected $N credentials, found $count" >&2; exit 1; }

echo "openssl: issuing $N certificates, $PAR at a time" >&2
mkdir -p "$work/openssl"
(
  cd "$work/openssl"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=peer -days 30 \
    -addext basicConstraints=critical,CA:TRUE -keyout ca.key -out ca.pem 2>/dev/null
)
t0=$(now)
seq 1 "$N" | xargs -P "$PAR" -I{} sh -c \
  "cd '$work/openssl' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf{}.key \
     -subj /CN=c{}.example.test -addext subjectAltName=DNS:c{}.example.test -addext extendedKeyUsage=serverAuth 2>/dev/null \
   | openssl x509 -req -CA ca.pem -CAkey ca.key -days 90 -copy_extensions copy -out leaf{}.pem 2>/dev/null"
t1=$(now)
openssl_s=$(elapsed "$t0" "$t1")
ls "$work/openssl"/leaf*.pem | wc -l | grep -qx "$N" || { echo "openssl peer did not issue $N certificates" >&2; exit 1; }

db_bytes() { du -cb "$CERTMGR_DATA_DIR"/certmgr.db* | tail -n 1 | cut -f1; }
"$bin" cred list >/dev/null   # reopen: checkpoints the WAL
size_n=$(db_bytes)

if (( LIST_N > N )); then
  echo "certmgr: growing the store to $LIST_N credentials" >&2
  issue_range $((N + 1)) "$LIST_N"
fi
"$bin" cred list >/dev/null
size_list=$(db_bytes)

measure() { # label args...
  local out
  out=$( { /usr/bin/time -f '%e %M' "$bin" "$@" >/dev/null; } 2>&1 | tail -n 1)
  echo "$out"
}
read -r list_s list_kb < <(measure cred list)
read -r json_s json_kb < <(measure --json cred list)

cat <<TABLE

| measurement | value |
|---|---|
| certmgr: $N ECDSA P-256 credentials (create + issue, $PAR processes) | ${certmgr_s} s, $(rate "$N" "$certmgr_s") credentials/s |
| openssl peer: $N ECDSA P-256 certificates (req + x509 -req, $PAR processes) | ${openssl_s} s, $(rate "$N" "$openssl_s") certificates/s |
| certmgr time / openssl time | $(awk -v a="$certmgr_s" -v b="$openssl_s" 'BEGIN { printf "%.2f", a / b }') |
| \`cred list\` over $LIST_N credentials | ${list_s} s, peak RSS $((list_kb / 1024)) MiB |
| \`cred list --json\` over $LIST_N credentials | ${json_s} s, peak RSS $((json_kb / 1024)) MiB |
| store size after $N credentials | $size_n bytes, $((size_n / N)) bytes/credential |
| store size after $LIST_N credentials | $size_list bytes, $((size_list / LIST_N)) bytes/credential |
TABLE
