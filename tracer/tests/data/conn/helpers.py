#!/usr/bin/env python3
"""Traffic for make-captures.sh: small servers, clients and a delaying TUN forwarder.

Every command is bounded in time (a deadline or socket timeouts) and prints "ready" on
stdout (flushed) once it listens, so the script can wait for it without sleeping blindly.

    helpers.py tunfwd NS_A NS_B DEV DELAY_MS SECONDS
    helpers.py zerowin-server ADDR PORT HOLD_SECONDS
    helpers.py sender ADDR PORT BYTES               (writes until killed or done)
    helpers.py rst-server ADDR SECONDS
    helpers.py rst-client ADDR
    helpers.py pipeline-client ADDR PORT split|onesegment
    helpers.py echo-server ADDR PORT SECONDS
    helpers.py midstream-client ADDR PORT SECONDS CLOSE_AT
    helpers.py keepalive-client ADDR PORT IDLE
    helpers.py reuse-server ADDR PORT SECONDS
    helpers.py reuse-client LOCAL_ADDR LOCAL_PORT ADDR PORT
    helpers.py idle-client ADDR PORT GAP
"""
import collections
import ctypes
import fcntl
import os
import select
import socket
import struct
import sys
import threading
import time


def ready():
    print("ready", flush=True)


def listener(addr, port, rcvbuf=None):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        # before listen(): the accepted socket inherits it (and its small window)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((addr, port))
    s.listen(16)
    return s


def connect(addr, port, timeout=5.0):
    return socket.create_connection((addr, port), timeout=timeout)


def abort(sock):
    """close() with SO_LINGER {1, 0}: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def recv_line(sock):
    buf = b""
    while not buf.endswith(b"\n"):
        b = sock.recv(4096)
        if not b:
            break
        buf += b
    return buf


# ------------------------------------------------------------------ TUN forwarder
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000


def tunfwd(ns_a, ns_b, dev, delay_ms, seconds):
    """One tun device named DEV in each of two namespaces, joined by this process: every
    packet read from one is written to the other DELAY_MS later (FIFO per direction)."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    fds = []
    for ns in (ns_a, ns_b):
        nsfd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        if libc.setns(nsfd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
        os.close(nsfd)
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", dev.encode(), IFF_TUN | IFF_NO_PI))
        fds.append(fd)
    if libc.setns(home, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns back")
    os.close(home)
    a, b = fds
    peer = {a: b, b: a}
    queues = {a: collections.deque(), b: collections.deque()}  # by destination fd
    delay = float(delay_ms) / 1000.0
    deadline = time.monotonic() + float(seconds)
    ready()
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        for q in queues.values():
            while q and q[0][0] <= now:
                _, dst, pkt = q.popleft()
                try:
                    os.write(dst, pkt)
                except OSError:
                    pass  # the device is down (not configured yet): drop, as a wire would
        due = [q[0][0] for q in queues.values() if q]
        wait = min([deadline] + due) - now
        r, _, _ = select.select([a, b], [], [], max(0.0, wait))
        for fd in r:
            try:
                pkt = os.read(fd, 65536)
            except OSError:
                continue
            dst = peer[fd]
            queues[dst].append((time.monotonic() + delay, dst, pkt))


# ------------------------------------------------------------------ zero window
def zerowin_server(addr, port, hold):
    """Accepts one connection and never reads from it; closes after HOLD seconds (with the
    unread data still queued, so the close is a RST)."""
    s = listener(addr, int(port), rcvbuf=4096)
    s.settimeout(10)
    ready()
    c, _ = s.accept()
    time.sleep(float(hold))
    c.close()
    s.close()


def sender(addr, port, nbytes):
    s = connect(addr, int(port))
    s.settimeout(None)
    s.sendall(b"z" * int(nbytes))
    s.close()


# ------------------------------------------------------------------ RSTs
def rst_server(addr, seconds):
    """9001: the client aborts; 9002: this side aborts after an exchange; 9003: this side
    closes at once, and the client's late data is answered with RST."""
    socks = {p: listener(addr, p) for p in (9001, 9002, 9003)}
    for s in socks.values():
        s.settimeout(float(seconds))
    ready()

    def client_aborts(s):
        c, _ = s.accept()
        c.settimeout(5)
        recv_line(c)
        c.sendall(b"hi there\n")
        try:
            c.recv(4096)  # RST from the client
        except OSError:
            pass
        c.close()

    def server_aborts(s):
        c, _ = s.accept()
        c.settimeout(5)
        c.sendall(b"hello\n")
        recv_line(c)
        time.sleep(0.05)
        abort(c)

    def closes_at_once(s):
        c, _ = s.accept()
        c.close()

    ts = [
        threading.Thread(target=f, args=(socks[p],))
        for p, f in ((9001, client_aborts), (9002, server_aborts), (9003, closes_at_once))
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join(float(seconds))


def rst_client(addr):
    # 1. SYN to a closed port: RST/ACK
    try:
        connect(addr, 9004, timeout=2).close()
    except OSError:
        pass
    time.sleep(0.3)
    # 2. the client aborts an established connection
    c = connect(addr, 9001)
    c.sendall(b"hello\n")
    recv_line(c)
    time.sleep(0.05)
    abort(c)
    time.sleep(0.3)
    # 3. the server aborts
    c = connect(addr, 9002)
    recv_line(c)
    c.sendall(b"hey\n")
    try:
        c.recv(4096)
    except OSError:
        pass
    c.close()
    time.sleep(0.3)
    # 4. data after the peer closed: the server's FIN arrives, we send anyway, it resets
    c = connect(addr, 9003)
    time.sleep(0.2)
    try:
        c.sendall(b"late data\n")
        time.sleep(0.2)
        c.recv(4096)
    except OSError:
        pass
    c.close()


# ------------------------------------------------------------------ HTTP pipelining
def pipeline_client(addr, port, mode):
    s = connect(addr, int(port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def req(path, last):
        extra = "Connection: close\r\n" if last else ""
        return f"GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: pipeline\r\n{extra}\r\n".encode()

    if mode == "split":
        for i, p in enumerate(("/a.txt", "/b.txt", "/c.txt")):
            if i:
                time.sleep(0.005)
            s.send(req(p, i == 2))
    else:
        s.send(req("/a.txt", False) + req("/b.txt", True))
    data = b""
    while True:  # the last request says Connection: close, so nginx ends the stream
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    print(f"{data.count(b'HTTP/1.1 ')} responses", file=sys.stderr)


# ------------------------------------------------------------------ line echo
def echo_server(addr, port, seconds):
    """Echoes lines on every connection until the peer closes; bounded by SECONDS."""
    s = listener(addr, int(port))
    deadline = time.monotonic() + float(seconds)
    ready()

    def serve(c):
        c.settimeout(float(seconds))
        try:
            while True:
                b = c.recv(4096)
                if not b:
                    break
                c.sendall(b)
        except OSError:
            pass
        c.close()

    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            c, _ = s.accept()
        except OSError:
            break
        threading.Thread(target=serve, args=(c,), daemon=True).start()
    s.close()


def midstream_client(addr, port, seconds, close_at):
    """Three connections, each sending a line every 100 ms and reading its echo; the first
    closes CLOSE_AT seconds after the start, the others at SECONDS."""
    socks = [connect(addr, int(port)) for _ in range(3)]
    ready()
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < float(seconds):
        for k, s in enumerate(socks):
            if s is None:
                continue
            if k == 0 and time.monotonic() - t0 >= float(close_at):
                s.close()
                socks[0] = None
                continue
            s.sendall(f"conn {k} line {i}\n".encode())
            recv_line(s)
        i += 1
        time.sleep(0.1)
    for s in socks:
        if s is not None:
            s.close()


def keepalive_client(addr, port, idle):
    s = connect(addr, int(port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 10)
    s.sendall(b"hello\n")
    recv_line(s)
    time.sleep(float(idle))
    s.sendall(b"bye\n")
    recv_line(s)
    s.close()


# ------------------------------------------------------------------ port reuse
def reuse_server(addr, port, seconds):
    """Per connection: read a line, answer, and close first (so the client's end of the
    connection does not stay in TIME_WAIT and its port can be bound again)."""
    s = listener(addr, int(port))
    s.settimeout(float(seconds))
    ready()
    for _ in range(2):
        try:
            c, _ = s.accept()
        except OSError:
            break
        c.settimeout(5)
        recv_line(c)
        c.sendall(b"bye\n")
        c.close()
    s.close()


def reuse_client(laddr, lport, addr, port):
    for n in range(2):
        if n:
            time.sleep(0.5)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(5)
        s.bind((laddr, int(lport)))
        s.connect((addr, int(port)))
        s.sendall(f"connection {n + 1}\n".encode())
        recv_line(s)
        s.recv(4096)  # the server's FIN
        s.close()


def idle_client(addr, port, gap):
    s = connect(addr, int(port))
    s.sendall(b"one\n")
    recv_line(s)
    time.sleep(float(gap))
    s.sendall(b"two\n")
    recv_line(s)
    s.close()


COMMANDS = {
    "tunfwd": tunfwd,
    "zerowin-server": zerowin_server,
    "sender": sender,
    "rst-server": rst_server,
    "rst-client": rst_client,
    "pipeline-client": pipeline_client,
    "echo-server": echo_server,
    "midstream-client": midstream_client,
    "keepalive-client": keepalive_client,
    "reuse-server": reuse_server,
    "reuse-client": reuse_client,
    "idle-client": idle_client,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
