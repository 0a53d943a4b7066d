#!/usr/bin/env python3
"""Crafted application-layer payloads (malformed, truncated, rare) as pcap files.

python3 craft.py DIR [NAME...]  writes DIR/crafted-NAME.pcap for each set (all by default).
Every packet is Ethernet/IPv4/TCP with correct checksums, client 10.79.0.1 and server
10.79.0.2; "cut" packets are captured short (caplen < wire length) to exercise the
truncation markers. Nothing is sent anywhere.
"""
import struct
import sys

T0 = 1_700_000_000


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(sport, dport, payload, seq=1000, ack=2000, flags=0x18, src="10.79.0.1", dst="10.79.0.2"):
    s = bytes(int(x) for x in src.split("."))
    d = bytes(int(x) for x in dst.split("."))
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 502, 0, 0) + payload
    ph = s + d + struct.pack("!BBH", 0, 6, len(tcp))
    c = csum(ph + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, s, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\x79\x00\x00\x00\x02\x02\x79\x00\x00\x00\x01\x08\x00" + ip + tcp


HDR = 14 + 20 + 20


def write_pcap(path, pkts):
    """pkts: list of (frame, caplen or None)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, (fr, cut) in enumerate(pkts):
            data = fr if cut is None else fr[:cut]
            f.write(struct.pack("<IIII", T0 + i, i * 1000 % 1000000, len(data), len(fr)))
            f.write(data)


class Set:
    def __init__(self):
        self.p = []

    def add(self, sport, dport, payload, cut=None, **kw):
        self.p.append((frame(sport, dport, payload, **kw), None if cut is None else HDR + cut))

    def prefixes(self, sport, dport, payload, step=1):
        """The segment captured to every length from 0 to the whole payload."""
        for n in range(0, len(payload) + 1, step):
            self.add(sport, dport, payload, cut=n)


# ------------------------------------------------------------------ DNS
def name(*labels):
    return b"".join(bytes([len(l)]) + l.encode() for l in labels) + b"\0"


def dns_hdr(id_, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", id_, flags, qd, an, ns, ar)


def rr(nm, typ, cls, ttl, rdata):
    return nm + struct.pack("!HHIH", typ, cls, ttl, len(rdata)) + rdata


def opt(code, data):
    return struct.pack("!HH", code, len(data)) + data


def tcpdns(msg):
    return struct.pack("!H", len(msg)) + msg


def dns():
    s = Set()
    q = name("www", "example", "test") + struct.pack("!HH", 1, 1)
    www = name("www", "example", "test")
    ptr = b"\xc0\x0c"
    # Framing errors.
    s.add(40000, 53, b"\x00")
    s.add(40000, 53, b"\x00\x30" + dns_hdr(1, 0x0100) + q)
    s.add(40000, 53, tcpdns(b"\x12\x34\x01\x00\x00"))
    s.add(40000, 53, tcpdns(dns_hdr(1, 0x0100) + q), cut=1)
    s.add(40000, 53, tcpdns(dns_hdr(1, 0x0100) + q), cut=8)
    # Queries: opcodes, flags, counts, classes, odd types.
    s.add(40000, 53, tcpdns(dns_hdr(0x1111, 0x0100) + q))
    s.add(40000, 53, tcpdns(dns_hdr(0x1112, 0x0110) + name("a", "b") + struct.pack("!HH", 255, 3)))
    s.add(40000, 53, tcpdns(dns_hdr(0x1113, 0x0900, qd=0, an=1) + rr(www, 1, 1, 60, b"\x01\x02\x03\x04")))
    s.add(40000, 53, tcpdns(dns_hdr(0x1114, 0x2800, qd=1, ns=1) + q + rr(www, 255, 254, 0, b"")))
    s.add(40000, 53, tcpdns(dns_hdr(0x1115, 0x06cf, qd=2) + q + name("x") + struct.pack("!HH", 9999, 77)))
    s.add(40000, 53, tcpdns(dns_hdr(0x1116, 0x0100, qd=0)))
    s.add(40000, 53, tcpdns(dns_hdr(0x1117, 0x7800, qd=3) + q + q))
    # Names: pointers, bad pointers, loops, reserved and EDNS0 label types, long names.
    s.add(40000, 53, tcpdns(dns_hdr(0x2001, 0x0100, qd=2) + q + b"\x03foo" + ptr + struct.pack("!HH", 28, 1)))
    s.add(40000, 53, tcpdns(dns_hdr(0x2002, 0x0100) + b"\xc0\x20" + struct.pack("!HH", 1, 1)))
    s.add(40000, 53, tcpdns(dns_hdr(0x2003, 0x0100) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)))
    s.add(40000, 53, tcpdns(dns_hdr(0x2004, 0x0100) + b"\x03abc\x80xx\x00" + struct.pack("!HH", 1, 1)))
    s.add(40000, 53, tcpdns(dns_hdr(0x2005, 0x0100) + b"\x42\x10\xab\xcd\x00" + struct.pack("!HH", 1, 1)))
    s.add(40000, 53, tcpdns(dns_hdr(0x2006, 0x0100) + b"\x41\x0c\xab\xcd\x03com\x00" + struct.pack("!HH", 1, 1)))
    s.add(40000, 53, tcpdns(dns_hdr(0x2007, 0x0100) + b"\x41\x05\xf8\x41\x00\xab" * 2 + b"\x00" + struct.pack("!HH", 1, 1)))
    s.add(40000, 53, tcpdns(dns_hdr(0x2008, 0x0100) + b"\x41\x03\xe0\x41\x0b\xff\xe0\x00" + struct.pack("!HH", 1, 1)))
    long = b"".join(b"\x3f" + bytes([0x61 + i]) * 63 for i in range(5)) + b"\x00"
    s.add(40000, 53, tcpdns(dns_hdr(0x2009, 0x0100) + long + struct.pack("!HH", 1, 1)))
    s.add(40000, 53, tcpdns(dns_hdr(0x200a, 0x0100) + b"\x05a\x01\x7f\xe9.\x00" + struct.pack("!HH", 16, 1)))
    s.add(40000, 53, tcpdns(dns_hdr(0x200b, 0x0100) + b"\x00" + struct.pack("!HH", 2, 1)))
    s.add(40000, 53, tcpdns(dns_hdr(0x200c, 0x0100) + b"\x03www\x07exam"))
    # Responses: every record type tcpdump decodes, rcodes, flags.
    ans = [
        rr(ptr, 1, 1, 3600, bytes([192, 0, 2, 1])),
        rr(ptr, 2, 1, 86400, name("ns1") ),
        rr(ptr, 5, 1, 1, b"\x05alias" + ptr),
        rr(ptr, 6, 1, 90061, name("ns1", "x") + name("host", "x") + struct.pack("!IIIII", 1, 2, 3, 4, 5)),
        rr(ptr, 12, 1, 0, name("p", "q")),
        rr(ptr, 15, 1, 30, b"\x00\x0a" + name("mx")),
        rr(ptr, 16, 1, 30, b"\x05hello\x00\x03a\"b"),
        rr(ptr, 33, 1, 30, struct.pack("!HHH", 1, 2, 5060) + name("sip")),
        rr(ptr, 28, 1, 30, bytes(range(16))),
        rr(ptr, 38, 1, 30, b"\x00" + bytes(16)),
        rr(ptr, 38, 1, 30, b"\x40" + bytes(range(8)) + name("pfx")),
        rr(ptr, 38, 1, 30, b"\x80" + name("only")),
        rr(ptr, 38, 1, 30, b"\x81"),
        rr(ptr, 256, 1, 30, struct.pack("!HH", 10, 1) + b"https://x/"),
        rr(ptr, 104, 1, 30, b"unspec\x01a"),
        rr(ptr, 39, 3, 30, name("dname")),
        rr(ptr, 99, 4, 30, b"\x04text"),
        rr(ptr, 65280, 1234, 30, b"\x01\x02"),
        rr(name("key"), 250, 255, 0, name("hmac-sha256") + b"\x00\x00\x65\x00\x00\x00" + struct.pack("!HH", 300, 4) + b"abcd" + struct.pack("!HHH", 7, 0, 0)),
    ]
    for i, a in enumerate(ans):
        s.add(53, 40000, tcpdns(dns_hdr(0x3000 + i, 0x8580, an=1) + q + a))
    s.add(53, 40000, tcpdns(dns_hdr(0x3100, 0x8580, an=len(ans)) + q + b"".join(ans)))
    for i, fl in enumerate([0x8183, 0x8182, 0x8785, 0x8380, 0x81a0, 0x8006, 0x800b, 0xa80f, 0x9000, 0x8000 | (4 << 11) | 0x0400]):
        s.add(53, 40000, tcpdns(dns_hdr(0x3200 + i, fl, an=0) + q))
    s.add(53, 40000, tcpdns(dns_hdr(0x3300, 0x8180, qd=0)))
    s.add(53, 40000, tcpdns(dns_hdr(0x3301, 0x8180, qd=2) + q + q))
    # -vv sections: authority and additional, then EDNS options.
    soa = rr(b"\xc0\x10", 6, 1, 300, name("ns1") + name("h") + struct.pack("!IIIII", 9, 8, 7, 6, 5))
    s.add(53, 40000, tcpdns(dns_hdr(0x3400, 0x8183, an=0, ns=1, ar=1) + q + soa + rr(b"\0", 41, 1232, 0x8000, b"")))
    opts = [
        opt(8, b"\x00\x01\x18\x00\xc0\x00\x02"), opt(8, b"\x00\x02\x30\x00\x20\x01\x0d\xb8\x00\x01"),
        opt(8, b"\x00\x03\x08\x00\x01"), opt(8, b"\x00\x01\x21\x00\x01\x02\x03\x04\x05"), opt(8, b"\x00\x01"),
        opt(8, b"\x00\x01\x10\x00\x01"), opt(10, bytes(range(8))), opt(10, bytes(range(24))), opt(10, bytes(12)),
        opt(11, b"\x01\x2c"), opt(11, b"\x01"), opt(9, b"\x00\x01\x51\x80"), opt(9, b"\x00"), opt(12, bytes(17)),
        opt(14, b"\x4f\x66\x00\x14"), opt(14, b"\x4f"), opt(5, bytes([8, 13, 99, 252])), opt(6, bytes([1, 2, 9])),
        opt(7, bytes([1, 2])), opt(13, name("chain", "x")), opt(13, b"\xc0\x00"), opt(3, b"ns1"), opt(65001, b"\xde\xad"),
        opt(2, b""), opt(16, b""),
    ]
    for i, o in enumerate(opts):
        s.add(53, 40000, tcpdns(dns_hdr(0x3500 + i, 0x8180, an=0, ar=1) + q + rr(b"\0", 41, 4096, 0x0000, o)))
    s.add(53, 40000, tcpdns(dns_hdr(0x3600, 0x8180, an=0, ar=1) + q + rr(b"\0", 41, 4096, 0x01008000, b"".join(opts[:6]))))
    s.add(53, 40000, tcpdns(dns_hdr(0x3601, 0x8180, an=0, ar=1) + q + rr(b"\0", 41, 4096, 0, opt(10, b"\x01\x02")[:3])))
    s.add(40000, 53, tcpdns(dns_hdr(0x3602, 0x0100, an=1, ns=1, ar=2) + q + ans[0] + soa + ans[6] + rr(b"\0", 41, 512, 0, opt(12, b""))))
    s.add(53, 40000, tcpdns(dns_hdr(0x3603, 0x8180, an=2, ns=1, ar=1) + q + ans[0]))
    s.add(53, 40000, tcpdns(dns_hdr(0x3604, 0x8180, an=1) + q + rr(ptr, 1, 1, 5, b"\x01\x02")))
    s.add(53, 40000, tcpdns(dns_hdr(0x3605, 0x8180, an=1) + q + ptr + struct.pack("!HHIH", 1, 1, 5, 400) + b"\x01\x02\x03\x04"))
    # Truncated captures of a rich response at every byte.
    rich = tcpdns(dns_hdr(0x3700, 0x8180, an=3, ns=1, ar=1) + q + ans[0] + ans[5] + ans[7] + soa + rr(b"\0", 41, 1232, 0x8000, opts[0] + opts[6]))
    s.prefixes(53, 40001, rich)
    s.prefixes(40001, 53, tcpdns(dns_hdr(0x3701, 0x0120, ar=1) + q + rr(b"\0", 41, 1232, 0, opts[9])))
    return s


# ------------------------------------------------------------------ RESP
def resp():
    s = Set()
    for p in [
        b"+OK\r\n", b"-ERR unknown command 'x'\r\n", b":1000\r\n", b":-5\r\n", b"$5\r\nhello\r\n", b"$0\r\n\r\n",
        b"$-1\r\n", b"*-1\r\n", b"*0\r\n", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", b"*3\r\n:1\r\n*2\r\n+a\r\n-b\r\n$-1\r\n",
        b"$x\r\n", b"$-2\r\n", b"*-7\r\n", b"$99999999999\r\n", b"*2147483648\r\n", b"$2147483647\r\n",
        b"$214748364\r\n", b"$3\r\nabcdef\r\n", b"$3\rabc\r\n", b"$3\r\n", b"$3\r\nab", b"*5\r\n:1\r\n",
        b"+no crlf", b"-\r\n", b":\r\n", b"PING\r\n", b"\r\n\r\nPING\n", b"SET a b\nGET a\r\n", b"\r\n", b"\n\n",
        b"inline without end", b"+OK\r\n+OK\r\n:3\r\n", b"+bin\x00\x01\xff\r\n", b"*1\r\n$x\r\n", b"*x\r\n:1\r\n",
        b"$-\r\n", b"$1\r\n\r\n\r\n", b"$5\r\n\x80\x90abc\r\n", b"*1\r\n*1\r\n*1\r\n*0\r\n", b"$4\r\nab\r\n\r\n",
        b"$01\r\nab\r\n", b"$1x\r\n", b"$1\rx", b"$1\r", b"*", b"$", b"+", b"*2\r\n:1\r\n",
    ]:
        s.add(40000, 6379, p)
        s.add(6379, 40000, p, flags=0x18)
    s.add(40000, 6379, b"*1\r\n" * 4000 + b":7\r\n")
    s.add(40000, 6379, b"*1\r\n" * 4000 + b":7\r")
    s.prefixes(40000, 6379, b"*3\r\n$3\r\nset\r\n$4\r\ntest\r\n$1\r\n1\r\n")
    s.prefixes(6379, 40000, b"+OK\r\n$-1\r\n:12\r\nPING\r\n")
    return s


SETS = {"dns": dns, "resp": resp}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    names = sys.argv[2:] or list(SETS)
    for n in names:
        write_pcap(f"{out}/crafted-{n}.pcap", SETS[n]().p)
