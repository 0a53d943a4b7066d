#!/usr/bin/env python3
"""Seeds the fuzz corpora from the application captures (../tests/data/app/*.pcap).

python3 seed.py   writes corpus/<target>/<n> for every TCP segment with a payload: byte 0
selects the port and direction as src/lib.rs reads it, byte 1 is 255 (all captured).
"""
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
    print(n, "seeds")


main()
