#!/usr/bin/env python3
"""Generate testdata/golden/tcp/*.json: tshark's TCP analysis flags per
connection, direction and label, for flow's TestTCPGolden.

For each capture under ../shared/corpus/public/** and ../shared/corpus/lab/
(*.pcap, *.pcapng, *.cap, *.gz) tshark is run once with -T fields; the
frames carrying each tcp.analysis.* field are grouped by tcp.stream and by
direction ("ab": sent by the stream's first sender "a"). Endpoints are
written as Go's netip.AddrPort prints them (1.2.3.4:80, [::1]:80).

Each golden lists, per stream, its endpoints and, for each label with at
least one packet, the count and (up to MAX_FRAMES) the frame numbers, so a
disagreement can be traced to packets. Labels absent from a stream are
zero. "ab_ack_rtt"/"ba_ack_rtt" hold the count and nearest-rank median (ms)
of tcp.analysis.ack_rtt for the data sent a->b (b->a): the ACK carrying it
travels the other way. "max_bif" holds the largest
tcp.analysis.bytes_in_flight per direction and whether any SACK block was
seen on the stream.

Run from the repository root:  python3 testdata/golden/tcp/gen_tcp.py
Needs tshark (apt-get install -y tshark). The goldens are committed; tests
read them and never run tshark.
"""
import glob, json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OUT = os.path.join(ROOT, "testdata", "golden", "tcp")
MAX_FRAMES = 64

# label name in our JSON (flow.Conn c2s/s2c) -> tshark field
LABELS = [
    ("retransmissions", "tcp.analysis.retransmission"),
    ("fast_retransmissions", "tcp.analysis.fast_retransmission"),
    ("spurious_retransmissions", "tcp.analysis.spurious_retransmission"),
    ("out_of_order", "tcp.analysis.out_of_order"),
    ("dup_acks", "tcp.analysis.duplicate_ack"),
    ("zero_windows", "tcp.analysis.zero_window"),
    ("zero_window_probes", "tcp.analysis.zero_window_probe"),
    ("zero_window_probe_acks", "tcp.analysis.zero_window_probe_ack"),
    ("window_full", "tcp.analysis.window_full"),
    ("window_updates", "tcp.analysis.window_update"),
    ("keepalives", "tcp.analysis.keep_alive"),
    ("keepalive_acks", "tcp.analysis.keep_alive_ack"),
    ("lost_segments", "tcp.analysis.lost_segment"),
    ("acked_unseen", "tcp.analysis.ack_lost_segment"),
]
BASE = ["frame.number", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport"]
EXTRA = ["tcp.analysis.ack_rtt", "tcp.analysis.bytes_in_flight", "tcp.options.sack_le"]


def captures():
    for p in ["../shared/corpus/public/*/*", "../shared/corpus/lab/*.pcap*"]:
        for f in sorted(glob.glob(os.path.join(ROOT, p))):
            if f.endswith((".pcap", ".pcapng", ".cap", ".gz")):
                yield os.path.relpath(f, ROOT)


def endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def golden(rel):
    fields = BASE + [f for _, f in LABELS] + EXTRA
    cmd = ["tshark", "-n", "-r", os.path.join(ROOT, rel), "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f", "-o", "tcp.desegment_tcp_streams:FALSE"]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True)
    streams = {}
    rtts = {}
    bif = {}
    order = []
    for line in p.stdout.splitlines():
        v = line.split("\t") + [""] * len(fields)
        num, st, s4, s6, sp, d4, d6, dp = v[:8]
        if st == "" or sp == "":
            continue
        st = st.split(",")[0]
        src, dst = endpoint(s4 or s6, sp), endpoint(d4 or d6, dp)
        s = streams.get(st)
        if s is None:
            s = streams[st] = dict(stream=int(st), a=src, b=dst, first_frame=int(num), ab={}, ba={})
            rtts[st] = {"ab": [], "ba": []}
            bif[st] = {"ab": 0, "ba": 0, "sack": False}
            order.append(st)
        d = s["ab"] if src == s["a"] else s["ba"]
        rtt = v[8 + len(LABELS)]
        b = v[9 + len(LABELS)]
        if b != "":
            k = "ab" if src == s["a"] else "ba"
            bif[st][k] = max(bif[st][k], int(b))
        if v[10 + len(LABELS)] != "":
            bif[st]["sack"] = True
        if rtt != "":
            # The ACK's RTT belongs to the data of the other direction.
            rtts[st]["ba" if src == s["a"] else "ab"].append(float(rtt) * 1000)
        for i, (name, _) in enumerate(LABELS):
            if v[8 + i] != "":
                e = d.setdefault(name, {"n": 0, "frames": []})
                e["n"] += 1
                if len(e["frames"]) < MAX_FRAMES:
                    e["frames"].append(int(num))
    for st, b in bif.items():
        streams[st]["max_bif"] = {"ab": b["ab"], "ba": b["ba"], "sack": b["sack"]}
    for st, r in rtts.items():
        for d in ("ab", "ba"):
            v = sorted(r[d])
            if v:
                # Nearest-rank median, as ours: the ceil(n/2)-th smallest.
                streams[st][d + "_ack_rtt"] = {"n": len(v), "median_ms": round(v[(len(v) + 1) // 2 - 1], 6)}
    ver = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    err = p.stderr.strip().splitlines()
    err = [e for e in err if "Running as user" not in e and "dangerous" not in e]
    return dict(file=rel, tshark=ver, labels=[n for n, _ in LABELS], tshark_error="\n".join(err),
                streams=[streams[k] for k in order])


def main():
    os.makedirs(OUT, exist_ok=True)
    n = 0
    for rel in captures():
        g = golden(rel)
        parts = rel.split("/")
        name = "_".join(parts[3:]) if rel.startswith("../shared/corpus/") else "_".join(parts)
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(g, f, separators=(",", ":"), sort_keys=False)
            f.write("\n")
        n += 1
        print(rel, len(g["streams"]), "streams", file=sys.stderr)
    print(n, "goldens written to", os.path.relpath(OUT, ROOT), file=sys.stderr)


if __name__ == "__main__":
    main()
