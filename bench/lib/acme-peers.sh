# shellcheck shell=bash
# bench/lib/acme-peers.sh - helpers for bench/acme.sh: process bookkeeping, timing, the local
# Pebble + pebble-challtestsrv pair, Debian packages. Sourced, not run.
#
# Everything started here listens on 127.0.0.1 only and is recorded in BENCH_PIDS (daemons) or
# BENCH_CHILD (the client run in progress, its own process group); bench_cleanup stops exactly
# those PIDs. Nothing is ever killed by name.

BENCH_PIDS=()
BENCH_CHILD=""
BENCH_POLICY_RC_CREATED=0

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

now() { date +%s.%N; }
# elapsed T0 T1 -> seconds, 2 decimals
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# div A B [DECIMALS] -> A/B, or "-" if B is 0 or not a number
div() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b + 0 > 0) printf "%.*f", d, a / b; else printf "-" }'; }
kib_to_mib() { awk -v k="$1" 'BEGIN { if (k + 0 > 0) printf "%.1f", k / 1024; else printf "-" }'; }

# proc_running PID -> 0 if PID exists and is not a zombie
proc_running() {
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}

# tcp_open PORT -> 0 if something accepts TCP on 127.0.0.1:PORT
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# port_free PORT WHAT : die if 127.0.0.1:PORT (TCP, or UDP when ss is available) is in use
port_free() {
  local port=$1 what=$2
  if tcp_open "$port"; then die "127.0.0.1:$port ($what) is already in use; set the matching *_PORT variable"; fi
  if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Hlun "sport = :$port" 2>/dev/null) ]]; then
    die "UDP port $port ($what) is already in use; set the matching *_PORT variable"
  fi
}

# start_daemon NAME LOGFILE CMD... : start CMD in the background (plain `cmd &`, so $! is CMD
# itself after exec) and record its PID for bench_cleanup
start_daemon() {
  local name=$1 logf=$2; shift 2
  "$@" >"$logf" 2>&1 </dev/null &
  BENCH_PIDS+=("$!")
  log "started $name (pid $!): $*"
}

# stop_pid PID : SIGTERM, wait up to 5 s, then SIGKILL
stop_pid() {
  local pid=$1 i
  proc_running "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do proc_running "$pid" || return 0; sleep 0.1; done
  log "pid $pid ignored SIGTERM, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# run_client OUT ERR CMD... : run CMD (stdout to OUT, stderr to ERR; the same file is fine) in a
# new session/process group (setsid, which execs in place because a background job of a
# non-interactive shell is not a group leader) and wait for it. Running it in the background
# keeps INT/TERM traps responsive; bench_cleanup kills the group. The redirections are made here,
# not around the call, so that the shell's own messages (traps) are not redirected with them.
# Inside CMD use `timeout --foreground` (plain timeout makes a process group of its own).
run_client() {
  local rc=0 out=$1 err=$2
  shift 2
  if [[ $out == "$err" ]]; then setsid "$@" >"$out" 2>&1 </dev/null &
  else setsid "$@" >"$out" 2>"$err" </dev/null &
  fi
  BENCH_CHILD=$!
  wait "$BENCH_CHILD" || rc=$?
  BENCH_CHILD=""
  return "$rc"
}

bench_cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  if [[ -n $BENCH_CHILD ]]; then
    log "stopping the client run in progress (process group $BENCH_CHILD)"
    kill -TERM -- "-$BENCH_CHILD" 2>/dev/null || true
    sleep 0.5
    kill -KILL -- "-$BENCH_CHILD" 2>/dev/null || true
  fi
  for pid in "${BENCH_PIDS[@]}"; do stop_pid "$pid"; done
  ((${#BENCH_PIDS[@]} == 0)) || log "stopped ${#BENCH_PIDS[@]} background process(es)"
  if ((BENCH_POLICY_RC_CREATED)); then rm -f /usr/sbin/policy-rc.d; fi
  exit "$rc"
}

# ensure_packages BIN:PACKAGE... : apt-get install the packages whose binary is missing (root
# only; services are kept from starting with a temporary policy-rc.d), else fail with the list
ensure_packages() {
  local spec bin pkg missing=()
  for spec in "$@"; do
    bin=${spec%%:*}; pkg=${spec#*:}
    if [[ $bin == /* ]]; then [[ -x $bin ]] && continue; else command -v "$bin" >/dev/null 2>&1 && continue; fi
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) != 0 ]]; then
    die "missing Debian package(s): ${missing[*]} - run as root (the script installs them) or: sudo apt-get install ${missing[*]}"
  fi
  log "installing missing Debian package(s): ${missing[*]}"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # keep the packages' system services (certbot.timer, ...) from starting
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    BENCH_POLICY_RC_CREATED=1
  fi
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}")
  "${apt[@]}" >&2 || { apt-get update >&2 && "${apt[@]}" >&2; } || die "apt-get install ${missing[*]} failed"
  if ((BENCH_POLICY_RC_CREATED)); then rm -f /usr/sbin/policy-rc.d; BENCH_POLICY_RC_CREATED=0; fi
}

# make_tls_ca DIR : a throw-away P-256 CA (DIR/tls-ca.pem) and a localhost/127.0.0.1 server
# certificate (DIR/localhost-{cert,key}.pem) for pebble's HTTPS listeners. Debian's pebble
# package ships no test certificates.
make_tls_ca() {
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -keyout "$d/tls-ca-key.pem" -out "$d/tls-ca.pem" -subj "/CN=certmgr acme bench TLS CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/localhost-key.pem" -out "$d/localhost.csr" -subj "/CN=localhost" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$d/localhost.ext"
  openssl x509 -req -in "$d/localhost.csr" -CA "$d/tls-ca.pem" -CAkey "$d/tls-ca-key.pem" \
    -CAcreateserial -days 30 -extfile "$d/localhost.ext" -out "$d/localhost-cert.pem" 2>/dev/null
  openssl verify -CAfile "$d/tls-ca.pem" "$d/localhost-cert.pem" >/dev/null ||
    die "generated pebble TLS certificate does not verify"
}

# start_pebble WORKDIR : pebble-challtestsrv (mock DNS: every A -> 127.0.0.1, empty AAAA; its own
# HTTP-01/HTTPS/TLS-ALPN servers off) and pebble (validates HTTP-01 on 127.0.0.1:HTTP01_PORT).
# Needs PEBBLE_PORT PEBBLE_MGMT_PORT CTS_DNS_PORT CTS_MGMT_PORT HTTP01_PORT TLSALPN01_PORT.
# Writes WORKDIR/ca/pebble-root.pem (pebble makes a new hierarchy at every start).
start_pebble() {
  local w=$1 i
  make_tls_ca "$w/ca"
  cat >"$w/pebble.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$PEBBLE_PORT",
    "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT_PORT",
    "certificate": "$w/ca/localhost-cert.pem",
    "privateKey": "$w/ca/localhost-key.pem",
    "httpPort": $HTTP01_PORT,
    "tlsPort": $TLSALPN01_PORT,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF
  start_daemon challtestsrv "$w/challtestsrv.log" pebble-challtestsrv \
    -dns01 "127.0.0.1:$CTS_DNS_PORT" -management "127.0.0.1:$CTS_MGMT_PORT" \
    -http01 "" -https01 "" -tlsalpn01 "" -defaultIPv4 127.0.0.1 -defaultIPv6 ""
  # Fixed settings for every client (not taken from the environment): no artificial VA sleep,
  # no rejected nonces, no authorization reuse, real validations.
  start_daemon pebble "$w/pebble.log" env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    PEBBLE_AUTHZREUSE=0 PEBBLE_VA_ALWAYS_VALID=0 \
    pebble -config "$w/pebble.json" -dnsserver "127.0.0.1:$CTS_DNS_PORT"
  for ((i = 0; i < 200; i++)); do
    if tcp_open "$CTS_MGMT_PORT" && tcp_open "$PEBBLE_MGMT_PORT" &&
      curl -fsS -o /dev/null --cacert "$w/ca/tls-ca.pem" "https://127.0.0.1:$PEBBLE_PORT/dir" 2>/dev/null; then
      break
    fi
    for pid in "${BENCH_PIDS[@]}"; do
      proc_running "$pid" || { tail -n 20 "$w"/pebble.log "$w"/challtestsrv.log >&2 || true; die "pebble or challtestsrv exited during start-up (logs in $w)"; }
    done
    sleep 0.1
  done
  ((i < 200)) || die "pebble did not answer on https://127.0.0.1:$PEBBLE_PORT/dir within 20 s (logs in $w)"
  curl -fsS --cacert "$w/ca/tls-ca.pem" "https://127.0.0.1:$PEBBLE_MGMT_PORT/roots/0" -o "$w/ca/pebble-root.pem"
  openssl x509 -noout -in "$w/ca/pebble-root.pem" || die "pebble root from :$PEBBLE_MGMT_PORT/roots/0 is not a certificate"
  log "pebble up: https://127.0.0.1:$PEBBLE_PORT/dir (HTTP-01 validations to 127.0.0.1:$HTTP01_PORT)"
}

# time_stats FILE... : each FILE holds `/usr/bin/time -f '%e %M'` output (last line);
# prints "MEAN_S MAX_S MAX_RSS_KIB" over all of them
time_stats() {
  local f
  for f in "$@"; do [[ -s $f ]] && tail -n 1 "$f"; done |
    awk '{ s += $1; if ($1 > m) m = $1; if ($2 > r) r = $2; n++ }
         END { if (n) printf "%.2f %.2f %d\n", s / n, m, r; else print "- - 0" }'
}
