#!/usr/bin/env bash
# Regenerate the application-printer corpus in this directory (see README.md).
#
#   sudo ./make-captures.sh           everything: live captures, crafted pcaps, golden files
#   sudo ./make-captures.sh live      only the live-traffic pcaps (real servers in namespaces)
#   ./make-captures.sh crafted        only the crafted pcaps (python3, nothing is sent)
#   ./make-captures.sh golden         only re-run tcpdump over the existing pcaps
#
# Needs root for "live", tcpdump 4.99.3, python3, and for the servers: unbound, dig
# (bind9-dnsutils), redis-server + redis-cli, bird2, python3 with smtpd (3.11) and
# pyftpdlib, nc. Live traffic stays inside the namespaces made here, tapp-c (veth tapp-c0,
# 10.79.0.1, fd79::1) and tapp-s (veth tapp-s0, 10.79.0.2, fd79::2), deleted again on
# any exit; every client and server runs under `timeout`.
set -euo pipefail
export TZ=UTC LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/tapp.XXXXXX)
NS_C=tapp-c NS_S=tapp-s
# golden modes: NAME:tcpdump flags -> golden/<pcap>.<NAME>.txt ("default" has no flags:
# port names from /etc/services, host names from the resolver; only for the captures
# listed in DEFAULT_MODE, whose addresses have no names)
MODES=("nn:-nn" "v:-nn -v" "vv:-nn -vv" "vvv:-nn -vvv" "X:-nn -X")
DEFAULT_MODE="dns-tcp redis smtp ftp bgp text-ports crafted-dns crafted-resp crafted-nfs crafted-openflow"
# captures whose -v decoding tracer does not claim (OpenFlow message bodies): no v/vv/vvv
NONVERBOSE_ONLY="crafted-openflow"

BG_PIDS=()
log() { printf '== %s\n' "$*" >&2; }

cleanup() {
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  BG_PIDS=()
  ip netns pids "$NS_S" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns pids "$NS_C" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$NS_C" 2>/dev/null || true
  ip netns del "$NS_S" 2>/dev/null || true
}

ns_up() {
  cleanup
  ip netns add "$NS_C"
  ip netns add "$NS_S"
  ip -n "$NS_C" link add tapp-c0 type veth peer name tapp-s0 netns "$NS_S"
  ip -n "$NS_C" link set tapp-c0 address 02:79:00:00:00:01 mtu 1500
  ip -n "$NS_S" link set tapp-s0 address 02:79:00:00:00:02 mtu 1500
  local ns dev n
  for ns in "$NS_C" "$NS_S"; do
    if [ "$ns" = "$NS_C" ]; then dev=tapp-c0 n=1; else dev=tapp-s0 n=2; fi
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "10.79.0.$n/24" dev "$dev"
    ip -n "$ns" addr add "fd79::$n/64" dev "$dev" nodad
    ip netns exec "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$ns" link set "$dev" up
  done
  sleep 1
}

# bg NS CMD...: start CMD in namespace NS in the background (killed by cleanup)
bg() { local ns=$1; shift; ip netns exec "$ns" timeout 120 "$@" & BG_PIDS+=($!); }

# capture NAME FILTER: tcpdump -w on the client's veth until stop_capture
capture() {
  ip netns exec "$NS_C" timeout 120 tcpdump -i tapp-c0 -s 0 -U -w "$WORK/$1.pcap" "$2" \
    2>"$WORK/$1.tcpdump.log" &
  CAP_PID=$!
  local i
  for i in $(seq 50); do grep -q listening "$WORK/$1.tcpdump.log" 2>/dev/null && break; sleep 0.1; done
}
stop_capture() {
  sleep 1
  kill -INT "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  cp "$WORK/$1.pcap" "$HERE/$1.pcap"
}

# wait_port NS PORT: until something listens on TCP PORT in NS (bounded)
wait_port() {
  local i
  for i in $(seq 100); do
    ip netns exec "$1" ss -ltnH "sport = :$2" | grep -q . && return 0
    sleep 0.1
  done
  echo "nothing listens on $2 in $1" >&2; return 1
}

cx() { ip netns exec "$NS_C" timeout 20 "$@"; }

live_dns() {
  log "dns-tcp: unbound on 10.79.0.2:53, dig +tcp"
  cat >"$WORK/unbound.conf" <<CONF
server:
  interface: 10.79.0.2
  interface: fd79::2
  port: 53
  do-ip6: yes
  do-udp: yes
  do-tcp: yes
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  username: ""
  chroot: ""
  directory: "$WORK"
  pidfile: "$WORK/unbound.pid"
  use-syslog: no
  logfile: ""
  do-daemonize: no
  module-config: "iterator"
  nsid: "ascii_tapp-ns1"
  edns-tcp-keepalive: yes
  local-zone: "example.test." static
  local-data: "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300"
  local-data: "example.test. 3600 IN NS ns1.example.test."
  local-data: "example.test. 3600 IN MX 10 mail.example.test."
  local-data: "example.test. 3600 IN MX 20 mail2.example.test."
  local-data: "ns1.example.test. 3600 IN A 10.79.0.2"
  local-data: "www.example.test. 300 IN A 192.0.2.80"
  local-data: "www.example.test. 300 IN A 192.0.2.81"
  local-data: "www.example.test. 300 IN AAAA 2001:db8::80"
  local-data: "alias.example.test. 300 IN CNAME www.example.test."
  local-data: 'txt.example.test. 300 IN TXT "hello world" "v=spf1 -all"'
  local-data: "_sip._tcp.example.test. 300 IN SRV 10 60 5060 sip.example.test."
  local-data: "uri.example.test. 300 IN URI 10 1 \"https://example.test/\""
  local-data: "caa.example.test. 300 IN CAA 0 issue \"ca.example\""
  local-data: "big.example.test. 300 IN TXT \"$(printf 'x%.0s' $(seq 200))\""
  local-zone: "2.0.192.in-addr.arpa." static
  local-data: "80.2.0.192.in-addr.arpa. 300 IN PTR www.example.test."
  local-data: "2.0.192.in-addr.arpa. 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 300"
CONF
  bg "$NS_S" unbound -d -c "$WORK/unbound.conf"
  wait_port "$NS_S" 53
  capture dns-tcp "tcp port 53"
  local q
  for q in "www.example.test A" "www.example.test AAAA" "example.test MX" "example.test NS" \
           "example.test SOA" "alias.example.test A" "txt.example.test TXT" \
           "_sip._tcp.example.test SRV" "uri.example.test TYPE256" "caa.example.test CAA" \
           "nonexistent.example.test A" "-x 192.0.2.80" "big.example.test TXT" \
           "www.example.test ANY"; do
    # shellcheck disable=SC2086
    cx dig +tcp +tries=1 +time=3 @10.79.0.2 $q >/dev/null || true
  done
  cx dig +tcp +tries=1 +time=3 +nsid +cookie +keepalive +subnet=192.0.2.0/24 +expire @10.79.0.2 www.example.test A >/dev/null || true
  cx dig +tcp +tries=1 +time=3 +dnssec +padding=64 +noadflag +cdflag @10.79.0.2 www.example.test A >/dev/null || true
  cx dig +tcp +tries=1 +time=3 +noedns +norecurse @10.79.0.2 example.test MX >/dev/null || true
  cx dig +tcp +tries=1 +time=3 +subnet=2001:db8::/48 @fd79::2 www.example.test AAAA >/dev/null || true
  cx dig +tcp +tries=1 +time=3 +keepopen @10.79.0.2 www.example.test A www.example.test AAAA >/dev/null || true
  cx dig +tcp +tries=1 +time=3 +qr @10.79.0.2 CH TXT version.bind >/dev/null || true
  stop_capture dns-tcp
  cleanup_bg
}

live_redis() {
  log "redis: redis-server on 10.79.0.2:6379, redis-cli and nc"
  bg "$NS_S" redis-server --bind 10.79.0.2 --port 6379 --save "" --appendonly no --protected-mode no --dir "$WORK"
  wait_port "$NS_S" 6379
  capture redis "tcp port 6379"
  local r="redis-cli -h 10.79.0.2 -p 6379"
  cx $r set test 1 >/dev/null
  cx $r get test >/dev/null
  cx $r get missing >/dev/null
  cx $r incr counter >/dev/null
  cx $r rpush list a "b c" "" "$(printf 'tab\there')" >/dev/null
  cx $r lrange list 0 -1 >/dev/null
  cx $r hset h f1 v1 f2 v2 >/dev/null
  cx $r hgetall h >/dev/null
  cx $r lrange nolist 0 -1 >/dev/null
  cx $r bogus-command x >/dev/null || true
  cx $r set big "$(head -c 3000 /dev/zero | tr '\0' y)" >/dev/null
  cx $r get big >/dev/null
  cx $r ping >/dev/null
  printf 'PING\r\nSET inline 42\r\nGET inline\r\n' | cx nc -q 1 10.79.0.2 6379 >/dev/null || true
  printf '*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$4\r\ntest\r\n*2\r\n$4\r\nINCR\r\n$1\r\nz\r\n' | cx nc -q 1 10.79.0.2 6379 >/dev/null || true
  stop_capture redis
  cleanup_bg
}

live_smtp() {
  log "smtp: python3 smtpd DebuggingServer on 10.79.0.2:25, smtplib client"
  bg "$NS_S" python3 -W ignore -m smtpd -n -c DebuggingServer 10.79.0.2:25
  wait_port "$NS_S" 25
  capture smtp "tcp port 25"
  cx python3 - <<'PY'
import smtplib
s = smtplib.SMTP("10.79.0.2", 25, local_hostname="client.test", timeout=10)
s.ehlo("client.test")
s.noop()
s.sendmail("alice@client.test", ["bob@example.test", "carol@example.test"],
           "Subject: hello\r\nFrom: alice@client.test\r\n\r\nHi Bob,\r\n.leading dot\r\nbye\r\n")
s.vrfy("bob")
s.quit()
PY
  stop_capture smtp
  cleanup_bg
}

live_ftp() {
  log "ftp: pyftpdlib on 10.79.0.2:21, ftplib client (control connection)"
  mkdir -p "$WORK/ftproot/pub"; echo hello >"$WORK/ftproot/pub/hello.txt"
  bg "$NS_S" python3 -c "
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
a = DummyAuthorizer(); a.add_anonymous('$WORK/ftproot')
a.add_user('user', 'secret', '$WORK/ftproot', perm='elradfmw')
h = FTPHandler; h.authorizer = a; h.banner = 'tapp ftp ready'
FTPServer(('10.79.0.2', 21), h).serve_forever()"
  wait_port "$NS_S" 21
  capture ftp "tcp port 21"
  cx python3 - <<'PY'
import ftplib, io
f = ftplib.FTP()
f.connect("10.79.0.2", 21, timeout=10)
f.login("user", "secret")
f.pwd(); f.cwd("pub")
f.retrlines("LIST", lambda l: None)
f.retrbinary("RETR hello.txt", lambda b: None)
f.storbinary("STOR up.txt", io.BytesIO(b"uploaded\n"))
try: f.sendcmd("SITE BOGUS")
except ftplib.error_perm: pass
f.quit()
PY
  stop_capture ftp
  cleanup_bg
}

live_bgp() {
  log "bgp: bird2 AS 65001 (10.79.0.1) <-> bird2 AS 65002 (10.79.0.2), v4 and v6 sessions"
  cat >"$WORK/bird-s.conf" <<'CONF'
router id 10.79.0.2;
log stderr all;
protocol device {}
protocol static st4 { ipv4; route 198.51.100.0/24 blackhole; route 203.0.113.128/25 blackhole;
  route 10.200.0.0/16 blackhole { bgp_community.add((65002,100)); bgp_large_community.add((65002,1,2)); bgp_med = 50; }; }
protocol static st6 { ipv6; route 2001:db8:100::/48 blackhole; route 2001:db8:200::/64 blackhole; }
protocol bgp peer4 { local 10.79.0.2 as 65002; neighbor 10.79.0.1 as 65001; hold time 90;
  ipv4 { import all; export all; }; ipv6 { import all; export all; }; }
CONF
  cat >"$WORK/bird-c.conf" <<'CONF'
router id 10.79.0.1;
log stderr all;
protocol device {}
protocol static st4 { ipv4; route 192.0.2.0/24 blackhole { bgp_community.add((65001,7)); bgp_path.prepend(65001); }; }
protocol bgp peer4 { local 10.79.0.1 as 65001; neighbor 10.79.0.2 as 65002; hold time 90;
  ipv4 { import all; export all; add paths on; }; ipv6 { import all; export all; extended next hop on; };
  enable route refresh on; graceful restart on; }
CONF
  capture bgp "tcp port 179"
  bg "$NS_S" bird -f -c "$WORK/bird-s.conf" -s "$WORK/bird-s.ctl"
  sleep 0.5
  bg "$NS_C" bird -f -c "$WORK/bird-c.conf" -s "$WORK/bird-c.ctl"
  local i
  for i in $(seq 60); do
    ip netns exec "$NS_C" birdc -s "$WORK/bird-c.ctl" show protocols peer4 2>/dev/null | grep -q Established && break
    sleep 0.5
  done
  sleep 3
  ip netns exec "$NS_C" birdc -s "$WORK/bird-c.ctl" reload in peer4 >/dev/null || true
  sleep 2
  ip netns exec "$NS_C" birdc -s "$WORK/bird-c.ctl" disable peer4 "maintenance" >/dev/null || true
  sleep 2
  stop_capture bgp
  cleanup_bg
}

live_text() {
  log "text-ports: whois (43), HTTP on 8080, RTSP on 554/8554, and POP3/IMAP/SIP ports"
  cat >"$WORK/textsrv.py" <<'PY'
import socket, sys, threading
answers = {43: b"% whois server\r\ndomain: example.test\r\nstatus: active\r\n",
           8080: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
           554: b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, PLAY\r\n\r\n",
           8554: b"RTSP/1.0 404 Not Found\r\nCSeq: 2\r\n\r\n",
           110: b"+OK POP3 ready\r\n", 143: b"* OK IMAP4rev1 ready\r\n",
           5060: b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n"}
def serve(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.79.0.2", port)); s.listen(4)
    while True:
        c, _ = s.accept()
        c.recv(4096); c.sendall(answers[port]); c.close()
for p in answers:
    threading.Thread(target=serve, args=(p,), daemon=True).start()
threading.Event().wait(60)
PY
  bg "$NS_S" python3 "$WORK/textsrv.py"
  wait_port "$NS_S" 5060
  capture text-ports "tcp"
  cx python3 - <<'PY'
import socket
reqs = {43: b"example.test\r\n",
        8080: b"GET /status HTTP/1.1\r\nHost: 10.79.0.2:8080\r\nUser-Agent: tapp\r\n\r\n",
        554: b"OPTIONS rtsp://10.79.0.2/stream RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        8554: b"DESCRIBE rtsp://10.79.0.2/missing RTSP/1.0\r\nCSeq: 2\r\n\r\n",
        110: b"USER bob\r\n", 143: b"a1 CAPABILITY\r\n",
        5060: b"OPTIONS sip:bob@example.test SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"}
for p, r in reqs.items():
    s = socket.create_connection(("10.79.0.2", p), timeout=5)
    s.sendall(r)
    while s.recv(4096): pass
    s.close()
PY
  stop_capture text-ports
  cleanup_bg
}

cleanup_bg() {
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  BG_PIDS=()
}

live() {
  [ "$(id -u)" = 0 ] || { echo "live captures need root" >&2; exit 1; }
  trap cleanup EXIT
  ns_up
  live_dns
  live_redis
  live_smtp
  live_ftp
  live_bgp
  live_text
  cleanup
  trap - EXIT
}

crafted() {
  log "crafted pcaps (craft.py)"
  python3 "$HERE/craft.py" "$HERE"
}

golden() {
  log "golden files"
  rm -f "$HERE"/golden/*.txt
  local f name m mode flags
  for f in "$HERE"/*.pcap; do
    name=$(basename "$f" .pcap)
    for m in "${MODES[@]}"; do
      mode=${m%%:*} flags=${m#*:}
      case " $NONVERBOSE_ONLY " in
        *" $name "*) case $mode in v|vv|vvv) continue ;; esac ;;
      esac
      # shellcheck disable=SC2086
      tcpdump -r "$f" $flags >"$HERE/golden/$name.$mode.txt" 2>/dev/null
    done
    case " $DEFAULT_MODE " in
      *" $name "*) tcpdump -r "$f" >"$HERE/golden/$name.default.txt" 2>/dev/null ;;
    esac
  done
}

case "${1:-all}" in
  live) live ;;
  crafted) crafted ;;
  golden) golden ;;
  all) live; crafted; golden ;;
  *) echo "usage: $0 [all|live|crafted|golden]" >&2; exit 2 ;;
esac
rm -rf "$WORK"
