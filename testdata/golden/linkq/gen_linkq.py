#!/usr/bin/env python3
"""Generate linkq.json: per TCP connection of every lab capture, what
tshark says about the figures flow/linkq's verdict uses.

usage: python3 testdata/golden/linkq/gen_linkq.py [CORPUS_LAB_DIR]

For each TCP stream: the data direction (the sender of more payload), its
data segments (tcp.len > 0), the segments tshark flags
tcp.analysis.retransmission (for reference: linkq counts differently, see
DIFFERENCES.md), the largest window the data receiver advertised in non-SYN
segments (tcp.window_size: scaled by tshark from the handshake), and the
smaller MSS option of the SYNs. Also, per ping or UDP echo capture, the
number of echo requests and replies tshark sees.
"""
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "..", "shared", "corpus", "lab")
corpus = os.path.abspath(corpus)

FIELDS = ["tcp.stream", "ip.src", "tcp.len", "tcp.window_size", "tcp.flags.syn",
          "tcp.analysis.retransmission", "tcp.options.mss_val"]


def tshark(path, flt, fields):
    out = subprocess.run(["tshark", "-n", "-r", path, "-Y", flt, "-T", "fields", "-E", "separator=\t"]
                         + sum([["-e", f] for f in fields], []),
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


out = {}
for name in sorted(os.listdir(corpus)):
    if not (name.endswith(".pcap") or name.endswith(".pcapng")):
        continue
    path = os.path.join(corpus, name)
    streams = {}
    for row in tshark(path, "tcp", FIELDS):
        st, src, ln, win, syn, retx, mss = (row + [""] * 7)[:7]
        s = streams.setdefault(int(st), {"dirs": {}, "order": [], "mss": []})
        if src not in s["dirs"]:
            s["dirs"][src] = {"payload": 0, "data": 0, "retx": 0, "maxwin": 0}
            s["order"].append(src)
        d = s["dirs"][src]
        ln = int(ln or 0)
        if ln > 0:
            d["payload"] += ln
            d["data"] += 1
            if retx:
                d["retx"] += 1
        if syn == "1":
            if mss:
                s["mss"].append(int(mss))
        elif win:
            d["maxwin"] = max(d["maxwin"], int(win))
    conns = []
    for st in sorted(streams):
        s = streams[st]
        order = s["order"]
        data = max(order, key=lambda a: (s["dirs"][a]["payload"], -order.index(a)))
        rcv = [a for a in order if a != data]
        conns.append({
            "stream": st,
            "data_src": data,
            "data_segments": s["dirs"][data]["data"],
            "tshark_retransmissions": s["dirs"][data]["retx"],
            "receiver_max_window": s["dirs"][rcv[0]]["maxwin"] if rcv else 0,
            "mss": min(s["mss"]) if s["mss"] else 0,
        })
    rec = {"tcp": conns}
    icmp = tshark(path, "icmp.type==8 || icmp.type==0", ["icmp.type"])
    udp = tshark(path, "udp.dstport==7 || udp.srcport==7", ["udp.dstport"])
    if icmp or udp:
        rec["echo_requests"] = sum(1 for r in icmp if r[0] == "8") + sum(1 for r in udp if r[0] == "7")
        rec["echo_replies"] = sum(1 for r in icmp if r[0] == "0") + sum(1 for r in udp if r[0] != "7")
    out[name] = rec

with open(os.path.join(here, "linkq.json"), "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")

# Echo captures of the public corpus: what tshark (two passes, so requests
# know their response) counts. A frame's first icmp.type / icmpv6.type is
# its own; a second one belongs to the packet an error quotes.
pub = os.path.join(os.path.dirname(corpus), "public", "echo")
echo = {}
for name in sorted(os.listdir(pub)) if os.path.isdir(pub) else []:
    path = os.path.join(pub, name)
    out = subprocess.run(["tshark", "-2", "-n", "-r", path, "-Y", "icmp || icmpv6", "-T", "fields",
                          "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,",
                          "-e", "icmp.type", "-e", "icmpv6.type", "-e", "icmp.resp_in", "-e", "icmpv6.resp_in"],
                         check=True, capture_output=True, text=True).stdout
    rec = {"requests": 0, "replies": 0, "matched": 0, "errors_quoting_echo": 0}
    for line in out.splitlines():
        t4, t6, r4, r6 = (line.split("\t") + [""] * 4)[:4]
        types = [int(x) for x in (t4 or t6).split(",") if x]
        if not types:
            continue
        own, v6 = types[0], bool(t6) and not t4
        req, rep = (128, 129) if v6 else (8, 0)
        if own == req:
            rec["requests"] += 1
            if r4 or r6:
                rec["matched"] += 1
        elif own == rep:
            rec["replies"] += 1
        elif len(types) > 1 and types[1] == req:
            rec["errors_quoting_echo"] += 1
    echo[name] = rec

with open(os.path.join(here, "echo.json"), "w") as f:
    json.dump(echo, f, indent=1, sort_keys=True)
    f.write("\n")
