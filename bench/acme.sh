#!/usr/bin/env bash
# bench/acme.sh - ACME HTTP-01 issuance against a local Pebble: certmgr vs lego vs certbot.
#
#   bench/acme.sh [N]          N single-name certificates per client (default 100); `bench/acme.sh 10` is a quick run
#
# One Pebble (+ pebble-challtestsrv as its DNS) on 127.0.0.1 with PEBBLE_VA_NOSLEEP=1,
# PEBBLE_WFE_NONCEREJECT=0, PEBBLE_AUTHZREUSE=0 serves all three clients, one after the other;
# each answers HTTP-01 on 127.0.0.1:HTTP01_PORT. Hostnames host-<i>.example.test, ECDSA P-256.
#
#   certmgr  account create (--max-concurrent-orders $CERTMGR_CONCURRENCY), N x `cred create`,
#            then ONE `certmgr renew --due --http01-listen ...` process issuing all N
#            (timed alone = "issue only", and together with account + creates = "create+issue")
#   lego     N x `lego ... --http --http.port 127.0.0.1:PORT -d host run`, sequential (one port);
#            the first run registers the account
#   certbot  N x `certbot certonly --standalone ...`, sequential (certbot locks its config dir);
#            the first run registers the account
# Wall time: date +%s.%N around each batch. Peak RSS: /usr/bin/time -f %M; certmgr = the renew
# process (create+issue row: the largest of all its processes), lego/certbot = the largest single
# process of the batch. Every certificate of every client is checked with `openssl verify`
# against Pebble's root (+ -verify_hostname).
#
# Environment:
#   CERTMGR_CONCURRENCY  certmgr's --max-concurrent-orders for the Pebble account (default 10)
#   CLIENTS              subset/order of clients (default "certmgr lego certbot")
#   BENCH_WORK           work dir, wiped at start, kept at the end (default /tmp/certmgr-bench-acme)
#   PEBBLE_PORT PEBBLE_MGMT_PORT CTS_DNS_PORT CTS_MGMT_PORT HTTP01_PORT TLSALPN01_PORT
#                        (defaults 14100 15100 8153 8155 5102 5101; all bound to 127.0.0.1)
#   CERTMGR_BIN          use this binary instead of building one
#   BENCH_CARGO_TARGET_DIR  cargo target dir of the build (default /var/tmp/certmgr-target-bench)
#   PEER_TIMEOUT         seconds per lego/certbot process (default 180); CERTMGR_TIMEOUT for the
#                        whole renew run (default 1800)
# Debian packages pebble, lego, certbot (and time, curl, openssl) are apt-get installed when
# missing and the script runs as root; otherwise it fails with the list.
# Output: markdown tables on stdout (also in $BENCH_WORK/results.md), progress on stderr.
# Exit status 1 if any certificate failed to issue or verify. Everything started is stopped on
# exit (also on failure or Ctrl-C).
set -euo pipefail

BENCH_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_HOME/.." && pwd)"
# shellcheck source=lib/acme-peers.sh
. "$BENCH_HOME/lib/acme-peers.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
[[ ${1:-} == -h || ${1:-} == --help ]] && usage
N=${1:-100}
[[ $N =~ ^[1-9][0-9]*$ ]] || usage
CONC=${CERTMGR_CONCURRENCY:-10}
[[ $CONC =~ ^[1-9][0-9]*$ ]] || die "CERTMGR_CONCURRENCY must be a positive integer"
CLIENTS=${CLIENTS:-certmgr lego certbot}
for c in $CLIENTS; do [[ $c == certmgr || $c == lego || $c == certbot ]] || die "unknown client '$c' in CLIENTS"; done
has_client() { [[ " $CLIENTS " == *" $1 "* ]]; }

PEBBLE_PORT=${PEBBLE_PORT:-14100}
PEBBLE_MGMT_PORT=${PEBBLE_MGMT_PORT:-15100}
CTS_DNS_PORT=${CTS_DNS_PORT:-8153}
CTS_MGMT_PORT=${CTS_MGMT_PORT:-8155}
HTTP01_PORT=${HTTP01_PORT:-5102}
TLSALPN01_PORT=${TLSALPN01_PORT:-5101}
PEER_TIMEOUT=${PEER_TIMEOUT:-180}
CERTMGR_TIMEOUT=${CERTMGR_TIMEOUT:-1800}
WORK=${BENCH_WORK:-/tmp/certmgr-bench-acme}
DOMAIN=example.test
EMAIL=bench@example.test
DIRECTORY="https://127.0.0.1:$PEBBLE_PORT/dir"

trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- prerequisites ------------------------------------------------------------------------
ensure_packages pebble:pebble pebble-challtestsrv:pebble lego:lego certbot:certbot \
  openssl:openssl curl:curl /usr/bin/time:time timeout:coreutils setsid:util-linux
for p in "$PEBBLE_PORT:pebble ACME" "$PEBBLE_MGMT_PORT:pebble management" "$CTS_DNS_PORT:challtestsrv DNS" \
  "$CTS_MGMT_PORT:challtestsrv management" "$HTTP01_PORT:HTTP-01" "$TLSALPN01_PORT:pebble tlsPort"; do
  port_free "${p%%:*}" "${p#*:}"
done

# work dir: only ever wipe a directory this script made (marker file) or an empty one
case $WORK in /* ) ;; *) WORK="$(pwd)/$WORK" ;; esac
[[ $WORK != / && $WORK != "$HOME" ]] || die "refusing BENCH_WORK=$WORK"
if [[ -e $WORK ]]; then
  if [[ -e $WORK/.certmgr-bench-acme ]]; then rm -rf -- "$WORK"
  elif [[ -n $(ls -A "$WORK" 2>/dev/null) ]]; then die "$WORK exists, is not empty and was not made by this script"
  fi
fi
mkdir -p "$WORK"
touch "$WORK/.certmgr-bench-acme"
cd "$WORK"   # lego writes ./.lego when it is ever called without --path

if [[ -n ${CERTMGR_BIN:-} ]]; then
  [[ -x $CERTMGR_BIN ]] || die "CERTMGR_BIN=$CERTMGR_BIN is not executable"
  CM=$CERTMGR_BIN
elif has_client certmgr; then
  target=${BENCH_CARGO_TARGET_DIR:-/var/tmp/certmgr-target-bench}
  log "building certmgr (release) in $target"
  (cd "$REPO" && CARGO_TARGET_DIR="$target" cargo build --release --locked -p certmgr >&2) || die "cargo build failed"
  CM="$target/release/certmgr"
fi

LEGO_VERSION=$(dpkg-query -W -f '${Version}' lego 2>/dev/null || echo '?')
CERTBOT_VERSION=$(dpkg-query -W -f '${Version}' certbot 2>/dev/null || echo '?')
PEBBLE_VERSION=$(dpkg-query -W -f '${Version}' pebble 2>/dev/null || echo '?')

start_pebble "$WORK"
ROOT="$WORK/ca/pebble-root.pem"
TLS_CA="$WORK/ca/tls-ca.pem"

http01_port_idle() {
  tcp_open "$HTTP01_PORT" && die "something still listens on 127.0.0.1:$HTTP01_PORT after $1"
  return 0
}

# verify_cert HOST CERT CHAIN -> 0 if CERT chains to Pebble's root and is valid for HOST
verify_cert() {
  openssl verify -CAfile "$ROOT" -untrusted "$3" -verify_hostname "$1" "$2" >/dev/null 2>&1
}

declare -A R_OK R_VERIFIED R_WALL R_RSS R_NOTE

# ---- certmgr --------------------------------------------------------------------------------
bench_certmgr() {
  local d="$WORK/certmgr" i t0 t1 t2 t3 rc=0
  mkdir -p "$d/time-create" "$d/export"
  export CERTMGR_DATA_DIR="$d/store"
  unset CERTMGR_DATABASE_URL CERTMGR_MASTER_KEY
  log "certmgr: $("$CM" --version 2>/dev/null || echo '?'), N=$N, --max-concurrent-orders $CONC"

  t0=$(now)
  /usr/bin/time -f '%e %M' -o "$d/time-setup" "$CM" init >"$d/init.log" 2>&1 || { cat "$d/init.log" >&2; die "certmgr init failed"; }
  "$CM" trust add "$ROOT" >"$d/trust.log" 2>&1 || { cat "$d/trust.log" >&2; die "certmgr trust add failed"; }
  /usr/bin/time -f '%e %M' -o "$d/time-account" "$CM" acme account create pb --directory "$DIRECTORY" \
    --ca-bundle "$TLS_CA" --email "$EMAIL" --agree-tos --max-concurrent-orders "$CONC" \
    >"$d/account.log" 2>&1 || { cat "$d/account.log" >&2; die "certmgr acme account create failed"; }
  t1=$(now)
  for ((i = 1; i <= N; i++)); do
    /usr/bin/time -f '%e %M' -o "$d/time-create/$i" "$CM" cred create "c$i" --host "host-$i.$DOMAIN" \
      --issuer acme:pb >>"$d/create.log" 2>&1 || { tail -n 5 "$d/create.log" >&2; die "certmgr cred create c$i failed"; }
  done
  t2=$(now)
  log "certmgr: account in $(elapsed "$t0" "$t1") s, $N x cred create in $(elapsed "$t1" "$t2") s; renew --due ..."
  run_client "$d/renew.json" "$d/renew.stderr" /usr/bin/time -f '%e %M %U %S' -o "$d/time-renew" timeout --foreground "$CERTMGR_TIMEOUT" \
    "$CM" renew --due --http01-listen "127.0.0.1:$HTTP01_PORT" --json || rc=$?
  t3=$(now)
  ((rc == 0)) || { log "certmgr renew --due exited with $rc; stderr:"; tail -n 20 "$d/renew.stderr" >&2; }
  http01_port_idle "certmgr renew"

  local ok=0 verified=0 idx bad=0
  ok=$(grep -o '"ok": *true' "$d/renew.json" | wc -l) || true
  for ((i = 1; i <= N; i++)); do
    idx="$d/export/c$i"
    if "$CM" cred export "c$i" --out "$idx" >"$idx.log" 2>&1 &&
      verify_cert "host-$i.$DOMAIN" "$idx/cert.pem" "$idx/chain.pem"; then
      verified=$((verified + 1))
    else
      bad=$((bad + 1))
      ((bad > 3)) || log "certmgr: c$i does not export/verify: $(tail -n 2 "$idx.log" 2>/dev/null)"
    fi
  done

  local renew_rss create_rss setup_rss acct_rss
  read -r _ _ renew_rss < <(time_stats "$d/time-renew")
  read -r _ _ create_rss < <(time_stats "$d"/time-create/*)
  read -r _ _ setup_rss < <(time_stats "$d/time-setup" "$d/time-account")
  acct_rss=$(( renew_rss > create_rss ? renew_rss : create_rss ))
  acct_rss=$(( acct_rss > setup_rss ? acct_rss : setup_rss ))
  R_OK[certmgr]=$ok; R_VERIFIED[certmgr]=$verified
  R_WALL[certmgr]=$(elapsed "$t2" "$t3"); R_RSS[certmgr]=$renew_rss
  R_OK[certmgr_all]=$ok; R_VERIFIED[certmgr_all]=$verified
  R_WALL[certmgr_all]=$(elapsed "$t0" "$t3"); R_RSS[certmgr_all]=$acct_rss
  R_NOTE[certmgr]="account create $(elapsed "$t0" "$t1") s, $N x cred create $(elapsed "$t1" "$t2") s ($(div "$(elapsed "$t1" "$t2")" "$N" 3) s each), renew --due $(elapsed "$t2" "$t3") s (CPU $(tail -n 1 "$d/time-renew" | awk '{ printf "%.2f", $3 + $4 }') s user+sys of the renew process)"
  log "certmgr: ${R_NOTE[certmgr]}; issued $ok/$N, verified $verified/$N"
}

# ---- lego -------------------------------------------------------------------------------------
bench_lego() {
  local d="$WORK/lego" i t0 t1 ok=0 verified=0 rc host crt
  mkdir -p "$d/time" "$d/log"
  log "lego $LEGO_VERSION: $N x lego run, sequential"
  t0=$(now)
  for ((i = 1; i <= N; i++)); do
    rc=0
    run_client "$d/log/$i" "$d/log/$i" env LEGO_CA_CERTIFICATES="$TLS_CA" /usr/bin/time -f '%e %M' -o "$d/time/$i" \
      timeout --foreground "$PEER_TIMEOUT" lego --server "$DIRECTORY" --accept-tos --email "$EMAIL" \
      --path "$d/state" --key-type ec256 --http --http.port "127.0.0.1:$HTTP01_PORT" \
      -d "host-$i.$DOMAIN" run || rc=$?
    if ((rc == 0)); then ok=$((ok + 1)); else log "lego: host-$i failed (exit $rc): $(tail -n 1 "$d/log/$i")"; fi
  done
  t1=$(now)
  http01_port_idle lego
  for ((i = 1; i <= N; i++)); do
    host="host-$i.$DOMAIN"; crt="$d/state/certificates/$host"
    verify_cert "$host" "$crt.crt" "$crt.issuer.crt" && verified=$((verified + 1))
  done
  local mean max rss
  read -r mean max rss < <(time_stats "$d"/time/*)
  R_OK[lego]=$ok; R_VERIFIED[lego]=$verified; R_WALL[lego]=$(elapsed "$t0" "$t1"); R_RSS[lego]=$rss
  R_NOTE[lego]="per process: mean $mean s, max $max s"
  log "lego: ${R_WALL[lego]} s, issued $ok/$N, verified $verified/$N, ${R_NOTE[lego]}"
}

# ---- certbot ------------------------------------------------------------------------------------
bench_certbot() {
  local d="$WORK/certbot" i t0 t1 ok=0 verified=0 rc host live
  mkdir -p "$d/time" "$d/log"
  log "certbot $CERTBOT_VERSION: $N x certbot certonly --standalone, sequential"
  t0=$(now)
  for ((i = 1; i <= N; i++)); do
    rc=0
    # REQUESTS_CA_BUNDLE must be overridden (this environment may preset the system bundle)
    run_client "$d/log/$i" "$d/log/$i" env REQUESTS_CA_BUNDLE="$TLS_CA" /usr/bin/time -f '%e %M' -o "$d/time/$i" \
      timeout --foreground "$PEER_TIMEOUT" certbot certonly --standalone --non-interactive --agree-tos \
      --email "$EMAIL" --no-eff-email --server "$DIRECTORY" \
      --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 --preferred-challenges http-01 \
      --key-type ecdsa --elliptic-curve secp256r1 \
      --config-dir "$d/config" --work-dir "$d/work" --logs-dir "$d/logs" \
      -d "host-$i.$DOMAIN" || rc=$?
    if ((rc == 0)); then ok=$((ok + 1)); else log "certbot: host-$i failed (exit $rc): $(tail -n 1 "$d/log/$i")"; fi
  done
  t1=$(now)
  http01_port_idle certbot
  for ((i = 1; i <= N; i++)); do
    host="host-$i.$DOMAIN"; live="$d/config/live/$host"
    verify_cert "$host" "$live/cert.pem" "$live/chain.pem" && verified=$((verified + 1))
  done
  local mean max rss
  read -r mean max rss < <(time_stats "$d"/time/*)
  R_OK[certbot]=$ok; R_VERIFIED[certbot]=$verified; R_WALL[certbot]=$(elapsed "$t0" "$t1"); R_RSS[certbot]=$rss
  R_NOTE[certbot]="per process: mean $mean s, max $max s"
  log "certbot: ${R_WALL[certbot]} s, issued $ok/$N, verified $verified/$N, ${R_NOTE[certbot]}"
}

for c in $CLIENTS; do "bench_$c"; done

# ---- report -------------------------------------------------------------------------------------
row() { # KEY LABEL
  local k=$1
  [[ -n ${R_WALL[$k]:-} ]] || return 0
  printf '| %s | %s/%s (verified %s) | %s | %s | %s |\n' "$2" "${R_OK[$k]}" "$N" "${R_VERIFIED[$k]}" \
    "${R_WALL[$k]}" "$(div "${R_OK[$k]}" "${R_WALL[$k]}" 2)" "$(kib_to_mib "${R_RSS[$k]}")"
}
ratio_row() { # PEER TARGET
  local p=$1 target=$2 a b
  [[ -n ${R_WALL[$p]:-} && -n ${R_WALL[certmgr]:-} ]] || return 0
  a=$(div "${R_WALL[$p]}" "${R_WALL[certmgr]}" 1); b=$(div "${R_WALL[$p]}" "${R_WALL[certmgr_all]}" 1)
  printf '| certmgr speed-up vs %s | %s× | %s× | ≥ %s× | %s |\n' "$p" "$a" "$b" "$target" \
    "$(awk -v a="$a" -v b="$b" -v t="$target" 'BEGIN { print (a >= t ? "met" : "NOT met") " / " (b >= t ? "met" : "NOT met") }')"
}
report() {
  echo
  echo "### ACME HTTP-01 against Pebble: N=$N single-name certificates ($(date -u +%FT%TZ), $(nproc) cores)"
  echo
  echo "Pebble $PEBBLE_VERSION, PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0; certmgr --max-concurrent-orders $CONC; lego $LEGO_VERSION and certbot $CERTBOT_VERSION one process per name, sequential."
  echo
  echo "| client | certificates | wall s | certs/s | peak RSS MiB |"
  echo "|---|---|---|---|---|"
  row certmgr "certmgr, issue only (1 \`renew --due\` process)"
  row certmgr_all "certmgr, create+issue (account + ${N}× \`cred create\` + \`renew --due\`)"
  row lego "lego ($N × \`lego run\`; RSS = largest process)"
  row certbot "certbot ($N × \`certonly --standalone\`; RSS = largest process)"
  if has_client certmgr && { has_client lego || has_client certbot; }; then
    echo
    echo "| peer time / certmgr time | issue only | create+issue | target | |"
    echo "|---|---|---|---|---|"
    ratio_row lego 5
    ratio_row certbot 10
  fi
  echo
  for k in certmgr lego certbot; do [[ -n ${R_NOTE[$k]:-} ]] && echo "* $k: ${R_NOTE[$k]}"; done
  echo "* every certificate checked: \`openssl verify -CAfile pebble-root.pem -untrusted <chain> -verify_hostname host-<i>.$DOMAIN\`"
  echo "* logs and state: $WORK"
}
report | tee "$WORK/results.md"

fail=0
for c in $CLIENTS; do
  [[ ${R_OK[$c]} == "$N" && ${R_VERIFIED[$c]} == "$N" ]] || { log "$c: ${R_OK[$c]}/$N issued, ${R_VERIFIED[$c]}/$N verified"; fail=1; }
done
exit "$fail"
