#!/usr/bin/env python3
"""Generate testdata/golden/conv/*.json: tshark's view of every TCP
conversation in the project's captures, for flow's TestConvGolden.

For each capture (testdata/lab/*.pcap*, ../shared/corpus/public/**,
../shared/corpus/lab/*.pcap*) tshark is run once with -T fields; frames are
grouped by tcp.stream and counted per direction (frames and frame.len), the
direction "a" being the sender of the stream's first frame. Endpoints are
written as Go's netip.AddrPort prints them (1.2.3.4:80, [::1]:80).

Run from the repository root:  python3 testdata/golden/gen_conv.py
Needs tshark (apt-get install -y tshark). The goldens are committed; tests
read them and never run tshark.
"""
import glob, json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "testdata", "golden", "conv")
FIELDS = ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport", "frame.len"]


def captures():
    pats = ["testdata/lab/*.pcap*", "../shared/corpus/public/*/*", "../shared/corpus/lab/*.pcap*"]
    for p in pats:
        for f in sorted(glob.glob(os.path.join(ROOT, p))):
            if f.endswith((".pcap", ".pcapng", ".cap", ".gz")):
                yield os.path.relpath(f, ROOT)


def endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def golden(rel):
    cmd = ["tshark", "-n", "-r", os.path.join(ROOT, rel), "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    # Decode TCP as itself only: no heuristic sub-dissectors that could hide tcp.stream.
    p = subprocess.run(cmd, capture_output=True, text=True)
    packets = 0
    convs = {}
    for line in p.stdout.splitlines():
        packets += 1
        v = line.split("\t") + [""] * len(FIELDS)
        st, s4, s6, sp, d4, d6, dp, flen = v[:8]
        if st == "" or sp == "":
            continue
        src, dst = endpoint(s4 or s6, sp), endpoint(d4 or d6, dp)
        c = convs.get(st)
        if c is None:
            c = convs[st] = dict(stream=int(st.split(",")[0]), a=src, b=dst,
                                 frames_ab=0, bytes_ab=0, frames_ba=0, bytes_ba=0)
        if src == c["a"]:
            c["frames_ab"] += 1
            c["bytes_ab"] += int(flen or 0)
        else:
            c["frames_ba"] += 1
            c["bytes_ba"] += int(flen or 0)
    ver = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    return dict(file=rel, tshark=ver, packets=packets, tshark_error=p.stderr.strip()[:500],
                conversations=sorted(convs.values(), key=lambda c: c["stream"]))


def main():
    os.makedirs(OUT, exist_ok=True)
    for rel in captures():
        g = golden(rel)
        name = os.path.basename(rel)
        if rel.startswith("../shared/corpus/"):
            name = rel.split("/")[3] + "_" + name if rel.startswith("../shared/corpus/public/") else "lab_" + name
        else:
            name = "testdata_" + name
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(g, f, indent=0, sort_keys=True)
            f.write("\n")
        print(f"{rel}: {g['packets']} packets, {len(g['conversations'])} conversations", file=sys.stderr)


if __name__ == "__main__":
    main()
