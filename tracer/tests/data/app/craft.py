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



# ------------------------------------------------------------------ BGP
def bgpmsg(t, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), t) + body


def cap(code, data):
    return bytes([code, len(data)]) + data


def bopen(caps, asn=65001, hold=90, rid=b"\x0a\x4f\x00\x01", raw_opts=None):
    opts = raw_opts if raw_opts is not None else bytes([2, len(caps)]) + caps
    return bgpmsg(1, struct.pack("!BHH", 4, asn, hold) + rid + bytes([len(opts)]) + opts)


def pattr(flags, t, data):
    if flags & 0x10:
        return bytes([flags, t]) + struct.pack("!H", len(data)) + data
    return bytes([flags, t, len(data)]) + data


def update(withdrawn=b"", attrs=b"", nlri=b""):
    return bgpmsg(2, struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs)) + attrs + nlri)


def mp_reach(afi, safi, nh, nlri, snpa=b"\x00"):
    return pattr(0x90, 14, struct.pack("!HB", afi, safi) + bytes([len(nh)]) + nh + snpa + nlri)


def mp_unreach(afi, safi, nlri):
    return pattr(0x90, 15, struct.pack("!HB", afi, safi) + nlri)


RD0 = struct.pack("!HHI", 0, 65001, 7)
RD1 = struct.pack("!H", 1) + bytes([10, 1, 2, 3]) + struct.pack("!H", 9)
RD2 = struct.pack("!HIH", 2, 4200000000, 5)
RD9 = struct.pack("!H", 9) + bytes(6)


def bgp():
    s = Set()
    caps = (cap(1, b"\x00\x01\x00\x01") + cap(1, b"\x00\x02\x00\x04") + cap(1, b"\x00\x19\x00\x41") + cap(1, b"\x00\x01") +
            cap(2, b"") + cap(128, b"") + cap(8, b"\x00\x01\x04\x03\x00\x02\x80\x01") +
            cap(64, b"\x80\x78\x00\x01\x01\x80\x00\x02\x01\x00") + cap(65, b"\xfa\x56\xea\x00") +
            cap(69, b"\x00\x01\x01\x01\x00\x02\x01\x07") + cap(69, b"") + cap(69, b"\x00\x01\x01") +
            cap(5, b"\x00\x01\x00\x01\x00\x02") + cap(99, b"\xaa\xbb\xcc"))
    s.add(40000, 179, bopen(caps))
    s.add(40000, 179, bopen(cap(64, b"\x80")))
    s.add(40000, 179, bopen(cap(65, b"\x00\x01")))
    s.add(40000, 179, bopen(cap(1, b"\x00\x01")))
    s.add(40000, 179, bopen(b"", raw_opts=b"\x01\x02\xab\xcd" + bytes([2, 6]) + cap(2, b"") + cap(70, b"")))
    s.add(40000, 179, bopen(b"", raw_opts=b"\x02\x09\x01\x00"))
    s.add(40000, 179, bopen(b"", raw_opts=bytes([2, 4, 1, 9, 0, 1])))
    s.add(40000, 179, bgpmsg(1, b"\x04\x00"))
    s.add(179, 40000, bgpmsg(4, b""))
    s.add(179, 40000, bgpmsg(5, b"\x00\x01\x00\x01"))
    s.add(179, 40000, bgpmsg(5, b"\x00\x02\x00\x80\xde\xad"))
    s.add(179, 40000, bgpmsg(5, b"\x00"))
    s.add(179, 40000, bgpmsg(7, b"\x01\x02\x03"))
    # Notifications.
    for major, minor, data in [(1, 2, b"\x00\x10"), (2, 2, b""), (2, 99, b""), (3, 11, b""), (4, 0, b""), (5, 3, b""),
                               (7, 4, b""), (9, 9, b""), (6, 1, b"\x00\x01\x01\x00\x00\x27\x10"), (6, 1, b"\x00\x01"),
                               (6, 2, b"\x0bmaintenance"), (6, 2, b"\x00"), (6, 4, b"\x05hi\x01there"), (6, 2, b"\x40short"),
                               (6, 2, b"\x00\xde\xad\xbe\xef"), (6, 3, b""), (6, 8, b"")]:
        s.add(179, 40000, bgpmsg(3, bytes([major, minor]) + data))
    s.add(179, 40000, bgpmsg(3, b"\x06"))
    s.add(179, 40000, bgpmsg(3, b"\x06\x02\x10truncated shutdown message"), cut=19 + 2 + 8)
    # Updates: withdrawn routes, attributes, NLRI.
    base = (pattr(0x40, 1, b"\x00") + pattr(0x40, 2, b"\x02\x02\xfd\xe9\xfd\xea\x01\x02\x00\x01\x00\x02") +
            pattr(0x40, 3, b"\x0a\x4f\x00\x01") + pattr(0x80, 4, b"\x00\x00\x00\x32") + pattr(0x40, 5, b"\x00\x00\x00\x64"))
    s.add(40000, 179, update(withdrawn=b"\x18\xc6\x33\x64\x10\x0a\xc8\x00", attrs=base, nlri=b"\x18\xc0\x00\x02\x19\xcb\x00\x71\x80\x00\x1f\x0a\x01\x02\x02"))
    s.add(40000, 179, update(withdrawn=b"\x00\x00\x00\x01\x18\xc6\x33\x64\x00\x00\x00\x02\x00"))
    s.add(40000, 179, update(withdrawn=b"\x21\x01\x02\x03\x04\x05"))
    s.add(40000, 179, update(withdrawn=b"\x18\x01"))
    s.add(40000, 179, update())
    s.add(40000, 179, update(attrs=base, nlri=b"\x00\x00\x00\x07\x18\xc0\x00\x02\x00\x00\x00\x08\x00"))
    s.add(40000, 179, update(attrs=base, nlri=b"\x28\x01"))
    s.add(40000, 179, update(attrs=base, nlri=b"\x18\x01\x02"))
    attrs = [
        pattr(0x40, 1, b"\x07"), pattr(0x40, 1, b"\x00\x00"), pattr(0x40, 2, b""), pattr(0x40, 2, b"\x02"),
        pattr(0x40, 2, b"\x01\x02\xfd\xe9\xfd\xea\x03\x01\x00\x07\x04\x01\x00\x08"),
        pattr(0x40, 2, b"\x02\x01\x00\x00\xfd\xe9\x01\x02\x00\x00\x00\x01\x00\x00\x00\x02"),
        pattr(0x40, 2, b"\x02\x03\x00\x01"), pattr(0xc0, 17, b"\x02\x01\xfa\x56\xea\x00"), pattr(0xc0, 17, b"\x07\x01\x00\x00\x00\x01"),
        pattr(0x40, 3, b"\x01\x02"), pattr(0x80, 4, b"\x01"), pattr(0x40, 6, b""), pattr(0x40, 6, b"\x01"),
        pattr(0xc0, 7, b"\xfd\xe9\x0a\x00\x00\x01"), pattr(0xc0, 7, b"\x00\x00\xfd\xe9\x0a\x00\x00\x01"), pattr(0xc0, 7, b"\x01\x02\x03"),
        pattr(0xc0, 18, b"\xfa\x56\xea\x00\x0a\x00\x00\x02"), pattr(0xc0, 18, b"\x01"),
        pattr(0xc0, 8, b"\xff\xff\xff\x01\xff\xff\xff\x02\xff\xff\xff\x03\xfd\xe9\x00\x07\x00\x01\x00\x02"), pattr(0xc0, 8, b"\x01\x02"),
        pattr(0x80, 9, b"\x0a\x00\x00\x09"), pattr(0x80, 9, b"\x0a"), pattr(0x80, 10, b"\x0a\x00\x00\x01\x0a\x00\x00\x02"), pattr(0x80, 10, b"\x0a\x00"),
        pattr(0xc0, 16, b"".join([struct.pack("!H", t) + v for t, v in [
            (0x0002, b"\xfd\xe9\x00\x00\x00\x64"), (0x0102, b"\x0a\x01\x02\x03\x00\x07"), (0x0202, b"\xfa\x56\xea\x00\x00\x05"),
            (0x0003, b"\x00\x01\x00\x00\x00\x02"), (0x4004, b"\xfd\xe9\x4b\x3e\xbc\x20"), (0x0005, b"\x0a\x00\x00\x01\x00\x00"),
            (0x0306, b"\x00\x00\x00\x00\x05\x01"), (0x8000, b"\x00\x00\x00\x01\x03\x00"), (0x800a, b"\x13\x05\x05\xdc\x00\x00"),
            (0x0009, b"\xfd\xe9\x00\x00\x00\x00"), (0x030c, b"\x00\x00\x00\x00\x00\x08"), (0x010b, b"\x0a\x00\x00\x01\x00\x02"),
            (0x000a, b"\x00\x01\x00\x00\x00\x02"), (0xf10a, b"\x0a\x00\x00\x01\x00\x02"), (0x0107, b"\x0a\x00\x00\x01\x00\x00"),
            (0x4242, b"\x01\x02\x03\x04\x05\x06"), (0x8801, b"\x00\x00\x00\x00\x00\x00"),
        ]])), pattr(0xc0, 16, b"\x00\x02\x00"),
        pattr(0xc0, 22, b"\x01\x06\x00\x01\x01\x0a\x00\x00\x01"), pattr(0xc0, 22, b"\x00\x03\x00\x00\x00\x0a\x00\x00\x01\xe8\x00\x00\x01"),
        pattr(0xc0, 22, b"\x00\x04\x00\x00\x00\x0a\x00\x00\x01\xe8\x00\x00\x01"), pattr(0xc0, 22, b"\x00\x02\x00\x00\x00\x0a\x00\x00\x01\x00\x00\x00\x05"),
        pattr(0xc0, 22, b"\x00\x01\x00\x00\x00\x0a\x00\x00\x01\x00\x00\x00\x05"), pattr(0xc0, 22, b"\x00\x09\x00\x00\x00\xaa\xbb"),
        pattr(0xc0, 22, b"\x00\x01"),
        pattr(0x80, 26, b"\x01\x00\x0b\x00\x00\x00\x00\x00\x00\x01\x00"), pattr(0x80, 26, b"\x05\x00\x05\xab\xcd"), pattr(0x80, 26, b"\x01\x00\x02"),
        pattr(0x80, 26, b"\x01\x00\x07\x00\x00\x00\x00"),
        pattr(0xc0, 32, b"\x00\x00\xfd\xe9\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\xfd\xea\x00\x00\x00\x03\x00\x00\x00\x04"), pattr(0xc0, 32, b"\x01"),
        pattr(0xc0, 128, b"\x00\x00\xfd\xe9" + pattr(0x40, 1, b"\x02") + pattr(0x50, 5, b"\x00\x00\x00\x05") + pattr(0xc0, 128, b"\x00\x00\x00\x01" + pattr(0x40, 6, b""))),
        pattr(0xc0, 128, b"\x00\x00\xfd\xe9\x40"), pattr(0xc0, 128, b"\x00\x00\xfd\xe9\x40\x01\x05\x00"), pattr(0xc0, 128, b"\x00\x00"),
        pattr(0xcf, 99, b"\x01\x02\x03\x04\x05"), pattr(0x50, 8, b"\x00\x01\x00\x02"), pattr(0x40, 255, b""),
    ]
    for a in attrs:
        s.add(40000, 179, update(attrs=a))
    nest = b"\x00\x00\x00\x09" + pattr(0x40, 6, b"")
    for _ in range(12):
        nest = b"\x00\x00\x00\x01" + pattr(0xd0, 128, nest)
    s.add(40000, 179, update(attrs=pattr(0xd0, 128, nest)))
    # Attribute framing errors.
    s.add(40000, 179, bgpmsg(2, b"\x00\x00\x00\x01\x40"))
    s.add(40000, 179, bgpmsg(2, b"\x00\x00\x00\x02\x50\x01"))
    s.add(40000, 179, bgpmsg(2, b"\x00\x00\x00\x04\x40\x01\x05\x00"))
    s.add(40000, 179, bgpmsg(2, b"\x00\x00\x00\x09\x40\x01\x01\x00"))
    s.add(40000, 179, bgpmsg(2, b"\x00\x05\x18"))
    # MP_REACH / MP_UNREACH for every family.
    v4nh = b"\x0a\x4f\x00\x01"
    v6nh = bytes.fromhex("20010db8000000000000000000000001")
    lab = lambda label, bos=1: struct.pack("!I", (label << 4 | bos) << 8)[:3]
    fams = [
        (1, 1, v4nh, b"\x18\xc0\x00\x02\x00"), (1, 2, v4nh + v4nh, b"\x20\xe0\x00\x00\x01"),
        (1, 1, v4nh, b"\x00\x00\x00\x01\x18\xc0\x00\x02\x00\x00\x00\x02\x10\x0a\x01"),
        (1, 4, v4nh, bytes([24 + 24]) + lab(100) + b"\xc0\x00\x02" + bytes([24 + 20]) + lab(7, 0) + b"\x0a\x10\x20" + b"\x10\x00\x00\x01"),
        (1, 128, bytes(8) + v4nh, bytes([24 + 64 + 24]) + lab(16) + RD0 + b"\xc0\x00\x02" + bytes([24 + 64 + 32]) + lab(17) + RD1 + b"\x0a\x00\x00\x01" + bytes([24 + 64 + 8]) + lab(18) + RD2 + b"\x0a" + bytes([24 + 64 + 8]) + lab(19) + RD9 + b"\x0b" + b"\x10"),
        (1, 132, v4nh, b"\x00" + b"\x60\x00\x00\xfd\xe9\x00\x02\xfd\xe9\x00\x00\x00\x07" + b"\x50\x00\x00\xfd\xe9\x01\x02\x0a\x00\x00\x01\x00\x00"[:5 + 6] +
         b"\x58\x00\x00\xfd\xe9\x02\x02\x00\x01\x00\x00\x00" + b"\x28\x00\x00\xfd\xe9\x00" + b"\x60\x00\x00\xfd\xe9\x42\x42\x01\x02\x03\x04\x05\x06" + b"\x10"),
        (1, 5, v4nh, bytes([1, 12]) + RD0 + v4nh + bytes([2, 12]) + RD1 + b"\x00\x00\xfd\xe9" + bytes([3, 22]) + RD0 + b"\x20\x0a\x00\x00\x05\x20\xe0\x00\x00\x05" + v4nh +
         bytes([5, 18]) + RD2 + b"\x20\x0a\x00\x00\x05\x00" + bytes([6, 22]) + RD0 + b"\x00\x00\xfd\xe9\x00\x20\xe0\x00\x00\x05" + bytes([7, 30]) + RD0 + b"\x00\x00\xfd\xe9\x80" + v6nh + b"\x00" + bytes([4, 3, 1, 2, 3]) + bytes([9, 0])),
        (1, 66, v4nh, bytes([128]) + RD0 + b"\x0a\x00\x00\x01\xe8\x01\x01\x01" + bytes([127])),
        (2, 1, v6nh + bytes.fromhex("fe800000000000000000000000000001"), b"\x40\x20\x01\x0d\xb8\x00\x01\x00\x00\x00\x00\x81"),
        (2, 4, v6nh, bytes([24 + 48]) + lab(3) + b"\x20\x01\x0d\xb8\x00\x02" + b"\x05"),
        (2, 128, bytes(8) + v6nh, bytes([24 + 64 + 32]) + lab(3) + RD0 + b"\x20\x01\x0d\xb8" + b"\x50"),
        (3, 1, bytes.fromhex("470006010a000001"), b"\x28\x47\x00\x06\x01\x0a\x00\x00" + b"\x00\x00\x00\x00"),
        (3, 128, bytes(8) + bytes.fromhex("470006010a000001"), bytes([24 + 64 + 16]) + lab(5) + RD1 + b"\x49\x00"),
        (3, 128, bytes(8) + bytes.fromhex("35000020010db8000000000000000000000001"), b""),
        (3, 129, b"\x01\x02", b""),
        (196, 128, v4nh, struct.pack("!H", 12) + RD0 + v4nh + struct.pack("!H", 24) + RD0 + b"\x00\x01\x00\x02" + lab(800) + b"\x01\x00\x0c\xab\xcd" + b"\x07\x00\x08\x11" + struct.pack("!H", 20) + RD1 + b"\x00\x01\x00\x02" + lab(8) + b"\x01\x00\x20\xaa\xbb" + struct.pack("!H", 13)),
        (25, 65, v4nh, struct.pack("!H", 19) + RD0 + b"\x00\x01\x00\x02" + lab(8) + b"\x09\x00\x10\xab"),
        (1, 70, v4nh, b"\x01\x02\x03"), (2, 2, b"\x01", b""), (1, 128, b"\x01\x02", b""),
    ]
    for afi, safi, nh, nlri in fams:
        s.add(40000, 179, update(attrs=mp_reach(afi, safi, nh, nlri)))
        s.add(40000, 179, update(attrs=mp_unreach(afi, safi, nlri)))
    s.add(40000, 179, update(attrs=mp_reach(1, 1, v4nh, b"\x08\x0a", snpa=b"\x02\x03abc\x01z")))
    s.add(40000, 179, update(attrs=mp_reach(1, 1, v4nh, b"", snpa=b"\x02\x03abc")))
    s.add(40000, 179, update(attrs=mp_reach(1, 1, v4nh, b"", snpa=b"")))
    s.add(40000, 179, update(attrs=mp_reach(1, 1, b"\x01\x02\x03\x04\x05\x06", b"")))
    s.add(40000, 179, update(attrs=mp_unreach(2, 1, b"")))
    s.add(40000, 179, update(attrs=pattr(0x90, 14, b"\x00\x01")))
    # Segments: several messages, junk before a marker, bad lengths, cut messages.
    two = bgpmsg(4, b"") + update(attrs=base, nlri=b"\x18\xc0\x00\x02") + bgpmsg(4, b"")
    s.add(179, 40000, two)
    s.add(179, 40000, b"junk\xff\xfe" + bgpmsg(4, b"") + b"\xffpartial")
    s.add(179, 40000, b"\xff" * 16 + b"\x00\x05\x04")
    s.add(179, 40000, bgpmsg(4, b"") + b"\xff" * 16 + b"\x00\x40\x02")
    s.add(179, 40000, b"\xff" * 17 + b"\x00")
    s.add(179, 40000, bgpmsg(4, b"") + update(attrs=base, nlri=b"\x18\xc0\x00\x02"), cut=19 + 30)
    rich_open = bopen(cap(1, b"\x00\x01\x00\x01") + cap(64, b"\x80\x78\x00\x01\x01\x80") + cap(65, b"\x00\x00\xfd\xe9") + cap(69, b"\x00\x01\x01\x03"))
    s.prefixes(40002, 179, rich_open)
    rich_upd = update(withdrawn=b"\x18\xc6\x33\x64", attrs=base + attrs[18] + attrs[24][:3 + 32] + mp_reach(2, 1, v6nh, b"\x30\x20\x01\x0d\xb8\x00\x01") + attrs[-12], nlri=b"\x18\xc0\x00\x02")
    s.prefixes(179, 40002, rich_upd)
    s.prefixes(179, 40003, update(attrs=mp_reach(1, 128, bytes(8) + v4nh, bytes([24 + 64 + 24]) + lab(16) + RD0 + b"\xc0\x00\x02")))
    s.prefixes(179, 40004, update(attrs=mp_reach(1, 5, v4nh, bytes([3, 22]) + RD0 + b"\x20\x0a\x00\x00\x05\x20\xe0\x00\x00\x05" + v4nh)))
    s.prefixes(179, 40005, bgpmsg(3, b"\x06\x02\x05hello\xab\xcd"))
    return s


# ------------------------------------------------------------------ telnet, PPTP, BEEP, MSDP
def telnet():
    s = Set()
    IAC, SB, SE = 255, 250, 240
    for p in [bytes([IAC, 251, 1, IAC, 253, 3, IAC, 251, 24, IAC, 252, 34]), bytes([IAC, 253, 39, IAC, 253, 200]),
              bytes([IAC, SB, 24, 1, IAC, SE]), bytes([IAC, SB, 24, 0]) + b"xterm" + bytes([IAC, SE]),
              bytes([IAC, SB, 37, 1, 2, 3, 4, IAC, SE]), bytes([IAC, SB, 37, 9, 8, IAC, SE]), bytes([IAC, SB, 38, 0, 1, IAC, SE]),
              bytes([IAC, SB, 38, 7, 5, 0, IAC, SE]), bytes([IAC, SB, 31, 0, 80, 0, 24, IAC, SE]), bytes([IAC, SB, 99, 1, IAC, SE]),
              bytes([IAC, SB, 24, 1, 2, 3]), bytes([IAC, SB, 24, IAC]), bytes([IAC, IAC, IAC, 241, IAC, 246, IAC, 236, IAC, 249]),
              bytes([IAC, 100]), bytes([IAC]), bytes([IAC, 251]), b"login: ", bytes([IAC, 251, 1]) + b"data after",
              bytes([IAC, SB, 37, IAC, SE]), bytes([IAC, SB, 38, 4, IAC, SE]), bytes([IAC, SB, 0, IAC, SE, IAC, 254, 0])]:
        s.add(23, 40000, p)
    s.prefixes(40001, 23, bytes([IAC, 251, 1, IAC, SB, 24, 0]) + b"vt100" + bytes([IAC, SE, IAC, 253, 3]))
    return s


def pptp_hdr(t, body, length=None, cookie=0x1A2B3C4D, mt=1, res=0):
    l = 12 + len(body) if length is None else length
    return struct.pack("!HHIHH", l, mt, cookie, t, res) + body


def pptp():
    s = Set()
    name = lambda x, n=64: x + bytes(n - len(x))
    msgs = [
        (1, struct.pack("!HHIIHH", 0x0100, 0, 3, 3, 16, 0x1234) + name(b"host.example") + name(b"vendor")),
        (2, struct.pack("!HBBIIHH", 0x0100, 1, 0, 1, 2, 1, 5) + name(b"srv") + name(b"linux")),
        (3, b"\x02\x00\x00\x00"), (3, b"\x07\x01\x00\x05"), (4, b"\x01\x00\x00\x00"), (5, b"\x00\x00\x00\x2a"),
        (6, b"\x00\x00\x00\x2a\x02\x03\x00\x00"),
        (7, struct.pack("!HHIIIIHHHH", 1, 2, 300, 100000, 3, 2, 16, 0, 5, 0) + name(b"12345") + name(b"sub")),
        (8, struct.pack("!HHBBHIHHI", 1, 2, 1, 0, 0, 64000, 16, 0, 7)),
        (9, struct.pack("!HHIIHH", 1, 2, 1, 7, 3, 70) + name(b"555") + name(b"777") + name(b"")),
        (10, struct.pack("!HHBBHHH", 1, 2, 3, 6, 16, 0, 1)), (11, struct.pack("!HHIHHI", 2, 0, 64000, 16, 0, 1)),
        (12, struct.pack("!HH", 1, 9)), (13, struct.pack("!HBBHH", 1, 3, 0, 0, 0) + name(b"stats", 128)),
        (14, struct.pack("!HHIIIIII", 1, 0, 1, 2, 3, 4, 5, 6)), (15, struct.pack("!HHII", 1, 0, 0xffffffff, 0)), (16, b""), (0, b""),
    ]
    for t, b in msgs:
        s.add(40000, 1723, pptp_hdr(t, b))
    s.add(40000, 1723, pptp_hdr(5, b"\x00\x00\x00\x01", cookie=0xdeadbeef, mt=2, res=4))
    s.add(40000, 1723, pptp_hdr(5, b"\x00\x00\x00\x01", mt=7))
    s.add(40000, 1723, pptp_hdr(1, msgs[0][1]), cut=12 + 40)
    s.add(40000, 1723, pptp_hdr(7, msgs[7][1]), cut=12 + 40)
    s.add(40000, 1723, pptp_hdr(13, msgs[13][1]), cut=12 + 15)
    s.prefixes(1723, 40001, pptp_hdr(2, msgs[1][1][:24]), step=1)
    return s


def beep():
    s = Set()
    for p in [b"MSG 0 1 . 0 52\r\n", b"MSG\0", b"RPY 0 1 . 0 10\r\n", b"ERR 1", b"ANS 0", b"NUL 0", b"SEQ 0 1 4096\r\n",
              b"END\r\n", b"END\0", b"xyz data", b"RP", b"MSG"]:
        s.add(40000, 10288, p)
    s.add(40000, 10288, b"RPY 0 1", cut=2)
    return s


def msdp():
    s = Set()
    sa = bytes([1]) + struct.pack("!H", 3 + 1 + 4 + 12) + b"\x01\x0a\x00\x00\x01" + b"\x00\x00\x00\x20\xe0\x01\x01\x01\x0a\x00\x00\x05"
    inner = frame(5000, 6000, b"hi")[14:]
    sa_data = bytes([1]) + struct.pack("!H", 3 + 1 + 4 + 12 + len(inner)) + b"\x01\x0a\x00\x00\x01" + b"\x00\x00\x00\x20\xe0\x01\x01\x01\x0a\x00\x00\x05" + inner
    for p in [sa, sa_data, bytes([3]) + sa[1:], bytes([2, 0, 8, 0]) + b"\xe0\x01\x02\x03", bytes([4, 0, 3]), bytes([4, 0, 5, 1, 2]),
              bytes([5, 0, 5, 1, 2]), bytes([7, 0, 4, 9]), bytes([4, 0, 3]) * 3 + sa, bytes([0, 0, 3]), bytes([4, 0, 2]),
              bytes([4, 0, 3, 4, 0, 2]), bytes([4, 0, 3, 4, 0, 9]), bytes([4, 6, 0]), bytes([4, 0x05, 0xdd]) + bytes(1498), bytes([4])]:
        s.add(40000, 639, p)
    s.prefixes(639, 40001, sa + bytes([4, 0, 3]))
    return s


# ------------------------------------------------------------------ RPKI-RTR, LDP
def rtr(t, sid, body):
    return struct.pack("!BBHI", 0, t, sid, 8 + len(body)) + body


def rpki():
    s = Set()
    v4 = rtr(4, 0, b"\x01\x18\x18\x00\xc0\x00\x02\x00\x00\x00\xfd\xe9")
    v6 = rtr(6, 0, b"\x00\x20\x30\x00" + bytes.fromhex("20010db8000000000000000000000000") + b"\x00\x00\xfd\xea")
    pdus = [rtr(0, 0x1234, b"\x00\x00\x00\x07"), rtr(1, 7, b"\x00\x00\x00\x08"), rtr(2, 0, b""), rtr(3, 0xabcd, b""), v4, v6,
            rtr(7, 9, b"\x00\x00\x00\x09"), rtr(8, 0, b""), rtr(0, 0, b""), rtr(2, 0, b"\x00"), rtr(4, 0, b"\x00"), rtr(9, 0, b"\xaa\xbb"),
            rtr(10, 2, struct.pack("!I", len(v4)) + v4 + struct.pack("!I", 5) + b"oops!"),
            rtr(10, 99, struct.pack("!I", 0) + struct.pack("!I", 0)),
            rtr(10, 1, struct.pack("!I", 28) + rtr(10, 0, struct.pack("!I", 12) + rtr(2, 0, b"") + b"\x00\x00\x00\x00") + b"\x00\x00\x00\x00"),
            rtr(10, 1, struct.pack("!I", 99) + b"\x00\x00\x00\x00"), rtr(10, 1, struct.pack("!I", 0) + struct.pack("!I", 50) + b"x"),
            rtr(10, 1, b"\x00"), b"\x01\x00\x00\x00\x00\x00\x00\x08", b"\x00\x00\x00", struct.pack("!BBHI", 0, 4, 0, 200)]
    for p in pdus:
        s.add(323, 40000, p)
    s.add(323, 40000, b"".join(pdus[:8]))
    s.prefixes(323, 40001, pdus[12])
    return s


def ldp_tlv(t, v, u=0):
    return struct.pack("!HH", t | u, len(v)) + v


def ldp_msg(t, mid, tlvs):
    return struct.pack("!HHI", t, 4 + len(tlvs), mid) + tlvs


def ldp_pdu(msgs, ver=1, lsr=b"\x0a\x00\x00\x01"):
    body = b"".join(msgs)
    return struct.pack("!HH", ver, 6 + len(body)) + lsr + b"\x00\x00" + body


def ldp():
    s = Set()
    init = ldp_msg(0x200, 1, ldp_tlv(0x500, struct.pack("!HHBBH", 1, 180, 0, 0, 0x4000) + b"\x0a\x00\x00\x02\x00\x00") +
                   ldp_tlv(0x503, struct.pack("!HHII", 0x800f, 0, 120000, 0)) + ldp_tlv(0x601, b"\x05\xdc"))
    addr = ldp_msg(0x300, 2, ldp_tlv(0x101, b"\x00\x01\x0a\x00\x00\x01\x0a\x4f\x00\x01") + ldp_tlv(0x101, b"\x00\x02" + bytes(16)) + ldp_tlv(0x101, b"\x00\x09ab"))
    fec_p4 = ldp_tlv(0x100, b"\x02\x00\x01\x18\xc0\x00\x02")
    mapping = ldp_msg(0x400, 3, fec_p4 + ldp_tlv(0x200, b"\x00\x00\x00\x10"))
    martini = ldp_tlv(0x100, b"\x80\x80\x05\x0e\x00\x00\x00\x01\x00\x00\x00\x64" + b"\x01\x04\x05\xdc" + b"\x03\x05abc" + b"\x0c\x04\x03\x02")
    msgs = [
        ldp_msg(0x100, 9, ldp_tlv(0x400, b"\x00\x0f\xc0\x00") + ldp_tlv(0x401, b"\x0a\x00\x00\x01") + ldp_tlv(0x402, b"\x00\x00\x00\x05") + ldp_tlv(0x403, bytes(16))),
        init, ldp_msg(0x201, 4, b""), addr, mapping, ldp_msg(0x402, 5, martini + ldp_tlv(0x100, b"\x80\x00\x05\x00\x00\x00\x00\x07")),
        ldp_msg(0x1, 6, ldp_tlv(0x300, b"\x80\x00\x00\x0a\x00\x00\x00\x03", u=0xc000) + ldp_tlv(0x300, b"\x00\x00\x00\x0a\x00\x00\x00\x00")),
        ldp_msg(0x401, 7, fec_p4), ldp_msg(0x3e00, 8, b"\x01\x02"),
        ldp_msg(0x400, 10, ldp_tlv(0x100, b"\x02\x00\x02\x30\x20\x01\x0d\xb8\x00\x01") + ldp_tlv(0x100, b"\x02\x00\x01\x28") + ldp_tlv(0x100, b"\x02\x00\x01\x18\x01") +
                ldp_tlv(0x100, b"\x02\x00\x07") + ldp_tlv(0x100, b"\x01") + ldp_tlv(0x100, b"\x03\x00") + ldp_tlv(0x100, b"\x99")),
        ldp_msg(0x400, 11, ldp_tlv(0x100, b"\x80\x00\x05\x02\x00\x00\x00\x01\x00\x00\x00\x02") + ldp_tlv(0x100, b"\x80\x00\x05\x10\x00\x00\x00\x01\x00\x00\x00\x02")),
        ldp_msg(0x100, 12, ldp_tlv(0x400, b"\x00") + ldp_tlv(0x104, b"\x01\x02\x03\x04") + ldp_tlv(0x2222, b"\x01")),
        ldp_msg(0x100, 13, struct.pack("!HH", 0x400, 40) + b"\x00\x00"),
    ]
    for m in msgs:
        s.add(646, 40000, ldp_pdu([m]))
    s.add(646, 40000, ldp_pdu(msgs[:5]))
    s.add(646, 40000, ldp_pdu([msgs[0]]) + ldp_pdu([msgs[2]]))
    s.add(646, 40000, ldp_pdu([msgs[0]], ver=2))
    s.add(646, 40000, struct.pack("!HH", 1, 4) + bytes(16))
    s.add(646, 40000, ldp_pdu([b"\x01\x00\x00\x02\x00\x00\x00\x01" + bytes(8)]))
    s.add(646, 40000, ldp_pdu([msgs[0]])[:-4] + bytes(8))
    s.add(646, 40000, ldp_pdu([msgs[4]]) + b"\x00\x01\x00\x40" + bytes(20))
    s.prefixes(646, 40001, ldp_pdu([init, msgs[0]]))
    return s


# ------------------------------------------------------------------ NFS over TCP
def u32(*v):
    return b"".join(struct.pack("!I", x & 0xFFFFFFFF) for x in v)


def u64(v):
    return struct.pack("!Q", v)


def rpc_call(xid, vers, proc, args, cred=None):
    cred = cred if cred is not None else u32(1, 20) + u32(0x5f5e100) + u32(6) + b"client" + b"\0\0" + u32(0)
    return u32(xid, 0, 2, 100003, vers, proc) + cred + u32(0, 0) + args


def rpc_reply(xid, body, astat=0):
    return u32(xid, 1, 0) + u32(0, 0) + u32(astat) + body


def mark(msg, last=True):
    return u32((0x80000000 if last else 0) | len(msg)) + msg


def fh3(b):
    return u32(len(b)) + b + bytes((-len(b)) % 4)


def fname(n):
    return u32(len(n)) + n + bytes((-len(n)) % 4)


FATTR = u32(1, 0o100644, 1, 1000, 0xfffffffe) + u64(6) + u64(4096) + u32(0, 0) + u64(0x1234abcd) + u64(0x99) + u32(1700000000, 5) + u32(1700000001, 123456) + u32(1700000002, 999999999)
FATTR_DIR = u32(2, 0o40755, 2, 0, 0) + u64(4096) + u64(4096) + u32(8, 1) + u64(7) + u64(2) + u32(1, 2) + u32(3, 4) + u32(5, 6)
POST = u32(1) + FATTR
WCC = u32(1) + u64(100) + u32(10, 20) + u32(30, 40) + POST
FATTR2 = u32(1, 0o100600, 1, 0, 0, 1234, 4096, 0, 8, 9, 77, 1, 2, 3, 4, 5, 6)


def nfs():
    s = Set()
    xid = [0x1000]
    handles = [
        bytes.fromhex("01000701") + bytes.fromhex("8e2c7a5b") + bytes(4) + bytes.fromhex("0200000000000000") + bytes(8),  # Linux-like
        bytes.fromhex("0a0b0000") + bytes.fromhex("01020000") + bytes(8) + bytes.fromhex("11223344"),  # BSD44
        bytes.fromhex("0a0b0000") + bytes.fromhex("01020304") + bytes(12) + b"\x01\x00\x02\x00" + bytes(4),  # Ultrix
        bytes.fromhex("0a0b0000") + bytes.fromhex("01020304") + b"\x00\x0a" + bytes(6) + b"\x00\x00\x00\x2a",  # SunOS5
        bytes.fromhex("00000000") + bytes.fromhex("00000102") + bytes(4) + bytes.fromhex("000000ff"),  # Auspex
        bytes.fromhex("00000101") + bytes.fromhex("05000000") + b"\x0c\x00\x00\x00" + bytes.fromhex("2a000000"),  # DecOSF
        bytes.fromhex("00000203") + bytes.fromhex("00080000") + bytes.fromhex("00000063") + bytes(4),  # IRIX4
        bytes.fromhex("00000203") + bytes.fromhex("01020304") + bytes.fromhex("00000063") + bytes.fromhex("00000064"),  # SunOS4
        bytes.fromhex("0a0b0c0d") + bytes(4) + b"\x00\x0a\x00\x00" + bytes.fromhex("00000065"),  # HPUX9
        bytes.fromhex("0a0b0c0d") + bytes.fromhex("000000ff") + b"\x00\x0a\x00\x00" + bytes.fromhex("00000066"),  # SunOS5 (else)
        b"\x01DKA100 \x00\x00\x00\x00\x00\x00\x00" + bytes(8) + b"\x05\x00\x00\x00\x07\x08" + bytes(2),  # VMS UCX
        b"\x01\x01\x00\x00ABCD\x00\x00" + bytes.fromhex("ffffffff") + bytes(14),  # VMS-looking, minor 257
        bytes.fromhex("0a0b0c0d") + bytes.fromhex("0102ffff") + bytes.fromhex("ff0a0000") + bytes.fromhex("00000067"),  # unknown
        bytes.fromhex("01020304050607"),  # short
        bytes(64),
    ]

    def pair(vers, proc, args, reply, hidx=0, v2fh=False):
        x = xid[0]
        xid[0] += 1
        s.add(40000, 2049, mark(rpc_call(x, vers, proc, args)))
        if reply is not None:
            s.add(2049, 40000, mark(rpc_reply(x, reply)), src="10.79.0.2", dst="10.79.0.1")

    H = fh3(handles[0])
    for h in handles:
        pair(3, 1, fh3(h), u32(0) + FATTR)
    pair(3, 0, b"", b"")
    pair(3, 2, H + u32(1, 0o755, 1, 1000, 0, 1, 1, 0, 2, 1700000000, 7, 0), u32(0) + WCC)
    pair(3, 2, H + u32(0, 0, 0, 0, 0, 0, 0), u32(1) + u32(0) + u32(0))
    pair(3, 3, H + fname(b"hello.txt"), u32(0) + fh3(handles[1]) + POST + u32(1) + FATTR_DIR)
    pair(3, 3, H + fname(b"missing"), u32(2) + u32(1) + FATTR_DIR)
    for acc in [0x3f, 0x01, 0x02 | 0x08 | 0x20, 0x04 | 0x10, 0x40, 0]:
        pair(3, 4, H + u32(acc), u32(0) + POST + u32(acc & 0x1f))
    pair(3, 5, H, u32(0) + POST + fname(b"/target/of/link"))
    pair(3, 6, H + u64(8192) + u32(4096), u32(0) + POST + u32(6, 1) + fname(b"hello\n"))
    pair(3, 6, H + u64(0) + u32(10), u32(13) + u32(0))
    for m in [0, 1, 2, 7]:
        pair(3, 7, H + u64(4096) + u32(9, m) + fname(b"uploaded\n"), u32(0) + WCC + u32(9, m) + u64(0xdeadbeefcafe))
    pair(3, 8, H + fname(b"new.txt") + u32(0) + u32(1, 0o644, 0, 0, 0, 0, 0), u32(0) + u32(1) + fh3(handles[2]) + POST + WCC)
    pair(3, 8, H + fname(b"exists") + u32(1), u32(17) + WCC)
    pair(3, 9, H + fname(b"dir") + u32(1, 0o755, 0, 0, 0, 0, 0), u32(0) + u32(0) + WCC)
    pair(3, 10, H + fname(b"sym") + u32(0, 0, 0, 0, 0, 0) + fname(b"/etc/passwd"), u32(0) + u32(1) + fh3(handles[3]) + u32(0) + WCC)
    pair(3, 10, H + fname(b"sym2") + u32(1, 0o777, 1, 5, 1, 6, 0, 2, 11, 12, 2, 13, 14) + fname(b"x"), u32(30) + WCC)
    pair(3, 11, H + fname(b"tty") + u32(4) + u32(1, 0o600, 0, 0, 0, 0, 0) + u32(4, 64), u32(0) + u32(1) + fh3(handles[4]) + POST + WCC)
    pair(3, 11, H + fname(b"fifo") + u32(7) + u32(0, 0, 0, 0, 0, 0), u32(0) + u32(0) + WCC)
    pair(3, 11, H + fname(b"odd") + u32(99) + u32(0, 0, 0, 0, 0, 0), u32(10004) + WCC)
    pair(3, 12, H + fname(b"old.txt"), u32(0) + WCC)
    pair(3, 13, H + fname(b"dir"), u32(66) + WCC)
    pair(3, 14, H + fname(b"a") + fh3(handles[5]) + fname(b"b"), u32(0) + WCC + WCC)
    pair(3, 15, H + fh3(handles[6]) + fname(b"hard"), u32(0) + POST + WCC)
    pair(3, 16, H + u64(0xffffffffffffffff) + u64(0x0102030405060708) + u32(4096), u32(0) + POST + u64(0x1122334455667788) + u32(0, 1))
    pair(3, 17, H + u64(5) + u64(0) + u32(1024, 8192), u32(0) + POST + u64(0xaabbccdd) + u32(0, 1))
    pair(3, 18, H, u32(0) + POST + u64(10**12) + u64(10**11) + u64(10**10) + u64(1000) + u64(900) + u64(800) + u32(0))
    pair(3, 19, H, u32(0) + POST + u32(1048576, 1048576, 8, 1048576, 1048576, 4096, 4096) + u64(0x7fffffffffffffff) + u32(0, 1) + u32(0x1b))
    pair(3, 20, H, u32(0) + POST + u32(32000, 255, 1, 1, 0, 1))
    pair(3, 20, H, u32(70) + u32(0))
    pair(3, 21, H + u64(0) + u32(0), u32(0) + WCC + u64(0x55aa))
    pair(3, 99, H, u32(0))
    pair(3, 1, H, None)
    pair(4, 1, H, u32(0) + u32(0))
    # v2.
    H2 = handles[0] + bytes(32 - len(handles[0]))
    pair(2, 1, H2, u32(0) + FATTR2)
    pair(2, 4, H2 + fname(b"f"), u32(0) + H2 + FATTR2)
    pair(2, 4, H2 + fname(b"nope"), u32(2))
    pair(2, 6, H2 + u32(0, 1024, 0), u32(0) + FATTR2 + fname(b"data"))
    pair(2, 8, H2 + u32(0, 512, 3, 3) + fname(b"abc"), u32(0) + FATTR2)
    pair(2, 16, H2 + u32(0, 512), u32(0) + u32(0) + u32(1))
    pair(2, 17, H2, u32(0) + u32(8192, 4096, 1000, 500, 400))
    pair(2, 5, H2, u32(0) + fname(b"/x"))
    pair(2, 13, H2 + fname(b"l") + fname(b"/t") + u32(0) * 8, u32(0))
    pair(2, 3, H2, u32(0))
    # Odd replies and framing.
    x = 0x9000
    s.add(40000, 2049, mark(rpc_call(x, 3, 1, H)))
    s.add(2049, 40000, mark(u32(x, 1, 1, 0, 2, 4)), src="10.79.0.2", dst="10.79.0.1")
    s.add(2049, 40000, mark(u32(x, 1, 1, 1, 5)), src="10.79.0.2", dst="10.79.0.1")
    s.add(2049, 40000, mark(u32(x, 1, 1, 1, 99)), src="10.79.0.2", dst="10.79.0.1")
    s.add(2049, 40000, mark(u32(x, 1, 1, 7)), src="10.79.0.2", dst="10.79.0.1")
    s.add(2049, 40000, mark(u32(x, 1, 7)), src="10.79.0.2", dst="10.79.0.1")
    s.add(2049, 40000, mark(rpc_reply(x, b"", astat=1)), src="10.79.0.2", dst="10.79.0.1")
    s.add(2049, 40000, mark(rpc_reply(x, b"", astat=9)), src="10.79.0.2", dst="10.79.0.1")
    s.add(2049, 40000, mark(u32(x, 1, 0) + u32(0, 500)), src="10.79.0.2", dst="10.79.0.1")
    s.add(2049, 40000, mark(rpc_reply(0x7777, u32(0) + FATTR)), src="10.79.0.2", dst="10.79.0.1")
    s.add(40000, 2049, mark(rpc_call(0x9001, 3, 1, H, cred=u32(1, 400) + bytes(8))))
    s.add(40000, 2049, mark(rpc_call(0x9002, 3, 3, H + u32(0xfffffffe) + b"ab")))
    s.add(40000, 2049, mark(rpc_call(0x9003, 3, 3, H + u32(50) + b"ab")))
    s.add(40000, 2049, u32(0x80000100) + rpc_call(0x9004, 3, 1, H))
    s.add(40000, 2049, b"\x80\x00")
    s.add(40000, 2049, mark(u32(0x9005)))
    s.add(40000, 2049, mark(u32(0x9006, 1, 0)))
    s.add(2049, 40000, mark(u32(0x9007, 0, 2)), src="10.79.0.2", dst="10.79.0.1")
    s.add(40000, 2049, mark(u32(0x9008, 0, 2, 100003, 3)))
    s.add(40000, 2049, mark(rpc_call(0x9009, 3, 1, fh3(bytes(80)))))
    # Truncated captures of a call and its reply.
    call = mark(rpc_call(0x9100, 3, 7, H + u64(4096) + u32(9, 2) + fname(b"uploaded\n")))
    s.prefixes(40002, 2049, call)
    for n in range(0, 200, 3):
        s.add(40002, 2049, call)
        s.add(2049, 40002, mark(rpc_reply(0x9100, u32(0) + WCC + u32(9, 2) + u64(1))), cut=n, src="10.79.0.2", dst="10.79.0.1")
    s.add(40003, 2049, mark(rpc_call(0x9101, 3, 1, H)))
    for n in range(0, 120, 2):
        s.add(2049, 40003, mark(rpc_reply(0x9101, u32(0) + FATTR)), cut=n, src="10.79.0.2", dst="10.79.0.1")
    return s


# ------------------------------------------------------------------ the port switch itself
def dispatch():
    """Which printer wins when both ends use known ports, in print-tcp.c's order."""
    s = Set()
    dns_q = tcpdns(dns_hdr(0x4242, 0x0100) + name("a", "b") + struct.pack("!HH", 1, 1))
    resp_p = b"*1\r\n$4\r\nPING\r\n"
    bgp_k = bgpmsg(4, b"")
    telnet_p = bytes([255, 251, 1])
    http_p = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    for sp, dp, p in [
        (23, 25, telnet_p), (25, 23, b"220 hi\r\n"), (25, 43, b"220 hi\r\n"), (43, 179, b"whois\r\n"),
        (179, 1723, bgp_k), (1723, 6379, resp_p), (6379, 22, resp_p), (22, 80, b"SSH-2.0-x\r\n"),
        (22, 80, http_p), (139, 53, dns_q), (445, 80, http_p), (139, 445, b"\x00\x00\x00\x04abcd"),
        (10288, 6633, b"MSG 0 1 . 0 5\r\n"), (6633, 21, b"\x01\x00\x00\x08\x00\x00\x00\x01"), (6653, 40000, b"\x04\x00\x00\x08\x00\x00\x00\x01"),
        (21, 80, b"220 ftp\r\n"), (8080, 554, http_p), (554, 8554, b"RTSP/1.0 200 OK\r\n\r\n"), (8554, 53, b"x"),
        (53, 639, dns_q), (639, 323, bytes([4, 0, 3])), (323, 646, rtr(2, 0, b"")), (646, 2049, b"\x00\x01\x00\x00"),
        (2049, 40000, b"\x80\x00"), (40000, 2049, b"\x80\x00\x00"), (2049, 2049, mark(rpc_call(1, 3, 1, fh3(bytes(8))))),
        (40000, 2049, mark(rpc_reply(1, u32(0)))), (2049, 40000, mark(rpc_call(2, 3, 1, fh3(bytes(8))))),
        (110, 40000, b"+OK POP3\r\n"), (143, 40000, b"* OK IMAP\r\n"), (5060, 40000, b"SIP/2.0 200 OK\r\n\r\n"),
        (40000, 80, b""), (40000, 53, b""),
    ]:
        s.add(sp, dp, p)
    s.add(40000, 53, dns_q, flags=0x14)
    s.add(40000, 6379, resp_p, flags=0x04)
    return s


# ------------------------------------------------------------------ OpenFlow
def ofm(ver, t, body, xid=1, length=None):
    return struct.pack("!BBHI", ver, t, 8 + len(body) if length is None else length, xid) + body


def openflow_v():
    """OpenFlow messages whose decoding tcpdump does itself at every -v level (no body
    decoder, HELLO/ECHO data, bad lengths, unknown versions and types)."""
    s = Set()
    for p in [ofm(1, 0, b""), ofm(1, 0, b"hello data, 20 bytes"), ofm(1, 2, bytes(range(40))), ofm(1, 3, b"x"),
              ofm(1, 5, b""), ofm(1, 5, b"\x00"), ofm(1, 7, b""), ofm(1, 18, b""), ofm(1, 19, b""), ofm(1, 19, b"ab"),
              ofm(1, 1, b"\x00"), ofm(1, 6, bytes(4)), ofm(1, 8, bytes(3)), ofm(1, 11, bytes(8)), ofm(1, 22, b"zz"), ofm(1, 255, b""),
              ofm(4, 2, b"ping"), ofm(4, 3, b""), ofm(4, 5, b""), ofm(4, 10, bytes(30)), ofm(4, 11, b""), ofm(4, 13, b"\x01"),
              ofm(4, 14, bytes(12)), ofm(4, 15, b""), ofm(4, 18, bytes(8)), ofm(4, 19, bytes(4)), ofm(4, 20, b""), ofm(4, 21, b"\x00"),
              ofm(4, 23, bytes(6)), ofm(4, 26, b""), ofm(4, 29, bytes(9)), ofm(4, 30, b""), ofm(4, 6, bytes(3)), ofm(4, 0, b"", length=4),
              ofm(2, 0, b""), ofm(3, 5, b""), ofm(5, 0, b"ab"), ofm(6, 1, b""), ofm(9, 9, b""),
              ofm(1, 0, b"") + ofm(1, 2, b"abc") + ofm(4, 20, b""), ofm(1, 2, b"12345678", length=100), ofm(1, 0, b"", length=3) + ofm(1, 0, b""),
              b"\x01", b"\x01\x00", b"\x01\x00\x00", b"\x01\x00\x00\x08\x00\x00", ofm(1, 0, b"") + b"\x04\x02"]:
        s.add(40000, 6653, p)
        s.add(6633, 40000, p)
    s.add(40000, 6653, ofm(1, 2, bytes(range(64))), cut=30)
    s.prefixes(40001, 6633, ofm(1, 2, b"echo!") + ofm(4, 3, b"reply"))
    return s


def openflow():
    """Messages with bodies tcpdump decodes only with -v (golden files without -v only)."""
    s = Set()
    for ver, types in [(1, range(0, 22)), (4, range(0, 30))]:
        for t in types:
            for n in [0, 4, 8, 24, 56, 64, 80]:
                s.add(40000, 6653, ofm(ver, t, bytes(n)))
    s.add(40000, 6653, ofm(1, 14, bytes(64)) + ofm(1, 10, bytes(10)) + ofm(4, 12, bytes(72)))
    s.add(40000, 6653, ofm(1, 14, bytes(64)), cut=40)
    return s


# ------------------------------------------------------------------ found by differential fuzzing
def frame_ipopts(sport, dport, payload, opts, frag=0x4000):
    """A frame with IP options and chosen fragment bits (checksums correct)."""
    s, d = bytes([10, 79, 0, 1]), bytes([10, 79, 0, 2])
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000, 5 << 4, 0x18, 502, 0, 0) + payload
    c = csum(s + d + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    opts = opts + bytes((-len(opts)) % 4)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45 + len(opts) // 4, 0, 20 + len(opts) + len(tcp), 7, frag, 64, 6, 0, s, d) + opts
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\x79\x00\x00\x00\x02\x02\x79\x00\x00\x00\x01\x08\x00" + ip + tcp


def fuzzfound():
    """Inputs on which tracer and tcpdump printed differently until fixed (the fuzz
    corpora replayed through both, tracer/fuzz/README.md)."""
    s = Set()
    v4nh = b"\x0a\x4f\x00\x01"
    lab = lambda label, bos=1: struct.pack("!I", (label << 4 | bos) << 8)[:3]
    # BGP L2VPN NLRI overflowing tcpdump's 164-byte buffer: later pieces are dropped and
    # the circuit status vector stops advancing.
    big_csv = struct.pack("!H", 15 + 3 + 100) + RD0 + b"\x00\x01\x00\x02" + lab(8) + b"\x01\x03\x20" + bytes(range(100))
    unk = struct.pack("!H", 15 + 3 * 12) + RD1 + b"\x00\x01\x00\x02" + lab(8) + b"\x07\x00\x08" * 12
    for nlri in [big_csv, unk, big_csv + struct.pack("!H", 12) + RD0 + v4nh, unk + big_csv]:
        s.add(40000, 179, update(attrs=mp_reach(25, 65, v4nh, nlri)))
    # BGP link bandwidth that is not a number.
    for bw in [b"\x7f\xc0\x00\x00", b"\xff\xc0\x00\x00", b"\x7f\x80\x00\x00", b"\xff\x80\x00\x00", b"\x00\x00\x00\x01", b"\x4b\x3e\xbc\x20"]:
        s.add(40000, 179, update(attrs=pattr(0xc0, 16, b"\x40\x04\xfd\xe9" + bw)))
    # MSDP SA-Request whose group address was not captured.
    for n in [3, 5, 8]:
        s.add(40000, 639, bytes([2, 0, 8, 0]) + b"\xe0\x01\x02\x03", cut=n)
    # RPKI-RTR error report whose encapsulated length wraps tcpdump's u_int sum.
    inner = rtr(4, 0, b"\x01\x18\x18\x00\xc0\x00\x02\x00\x00\x00\xfd\xe9")
    for enc in [0xfffffff8, 0xfffffffc, 0xffffffff]:
        s.add(323, 40000, rtr(10, 1, struct.pack("!I", enc) + inner + b"\x00\x00\x00\x05oops!"))
    # LDP Martini VC FEC too short for its VC ID, the group ID not captured.
    fec = ldp_tlv(0x100, b"\x80\x80\x05\x05\x00\x00\x00\x01")
    p = ldp_pdu([ldp_msg(0x400, 3, fec)])
    for cut in [len(p) - 5, len(p) - 2, len(p)]:
        s.add(646, 40000, p, cut=cut)
    # IP options with a zero route pointer (a u_int in tcpdump: every address gets its
    # comma) and several fragment flags at once.
    for opts, frag in [(b"\x83\x0b\x00" + bytes([10, 0, 0, 1, 10, 0, 0, 2]), 0x6000), (b"\x07\x07\x00\x01\x02\x03\x04", 0xe000),
                       (b"\x89\x0b\x04" + bytes(8), 0xa000), (b"\x83\x07\x08\x01\x02\x03\x04", 0x2000)]:
        s.p.append((frame_ipopts(40000, 80, b"GET / HTTP/1.0\r\n\r\n", opts, frag), None))
    return s

SETS = {"fuzzfound": fuzzfound, "openflow": openflow, "openflow-v": openflow_v, "dispatch": dispatch, "nfs": nfs, "dns": dns, "resp": resp, "bgp": bgp, "telnet": telnet, "pptp": pptp, "beep": beep,
        "msdp": msdp, "rpki-rtr": rpki, "ldp": ldp}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    names = sys.argv[2:] or list(SETS)
    for n in names:
        write_pcap(f"{out}/crafted-{n}.pcap", SETS[n]().p)
