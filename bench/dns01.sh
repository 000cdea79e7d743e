#!/usr/bin/env bash
# bench/dns01.sh - ACME DNS-01 issuance through a real PowerDNS: certmgr vs lego.
#
#   bench/dns01.sh [N]         N single-name certificates per client (default 100, ~8 min); `bench/dns01.sh 5` is a quick run
#
# One PowerDNS Authoritative server (LMDB backend, REST API, zone example.test) and one Pebble
# with -dnsserver = that PowerDNS and PEBBLE_VA_NOSLEEP=1, PEBBLE_WFE_NONCEREJECT=0,
# PEBBLE_AUTHZREUSE=0, all on 127.0.0.1, serve both clients, one after the other. Each client
# writes its _acme-challenge TXT records through the PowerDNS API and checks propagation by
# asking PowerDNS over DNS before telling Pebble. Hostnames host-<i>.example.test, ECDSA P-256.
#
#   certmgr  init, acme account create (--max-concurrent-orders $CERTMGR_CONCURRENCY),
#            dns account create --provider powerdns --nameserver 127.0.0.1:PDNS_DNS_PORT,
#            N x `cred create --challenge dns-01`, then ONE `certmgr renew --due --json` process
#            issuing all N (timed alone = "issue only", and with the setup = "create+issue")
#   lego     N x `lego --dns pdns --dns.resolvers 127.0.0.1:PDNS_DNS_PORT -d host run`,
#            sequential; the first run registers the account
# Wall time: date +%s.%N around each batch. Peak RSS: /usr/bin/time -f %M; certmgr = the renew
# process (create+issue row: the largest of all its processes), lego = the largest single process.
# After each client every certificate is checked with `openssl verify` against Pebble's root
# (+ -verify_hostname), and PowerDNS is asked (REST API) for leftover _acme-challenge records.
#
# Environment:
#   CERTMGR_CONCURRENCY  certmgr's --max-concurrent-orders for the Pebble account (default 10)
#   CLIENTS              subset/order of clients (default "certmgr lego")
#   PROPAGATION_TIMEOUT  seconds both clients wait at most for PowerDNS to serve a record
#                        (certmgr --propagation-timeout, lego PDNS_PROPAGATION_TIMEOUT; default 60)
#   LEGO_POLLING_INTERVAL  lego's PDNS_POLLING_INTERVAL in whole seconds (default 1; lego sleeps
#                        it once before its first check; lego's own default is 2)
#   LEGO_AUTH_CHECK      1 (default): lego's full propagation check works: PowerDNS also listens on
#                        127.0.0.1:53 and each lego process gets a private /etc/resolv.conf
#                        (nameserver 127.0.0.1; unshare --mount, root) so that the zone's NS name
#                        ns1.example.test resolves and is asked on port 53 (lego's fixed port).
#                        0: no port 53, no namespace, lego runs with --dns.disable-cp (it then only
#                        sends one query to --dns.resolvers and does not check the answer)
#   BENCH_WORK           work dir, wiped at start, kept at the end (default /tmp/certmgr-bench-dns01)
#   PEBBLE_PORT PEBBLE_MGMT_PORT PDNS_DNS_PORT PDNS_API_PORT
#                        (defaults 14200 15200 8253 8281; all bound to 127.0.0.1)
#   CERTMGR_BIN          use this binary instead of building one
#   BENCH_CARGO_TARGET_DIR  cargo target dir of the build (default /var/tmp/certmgr-target-bench)
#   PEER_TIMEOUT         seconds per lego process (default 180); CERTMGR_TIMEOUT for the whole
#                        renew run (default 300 + 3 s per certificate); when it runs out the script
#                        asks Pebble for a goroutine dump and says whether Pebble deadlocked (it can
#                        under many concurrent orders: see bench/README.md)
# Debian packages pebble, lego, pdns-server, pdns-backend-lmdb (and time, curl, openssl, jq,
# bind9-dnsutils) are apt-get installed when missing and the script runs as root (no service is
# started); otherwise it fails with the list.
# Output: markdown tables on stdout (also in $BENCH_WORK/results.md), progress on stderr.
# Exit status 1 if any certificate failed to issue or verify, or certmgr left a challenge record.
# Everything started is stopped on exit (also on failure or Ctrl-C).
set -euo pipefail

BENCH_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_HOME/.." && pwd)"
# shellcheck source=lib/acme-peers.sh
. "$BENCH_HOME/lib/acme-peers.sh"
# shellcheck source=lib/dns01-peers.sh
. "$BENCH_HOME/lib/dns01-peers.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
[[ ${1:-} == -h || ${1:-} == --help ]] && usage
N=${1:-100}
[[ $N =~ ^[1-9][0-9]*$ ]] || usage
CONC=${CERTMGR_CONCURRENCY:-10}
[[ $CONC =~ ^[1-9][0-9]*$ ]] || die "CERTMGR_CONCURRENCY must be a positive integer"
PROP_TIMEOUT=${PROPAGATION_TIMEOUT:-60}
[[ $PROP_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "PROPAGATION_TIMEOUT must be a positive integer"
LEGO_POLL=${LEGO_POLLING_INTERVAL:-1}
[[ $LEGO_POLL =~ ^[0-9]+$ ]] || die "LEGO_POLLING_INTERVAL must be a whole number of seconds"
LEGO_AUTH_CHECK=${LEGO_AUTH_CHECK:-1}
[[ $LEGO_AUTH_CHECK == 0 || $LEGO_AUTH_CHECK == 1 ]] || die "LEGO_AUTH_CHECK must be 0 or 1"
CLIENTS=${CLIENTS:-certmgr lego}
for c in $CLIENTS; do [[ $c == certmgr || $c == lego ]] || die "unknown client '$c' in CLIENTS"; done
has_client() { [[ " $CLIENTS " == *" $1 "* ]]; }

PEBBLE_PORT=${PEBBLE_PORT:-14200}
PEBBLE_MGMT_PORT=${PEBBLE_MGMT_PORT:-15200}
PDNS_DNS_PORT=${PDNS_DNS_PORT:-8253}
PDNS_API_PORT=${PDNS_API_PORT:-8281}
PEER_TIMEOUT=${PEER_TIMEOUT:-180}
CERTMGR_TIMEOUT=${CERTMGR_TIMEOUT:-$((300 + 3 * N))}
WORK=${BENCH_WORK:-/tmp/certmgr-bench-dns01}
DOMAIN=example.test
EMAIL=bench@example.test
DIRECTORY="https://127.0.0.1:$PEBBLE_PORT/dir"

trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- prerequisites ------------------------------------------------------------------------
ensure_packages pebble:pebble lego:lego pdns_server:pdns-server dig:bind9-dnsutils jq:jq \
  openssl:openssl curl:curl /usr/bin/time:time timeout:coreutils setsid:util-linux \
  unshare:util-linux mount:mount
if ! pdns_lmdb_installed; then
  ensure_packages /usr/share/doc/pdns-backend-lmdb:pdns-backend-lmdb
  pdns_lmdb_installed || die "the LMDB backend of PowerDNS (pdns-backend-lmdb) is not installed"
fi
ports=("$PEBBLE_PORT:pebble ACME" "$PEBBLE_MGMT_PORT:pebble management" "$PDNS_DNS_PORT:PowerDNS DNS"
  "$PDNS_API_PORT:PowerDNS API")
if has_client lego && ((LEGO_AUTH_CHECK)); then
  ports+=("53:PowerDNS DNS for lego's authoritative check (LEGO_AUTH_CHECK=0 to do without)")
  PDNS_NS53=1
else
  PDNS_NS53=0
fi
for p in "${ports[@]}"; do port_free "${p%%:*}" "${p#*:}"; done

# work dir: only ever wipe a directory this script made (marker file) or an empty one
case $WORK in /* ) ;; *) WORK="$(pwd)/$WORK" ;; esac
[[ $WORK != / && $WORK != "$HOME" ]] || die "refusing BENCH_WORK=$WORK"
if [[ -e $WORK ]]; then
  if [[ -e $WORK/.certmgr-bench-dns01 ]]; then rm -rf -- "$WORK"
  elif [[ -n $(ls -A "$WORK" 2>/dev/null) ]]; then die "$WORK exists, is not empty and was not made by this script"
  fi
fi
mkdir -p "$WORK"
touch "$WORK/.certmgr-bench-dns01"
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
PEBBLE_VERSION=$(dpkg-query -W -f '${Version}' pebble 2>/dev/null || echo '?')
PDNS_VERSION=$(dpkg-query -W -f '${Version}' pdns-server 2>/dev/null || echo '?')
CERTMGR_SOURCE="binary ${CM:-?}"
if ! has_client certmgr; then
  CERTMGR_SOURCE="(not run)"
elif [[ -z ${CERTMGR_BIN:-} ]]; then
  CERTMGR_SOURCE="built from commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
  [[ -z $(git -C "$REPO" status --porcelain -- Cargo.toml Cargo.lock crates 2>/dev/null) ]] ||
    CERTMGR_SOURCE+=" + uncommitted changes in crates/ or Cargo.*"
fi

PDNS_API_KEY=$(openssl rand -hex 16)
printf '%s\n' "$PDNS_API_KEY" >"$WORK/pdns-api-key"
chmod 600 "$WORK/pdns-api-key"
start_pdns "$WORK"
start_pebble_dns "$WORK"
ROOT="$WORK/ca/pebble-root.pem"
TLS_CA="$WORK/ca/tls-ca.pem"

# verify_cert HOST CERT CHAIN -> 0 if CERT chains to Pebble's root and is valid for HOST
verify_cert() {
  openssl verify -CAfile "$ROOT" -untrusted "$3" -verify_hostname "$1" "$2" >/dev/null 2>&1
}

declare -A R_OK R_VERIFIED R_WALL R_RSS R_NOTE R_LEFT

# leftovers KEY : record the _acme-challenge TXT rrsets/records PowerDNS still has after KEY ran
leftovers() {
  local rrsets records
  read -r rrsets records < <(pdns_challenge_records)
  R_LEFT[$1]="$rrsets rrset(s), $records record(s)"
  R_LEFT_N[$1]=$records
  log "$1: _acme-challenge TXT left in PowerDNS: ${R_LEFT[$1]}"
}
declare -A R_LEFT_N
qdiff() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/) print b - a; else print "?" }'; }

# ---- certmgr --------------------------------------------------------------------------------
bench_certmgr() {
  local d="$WORK/certmgr" i t0 t1 t2 t3 rc=0 q0 q1
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
  /usr/bin/time -f '%e %M' -o "$d/time-dns-account" "$CM" dns account create pd --provider powerdns \
    --zone "$DOMAIN" --set "api_url=http://127.0.0.1:$PDNS_API_PORT" --set "api_key=@$WORK/pdns-api-key" \
    --nameserver "127.0.0.1:$PDNS_DNS_PORT" --propagation-timeout "$PROP_TIMEOUT" \
    --allow-private-network --allow-plain-http \
    >"$d/dns-account.log" 2>&1 || { cat "$d/dns-account.log" >&2; die "certmgr dns account create failed"; }
  t1=$(now)
  for ((i = 1; i <= N; i++)); do
    /usr/bin/time -f '%e %M' -o "$d/time-create/$i" "$CM" cred create "h$i" --host "host-$i.$DOMAIN" \
      --issuer acme:pb --challenge dns-01 >>"$d/create.log" 2>&1 ||
      { tail -n 5 "$d/create.log" >&2; die "certmgr cred create h$i failed"; }
  done
  q0=$(pdns_query_count)
  t2=$(now)
  log "certmgr: accounts in $(elapsed "$t0" "$t1") s, $N x cred create in $(elapsed "$t1" "$t2") s; renew --due ..."
  run_client "$d/renew.json" "$d/renew.stderr" /usr/bin/time -f '%e %M %U %S' -o "$d/time-renew" \
    timeout --foreground "$CERTMGR_TIMEOUT" "$CM" renew --due --json || rc=$?
  t3=$(now)
  q1=$(pdns_query_count)
  ((rc == 0)) || { log "certmgr renew --due exited with $rc; stderr:"; tail -n 20 "$d/renew.stderr" >&2; }
  if ((rc == 124)); then
    leftovers certmgr
    if pebble_deadlocked "$WORK"; then
      die "certmgr renew --due hung for ${CERTMGR_TIMEOUT} s: Pebble deadlocked (goroutine dump in $WORK/pebble.log: FindValidAuthorization vs the Authz handler, see bench/README.md); try a lower CERTMGR_CONCURRENCY"
    fi
    die "certmgr renew --due did not finish within ${CERTMGR_TIMEOUT} s (CERTMGR_TIMEOUT); Pebble's goroutines are in $WORK/pebble.log"
  fi
  leftovers certmgr

  local ok=0 verified=0 idx bad=0
  ok=$(grep -o '"ok": *true' "$d/renew.json" | wc -l) || true
  for ((i = 1; i <= N; i++)); do
    idx="$d/export/h$i"
    if "$CM" cred export "h$i" --out "$idx" >"$idx.log" 2>&1 &&
      verify_cert "host-$i.$DOMAIN" "$idx/cert.pem" "$idx/chain.pem"; then
      verified=$((verified + 1))
    else
      bad=$((bad + 1))
      ((bad > 3)) || log "certmgr: h$i does not export/verify: $(tail -n 2 "$idx.log" 2>/dev/null)"
    fi
  done

  local renew_rss create_rss setup_rss all_rss
  read -r _ _ renew_rss < <(time_stats "$d/time-renew")
  read -r _ _ create_rss < <(time_stats "$d"/time-create/*)
  read -r _ _ setup_rss < <(time_stats "$d/time-setup" "$d/time-account" "$d/time-dns-account")
  all_rss=$(( renew_rss > create_rss ? renew_rss : create_rss ))
  all_rss=$(( all_rss > setup_rss ? all_rss : setup_rss ))
  R_OK[certmgr]=$ok; R_VERIFIED[certmgr]=$verified
  R_WALL[certmgr]=$(elapsed "$t2" "$t3"); R_RSS[certmgr]=$renew_rss
  R_OK[certmgr_all]=$ok; R_VERIFIED[certmgr_all]=$verified
  R_WALL[certmgr_all]=$(elapsed "$t0" "$t3"); R_RSS[certmgr_all]=$all_rss
  R_LEFT[certmgr_all]=${R_LEFT[certmgr]}
  R_NOTE[certmgr]="init + acme/dns account create $(elapsed "$t0" "$t1") s, $N x cred create $(elapsed "$t1" "$t2") s ($(div "$(elapsed "$t1" "$t2")" "$N" 3) s each), renew --due $(elapsed "$t2" "$t3") s (CPU $(tail -n 1 "$d/time-renew" | awk '{ printf "%.2f", $3 + $4 }') s user+sys of the renew process); PowerDNS answered $(qdiff "$q0" "$q1") DNS queries during the renew run"
  log "certmgr: ${R_NOTE[certmgr]}; issued $ok/$N, verified $verified/$N"
}

# ---- lego -------------------------------------------------------------------------------------
bench_lego() {
  local d="$WORK/lego" i t0 t1 ok=0 verified=0 rc host crt cp=() q0 q1
  mkdir -p "$d/time" "$d/log"
  LEGO_WRAP=()
  if ((PDNS_NS53)); then lego_private_resolv "$d/resolv.conf"; else cp=(--dns.disable-cp); fi
  log "lego $LEGO_VERSION: $N x lego --dns pdns run, sequential (PDNS_POLLING_INTERVAL=$LEGO_POLL${cp[*]:+, ${cp[*]}})"
  q0=$(pdns_query_count)
  t0=$(now)
  for ((i = 1; i <= N; i++)); do
    rc=0
    # --dns.resolvers: the SOA walk that finds the zone and the first propagation query go to
    # PowerDNS:PDNS_DNS_PORT; the authoritative check then asks ns1.example.test on port 53
    # (LEGO_WRAP: private resolv.conf -> PowerDNS on 127.0.0.1:53).
    run_client "$d/log/$i" "$d/log/$i" env LEGO_CA_CERTIFICATES="$TLS_CA" \
      PDNS_API_URL="http://127.0.0.1:$PDNS_API_PORT" PDNS_API_KEY="$PDNS_API_KEY" \
      PDNS_PROPAGATION_TIMEOUT="$PROP_TIMEOUT" PDNS_POLLING_INTERVAL="$LEGO_POLL" \
      /usr/bin/time -f '%e %M' -o "$d/time/$i" "${LEGO_WRAP[@]}" \
      timeout --foreground "$PEER_TIMEOUT" lego --server "$DIRECTORY" --accept-tos --email "$EMAIL" \
      --path "$d/state" --key-type ec256 --dns pdns --dns.resolvers "127.0.0.1:$PDNS_DNS_PORT" "${cp[@]}" \
      -d "host-$i.$DOMAIN" run || rc=$?
    if ((rc == 0)); then ok=$((ok + 1)); else log "lego: host-$i failed (exit $rc): $(tail -n 1 "$d/log/$i")"; fi
  done
  t1=$(now)
  q1=$(pdns_query_count)
  leftovers lego
  for ((i = 1; i <= N; i++)); do
    host="host-$i.$DOMAIN"; crt="$d/state/certificates/$host"
    verify_cert "$host" "$crt.crt" "$crt.issuer.crt" && verified=$((verified + 1))
  done
  local mean max rss
  read -r mean max rss < <(time_stats "$d"/time/*)
  R_OK[lego]=$ok; R_VERIFIED[lego]=$verified; R_WALL[lego]=$(elapsed "$t0" "$t1"); R_RSS[lego]=$rss
  R_NOTE[lego]="per process: mean $mean s, max $max s; PowerDNS answered $(qdiff "$q0" "$q1") DNS queries during the batch"
  log "lego: ${R_WALL[lego]} s, issued $ok/$N, verified $verified/$N, ${R_NOTE[lego]}"
}

for c in $CLIENTS; do "bench_$c"; done

# ---- report -------------------------------------------------------------------------------------
row() { # KEY LABEL
  local k=$1
  [[ -n ${R_WALL[$k]:-} ]] || return 0
  printf '| %s | %s/%s (verified %s) | %s | %s | %s | %s |\n' "$2" "${R_OK[$k]}" "$N" "${R_VERIFIED[$k]}" \
    "${R_WALL[$k]}" "$(div "${R_OK[$k]}" "${R_WALL[$k]}" 2)" "$(kib_to_mib "${R_RSS[$k]}")" "${R_LEFT[$k]}"
}
report() {
  echo
  echo "### ACME DNS-01 through PowerDNS against Pebble: N=$N single-name certificates ($(date -u +%FT%TZ), $(nproc) cores)"
  echo
  echo "Pebble $PEBBLE_VERSION (-dnsserver = PowerDNS), PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0; PowerDNS $PDNS_VERSION (LMDB); certmgr $CERTMGR_SOURCE, --max-concurrent-orders $CONC; lego $LEGO_VERSION one process per name, sequential, PDNS_POLLING_INTERVAL=$LEGO_POLL, $( ((PDNS_NS53)) && echo "full propagation check (ns1.$DOMAIN asked on 127.0.0.1:53 through a private resolv.conf)" || echo "--dns.disable-cp (no real propagation check)"); certmgr checks 127.0.0.1:$PDNS_DNS_PORT (--nameserver); propagation timeout $PROP_TIMEOUT s for both."
  echo
  echo "| client | certificates | wall s | certs/s | peak RSS MiB | _acme-challenge left in PowerDNS |"
  echo "|---|---|---|---|---|---|"
  row certmgr "certmgr, issue only (1 \`renew --due\` process)"
  row certmgr_all "certmgr, create+issue (init + 2 accounts + ${N}× \`cred create\` + \`renew --due\`)"
  row lego "lego ($N × \`lego --dns pdns run\`; RSS = largest process)"
  if has_client certmgr && has_client lego; then
    echo
    echo "| peer time / certmgr time | issue only | create+issue |"
    echo "|---|---|---|"
    printf '| certmgr speed-up vs lego | %s× | %s× |\n' "$(div "${R_WALL[lego]}" "${R_WALL[certmgr]}" 1)" \
      "$(div "${R_WALL[lego]}" "${R_WALL[certmgr_all]}" 1)"
  fi
  echo
  for k in certmgr lego; do [[ -n ${R_NOTE[$k]:-} ]] && echo "* $k: ${R_NOTE[$k]}"; done
  echo "* every certificate checked: \`openssl verify -CAfile pebble-root.pem -untrusted <chain> -verify_hostname host-<i>.$DOMAIN\`"
  echo "* logs and state: $WORK"
}
report | tee "$WORK/results.md"

fail=0
for c in $CLIENTS; do
  [[ ${R_OK[$c]} == "$N" && ${R_VERIFIED[$c]} == "$N" ]] || { log "$c: ${R_OK[$c]}/$N issued, ${R_VERIFIED[$c]}/$N verified"; fail=1; }
done
if has_client certmgr && [[ ${R_LEFT_N[certmgr]} != 0 ]]; then
  log "certmgr left ${R_LEFT[certmgr]} in PowerDNS"; fail=1
fi
exit "$fail"
