#!/usr/bin/env python3
"""tshark evidence behind the expected diagnoses in diagnoses.json.

For each capture of diagnoses.json (or each CAPTURE named on the command
line, a path under ../shared/corpus/public) and its chosen TCP stream, prints
what tshark 4.x says, frame by frame, about the facts a diagnosis rests on:

  duration     first to last frame of the stream (frame.time_relative)
  handshake    SYN, SYN/ACK and ACK frames and times; the SYN->SYN/ACK leg is
               the capture point's distance to the server and back, the
               SYN/ACK->ACK leg its distance to the client and back
  retrans      every tcp.analysis.retransmission frame: sender, seq, len, time
               since this sender's previous transmission of those bytes and
               since the stream's previous frame, and the duplicate ACKs
               (tcp.analysis.duplicate_ack) and SACKs the other side sent in
               between (none and a pause of 200 ms or more: a timeout)
  zero window  frames with tcp.analysis.zero_window / zero_window_probe
  end          FIN and RST frames with their sender
  turns        client data after server data (the first data counts), and
               the server's new data after client data (answers); also
               counted with the handshake's ACK as client data and the
               server's FIN as server data (explain's round_trips)
  gaps         the stream's time split by the two data-carrying (or SYN, FIN,
               RST) frames around each gap: client->server (the server's
               answer time), server->client (the client's), and the same
               side twice; the largest gaps with their frames
  ack_rtt      tcp.analysis.ack_rtt per acknowledging side: count, min, median

Usage: python3 gen_diag.py [CAPTURE[:STREAM]...]   (tshark 4.x on PATH)
"""
import json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
PUBLIC = os.path.join(HERE, "..", "..", "..", "..", "shared", "corpus", "public")
FIELDS = ["frame.number", "frame.time_relative", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport",
          "ip.dst", "ipv6.dst", "tcp.dstport", "tcp.len", "tcp.seq", "tcp.ack", "tcp.flags.syn",
          "tcp.flags.ack", "tcp.flags.fin", "tcp.flags.reset", "tcp.window_size",
          "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
          "tcp.analysis.spurious_retransmission", "tcp.analysis.duplicate_ack",
          "tcp.analysis.zero_window", "tcp.analysis.zero_window_probe", "tcp.analysis.keep_alive",
          "tcp.analysis.ack_rtt", "tcp.options.sack_le", "tcp.analysis.lost_segment"]


def flag(v):
    return v not in ("", "0", "False")


def rows(path, stream):
    cmd = ["tshark", "-n", "-r", path, "-Y", "tcp.stream == %d" % stream, "-T", "fields",
           "-E", "occurrence=f"] + sum([["-e", f] for f in FIELDS], [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        r = dict(zip(FIELDS, line.split("\t")))
        r["no"] = int(r["frame.number"])
        r["t"] = float(r["frame.time_relative"])
        r["src"] = "%s:%s" % (r["ip.src"] or "[%s]" % r["ipv6.src"], r["tcp.srcport"])
        r["dst"] = "%s:%s" % (r["ip.dst"] or "[%s]" % r["ipv6.dst"], r["tcp.dstport"])
        r["len"] = int(r["tcp.len"] or 0)
        r["seq"] = int(r["tcp.seq"] or 0)
        r["syn"], r["fin"], r["rst"] = flag(r["tcp.flags.syn"]), flag(r["tcp.flags.fin"]), flag(r["tcp.flags.reset"])
        r["ackf"] = flag(r["tcp.flags.ack"])
        yield r


def analyse(path, stream):
    rs = list(rows(path, stream))
    if not rs:
        return {"error": "no frames in stream %d" % stream}
    syn = next((r for r in rs if r["syn"] and not r["ackf"]), None)
    if syn:
        client = syn["src"]
    else:  # no SYN: the client is the end with the higher port
        a, b = rs[0]["src"], rs[0]["dst"]
        client = a if int(a.rsplit(":", 1)[1]) > int(b.rsplit(":", 1)[1]) else b
    side = lambda r: "C" if r["src"] == client else "S"
    ev = {"frames": len(rs), "first": rs[0]["no"], "last": rs[-1]["no"],
          "duration_s": round(rs[-1]["t"] - rs[0]["t"], 6), "client": client,
          "server": rs[0]["dst"] if rs[0]["src"] == client else rs[0]["src"],
          "client_from": "SYN sender" if syn else "higher port (no SYN captured)"}
    # handshake
    synack = next((r for r in rs if r["syn"] and r["ackf"]), None)
    hs = {}
    if syn:
        hs["syn"] = "frame %d at %.6f" % (syn["no"], syn["t"])
        syns = [r["no"] for r in rs if r["syn"] and not r["ackf"]]
        if len(syns) > 1:
            hs["syns"] = syns
    if synack:
        hs["synack"] = "frame %d at %.6f" % (synack["no"], synack["t"])
        lastsyn = [r for r in rs if r["syn"] and not r["ackf"] and r["t"] <= synack["t"]]
        if lastsyn:
            hs["syn_to_synack_ms"] = round((synack["t"] - lastsyn[-1]["t"]) * 1000, 3)
        ack = next((r for r in rs if r["no"] > synack["no"] and side(r) == "C" and not r["syn"]), None)
        if ack:
            hs["ack"] = "frame %d at %.6f" % (ack["no"], ack["t"])
            hs["synack_to_ack_ms"] = round((ack["t"] - synack["t"]) * 1000, 3)
    ev["handshake"] = hs
    # retransmissions
    sent = {}  # (side, seq) -> last time
    dup = {"C": 0, "S": 0}
    sack = {"C": 0, "S": 0}
    last_t = None
    retx = []
    for r in rs:
        s = side(r)
        o = "S" if s == "C" else "C"
        key = (s, r["seq"])
        if flag(r["tcp.analysis.duplicate_ack"]):
            dup[s] += 1
        if r["tcp.options.sack_le"]:
            sack[s] += 1
        if flag(r["tcp.analysis.retransmission"]):
            prev = sent.get(key)
            kind = "fast" if flag(r["tcp.analysis.fast_retransmission"]) else (
                "spurious" if flag(r["tcp.analysis.spurious_retransmission"]) else "plain")
            retx.append("frame %d at %.6f by %s seq %d len %d%s%s: %s, since last sending %s, since previous frame %.3f s, other side's dup ACKs %d, SACKs %d since" % (
                r["no"], r["t"], s, r["seq"], r["len"], " SYN" if r["syn"] else "", " FIN" if r["fin"] else "", kind,
                "%.3f s" % (r["t"] - prev[0]) if prev else "?", r["t"] - last_t if last_t is not None else 0,
                dup[o] - prev[1] if prev else dup[o], sack[o] - prev[2] if prev else sack[o]))
        if r["len"] > 0 or r["syn"] or r["fin"]:
            sent[key] = (r["t"], dup[o], sack[o])
        last_t = r["t"]
    ev["retransmissions"] = retx
    ev["zero_window"] = ["frame %d at %.6f by %s%s" % (r["no"], r["t"], side(r), " (probe)" if flag(r["tcp.analysis.zero_window_probe"]) else "")
                         for r in rs if flag(r["tcp.analysis.zero_window"]) or flag(r["tcp.analysis.zero_window_probe"])]
    ev["keep_alive"] = [r["no"] for r in rs if flag(r["tcp.analysis.keep_alive"])]
    ev["lost_segment"] = [r["no"] for r in rs if flag(r["tcp.analysis.lost_segment"])]
    ev["end"] = ["frame %d at %.6f %s by %s" % (r["no"], r["t"], "RST" if r["rst"] else "FIN", side(r))
                 for r in rs if r["rst"] or r["fin"]]
    # turns and answers (new data only)
    turns = answers = 0
    lastdata = None
    top = {"C": -1, "S": -1}
    for r in rs:
        if r["len"] == 0 or r["rst"] or flag(r["tcp.analysis.retransmission"]) or flag(r["tcp.analysis.keep_alive"]):
            continue
        s = side(r)
        if r["seq"] + r["len"] <= top[s]:
            continue
        top[s] = r["seq"] + r["len"]
        if s == "C" and lastdata != "C":
            turns += 1
        if s == "S" and lastdata == "C":
            answers += 1
        lastdata = s
    ev["client_turns"] = turns
    ev["server_answers"] = answers
    # explain's round_trips rule: the handshake's ACK counts as client
    # data, the server's FIN as server data
    rt = 0
    last = None
    top = {"C": -1, "S": -1}
    hsack = int(hs["ack"].split()[1]) if "ack" in hs else None
    for r in rs:
        if r["no"] == hsack:
            last = "C"
            continue
        if r["rst"] or flag(r["tcp.analysis.retransmission"]) or flag(r["tcp.analysis.keep_alive"]):
            continue
        if r["len"] == 0 and not r["fin"]:
            continue
        s = side(r)
        end = r["seq"] + r["len"] + (1 if r["fin"] else 0)
        if end <= top[s]:
            continue
        top[s] = end
        if s == "S" and last == "C":
            rt += 1
        last = s
    ev["answers_with_handshake_ack_and_fin"] = rt
    # gaps between events (data, SYN, FIN, RST)
    events = [r for r in rs if r["len"] > 0 or r["syn"] or r["fin"] or r["rst"]]
    sums = {"C->S": 0.0, "S->C": 0.0, "C->C": 0.0, "S->S": 0.0}
    gaps = []
    for a, b in zip(events, events[1:]):
        k = "%s->%s" % (side(a), side(b))
        sums[k] += b["t"] - a["t"]
        gaps.append((b["t"] - a["t"], a["no"], b["no"], k))
    if events:
        sums["head"] = events[0]["t"] - rs[0]["t"]
        sums["tail"] = rs[-1]["t"] - events[-1]["t"]
    ev["gap_sums_s"] = {k: round(v, 6) for k, v in sums.items()}
    gaps.sort(reverse=True)
    ev["largest_gaps"] = ["%.6f s frame %d -> %d (%s)" % g for g in gaps[:6]]
    # ack_rtt
    rtt = {}
    for r in rs:
        if r["tcp.analysis.ack_rtt"]:
            rtt.setdefault(side(r), []).append(float(r["tcp.analysis.ack_rtt"]) * 1000)
    ev["ack_rtt_ms"] = {("acked by " + k): {"n": len(v), "min": round(min(v), 3), "median": round(statistics.median(v), 3)}
                        for k, v in sorted(rtt.items())}
    return ev


def main():
    targets = []
    if len(sys.argv) > 1:
        for a in sys.argv[1:]:
            f, _, s = a.partition(":")
            targets.append((f, int(s or 0)))
    else:
        with open(os.path.join(HERE, "diagnoses.json")) as fh:
            for d in json.load(fh)["captures"]:
                targets.append((d["capture"], d.get("tshark_stream", 0)))
    for f, s in targets:
        print("== %s (tcp.stream %d)" % (f, s))
        print(json.dumps(analyse(os.path.join(PUBLIC, f), s), indent=1))


if __name__ == "__main__":
    main()
