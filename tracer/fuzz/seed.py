#!/usr/bin/env python3
"""Seeds the fuzz corpora from the test captures.

python3 seed.py   writes corpus/<target>/<n>:
- the application targets: every TCP segment with a payload of ../tests/data/app/*.pcap;
  byte 0 selects the port and direction as src/lib.rs reads it, byte 1 is 255 (all captured);
- pcap_reader: the link-type captures, the conformance corpus and the heads of the
  connection captures, whole files;
- printer: each of their frames, with the link-type byte src/targets.rs reads;
- live_record: their Ethernet frames as kernel ring records (plain, GSO, VLAN-offloaded,
  layer-3), and connection, HTTP and socket records;
- filter: the expressions of ../tests/filter_table.rs, each with a frame after a NUL;
- conn: a handshake, a pipelined HTTP exchange and a close, in the target's packet format.
"""
import re
import glob
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
APP_PORTS = [23, 25, 43, 179, 1723, 6379, 22, 139, 445, 10288, 6633, 6653, 21, 80, 8080, 554, 8554, 53, 639, 323, 646, 2049]
TARGETS = {"dns": [53], "resp": [6379], "bgp": [179], "telnet": [23], "pptp": [1723], "beep": [10288], "msdp": [639],
           "rpki_rtr": [323], "ldp": [646], "nfs": [2049], "openflow": [6633, 6653], "txtproto": [21, 25, 43, 80, 8080, 554, 8554, 22], "app_all": APP_PORTS}


def segments(path):
    b = open(path, "rb").read()
    o = 24
    while o + 16 <= len(b):
        incl, orig = struct.unpack("<II", b[o + 8:o + 16])
        d = b[o + 16:o + 16 + incl]
        o += 16 + incl
        if len(d) < 14 + 20 + 20 or incl != orig:
            continue
        et = struct.unpack("!H", d[12:14])[0]
        if et == 0x0800:
            ihl = (d[14] & 15) * 4
            tl = struct.unpack("!H", d[16:18])[0]
            tcp, end = 14 + ihl, 14 + tl
        elif et == 0x86DD:
            tcp, end = 54, 54 + struct.unpack("!H", d[18:20])[0]
        else:
            continue
        sp, dp = struct.unpack("!HH", d[tcp:tcp + 4])
        off = (d[tcp + 12] >> 4) * 4
        pl = d[tcp + off:end]
        if pl:
            yield sp, dp, pl


def main():
    n = 0
    for pcap in sorted(glob.glob(os.path.join(HERE, "..", "tests", "data", "app", "*.pcap"))):
        for sp, dp, pl in segments(pcap):
            for t, ports in TARGETS.items():
                for i, p in enumerate(ports):
                    if p in (sp, dp):
                        sel = i | (0x80 if p == sp else 0)
                        d = os.path.join(HERE, "corpus", t)
                        os.makedirs(d, exist_ok=True)
                        with open(os.path.join(d, "seed-%05d" % n), "wb") as f:
                            f.write(bytes([sel, 255]) + pl)
                        n += 1
                        break
    n += capture_seeds()
    print(n, "seeds")


# src/targets.rs LINKS: pcap link type number -> the byte that picks it.
LINK_BYTE = {1: 0, 0: 1, 108: 3, 101: 4, 12: 4, 14: 4, 228: 5, 229: 6, 9: 7, 50: 8, 104: 9, 113: 10, 276: 11}


def records(path):
    """(linktype, caplen, wire_len, frame) of every record of a classic pcap."""
    b = open(path, "rb").read()
    if len(b) < 24:
        return
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    link = struct.unpack(e + "I", b[20:24])[0] & 0xFFFF
    o = 24
    while o + 16 <= len(b):
        incl, orig = struct.unpack(e + "II", b[o + 8:o + 16])
        d = b[o + 16:o + 16 + incl]
        o += 16 + incl
        yield link, orig, d


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def packet_record(frame, wire, ifindex, direction, flags=0, tci=0, proto=0, gso=0, ts=10**9):
    h = struct.pack("=HHIQIIBBHHH", 1, 4, ifindex, ts, wire, len(frame), direction, flags, tci, proto, gso)
    return h + frame


def capture_seeds():
    n = 0
    files = sorted(glob.glob(os.path.join(HERE, "..", "tests", "data", "linktypes", "*.pcap")))
    # The conformance corpus, as `cargo xtask fuzz` found it (TRACER_CONFORMANCE).
    corpus = os.environ.get("TRACER_CONFORMANCE")
    if corpus:
        files += sorted(glob.glob(os.path.join(corpus, "pcaps", "*.pcap*")))
    conn = sorted(glob.glob(os.path.join(HERE, "..", "tests", "data", "conn", "*.pcap")))
    for f in files + conn:
        data = open(f, "rb").read()
        write("pcap_reader", "file-" + os.path.basename(f), data[:16384])
        n += 1
        for i, (link, wire, frame) in enumerate(records(f)):
            if i >= 40:
                break
            if link in LINK_BYTE:
                extra = max(0, min(wire - len(frame), 0xFFFE))
                write("printer", "%s-%d" % (os.path.basename(f), i),
                      bytes([LINK_BYTE[link]]) + struct.pack("<HI", extra, 123456000) + frame)
                n += 1
            if link == 1:
                sel = (0 << 1)  # kind 1 (packet), plain decoder
                recs = [packet_record(frame, wire, 1, 1), packet_record(frame, wire, 3, 0)]
                if len(frame) == wire and len(frame) > 200:
                    recs.append(packet_record(frame, wire, 1, 1, gso=100))
                recs.append(packet_record(frame, wire, 2, 1, flags=1, tci=7, proto=0x8100))
                recs.append(packet_record(b"\0" * 12 + frame[12:], wire, 4, 0, flags=2))
                for j, r in enumerate(recs):
                    write("live_record", "%s-%d-%d" % (os.path.basename(f), i, j), bytes([sel | (j & 1)]) + r)
                    n += 1
    # Connection (kind 2), HTTP (3), state (4), retransmission (5) and owner (6) records.
    sizes = {2: 224, 3: 88 + 88, 4: 136, 5: 136, 6: 136}
    for k, size in sizes.items():
        body = bytearray(size)
        struct.pack_into("=HHIQ", body, 0, k, 4, 1, 10**9)
        for at in range(16, size, 7):
            body[at] = (at * 37) & 0xFF
        write("live_record", "record-kind-%d" % k, bytes([(k - 1) << 1]) + bytes(body))
        n += 1
    table = open(os.path.join(HERE, "..", "tests", "filter_table.rs")).read()
    exprs = re.findall(r'^    "((?:[^"\\]|\\.)*)",$', table, re.M)
    frames = [fr for f in files for link, _, fr in records(f) if link == 1][:8] or [b""]
    for i, e in enumerate(exprs):
        write("filter", "expr-%03d" % i, e.encode() + b"\0" + frames[i % len(frames)])
        n += 1
    # conn: [flow/dir, dt us, seq delta, ack delta, flags, window, payload kind, payload len] + payload
    def pkt(flow, d, dt, ds, da, flags, kind=0, payload=b""):
        return struct.pack("<BHHHBHBB", flow | (d << 2), dt, ds, da, flags, 502, kind, len(payload)) + payload
    s = b"".join([
        pkt(0, 0, 0, 0, 0, 0x02), pkt(0, 1, 50, 0, 1, 0x12), pkt(0, 0, 40, 1, 1, 0x10),
        pkt(0, 0, 10, 0, 0, 0x18, 1, b"a"), pkt(0, 0, 10, 17, 0, 0x18, 1, b"b"),
        pkt(0, 1, 300, 0, 34, 0x18, 2, b"200"), pkt(0, 1, 10, 20, 0, 0x18, 2, b"404"),
        pkt(1, 0, 5, 0, 0, 0x02), pkt(1, 1, 5, 0, 1, 0x04),
        pkt(0, 0, 100, 0, 0, 0x11), pkt(0, 1, 100, 0, 1, 0x11), pkt(0, 0, 10, 1, 1, 0x10),
        pkt(2, 0, 1000, 7, 0, 0x02), pkt(2, 1, 20, 0, 0, 0x10, 0, b"\0" * 0), pkt(2, 0, 60000, 0, 0, 0x10),
    ])
    write("conn", "handshake-http-close", s)
    return n + 1


main()
