#!/usr/bin/env bash
# Regenerate the connection/HTTP captures in this directory (see README.md beside it).
#
#   sudo ./make-captures.sh              every capture
#   sudo ./make-captures.sh loss rst ... only these (names without .pcap; pipelined makes
#                                        pipelined.pcap and pipelined-onesegment.pcap)
#
# Needs root, tcpdump, tshark, nginx, curl, nc (netcat-openbsd), ethtool, nft (nftables),
# python3. All traffic stays inside network namespaces created (and deleted) here:
#   tcc-cli / veth-c (10.77.0.1, fd77::1)  <->  tcc-srv / veth-s (10.77.0.2, fd77::2)
#   tcc-tuna / tcc-tun (10.78.0.1)  <- helpers.py tunfwd (20 ms each way) ->  tcc-tunb / tcc-tun (10.78.0.2)
# Every process runs under `timeout`, every wait loop is bounded, and an EXIT trap kills what
# was started and deletes the namespaces (with their nft tables) and the temporary folder.
set -euo pipefail
export TZ=UTC LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
PY=$(command -v "${PYTHON:-python3}")
HELP="$HERE/helpers.py"
NS_C=tcc-cli NS_S=tcc-srv NS_TA=tcc-tuna NS_TB=tcc-tunb
ALL_NS=("$NS_C" "$NS_S" "$NS_TA" "$NS_TB")
MAX_PCAP=300000 # bytes; every capture must stay below this
TSHARK_OPTS=(-n -o tcp.desegment_tcp_streams:FALSE -o tcp.analyze_sequence_numbers:TRUE)

[ "$(id -u)" = 0 ] || { echo "make-captures.sh: run as root" >&2; exit 1; }
for t in ip tcpdump tshark nginx curl nc ethtool nft "$PY"; do
  command -v "$t" >/dev/null || { echo "make-captures.sh: $t is missing" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/tracer-conn-captures.XXXXXX)
PIDS=()
log() { printf '== %s\n' "$*" >&2; }

kill_all() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}

ns_del() {
  local ns
  for ns in "${ALL_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}

cleanup() {
  kill_all
  ns_del
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "make-captures.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- namespaces
veth_up() {
  kill_all
  ns_del
  ip netns add "$NS_C"
  ip netns add "$NS_S"
  ip -n "$NS_C" link add veth-c type veth peer name veth-s netns "$NS_S"
  local ns dev n peer_mac
  for ns in "$NS_C" "$NS_S"; do
    if [ "$ns" = "$NS_C" ]; then dev=veth-c n=1 peer=2; else dev=veth-s n=2 peer=1; fi
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$dev" address "02:77:00:00:00:0$n" mtu 1500
    ip -n "$ns" addr add "10.77.0.$n/24" dev "$dev"
    ip -n "$ns" addr add "fd77::$n/64" dev "$dev" nodad
    # MTU-sized segments with real checksums, as on a wire (tests/common's VethPair)
    ip netns exec "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$ns" link set "$dev" up
    # neighbours known up front: no ARP/ND in the middle of an exchange
    peer_mac="02:77:00:00:00:0$peer"
    ip -n "$ns" neigh add "10.77.0.$peer" lladdr "$peer_mac" dev "$dev"
    ip -n "$ns" neigh add "fd77::$peer" lladdr "$peer_mac" dev "$dev"
  done
}

# tun_up: two namespaces joined by helpers.py tunfwd (DELAY ms each way), for SECONDS.
tun_up() {
  local delay=$1 secs=$2 ns n
  kill_all
  ns_del
  ip netns add "$NS_TA"
  ip netns add "$NS_TB"
  start_bg tunfwd "" "$((secs + 5))" "$PY" "$HELP" tunfwd "$NS_TA" "$NS_TB" tcc-tun "$delay" "$secs"
  wait_ready tunfwd
  for ns in "$NS_TA" "$NS_TB"; do
    if [ "$ns" = "$NS_TA" ]; then n=1 peer=2; else n=2 peer=1; fi
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.tcc-tun.disable_ipv6=1
    ip -n "$ns" addr add "10.78.0.$n" peer "10.78.0.$peer" dev tcc-tun
    ip -n "$ns" link set tcc-tun up
  done
}

# ---------------------------------------------------------------- processes
# start_bg NAME NS SECONDS CMD...: CMD in namespace NS ("" = here) under `timeout SECONDS`,
# stdout/stderr in $WORK/NAME.out/.err; LAST_PID is the `timeout` process.
start_bg() {
  local name=$1 ns=$2 secs=$3
  shift 3
  if [ -n "$ns" ]; then
    ip netns exec "$ns" timeout "$secs" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  else
    timeout "$secs" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  fi
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# wait_ready NAME: until the helper printed "ready" (5 s at most).
wait_ready() {
  local _
  for _ in $(seq 100); do
    grep -q '^ready' "$WORK/$1.out" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$1 did not start: $(cat "$WORK/$1.err")" >&2
  return 1
}

# wait_pid PID SECONDS: wait for a background process, killing it after SECONDS.
wait_pid() {
  local p=$1 secs=$2 _
  for _ in $(seq $((secs * 10))); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}

# wait_listen NS PORT: until a TCP socket listens on PORT in NS (5 s at most).
wait_listen() {
  local _
  for _ in $(seq 100); do
    [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ] && return 0
    sleep 0.05
  done
  echo "nothing listens on port $2 in $1" >&2
  return 1
}

# ---------------------------------------------------------------- nginx
www_files() {
  mkdir -p "$WORK/www"
  printf 'hello from nginx\n' >"$WORK/www/index.html"
  printf 'page a\n' >"$WORK/www/a.txt"
  printf 'page b, a little longer\n' >"$WORK/www/b.txt"
  printf 'page c, longer still: 0123456789\n' >"$WORK/www/c.txt"
  # a deterministic download for loss.pcap
  "$PY" -c 'import sys; n = int(sys.argv[1]); l = b"the quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRS\n"; sys.stdout.buffer.write((l * (n // len(l) + 1))[:n])' \
    "$LOSS_BYTES" >"$WORK/www/big.bin"
  touch -d '2026-01-01 00:00:00 UTC' "$WORK/www/"*
}

# nginx_start NS LISTEN...: one nginx process in the foreground (daemon off, master_process
# off, so no worker outlives it), serving $WORK/www; NGINX_PID is its `timeout`.
nginx_start() {
  local ns=$1 l listens=""
  shift
  for l in "$@"; do listens+="listen $l; "; done
  local d="$WORK/nginx-$ns"
  mkdir -p "$d"
  www_files
  cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
  access_log off;
  server_tokens off;
  default_type text/plain;
  keepalive_timeout 30;
  client_body_temp_path $d/body;
  proxy_temp_path $d/proxy;
  fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi;
  scgi_temp_path $d/scgi;
  server { $listens root $WORK/www; }
}
EOF
  start_bg "nginx-$ns" "$ns" 120 nginx -e "$d/error.log" -c "$d/nginx.conf"
  NGINX_PID=$LAST_PID
  wait_listen "$ns" 80
}

nginx_stop() { wait_pid "$NGINX_PID" 0; }

# ---------------------------------------------------------------- capture
# cap_start NS IFACE NAME: tcpdump -w (default snaplen, TCP only) until cap_stop.
cap_start() {
  local ns=$1 ifc=$2 name=$3 _
  CAP_FILE=$WORK/$name.pcap
  ip netns exec "$ns" timeout 60 tcpdump -i "$ifc" -Z root --immediate-mode -U -w "$CAP_FILE" tcp \
    2>"$WORK/$name.tcpdump.err" &
  CAP_PID=$!
  PIDS+=("$CAP_PID")
  for _ in $(seq 100); do
    grep -q 'listening on' "$WORK/$name.tcpdump.err" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "tcpdump did not start: $(cat "$WORK/$name.tcpdump.err")" >&2
  return 1
}

# cap_stop: let the last packets arrive, stop tcpdump, check the size.
cap_stop() {
  sleep 0.3
  kill -TERM "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  local size
  size=$(stat -c %s "$CAP_FILE")
  [ "$size" -lt "$MAX_PCAP" ] || { echo "$CAP_FILE is $size bytes (limit $MAX_PCAP)" >&2; return 1; }
}

# publish NAME: copy the checked capture here.
publish() {
  cp "$WORK/$1.pcap" "$HERE/$1.pcap"
  log "$1.pcap: $(count "$HERE/$1.pcap" tcp) packets, $(stat -c %s "$HERE/$1.pcap") bytes"
}

# count FILE FILTER: frames matching a tshark display filter.
count() { tshark -r "$1" "${TSHARK_OPTS[@]}" -Y "$2" 2>/dev/null | wc -l; }
streams() { tshark -r "$1" "${TSHARK_OPTS[@]}" -T fields -e tcp.stream 2>/dev/null | sort -u | grep -c .; }
# expect FILE WHAT OP N FILTER: fail (or return 1 with -r) unless count(FILTER) OP N.
check() {
  local f=$1 what=$2 op=$3 n=$4 filter=$5 c
  c=$(count "$f" "$filter")
  if [ "$c" "$op" "$n" ]; then
    log "  ok: $what: $c ($filter)"
  else
    log "  FAILED: $what: $c, want $op $n ($filter)"
    return 1
  fi
}

# ---------------------------------------------------------------- scenarios
LOSS_BYTES=57344

# loss: 3 downloads of a 64 KiB file with ~5% of the data segments dropped at the client's
# prerouting hook; captured on the server (sender) side, so every original and every
# retransmission is in the file.
scn_loss() {
  local attempt ok
  for attempt in 1 2 3 4 5; do
    veth_up
    ip netns exec "$NS_C" nft -f - <<'EOF'
table inet tcc_loss {
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    meta l4proto tcp tcp sport 80 meta length > 100 numgen random mod 100 < 5 drop
  }
}
EOF
    nginx_start "$NS_S" 10.77.0.2:80
    cap_start "$NS_S" veth-s loss
    local i
    for i in 1 2 3; do
      ip netns exec "$NS_C" timeout 30 curl -s -o /dev/null --max-time 20 "http://10.77.0.2/big.bin?n=$i"
      sleep 0.2
    done
    cap_stop
    nginx_stop
    ok=1
    check "$WORK/loss.pcap" "connections" -eq 3 'tcp.flags == 0x002' || ok=0
    check "$WORK/loss.pcap" "retransmissions" -ge 3 tcp.analysis.retransmission || ok=0
    check "$WORK/loss.pcap" "fast retransmissions" -ge 1 tcp.analysis.fast_retransmission || ok=0
    check "$WORK/loss.pcap" "duplicate ACKs" -ge 1 tcp.analysis.duplicate_ack || ok=0
    check "$WORK/loss.pcap" "HTTP 200s" -eq 3 'http.response.code == 200' || ok=0
    [ "$ok" = 1 ] && { publish loss; return 0; }
    log "  loss: attempt $attempt did not show every kind of loss; again"
  done
  return 1
}

# delay: client namespace tcc-tuna, nginx (and nc -l) in tcc-tunb, 20 ms each way through
# the TUN forwarder; captured on the client's tun (link type RAW).
scn_delay() {
  tun_up 20 30
  nginx_start "$NS_TB" 10.78.0.2:80
  cap_start "$NS_TA" tcc-tun delay
  ip netns exec "$NS_TA" timeout 10 curl -s -o /dev/null "http://10.78.0.2/index.html"
  sleep 0.2
  ip netns exec "$NS_TA" timeout 10 curl -s -o /dev/null -o /dev/null \
    "http://10.78.0.2/a.txt" "http://10.78.0.2/b.txt"
  sleep 0.2
  { sleep 0.4; printf 'pretty good!\n'; sleep 1; } |
    ip netns exec "$NS_TB" timeout 5 nc -l 10.78.0.2 43981 >/dev/null &
  PIDS+=($!)
  local srv=$!
  wait_listen "$NS_TB" 43981
  { printf 'hello world!\n'; sleep 0.2; printf "how's it going?\n"; sleep 0.8; } |
    ip netns exec "$NS_TA" timeout 5 nc -N 10.78.0.2 43981 >/dev/null
  wait_pid "$srv" 5
  cap_stop
  nginx_stop
  local f=$WORK/delay.pcap
  check "$f" "connections" -eq 3 'tcp.flags == 0x002'
  check "$f" "handshake RTT >= 40 ms" -ge 3 'tcp.analysis.initial_rtt >= 0.040 && tcp.flags == 0x010 && tcp.len == 0 && tcp.seq == 1 && tcp.ack == 1'
  check "$f" "HTTP latency >= 40 ms" -eq 3 'http.time >= 0.040'
  publish delay
}

# zerowin: a server that never reads (SO_RCVBUF 4096) and a client writing 2 MB; the client
# is killed after 4 s, the server closes (RST: unread data) at 6 s. Captured on the client.
scn_zerowin() {
  veth_up
  cap_start "$NS_C" veth-c zerowin
  start_bg zw-server "$NS_S" 15 "$PY" "$HELP" zerowin-server 10.77.0.2 9000 6
  local srv=$LAST_PID
  wait_ready zw-server
  start_bg zw-client "$NS_C" 4 "$PY" "$HELP" sender 10.77.0.2 9000 2000000
  wait_pid "$LAST_PID" 6
  wait_pid "$srv" 10
  cap_stop
  local f=$WORK/zerowin.pcap
  check "$f" "zero windows" -ge 1 tcp.analysis.zero_window
  check "$f" "probes (keep-alive or zero-window probe)" -ge 2 'tcp.analysis.keep_alive || tcp.analysis.zero_window_probe'
  check "$f" "RSTs" -ge 1 'tcp.flags.reset == 1'
  publish zerowin
}

# rst: refused SYN (9004), client abort (9001), server abort (9002), RST in answer to data
# sent after the peer closed (9003). Captured on the client.
scn_rst() {
  veth_up
  cap_start "$NS_C" veth-c rst
  start_bg rst-server "$NS_S" 15 "$PY" "$HELP" rst-server 10.77.0.2 10
  local srv=$LAST_PID
  wait_ready rst-server
  ip netns exec "$NS_C" timeout 15 "$PY" "$HELP" rst-client 10.77.0.2
  wait_pid "$srv" 10
  cap_stop
  local f=$WORK/rst.pcap
  check "$f" "connections" -eq 4 'tcp.flags == 0x002'
  check "$f" "refused (RST/ACK to a SYN)" -eq 1 'tcp.flags == 0x014 && tcp.srcport == 9004'
  check "$f" "RSTs" -ge 4 'tcp.flags.reset == 1'
  check "$f" "RST from the client" -ge 1 'tcp.flags.reset == 1 && tcp.dstport == 9001'
  check "$f" "RST from the server" -ge 1 'tcp.flags.reset == 1 && tcp.srcport == 9002'
  check "$f" "RST answering late data" -ge 1 'tcp.flags.reset == 1 && tcp.srcport == 9003'
  publish rst
}

# ipv6-http: curl over IPv6 to nginx: one request, one keep-alive connection with three, a
# 404. Captured on the client.
scn_ipv6_http() {
  veth_up
  nginx_start "$NS_S" '[fd77::2]:80'
  cap_start "$NS_C" veth-c ipv6-http
  local c="ip netns exec $NS_C timeout 10 curl -g -s"
  $c -o /dev/null 'http://[fd77::2]/index.html'
  sleep 0.2
  $c -o /dev/null -o /dev/null -o /dev/null 'http://[fd77::2]/a.txt' 'http://[fd77::2]/b.txt' 'http://[fd77::2]/c.txt'
  sleep 0.2
  $c -o /dev/null 'http://[fd77::2]/missing.html'
  cap_stop
  nginx_stop
  local f=$WORK/ipv6-http.pcap
  check "$f" "connections" -eq 3 'tcp.flags == 0x002'
  check "$f" "requests" -eq 5 'http.request'
  check "$f" "200s" -eq 4 'http.response.code == 200'
  check "$f" "404s" -eq 1 'http.response.code == 404'
  publish ipv6-http
}

# pipelined: three requests in three segments, 5 ms apart, before any response;
# pipelined-onesegment: two requests in one segment. Across the TUN forwarder (20 ms each
# way), captured on the client's tun, so all requests are on the wire before the first
# response comes back.
scn_pipelined() {
  tun_up 20 30
  nginx_start "$NS_TB" 10.78.0.2:80
  cap_start "$NS_TA" tcc-tun pipelined
  ip netns exec "$NS_TA" timeout 10 "$PY" "$HELP" pipeline-client 10.78.0.2 80 split
  cap_stop
  cap_start "$NS_TA" tcc-tun pipelined-onesegment
  ip netns exec "$NS_TA" timeout 10 "$PY" "$HELP" pipeline-client 10.78.0.2 80 onesegment
  cap_stop
  nginx_stop
  local f=$WORK/pipelined.pcap first
  check "$f" "request frames" -eq 3 'http.request'
  check "$f" "response frames" -eq 3 'http.response'
  first=$(tshark -r "$f" "${TSHARK_OPTS[@]}" -Y http.response -T fields -e frame.number 2>/dev/null | head -1)
  check "$f" "requests before the first response" -eq 3 "http.request && frame.number < $first"
  f=$WORK/pipelined-onesegment.pcap
  check "$f" "request frames" -eq 1 'http.request'
  check "$f" "response frames" -eq 2 'http.response'
  local n
  n=$(tshark -r "$f" "${TSHARK_OPTS[@]}" -Y http.request -T fields -E occurrence=a -e http.request.method 2>/dev/null)
  [ "$n" = "GET,GET" ] || { log "  FAILED: the request frame's methods are '$n', want GET,GET"; return 1; }
  log "  ok: one frame, two requests ($n)"
  publish pipelined
  publish pipelined-onesegment
}

# many-short: 100 `Connection: close` requests, 4 at a time. Captured on the server.
scn_many_short() {
  veth_up
  nginx_start "$NS_S" 10.77.0.2:80
  cap_start "$NS_S" veth-s many-short
  seq 1 100 | ip netns exec "$NS_C" timeout 60 xargs -P 4 -I{} \
    curl -s -o /dev/null --max-time 5 -H 'Connection: close' 'http://10.77.0.2/index.html?n={}'
  cap_stop
  nginx_stop
  local f=$WORK/many-short.pcap
  check "$f" "connections" -eq 100 'tcp.flags == 0x002'
  check "$f" "requests" -eq 100 'http.request'
  check "$f" "responses" -eq 100 'http.response.code == 200'
  publish many-short
}

# midstream: three connections exchanging a line every 100 ms; tcpdump starts 1 s after
# they are established and runs ~2 s, during which the first connection closes.
scn_midstream() {
  veth_up
  start_bg echo "$NS_S" 12 "$PY" "$HELP" echo-server 10.77.0.2 9100 10
  wait_ready echo
  start_bg mid-client "$NS_C" 10 "$PY" "$HELP" midstream-client 10.77.0.2 9100 4.5 2.2
  local cl=$LAST_PID
  wait_ready mid-client
  sleep 1
  cap_start "$NS_C" veth-c midstream
  sleep 2
  cap_stop
  wait_pid "$cl" 8
  local f=$WORK/midstream.pcap
  check "$f" "SYNs" -eq 0 'tcp.flags.syn == 1'
  check "$f" "FINs" -eq 2 'tcp.flags.fin == 1'
  [ "$(streams "$f")" = 3 ] || { log "  FAILED: $(streams "$f") streams, want 3"; return 1; }
  publish midstream
}

# keepalive: SO_KEEPALIVE, TCP_KEEPIDLE 1, TCP_KEEPINTVL 1, idle 4 s between two lines.
scn_keepalive() {
  veth_up
  start_bg echo "$NS_S" 12 "$PY" "$HELP" echo-server 10.77.0.2 9100 10
  local srv=$LAST_PID
  wait_ready echo
  cap_start "$NS_C" veth-c keepalive
  ip netns exec "$NS_C" timeout 10 "$PY" "$HELP" keepalive-client 10.77.0.2 9100 4.2
  cap_stop
  wait_pid "$srv" 0
  local f=$WORK/keepalive.pcap
  check "$f" "keep-alives" -ge 3 tcp.analysis.keep_alive
  check "$f" "keep-alive ACKs" -ge 3 tcp.analysis.keep_alive_ack
  check "$f" "FINs" -eq 2 'tcp.flags.fin == 1'
  publish keepalive
}

# reuse: two successive connections from 10.77.0.1:40777, the server closing first.
scn_reuse() {
  veth_up
  start_bg reuse "$NS_S" 12 "$PY" "$HELP" reuse-server 10.77.0.2 9200 10
  local srv=$LAST_PID
  wait_ready reuse
  cap_start "$NS_C" veth-c reuse
  ip netns exec "$NS_C" timeout 10 "$PY" "$HELP" reuse-client 10.77.0.1 40777 10.77.0.2 9200
  wait_pid "$srv" 5
  cap_stop
  local f=$WORK/reuse.pcap
  check "$f" "SYNs from port 40777" -eq 2 'tcp.flags == 0x002 && tcp.srcport == 40777'
  [ "$(streams "$f")" = 2 ] || { log "  FAILED: $(streams "$f") streams, want 2"; return 1; }
  publish reuse
}

# idle-gap: one connection, an exchange, 1.5 s of silence, another exchange, close.
scn_idle_gap() {
  veth_up
  start_bg echo "$NS_S" 12 "$PY" "$HELP" echo-server 10.77.0.2 9100 10
  local srv=$LAST_PID
  wait_ready echo
  cap_start "$NS_C" veth-c idle-gap
  ip netns exec "$NS_C" timeout 10 "$PY" "$HELP" idle-client 10.77.0.2 9100 1.5
  cap_stop
  wait_pid "$srv" 0
  local f=$WORK/idle-gap.pcap
  check "$f" "gaps >= 1.4 s" -eq 1 "frame.time_delta >= 1.4"
  check "$f" "gaps >= 1 s" -eq 1 "frame.time_delta >= 1"
  publish idle-gap
}

ALL=(loss delay zerowin rst ipv6-http pipelined many-short midstream keepalive reuse idle-gap)
[ $# -gt 0 ] || set -- "${ALL[@]}"
for s in "$@"; do
  log "$s"
  "scn_${s//-/_}"
done
log "done"
