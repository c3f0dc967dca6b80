#!/usr/bin/env python3
"""Generate testdata/golden/census/*.json: tshark's statistics of every
capture, for flow/census's TestCensusGolden.

For each capture (testdata/lab/*.pcap*, ../shared/corpus/public/*/*,
../shared/corpus/lab/*.pcap*) tshark is run twice, once with these
statistics (-q):

  -q -z io,phs                      protocol hierarchy: frames and bytes per
                                    protocol; "total" is the sum of the
                                    top-level (link-layer) nodes, and each
                                    protocol of PHS_NAMES is taken at its
                                    top-most occurrences outside ICMP and
                                    ICMPv6 (whose errors quote IP headers)
  -q -z endpoints,ip -z endpoints,ipv6
                                    per address: frames and bytes sent and
                                    received
  -q -z conv,ip -z conv,ipv6        per address pair: frames each way (the
                                    byte columns are rounded to kB by tshark
                                    4.0, so the exact bytes come from the
                                    per-frame fields below, and the script
                                    checks they round to what conv printed)
  -q -z io,stat,0,<filters>         frames and bytes matching each filter of
                                    FILTERS (broadcast, multicast, routing
                                    protocols by protocol number and port,
                                    IPX, Ethernet broadcast and multicast)
and once with
  -T fields                         per frame: the outer IP addresses,
                                    frame.len, tcp.stream, the ICMP/ICMPv6
                                    type and the IP lengths, for the exact
                                    conversation bytes, the TCP streams of
                                    each host and the big pings

"local" is the address in the most frames' outer IP header (ties: the
lowest), so that the test can split the traffic into directions; for IPv4, "subnet" is its /24,
whose broadcast address is one of the filters.

Run from the repository root:  python3 testdata/golden/census/gen_census.py [SUBSTRING...]
(with arguments, only the captures whose path holds one of them).
Needs tshark (apt-get install -y tshark). The goldens are committed; tests
read them and never run tshark. Deliberate differences are listed in
DIFFERENCES.md next to this script.
"""
import glob
import ipaddress
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OUT = os.path.join(ROOT, "testdata", "golden", "census")
BIG_PING = 1000  # census.DefaultBigPing: echo payload above this is a big ping

PHS_NAMES = ["ip", "ipv6", "arp", "tcp", "udp", "icmp", "icmpv6", "igmp", "gre", "esp", "sctp", "ospf",
             "eigrp", "ipx"]

FILTERS = [
    ("ip_broadcast", "ip.dst==255.255.255.255"),
    ("ipv4_multicast", "ip.dst==224.0.0.0/4"),
    ("ipv6_multicast", "ipv6.dst==ff00::/8"),
    ("ospf", "ip.proto==89"),
    ("eigrp", "ip.proto==88"),
    ("rip", "udp.port==520"),
    ("ripng", "udp.port==521"),
    ("bgp", "tcp.port==179"),
    ("ipx", "eth.type==0x8137 || eth.type==0x8138"),
    ("ethernet_broadcast", "eth.dst==ff:ff:ff:ff:ff:ff || sll.pkttype==1"),
    ("ethernet_multicast", "(eth.dst.ig==1 && !(eth.dst==ff:ff:ff:ff:ff:ff)) || sll.pkttype==2"),
]

FIELDS = ["frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.stream", "icmp.type", "icmpv6.type",
          "ip.len", "ip.hdr_len", "ipv6.plen"]


def captures():
    pats = ["testdata/lab/*.pcap*", "../shared/corpus/public/*/*", "../shared/corpus/lab/*.pcap*"]
    for p in pats:
        for f in sorted(glob.glob(os.path.join(ROOT, p))):
            if f.endswith((".pcap", ".pcapng", ".cap", ".gz")):
                yield os.path.relpath(f, ROOT)


def tshark(path, *args):
    p = subprocess.run(["tshark", "-n", "-r", path] + list(args), capture_output=True, text=True)
    err = "\n".join(l for l in p.stderr.splitlines() if "Running as user" not in l)
    return p.stdout, err.strip()


def stats(path, subnet_bcast):
    """One tshark -q run with every -z statistic; their outputs are told
    apart by their line shapes."""
    filters = list(FILTERS)
    if subnet_bcast:
        filters.append(("subnet_broadcast", "ip.dst==" + subnet_bcast))
    out, err = tshark(path, "-q", "-z", "io,phs", "-z", "endpoints,ip", "-z", "endpoints,ipv6",
                      "-z", "conv,ip", "-z", "conv,ipv6", "-z", "io,stat,0," + ",".join(f for _, f in filters))
    lines = out.splitlines()
    total, per = phs(lines)
    return total, per, endpoints(lines), conversations(lines), iostat(lines, filters), err


def phs(lines):
    total = [0, 0]
    per = {n: [0, 0] for n in PHS_NAMES}
    stack = []  # names of the ancestors of the current line
    for line in lines:
        m = re.match(r"^( *)(\S+)\s+frames:(\d+) bytes:(\d+)$", line)
        if not m:
            continue
        depth, name, frames, nbytes = len(m.group(1)) // 2, m.group(2), int(m.group(3)), int(m.group(4))
        if name.startswith("..."):  # tshark elides nodes deeper than its width
            continue
        del stack[depth:]
        if depth == 0:
            total[0] += frames
            total[1] += nbytes
        if name in per and name not in stack and "icmp" not in stack and "icmpv6" not in stack:
            per[name][0] += frames
            per[name][1] += nbytes
        stack.append(name)
    return total, per


def endpoints(lines):
    eps = []
    for line in lines:
        f = line.split()
        if len(f) == 7 and all(x.isdigit() for x in f[1:]):
            try:
                ipaddress.ip_address(f[0])
            except ValueError:
                continue
            eps.append(dict(addr=f[0], tx_frames=int(f[3]), tx_bytes=int(f[4]), rx_frames=int(f[5]),
                            rx_bytes=int(f[6])))
    eps.sort(key=lambda e: (ipaddress.ip_address(e["addr"]).version, ipaddress.ip_address(e["addr"])))
    return eps


UNITS = {"bytes": 1, "kB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3}


def conversations(lines):
    """Frames each way, and the printed (rounded) bytes, per address pair."""
    convs = []
    for line in lines:
        m = re.match(r"^(\S+)\s+<->\s+(\S+)\s+(\d+) (-?\d+) (\w+)\s+(\d+) (-?\d+) (\w+)", line)
        if not m:
            continue
        a, b = m.group(1), m.group(2)
        # tshark's "<-" columns are B to A, "->" A to B.
        convs.append(dict(a=a, b=b, frames_ba=int(m.group(3)), printed_ba=int(m.group(4)) * UNITS[m.group(5)],
                          frames_ab=int(m.group(6)), printed_ab=int(m.group(7)) * UNITS[m.group(8)]))
    return convs


def iostat(lines, filters):
    """None when tshark prints no row: it prints none for a capture whose
    frames all have one timestamp (its interval is then empty)."""
    rows = [l for l in lines if "<>" in l]
    if not rows:
        return None
    cells = [c.strip() for c in rows[-1].split("|")[2:-1]]
    return {name: [int(cells[2 * i]), int(cells[2 * i + 1])] for i, (name, _) in enumerate(filters)}


def fields(path):
    cmd = ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    out, _ = tshark(path, *cmd)
    frames = []
    for line in out.splitlines():
        v = (line.split("\t") + [""] * len(FIELDS))[:len(FIELDS)]
        frames.append(dict(zip(FIELDS, v)))
    return frames


def num(s):
    return int(s) if s not in ("", None) else None


def derive(frames):
    """Exact bytes per pair and direction, TCP streams per host, big pings."""
    pair = {}
    streams = {}
    big = dict(requests=[0, 0], replies=[0, 0], echo_requests=[0, 0], echo_replies=[0, 0], by_source={})
    for f in frames:
        src, dst = f["ip.src"] or f["ipv6.src"], f["ip.dst"] or f["ipv6.dst"]
        if not src or not dst:
            continue
        flen = int(f["frame.len"] or 0)
        pair.setdefault((src, dst), [0, 0])
        pair[(src, dst)][0] += 1
        pair[(src, dst)][1] += flen
        if f["tcp.stream"] != "":
            for h in (src, dst):
                streams.setdefault(h, set()).add(f["tcp.stream"])
        if f["ip.src"]:
            typ, req, rep = num(f["icmp.type"]), 8, 0
            payload = num(f["ip.len"]) - num(f["ip.hdr_len"]) - 8 if f["ip.len"] and f["ip.hdr_len"] else None
        else:
            typ, req, rep = num(f["icmpv6.type"]), 128, 129
            payload = num(f["ipv6.plen"]) - 8 if f["ipv6.plen"] else None
        if typ not in (req, rep) or payload is None:
            continue
        key = "echo_requests" if typ == req else "echo_replies"
        big[key][0] += 1
        big[key][1] += flen
        if payload > BIG_PING:
            pinger = src if typ == req else dst
            big["requests" if typ == req else "replies"][0] += 1
            big["requests" if typ == req else "replies"][1] += flen
            s = big["by_source"].setdefault(pinger, dict(pings=0, bytes=0))
            s["pings"] += 1 if typ == req else 0
            s["bytes"] += flen
    return pair, {h: len(s) for h, s in sorted(streams.items())}, big


def golden(rel):
    path = os.path.join(ROOT, rel)
    frames = fields(path)
    pair, streams, big = derive(frames)
    # "local": the address in the most frames (outer IP header), ties to the lowest.
    count = {}
    for (src, dst), (n, _) in pair.items():
        count[src] = count.get(src, 0) + n
        if dst != src:
            count[dst] = count.get(dst, 0) + n
    local, subnet, bcast = "", "", ""
    if count:
        local = sorted(count, key=lambda a: (-count[a], ipaddress.ip_address(a).version, ipaddress.ip_address(a)))[0]
        if ipaddress.ip_address(local).version == 4:
            net = ipaddress.ip_network(local + "/24", strict=False)
            subnet, bcast = str(net), str(net.broadcast_address)
    total, per, eps, convs, iost, err = stats(path, bcast)
    for c in convs:
        ab = pair.get((c["a"], c["b"]), [0, 0])
        ba = pair.get((c["b"], c["a"]), [0, 0]) if c["a"] != c["b"] else [0, 0]
        if [ab[0], ba[0]] != [c["frames_ab"], c["frames_ba"]]:
            sys.exit(f"{rel}: conv {c['a']} <-> {c['b']}: fields give {ab[0]}/{ba[0]} frames, conv {c['frames_ab']}/{c['frames_ba']}")
        for exact, printed in ((ab[1], c.pop("printed_ab")), (ba[1], c.pop("printed_ba"))):
            if printed < 0:
                continue  # tshark 4.0 prints an original length above 2^31 as negative
            unit = max(u for u in UNITS.values() if u <= max(exact, 1)) if exact >= 10000 else 1
            if exact // unit != printed // unit:
                sys.exit(f"{rel}: conv {c['a']} <-> {c['b']}: exact {exact} B does not print as {printed}")
        c["bytes_ab"], c["bytes_ba"] = ab[1], ba[1]
    ver = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    return dict(file=rel, tshark=ver, tshark_error=err[:500], frames_read=len(frames), total=total, phs=per,
                endpoints=eps, conversations=convs, tcp_streams=streams, casts_routing=iost, echo=big,
                local=local, subnet=subnet, big_ping=BIG_PING)


def main():
    """Arguments, if any, select the captures whose path holds one of them."""
    os.makedirs(OUT, exist_ok=True)
    for rel in captures():
        if len(sys.argv) > 1 and not any(a in rel for a in sys.argv[1:]):
            continue
        g = golden(rel)
        name = os.path.basename(rel)
        if rel.startswith("../shared/corpus/public/"):
            name = "public_" + rel.split("/")[4] + "_" + name
        elif rel.startswith("../shared/corpus/lab/"):
            name = "lab_" + name
        else:
            name = "testdata_" + name
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(g, f, indent=0, sort_keys=True)
            f.write("\n")
        print(f"{rel}: {g['total'][0]} frames, {len(g['endpoints'])} endpoints", file=sys.stderr)


if __name__ == "__main__":
    main()
