#!/usr/bin/env python3
"""Generate the application-protocol goldens from tshark.

For every capture in ../shared/corpus/public/{tns,http,db} and
../shared/corpus/lab/*.pcap*, run tshark once and count, per TCP
connection and per direction, the application PDUs tshark's dissectors
find: TNS packets (tns.type), HTTP requests and responses
(http.request.method, http.response.code), PostgreSQL messages (pgsql.type)
with their simple queries and Syncs, MySQL packets (mysql.packet_length)
and commands (mysql.command), TDS packets (tds.type) and TLS records
(tls.record.content_type). Fields are taken with `-E occurrence=a`, so a
frame carrying several PDUs counts each.

Decode-as rules used (tshark does not dissect these ports by itself):
  -d tcp.port==1522,tns   (arkime_oracle_1522.pcap: TNS on port 1522)
Preference: -o tcp.reassemble_out_of_order:TRUE (tshark 4.0 defaults to
FALSE and then loses every PDU whose hole a retransmission fills later).
Where the default preferences give other counts, they are recorded too
("default_prefs"): with TRUE, tshark waits forever on a hole that is never
filled (a segment lost before the capture point) and drops the rest of
that direction, which the default does not.

Run from the module root:  python3 testdata/golden/app/gen_app.py
Writes testdata/golden/app/app.json. Deliberate differences between these
counts and netecology's are listed in DIFFERENCES.md next to this script.
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
# Reassemble out-of-order segments (off by default in tshark 4.0): without
# it tshark drops any PDU whose hole is filled by a later retransmission.
OPTIONS = ["-o", "tcp.reassemble_out_of_order:TRUE"]

FIELDS = ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
          "tcp.flags.syn", "tcp.flags.ack", "tns.type", "http.request.method", "http.response.code",
          "pgsql.type", "mysql.packet_length", "mysql.command", "tds.type", "tls.record.content_type"]


def captures():
    out = []
    for sub in ("public/tns", "public/http", "public/db"):
        d = os.path.join(CORPUS, sub)
        for f in sorted(os.listdir(d)):
            if f.endswith((".pcap", ".pcapng", ".cap")):
                out.append(sub + "/" + f)
    d = os.path.join(CORPUS, "lab")
    for f in sorted(os.listdir(d)):
        if ".pcap" in f:
            out.append("lab/" + f)
    return out


def ep(addr, port):
    if ":" in addr:
        return "[%s]:%s" % (addr, port)
    return "%s:%s" % (addr, port)


def count(v):
    return 0 if v == "" else len(v.split(","))


def run(rel, options):
    cmd = ["tshark", "-n", "-r", os.path.join(CORPUS, rel)] + DECODE_AS + options + ["-T", "fields", "-E", "occurrence=a",
                                                                           "-E", "separator=\t"]
    for f in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True)
    conns = OrderedDict()
    for line in p.stdout.splitlines():
        v = line.split("\t")
        if len(v) < len(FIELDS) or v[0] == "":
            continue
        r = dict(zip(FIELDS, v))
        src = ep(r["ip.src"] or r["ipv6.src"], r["tcp.srcport"])
        dst = ep(r["ip.dst"] or r["ipv6.dst"], r["tcp.dstport"])
        c = conns.get(r["tcp.stream"])
        if c is None:
            c = conns[r["tcp.stream"]] = {"client": src, "server": dst, "syn": False,
                                          "c2s": OrderedDict(), "s2c": OrderedDict()}
        if r["tcp.flags.syn"] in ("1", "True") and not c["syn"]:
            c["syn"] = True
            if r["tcp.flags.ack"] in ("1", "True"):
                c["client"], c["server"] = dst, src
            else:
                c["client"], c["server"] = src, dst
        key = (src, r)
        c.setdefault("_rows", []).append(key)
    out = []
    for sid, c in conns.items():
        cnt = {"c2s": OrderedDict(), "s2c": OrderedDict()}
        for src, r in c.pop("_rows"):
            d = cnt["c2s"] if src == c["client"] else cnt["s2c"]
            for name, field in (("tns", "tns.type"), ("http_requests", "http.request.method"),
                                ("http_responses", "http.response.code"), ("pgsql", "pgsql.type"),
                                ("mysql", "mysql.packet_length"), ("mysql_commands", "mysql.command"),
                                ("tds", "tds.type"), ("tls_records", "tls.record.content_type")):
                n = count(r[field])
                if n:
                    d[name] = d.get(name, 0) + n
            if r["pgsql.type"]:
                types = r["pgsql.type"].split(",")
                for name, t in (("pgsql_queries", "Simple query"), ("pgsql_syncs", "Sync")):
                    n = types.count(t)
                    if n:
                        d[name] = d.get(name, 0) + n
        if not cnt["c2s"] and not cnt["s2c"]:
            continue
        out.append(OrderedDict([("stream", int(sid)), ("client", c["client"]), ("server", c["server"]),
                                ("c2s", cnt["c2s"]), ("s2c", cnt["s2c"])]))
    return out


def main():
    ver = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    res = OrderedDict([("generator", "testdata/golden/app/gen_app.py"), ("tshark", ver),
                       ("decode_as", " ".join(DECODE_AS)), ("options", " ".join(OPTIONS)), ("captures", OrderedDict())])
    for rel in captures():
        main_ = run(rel, OPTIONS)
        # The same counts with tshark's default preferences, kept where they
        # differ: either is an accepted reference (see DIFFERENCES.md).
        alt = {c["stream"]: c for c in run(rel, [])}
        for c in main_:
            a = alt.get(c["stream"])
            if a and (a["c2s"] != c["c2s"] or a["s2c"] != c["s2c"]):
                c["default_prefs"] = OrderedDict([("c2s", a["c2s"]), ("s2c", a["s2c"])])
        res["captures"][rel] = main_
        print(rel, len(res["captures"][rel]), file=sys.stderr)
    with open(os.path.join(HERE, "app.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
