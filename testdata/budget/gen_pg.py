#!/usr/bin/env python3
"""Generate the PostgreSQL golden figures the budget tests check against.

For each PostgreSQL lab capture (testdata/lab, and ../shared/corpus/lab when
it is there), run tshark once and take, per simple query ('Q' message):
its verb (the first word of pgsql.query), the time of its frame, and the
time of the first later frame from the server that carries PostgreSQL
messages. Server time = that response frame's time - the query frame's time
(every query of these captures fits in one segment), the figure appproto
calls server_time_s (first response byte - last request byte). Also counted:
the Data row messages (one per row fetched) of the whole capture.

Per verb it writes count, sum, mean, min, max, p50 and p95 of the server
times; quantiles are nearest-rank (rank = ceil(q * n)), as netecology's.

Run from the module root:  python3 testdata/budget/gen_pg.py
Writes testdata/budget/pg-tshark.json.
"""
import json
import math
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus", "lab"))
FILES = [("lab", os.path.join(ROOT, "testdata", "lab"), ["rtt10-pg-chatty.pcap", "rtt50-pg-chatty.pcap", "wan2m-pg-chatty.pcap", "wan2m-pg-bulk.pcap"]),
         ("corpus-lab", CORPUS, ["rtt10-pg-chatty.pcap", "wan2m-pg-chatty.pcap", "wan2m-pg-fetch15.pcap", "rtt10-pg-fetch15.pcap"])]


def frames(path):
    out = subprocess.run(["tshark", "-r", path, "-Y", "pgsql", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                          "-e", "frame.time_epoch", "-e", "tcp.srcport", "-e", "pgsql.type", "-e", "pgsql.query"],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        t, port, types, query = line.split("|", 3)
        yield float(t), int(port), types.split(","), query


def stats(v):
    v = sorted(v)
    n = len(v)
    q = lambda p: v[max(0, min(n - 1, math.ceil(p * n) - 1))]
    return {"count": n, "sum": round(sum(v), 9), "mean": round(sum(v) / n, 9), "min": v[0], "max": v[-1],
            "p50": q(0.5), "p95": q(0.95)}


def one(path):
    by_verb, pending, rows = {}, None, 0
    for t, port, types, query in frames(path):
        rows += types.count("Data row")
        if port != 5432:
            if "Simple query" in types:
                pending = (t, query.split()[0].upper())
            continue
        if pending is not None:
            by_verb.setdefault(pending[1], []).append(round(t - pending[0], 6))
            pending = None
    return {"data_rows": rows, "server_time_s": {verb: stats(v) for verb, v in sorted(by_verb.items())}}


def main():
    out = {}
    for name, d, files in FILES:
        if not os.path.isdir(d):
            continue
        out[name] = {f: one(os.path.join(d, f)) for f in files}
    with open(os.path.join(HERE, "pg-tshark.json"), "w") as w:
        json.dump(out, w, indent=1, sort_keys=True)
        w.write("\n")


if __name__ == "__main__":
    main()
