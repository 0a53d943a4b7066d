#!/usr/bin/env python3
"""Writes the link-type corpus: one small capture per link type that carries IP/TCP,
plus captures with out-of-range timestamps.  Run from this folder: `python3 make.py`.

Every capture holds the same conversations (IPv4 and IPv6: SYN, SYN/ACK, ACK, an HTTP
request, FIN) behind the link header of its type, and non-IP frames of that link type
(control protocols, unknown families and types) so that the printer's non-IP paths are
compared too. tcpdump -r is the oracle (tests/pcap_linktypes.rs); nothing here encodes
what tcpdump prints.
"""

import struct

A4, B4 = bytes([10, 81, 0, 1]), bytes([10, 81, 0, 2])
A6 = bytes.fromhex("fd810000000000000000000000000001")
B6 = bytes.fromhex("fd810000000000000000000000000002")
HTTP = b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"
BASE = 1_700_000_000


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", v6=False):
    opts = b"\x02\x04\x05\xb4\x01\x01\x04\x02" if flags & 0x02 else b""
    off = (20 + len(opts)) // 4
    hdr = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 64240, 0, 0)
    seg = hdr + opts + payload
    if v6:
        pseudo = src + dst + struct.pack(">IxxxB", len(seg), 6)
    else:
        pseudo = src + dst + struct.pack(">xBH", 6, len(seg))
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack(">H", c) + seg[18:]


def ipv4(src, dst, seg, ident):
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), ident, 0x4000, 64, 6, 0, src, dst)
    return hdr[:10] + struct.pack(">H", csum(hdr)) + hdr[12:] + seg


def ipv6(src, dst, seg):
    return struct.pack(">IHBB", 0x60000000, len(seg), 6, 64) + src + dst + seg


def conversation4(sport):
    a, b = A4, B4
    return [
        ipv4(a, b, tcp(a, b, sport, 80, 1000, 0, 0x02), 1),
        ipv4(b, a, tcp(b, a, 80, sport, 5000, 1001, 0x12), 2),
        ipv4(a, b, tcp(a, b, sport, 80, 1001, 5001, 0x10), 3),
        ipv4(a, b, tcp(a, b, sport, 80, 1001, 5001, 0x18, HTTP), 4),
        ipv4(a, b, tcp(a, b, sport, 80, 1001 + len(HTTP), 5001, 0x11), 5),
    ]


def conversation6(sport):
    a, b = A6, B6
    return [
        ipv6(a, b, tcp(a, b, sport, 443, 7000, 0, 0x02, v6=True)),
        ipv6(b, a, tcp(b, a, 443, sport, 9000, 7001, 0x12, v6=True)),
        ipv6(a, b, tcp(a, b, sport, 443, 7001, 9001, 0x18, b"hello", v6=True)),
        ipv6(a, b, tcp(a, b, sport, 443, 7006, 9001, 0x11, v6=True)),
    ]


def write(name, linktype, frames, be=False, nanos=False, times=None):
    e = ">" if be else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)
    for i, f in enumerate(frames):
        if isinstance(f, tuple):
            f, wire = f
        else:
            wire = len(f)
        sec, frac = times[i] if times else (BASE + i, (i * 137) % 1000 * (1000 if nanos else 1))
        out += struct.pack(e + "IIII", sec, frac, len(f), wire) + f
    with open(name, "wb") as fh:
        fh.write(out)


def ip_frames(wrap4, wrap6, sport=40000):
    frames = [wrap4(p) for p in conversation4(sport)]
    frames += [wrap6(p) for p in conversation6(sport + 1)]
    return frames


# LINKTYPE_NULL (0): the address family in the capturing host's byte order.
def null_frames(pack):
    fam = lambda af: lambda p: struct.pack(pack, af) + p
    f = ip_frames(fam(2), fam(30))
    f += [fam(24)(p) for p in conversation6(41000)[:1]]
    f += [fam(28)(p) for p in conversation6(41001)[:1]]
    f.append(fam(99)(b"\x01\x02\x03\x04not an ip packet"))
    f.append(fam(2)(b"\x45\x00"))  # IPv4 cut short
    f.append(struct.pack(pack, 2)[:3])  # shorter than the family
    return f


write("null.pcap", 0, null_frames("<I"))
write("null-be.pcap", 0, null_frames(">I"), be=True)
# Families in the other byte order than the file's: tcpdump's printer guesses the order,
# libpcap's filter does not.
write("null-swapped.pcap", 0, null_frames(">I"))
# LINKTYPE_LOOP (108): network byte order.
write("loop.pcap", 108, null_frames(">I"))

# LINKTYPE_RAW (101) and the raw one-version types.
raw = ip_frames(lambda p: p, lambda p: p)
write("raw.pcap", 101, raw + [b"\x50\x00\x00\x00", b""[:0] + b"\x45"])
write("ipv4.pcap", 228, [p for p in raw if p[0] >> 4 == 4] + [conversation6(42000)[0]])
write("ipv6.pcap", 229, [p for p in raw if p[0] >> 4 == 6] + [conversation4(42001)[0]])

# PPP (9): address/control, then the protocol.
lcp_confreq = bytes.fromhex("01010012" "010405dc" "0506 1a2b3c4d" "0702" "0802")
lcp_echo = bytes.fromhex("09020008" "1a2b3c4d")
lcp_termreq = bytes.fromhex("05030004")
ipcp_confreq = bytes.fromhex("0101000a" "0306 0a510001")
ppp = lambda proto: lambda p: b"\xff\x03" + struct.pack(">H", proto) + p
ppp_frames = ip_frames(ppp(0x0021), ppp(0x0057))
ppp_frames += [
    ppp(0xC021)(lcp_confreq),
    ppp(0xC021)(lcp_echo),
    ppp(0xC021)(lcp_termreq),
    ppp(0x8021)(ipcp_confreq),
    ppp(0x80FD)(bytes.fromhex("01050004")),  # CCP
    ppp(0x1234)(b"\x00\x01\x02\x03"),  # unknown protocol
    ppp(0x0021)(b"\x45"),  # IPv4 cut short
    b"\xff\x03\x00",  # header cut short
]
# Address/control field compression and protocol field compression.
ppp_frames.append(b"\x00\x21" + conversation4(43000)[0])
ppp_frames.append(b"\xff\x03\x21" + conversation4(43001)[0])
write("ppp.pcap", 9, ppp_frames)

# PPP in HDLC-like framing (50): PPP_ADDRESS first, else Cisco HDLC, else unknown.
hdlc = ip_frames(ppp(0x0021), ppp(0x0057))
hdlc += [
    ppp(0xC021)(lcp_confreq),
    ppp(0x8021)(ipcp_confreq),
    b"\x0f\x00\x08\x00" + conversation4(44000)[0],  # Cisco HDLC inside
    b"\x12\x34\x00\x21" + conversation4(44001)[0],  # unknown address
    b"\xff",
]
write("ppp-hdlc.pcap", 50, hdlc)

# Cisco HDLC (104): address (unicast 0x0f, broadcast 0x8f), control, ethertype.
chdlc = lambda addr, et: lambda p: bytes([addr, 0]) + struct.pack(">H", et) + p
ch = ip_frames(chdlc(0x0F, 0x0800), chdlc(0x8F, 0x86DD))
slarp_keep = struct.pack(">IIIH", 2, 7, 6, 0xFFFF) + struct.pack(">I", 93784000)
ch += [
    chdlc(0x8F, 0x8035)(slarp_keep),
    chdlc(0x8F, 0x8035)(struct.pack(">I4s4sH", 1, A4, b"\xff\xff\xff\x00", 0xFFFF)),
    chdlc(0x0F, 0x8035)(struct.pack(">I4s4sH", 0, bytes(4), bytes(4), 0)),
    chdlc(0x0F, 0x1234)(b"\x01\x02\x03"),
    b"\x0f\x00\x08",
]
write("chdlc.pcap", 104, ch)


# Linux cooked v1 (113) and v2 (276), every packet type, and a non-IP protocol.
def sll(ptype, proto):
    return lambda p: struct.pack(">HHH8sH", ptype, 1, 6, bytes.fromhex("02000a510001") + b"\0\0", proto) + p


def sll2(ptype, proto):
    return lambda p: struct.pack(">HHIHBB8s", proto, 0, 1, 1, ptype, 6, bytes.fromhex("02000a510001") + b"\0\0") + p


for name, lt, mk in (("sll.pcap", 113, sll), ("sll2.pcap", 276, sll2)):
    fr = []
    for i, p in enumerate(conversation4(45000) + conversation6(45001)):
        ptype = [0, 4, 1, 2, 3, 7][i % 6]
        fr.append(mk(ptype, 0x0800 if p[0] >> 4 == 4 else 0x86DD)(p))
    fr.append(mk(0, 0x88B5)(b"local experimental ethertype"))
    write(name, lt, fr)

# Out-of-range timestamps: fractions of a second or more, and seconds past 2^31.
t_frames = conversation4(46000) + conversation6(46001)
us_times = [
    (BASE, 5),
    (BASE, 1_000_000),
    (BASE + 1, 999_999),
    (BASE + 1, 0xFFFFFFFF),
    (BASE + 2, 1_500_000),
    (BASE + 2, 3),
    (0x80000005, 10),
    (BASE + 3, 0x80000000),
    (BASE + 3, 2_000_000),
]
write("ts-overflow-us.pcap", 101, t_frames[: len(us_times)], times=us_times)
ns_times = [
    (BASE, 5_000),
    (BASE, 1_000_000_000),
    (BASE + 1, 999_999_999),
    (BASE + 1, 0xFFFFFFFF),
    (BASE + 2, 1_500_000_123),
    (BASE + 2, 3_000),
    (0x80000005, 10_000),
    (BASE + 3, 3_000_000_000),
    (BASE + 3, 2_000_000_999),
]
write("ts-overflow-ns.pcap", 101, t_frames[: len(ns_times)], nanos=True, times=ns_times)

# PPP control protocols: every LCP code and option, IPCP and IP6CP options, the other
# control protocols, bogus lengths, and every PPP protocol name tcpdump has.
def cp(code, ident, data):
    return struct.pack(">BBH", code, ident, 4 + len(data)) + data


ctl = []
for o in range(32):
    ctl.append(ppp(0xC021)(cp(1, o, bytes([o, 6, 1, 2, 3, 4]))))
lcp_opts = [
    "020600000000", "0304c023", "0305c22305", "0305c22380", "0305c22381", "0305c22377",
    "0304c227", "0304c027", "0304c123", "0304c025", "0408c0250000000a", "04080000",
    "0d0306", "0d0300", "0d0302", "0d0303", "0d0304", "0d0309", "1104059c",
    "17040001", "0104 05dc", "0506 1a2b3c4d", "0702", "0802", "000600000c01",
    "1307 02 0a510001", "1309 03 02000a510001", "1303 00", "1303 01", "1303 02", "1303 03", "1303 04", "1303 05", "1303 06",
]
for i, hx in enumerate(lcp_opts):
    ctl.append(ppp(0xC021)(cp(1 + i % 4, i, bytes.fromhex(hx))))
ctl.append(ppp(0xC021)(cp(1, 1, bytes.fromhex("".join(lcp_opts[:12])))))
# Bogus lengths, each followed by a good option.
for hx in ["0103 0702", "0102 0702", "0101 0702", "0106000000", "ff03aa 0702", "0505 01020304 0702",
           "0203 0702", "0303 0702", "0403 0702", "1103 0702", "1703 0702", "0d02 0702", "1302 0702",
           "0005 00000c 0702", "0001"]:
    ctl.append(ppp(0xC021)(cp(1, 9, bytes.fromhex(hx))))
for code in range(0, 17):
    ctl.append(ppp(0xC021)(cp(code, code, bytes.fromhex("1a2b3c4d"))))
ctl.append(ppp(0xC021)(cp(9, 1, bytes.fromhex("1a2b3c4d deadbeef"))))
ctl.append(ppp(0xC021)(cp(13, 1, bytes.fromhex("1a2b3c4d 00000e10 6869"))))
ctl.append(ppp(0xC021)(cp(12, 1, bytes.fromhex("1a2b3c4d 6869"))))
ctl.append(ppp(0xC021)(cp(8, 1, bytes.fromhex("80fd 01010004"))))
ctl.append(ppp(0xC021)(cp(8, 1, bytes.fromhex("80fd"))))
ctl.append(ppp(0xC021)(cp(8, 1, bytes.fromhex("12"))))
ctl.append(ppp(0xC021)(cp(6, 1, b"")))
for hx in ["01", "0101", "010100", "0101000201", "01010030", "0101000c0104"]:
    ctl.append(ppp(0xC021)(bytes.fromhex(hx)))
ipcp_opts = [
    "0306 0a510001", "0206 002d 0f01", "0206 0102 0304", "010a 0a510001 0a510002",
    "0106 01020304", "0406 01020304", "8106 08080808", "8206 01020304", "8306 08080404",
    "8406 01020304", "8506 01020304", "0006 01020304", "0303 0306 01020304",
    "0203 0306 01020304", "0205 0061 00 0306 01020304", "020e 0061 000f 0010 0100 0005 0028",
    "0214 0061 000f 0010 0100 0005 0028 0102 0202 0306 01020304",
    "0214 0061 000f 0010 0100 0005 0028 0103 0000 0306 01020304",
    "0210 0061 000f 0010 0100 0005 0028 0103", "0101", "0306 0a51",
]
for i, hx in enumerate(ipcp_opts):
    ctl.append(ppp(0x8021)(cp(1 + i % 4, i, bytes.fromhex(hx))))
for hx in ["010a 0011223344556677", "0106 00112233 0306 01020304", "0206 01020304", "0101",
           "010a 0011", "0306 01020304 01"]:
    ctl.append(ppp(0x8057)(cp(1, 2, bytes.fromhex(hx))))
for proto in (0x8023, 0x8281, 0x80FD, 0xC02B):
    ctl.append(ppp(proto)(cp(5, 1, b"")))
    ctl.append(ppp(proto)(cp(9, 1, bytes.fromhex("1a2b3c4d"))))
for proto in (0x0025, 0x0027, 0x0029, 0x002D, 0x0031, 0x0033, 0x0035, 0x00FD, 0x0201, 0x0231,
              0x0233, 0x8025, 0x8027, 0x8029, 0x802B, 0x8033, 0x8035, 0xC025, 0xC027, 0xC03D,
              0xC227, 0x0800, 0x86DD, 0x4321, 0x00C1):
    ctl.append(ppp(proto)(cp(1, 1, b"")))
ctl.append(b"\x00\x03\x00\x21" + conversation4(47000)[0])  # pppd: in
ctl.append(b"\x01\x03\x00\x57" + conversation6(47001)[0])  # pppd: out
ctl.append(b"\x00\x03\xc0\x21" + lcp_echo)
ctl.append(b"\xff\x03\x00\x2f" + conversation4(47002)[0])  # VJ uncompressed: tcpdump's IP
write("ppp-control.pcap", 9, ctl)

# More Cisco HDLC: SLARP with an unknown code, trailing junk, cut short; an address that
# is neither unicast nor broadcast.
ch2 = [
    chdlc(0x8F, 0x8035)(struct.pack(">IIIH", 9, 1, 2, 3)),
    chdlc(0x8F, 0x8035)(slarp_keep + b"junk"),
    chdlc(0x8F, 0x8035)(struct.pack(">IIIH", 2, 7, 6, 1)),
    chdlc(0x8F, 0x8035)(struct.pack(">II", 2, 7)),
    chdlc(0x8F, 0x8035)((struct.pack(">IIIH", 2, 7, 6, 1) + struct.pack(">I", 5000))[:16], ),
    chdlc(0x42, 0x0800)(conversation4(48000)[0]),
]
ch2[4] = (ch2[4], len(ch2[4]) + 2)
write("chdlc-slarp.pcap", 104, ch2)
