#!/usr/bin/env python3
"""Reference figures for flow/explain's ACK and segment-size analysis, from tshark.

For each capture named on the command line (default: the public TNS captures of
the shared corpus) and each TCP stream in it, per direction of data:
  data_segments   frames with tcp.len > 0
  retransmissions frames tshark flags tcp.analysis.retransmission
  small_segments  data frames whose tcp.len is below the full segment size: the
                  peer's announced MSS (less 12 bytes when both SYNs carry the
                  timestamp option), raised to the largest tcp.len seen so far
  ack_advances    frames from the receiver whose tcp.ack (relative) moves beyond
                  every earlier one and covers the end of at least one data frame
Writes testdata/golden/explain/<category>_<file>.json.
Usage: python3 gen_acks.py [CAPTURE...]   (tshark 4.x on PATH)
"""
import glob, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "..", "..", "shared", "corpus")
FIELDS = ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "tcp.len", "tcp.seq", "tcp.ack",
          "tcp.flags.syn", "tcp.flags.ack", "tcp.options.mss_val", "tcp.options.timestamp.tsval",
          "tcp.analysis.retransmission"]


def rows(path):
    out = subprocess.run(["tshark", "-n", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "occurrence=f"]
                         + sum([["-e", f] for f in FIELDS], []), capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        yield dict(zip(FIELDS, line.split("\t")))


def analyse(path):
    streams = {}
    for r in rows(path):
        s = streams.setdefault(r["tcp.stream"], {"client": None, "mss": {}, "ts": {}, "dirs": {}})
        src = (r["ip.src"] or r["ipv6.src"], r["tcp.srcport"])
        syn = r["tcp.flags.syn"] in ("1", "True")
        ackf = r["tcp.flags.ack"] in ("1", "True")
        if s["client"] is None:
            s["client"] = src if (not syn or not ackf) else None
            if s["client"] is None:
                s["client"] = ("peer-of", src)
        if isinstance(s["client"], tuple) and s["client"][0] == "peer-of":
            d = "s2c" if src == s["client"][1] else "c2s"
        else:
            d = "c2s" if src == s["client"] else "s2c"
        o = "s2c" if d == "c2s" else "c2s"
        if syn:
            if r["tcp.options.mss_val"]:
                s["mss"][d] = int(r["tcp.options.mss_val"])
            s["ts"][d] = bool(r["tcp.options.timestamp.tsval"])
        ds = s["dirs"].setdefault(d, {"data_segments": 0, "retransmissions": 0, "small_segments": 0,
                                     "ack_advances": 0, "_ends": [], "_max": 0, "_ack": None})
        os_ = s["dirs"].setdefault(o, {"data_segments": 0, "retransmissions": 0, "small_segments": 0,
                                       "ack_advances": 0, "_ends": [], "_max": 0, "_ack": None})
        n = int(r["tcp.len"] or 0)
        if n > 0:
            ds["data_segments"] += 1
            if r["tcp.analysis.retransmission"]:
                ds["retransmissions"] += 1
            ds["_max"] = max(ds["_max"], n)
            full = ds["_max"]
            if o in s["mss"]:
                m = s["mss"][o] - (12 if s["ts"].get(o) and s["ts"].get(d) else 0)
                full = max(m, ds["_max"])
            if n < full:
                ds["small_segments"] += 1
            if not r["tcp.analysis.retransmission"]:
                ds["_ends"].append(int(r["tcp.seq"]) + n)
        if ackf and r["tcp.ack"]:
            a = int(r["tcp.ack"])
            prev = os_["_ack"]
            if prev is None or a > prev:
                lo = prev if prev is not None else -1
                if any(lo < e <= a for e in os_["_ends"]):
                    os_["ack_advances"] += 1
                os_["_ack"] = a
    out = []
    for sid, s in sorted(streams.items(), key=lambda x: int(x[0])):
        rec = {"stream": int(sid)}
        for d in ("c2s", "s2c"):
            x = s["dirs"].get(d, {})
            rec[d] = {k: v for k, v in x.items() if not k.startswith("_")}
        out.append(rec)
    return out


def main():
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(CORPUS, "public", "tns", "trex_oracle*.pcap")))
    for f in files:
        cat = os.path.basename(os.path.dirname(f))
        name = f"{cat}_{os.path.basename(f)}.json"
        with open(os.path.join(HERE, name), "w") as w:
            json.dump({"file": f"{cat}/{os.path.basename(f)}", "streams": analyse(f)}, w, indent=1)
            w.write("\n")
        print("wrote", name)


if __name__ == "__main__":
    main()
