#!/usr/bin/env python3
"""Generate testdata/golden/netlog/counts.json: per capture, the TCP packets
that netlog's events stand for, counted by tshark, for flow/netlog's
TestEventCountsTshark.

For each capture under ../shared/corpus/public/**, ../shared/corpus/lab/ and
testdata/lab/** (*.pcap, *.pcapng, *.cap, *.gz) tshark is run once with
-T fields and the frames are counted:

  syn             tcp.flags.syn == 1 and tcp.flags.ack == 0
  synack          tcp.flags.syn == 1 and tcp.flags.ack == 1
  fin             tcp.flags.fin == 1
  rst             tcp.flags.reset == 1
  retransmission  frames carrying tcp.analysis.retransmission
  zero_window     frames carrying tcp.analysis.zero_window
  handshake_ack   per tcp.stream, the first frame from the SYN's sender
                  with ACK and without SYN whose raw acknowledgment number
                  is the SYN/ACK's raw sequence number + 1, after a SYN and
                  a SYN/ACK from the other end acknowledging the SYN's
                  sequence number + 1 (RFC 9293's third packet of the
                  handshake; a SYN seen after the SYN/ACK does not count)

Frames whose TCP header sits inside an ICMP error (icmp.type or icmpv6.type
set) are not counted: they are not segments of a connection.

Run from the repository root:  python3 testdata/golden/netlog/gen_netlog.py
Needs tshark (apt-get install -y tshark). The golden is committed; tests read
it and never run tshark.
"""
import glob, json, os, subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OUT = os.path.join(ROOT, "testdata", "golden", "netlog", "counts.json")
FIELDS = ["tcp.stream", "tcp.srcport", "ip.src", "ipv6.src", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin",
          "tcp.flags.reset", "tcp.seq_raw", "tcp.ack_raw", "tcp.analysis.retransmission", "tcp.analysis.zero_window",
          "icmp.type", "icmpv6.type"]


def captures():
    for p in ["../shared/corpus/public/*/*", "../shared/corpus/lab/*", "testdata/lab/**/*"]:
        for f in sorted(glob.glob(os.path.join(ROOT, p), recursive=True)):
            if f.endswith((".pcap", ".pcapng", ".cap", ".gz")):
                yield os.path.relpath(f, ROOT)


def counts(rel):
    cmd = ["tshark", "-n", "-r", os.path.join(ROOT, rel), "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f", "-o", "tcp.desegment_tcp_streams:FALSE"]
    for f in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True)
    c = dict(syn=0, synack=0, fin=0, rst=0, retransmission=0, zero_window=0, handshake_ack=0)
    hs = {}  # stream -> [syn sender, syn seq, synack seq, done]
    for line in p.stdout.splitlines():
        v = line.split("\t") + [""] * len(FIELDS)
        st, sport, s4, s6, syn, ack, fin, rst, seq, ackn, retx, zw, icmp, icmp6 = v[:len(FIELDS)]
        if st == "" or icmp or icmp6:
            continue
        syn, ack, fin, rst = syn == "1", ack == "1", fin == "1", rst == "1"
        src = (s4 or s6, sport)
        c["syn"] += syn and not ack
        c["synack"] += syn and ack
        c["fin"] += fin
        c["rst"] += rst
        c["retransmission"] += retx != ""
        c["zero_window"] += zw != ""
        h = hs.setdefault(st, [None, None, None, False])
        seq = int(seq) if seq else None
        ackn = int(ackn) if ackn else None
        if syn and not ack:
            if h[2] is None:
                h[0], h[1] = src, seq
        elif syn and ack:
            if h[0] is not None and h[2] is None and src != h[0] and ackn == (h[1] + 1) % 2**32:
                h[2] = seq
        elif ack:
            if h[2] is not None and not h[3] and src == h[0] and ackn == (h[2] + 1) % 2**32:
                h[3] = True
                c["handshake_ack"] += 1
    if p.returncode != 0:
        msg = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
        c["tshark_error"] = msg.replace(os.path.join(ROOT, rel), os.path.basename(rel))
    return c


def main():
    ver = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    out = {"generator": "testdata/golden/netlog/gen_netlog.py", "tshark": ver, "captures": {}}
    for rel in captures():
        key = rel.replace("../shared/corpus/", "")
        out["captures"][key] = counts(rel)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
