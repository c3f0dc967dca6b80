#!/usr/bin/env python3
"""Generate the TNS SDU/TDU goldens from tshark.

For every capture in ../shared/corpus/public/tns, list per TCP connection
the Connect and Accept packets tshark dissects, with tns.version,
tns.sdu_size and tns.max_tdu_size (the 2-byte fields: Connect bytes 14-17,
Accept bytes 12-15 of the packet, header included), and the tcp.payload
bytes that version 315 and later use for 4-byte sizes (Connect bytes 58-65
when the connect data starts at 66 or later, Accept bytes 32-39), which
tshark 4.0 does not decode: "large_sdu" and "large_tdu", read here from the
payload tshark shows. Only packets that begin a segment's payload are
listed (all of them, in these captures). Then, per direction, the TNS
packets tshark dissects (tns.type, tns.length with -E occurrence=a): their
number and bytes, those of Data and Marker packets (bodies: length - 8).

Run from the module root:  python3 testdata/golden/app/gen_tns_sdu.py
Writes testdata/golden/app/tns_sdu.json, compared with appproto.Stats
(sdu, tdu, sqlnet) by appproto's TestTNSSDUGolden; see DIFFERENCES.md.
"""
import json
import os
import subprocess
import sys
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
CORPUS = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus"))

DECODE_AS = ["-d", "tcp.port==1522,tns"]
FIELDS = ["frame.number", "tcp.stream", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "tns.type", "tns.version",
          "tns.sdu_size", "tns.max_tdu_size", "tns.connect_data_offset", "tcp.payload"]


def be32(b, off):
    if len(b) < off + 4:
        return None
    return int.from_bytes(b[off:off + 4], "big")


def main():
    ver = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    res = OrderedDict([("generator", "testdata/golden/app/gen_tns_sdu.py"), ("tshark", ver),
                       ("decode_as", " ".join(DECODE_AS)), ("captures", OrderedDict())])
    d = os.path.join(CORPUS, "public", "tns")
    for f in sorted(os.listdir(d)):
        cmd = ["tshark", "-n", "-r", os.path.join(d, f)] + DECODE_AS + ["-Y", "tns.type == 1 || tns.type == 2",
                                                                         "-T", "fields", "-E", "separator=\t"]
        for fl in FIELDS:
            cmd += ["-e", fl]
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        conns = OrderedDict()
        for line in out.splitlines():
            v = dict(zip(FIELDS, line.split("\t")))
            typ = int(v["tns.type"].split(",")[0])
            c = conns.setdefault(v["tcp.stream"], OrderedDict([("stream", int(v["tcp.stream"])), ("connect", []),
                                                                ("accept", [])]))
            payload = bytes.fromhex(v["tcp.payload"])
            p = OrderedDict([("frame", int(v["frame.number"])), ("version", int(v["tns.version"].split(",")[0])),
                             ("sdu", int(v["tns.sdu_size"].split(",")[0])),
                             ("tdu", int(v["tns.max_tdu_size"].split(",")[0]))])
            if typ == 1:
                c["client"] = "%s:%s" % (v["ip.src"], v["tcp.srcport"])
                c["server"] = "%s:%s" % (v["ip.dst"], v["tcp.dstport"])
                cd = int(v["tns.connect_data_offset"].split(",")[0] or 0)
                if p["version"] >= 315 and cd >= 66:
                    p["large_sdu"], p["large_tdu"] = be32(payload, 58), be32(payload, 62)
                c["connect"].append(p)
            else:
                if p["version"] >= 315:
                    p["large_sdu"], p["large_tdu"] = be32(payload, 32), be32(payload, 36)
                c["accept"].append(p)
        # Every TNS packet: its type and length, summed per direction.
        cmd = ["tshark", "-n", "-r", os.path.join(d, f)] + DECODE_AS + ["-Y", "tns", "-T", "fields", "-E", "occurrence=a",
                                                                         "-E", "separator=\t", "-e", "tcp.stream",
                                                                         "-e", "ip.src", "-e", "tcp.srcport", "-e", "tns.type",
                                                                         "-e", "tns.length"]
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        for line in out.splitlines():
            sid, src, sport, types, lengths = (line.split("\t") + [""] * 5)[:5]
            c = conns.get(sid)
            if c is None or not types:
                continue
            dname = "c2s" if "%s:%s" % (src, sport) == c["client"] else "s2c"
            dd = c.setdefault("dirs", OrderedDict()).setdefault(dname, OrderedDict(
                [("packets", 0), ("bytes", 0), ("data_packets", 0), ("data_bytes", 0), ("marker_packets", 0),
                 ("marker_bytes", 0)]))
            for t, n in zip(types.split(","), lengths.split(",")):
                t, n = int(t), int(n)
                dd["packets"] += 1
                dd["bytes"] += n
                if t == 6:
                    dd["data_packets"] += 1
                    dd["data_bytes"] += n - 8
                elif t == 12:
                    dd["marker_packets"] += 1
                    dd["marker_bytes"] += n - 8
        res["captures"]["public/tns/" + f] = list(conns.values())
        print(f, len(conns), file=sys.stderr)
    with open(os.path.join(HERE, "tns_sdu.json"), "w") as fh:
        json.dump(res, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
