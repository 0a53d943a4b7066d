#!/usr/bin/env python3
"""Replays a fuzz corpus through tracer and tcpdump side by side (differential check).

python3 replay.py TARGET [FLAGS...]   frames every input of corpus/TARGET the way src/lib.rs
does (segments captured shorter than their TCP header are left out: tracer -r skips
packets it cannot tell are TCP), writes /tmp/replay-TARGET.pcap and compares
`tracer -r` with `tcpdump -r` in -nn, -nn -v, -nn -vv, -nn -vvv (or FLAGS), printing the
first differing lines.
"""
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "data", "app"))
import craft  # noqa: E402

exec(open(os.path.join(HERE, "seed.py")).read().split("def segments")[0])  # APP_PORTS, TARGETS

target = sys.argv[1]
ports = TARGETS[target]  # noqa: F821
pkts = []
for f in sorted(glob.glob(os.path.join(HERE, "corpus", target, "*"))):
    d = open(f, "rb").read()
    if len(d) < 2 or len(d) > 60000:
        continue
    port = ports[(d[0] & 0x3F) % len(ports)]
    back = d[0] & 0x80
    sp, dp = (port, 40000) if back else (40000, port)
    src, dst = ("10.79.0.2", "10.79.0.1") if back else ("10.79.0.1", "10.79.0.2")
    fr = craft.frame(sp, dp, d[2:], src=src, dst=dst)
    cut = len(fr) if d[1] == 255 else len(fr) * d[1] // 255
    if cut >= 54:
        pkts.append((fr, cut))
pcap = f"/tmp/replay-{target}.pcap"
craft.write_pcap(pcap, pkts)
tracer = os.path.join(HERE, "..", "..", "target", "release", "tracer")
env = dict(os.environ, TZ="UTC")
modes = [sys.argv[2:]] if len(sys.argv) > 2 else [["-nn"], ["-nn", "-v"], ["-nn", "-vv"], ["-nn", "-vvv"]]
bad = 0
for m in modes:
    a = subprocess.run(["tcpdump", "-r", pcap] + m, capture_output=True, env=env).stdout.decode("latin-1").split("\n")
    b = subprocess.run([tracer, "-r", pcap] + m, capture_output=True, env=env).stdout.decode("latin-1").split("\n")
    if a != b:
        bad += 1
        i = next(i for i in range(min(len(a), len(b))) if a[i] != b[i]) if any(x != y for x, y in zip(a, b)) else min(len(a), len(b))
        print(f"{target} {' '.join(m)}: first difference at line {i + 1}\n  tcpdump: {a[i] if i < len(a) else ''}\n  tracer:  {b[i] if i < len(b) else ''}")
print(f"{target}: {len(pkts)} inputs, {len(modes) - bad} of {len(modes)} modes identical")
sys.exit(1 if bad else 0)
