#!/usr/bin/env python3
"""Generate the request-text goldens from tshark.

For every capture in ../shared/corpus/public/{tns,http,db} and
../shared/corpus/lab/*.pcap*, run tshark once (-T json, so lists of values
keep their boundaries) and list, per TCP connection, the text of each
client request as tshark's dissectors decode it:

  PostgreSQL  pgsql.query of a "Simple query", or of the Parse messages up
              to a Sync, joined by "; " (one request, as netecology pairs it)
  MySQL       mysql.query of COM_QUERY (3) and COM_STMT_PREPARE (22)
  TDS         tds.query of a SQL batch
  HTTP        http.host and http.request.uri of each request
  TNS         tshark 4.0 decodes no SQL text: the number of client calls by
              call code (tns.data_oci.id) is recorded instead

Decode-as and preferences as gen_app.py: -d tcp.port==1522,tns and
-o tcp.reassemble_out_of_order:TRUE.

Run from the module root:  python3 testdata/golden/app/gen_queries.py
Writes testdata/golden/app/queries.json, compared with each transaction's
Query, Host and Path by appproto's TestQueryGolden. Deliberate differences
are in DIFFERENCES.md next to this script.
"""
import json
import os
import subprocess
import sys
from collections import OrderedDict

from gen_app import captures, ep  # the same captures and endpoint spelling as the count goldens

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
CORPUS = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus"))

DECODE_AS = ["-d", "tcp.port==1522,tns"]
OPTIONS = ["-o", "tcp.reassemble_out_of_order:TRUE"]

FIELDS = ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
          "tcp.flags.syn", "tcp.flags.ack", "pgsql.type", "pgsql.query", "mysql.command", "mysql.query",
          "tds.type", "tds.query", "http.request.method", "http.host", "http.request.uri", "tns.data_oci.id"]


def first(layers, name):
    v = layers.get(name)
    return v[0] if v else ""


def run(rel):
    cmd = ["tshark", "-n", "-r", os.path.join(CORPUS, rel)] + DECODE_AS + OPTIONS + ["-T", "json"]
    for f in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True)
    frames = json.loads(p.stdout or "[]")
    conns = OrderedDict()
    for fr in frames:
        ly = fr["_source"]["layers"]
        sid = first(ly, "tcp.stream")
        if sid == "":
            continue
        src = ep(first(ly, "ip.src") or first(ly, "ipv6.src"), first(ly, "tcp.srcport"))
        dst = ep(first(ly, "ip.dst") or first(ly, "ipv6.dst"), first(ly, "tcp.dstport"))
        c = conns.get(sid)
        if c is None:
            c = conns[sid] = {"client": src, "server": dst, "syn": False, "rows": []}
        if first(ly, "tcp.flags.syn") in ("1", "True") and not c["syn"]:
            c["syn"] = True
            if first(ly, "tcp.flags.ack") in ("1", "True"):
                c["client"], c["server"] = dst, src
            else:
                c["client"], c["server"] = src, dst
        c["rows"].append((src, ly))
    out = []
    for sid, c in conns.items():
        reqs, calls, parses = [], OrderedDict(), []
        for src, ly in c["rows"]:
            if src != c["client"]:
                continue
            queries = list(ly.get("pgsql.query", []))
            for t in ly.get("pgsql.type", []):
                if t == "Simple query" and queries:
                    reqs.append({"proto": "postgres", "text": queries.pop(0)})
                elif t == "Parse" and queries:
                    parses.append(queries.pop(0))
                elif t == "Sync" and parses:
                    reqs.append({"proto": "postgres", "text": "; ".join(parses)})
                    parses = []
            myq = list(ly.get("mysql.query", []))
            for cmd in ly.get("mysql.command", []):
                if cmd in ("3", "22") and myq:
                    reqs.append({"proto": "mysql", "text": myq.pop(0)})
            for q in ly.get("tds.query", []):
                reqs.append({"proto": "tds", "text": q})
            hosts = ly.get("http.host", [])
            for i, uri in enumerate(ly.get("http.request.uri", [])):
                reqs.append({"proto": "http", "host": hosts[i] if i < len(hosts) else "", "path": uri})
            for call in ly.get("tns.data_oci.id", []):
                calls[call] = calls.get(call, 0) + 1
        if not reqs and not calls:
            continue
        rec = OrderedDict([("stream", int(sid)), ("client", c["client"]), ("server", c["server"])])
        if reqs:
            rec["requests"] = reqs
        if calls:
            rec["tns_calls"] = calls
        out.append(rec)
    return out


def main():
    ver = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    res = OrderedDict([("generator", "testdata/golden/app/gen_queries.py"), ("tshark", ver),
                       ("decode_as", " ".join(DECODE_AS)), ("options", " ".join(OPTIONS)), ("captures", OrderedDict())])
    for rel in captures():
        conns = run(rel)
        if conns:
            res["captures"][rel] = conns
        print(rel, len(conns), file=sys.stderr)
    with open(os.path.join(HERE, "queries.json"), "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
