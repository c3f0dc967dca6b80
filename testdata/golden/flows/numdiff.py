#!/usr/bin/env python3
"""Compare two versions of the flows -json golden files number by number.

usage: python3 testdata/golden/flows/numdiff.py [REV]

For every golden file (testdata/golden/flows/*/*.jsonl.gz) that differs
between git revision REV (default HEAD) and the working tree, check that
both hold the same lines, the same keys in the same order and the same
values everywhere, except numbers that differ by no more than the
resolution of the field's unit, as a duration held in whole nanoseconds is
written: 0.5e-9 for a field named *_s (seconds), 0.5e-6 for *_ms
(milliseconds); every other number must be identical. The tolerance allows
a relative 1e-15 more for the float formatting of the old value.

One figure may move by a whole nanosecond: explain.queue.loaded_rtt_ms was
the base RTT plus the largest queueing delay, the base RTT converted back
from float milliseconds to a time.Duration by truncation, which lost a
nanosecond whenever the product fell just below the integer. It is
accepted when it moved by at most 1 ns and the new value is rtt_ms +
max_delay_ms of the same record to the nanosecond (the definition).

Prints one line per file changed and a summary; exits 1 on any other
difference.
"""

import gzip
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TOL = {"_s": 0.5e-9, "_ms": 0.5e-6}


def tolerance(key):
    for suffix, tol in TOL.items():
        if key.endswith(suffix):
            return tol
    return 0.0


class Diff:
    def __init__(self):
        self.numbers = 0  # numbers that differ within tolerance
        self.largest = {s: 0.0 for s in TOL}
        self.errors = []
        self.loaded = []  # (path, old, new) of loaded_rtt_ms moved by up to 1 ns
        self.loaded_fixed = 0

    def walk(self, a, b, path, key):
        if isinstance(a, dict) and isinstance(b, dict):
            if list(a) != list(b):
                self.errors.append(f"{path}: keys {list(a)} != {list(b)}")
                return
            for k in a:
                self.walk(a[k], b[k], f"{path}.{k}", k)
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                self.errors.append(f"{path}: {len(a)} items != {len(b)}")
                return
            for i, (x, y) in enumerate(zip(a, b)):
                self.walk(x, y, f"{path}[{i}]", key)
        elif isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            if a != b or type(a) is not type(b):
                self.errors.append(f"{path}: {a!r} != {b!r}")
        elif a != b:
            tol = tolerance(key)
            d = abs(a - b)
            if key == "loaded_rtt_ms" and tol < d <= 1e-6 + 1e-15 * abs(a):
                self.loaded.append((path, a, b))
                return
            if tol == 0 or d > tol + 1e-15 * abs(a):
                self.errors.append(f"{path}: {a!r} -> {b!r} (difference {d:.3g}, allowed {tol:.3g})")
                return
            self.numbers += 1
            for s in TOL:
                if key.endswith(s):
                    self.largest[s] = max(self.largest[s], d)


def ns(ms):
    return round(ms * 1e6)


def check_loaded(d, rec, path_prefix):
    """Accept d.loaded entries of record rec whose new value is rtt_ms +
    max_delay_ms to the nanosecond."""
    keep = []
    for path, a, b in d.loaded:
        if not path.startswith(path_prefix):
            keep.append((path, a, b))
            continue
        ex = rec.get("explain") or {}
        q = ex.get("queue") or {}
        if ns(b) == ns(ex.get("rtt_ms", 0)) + ns(q.get("max_delay_ms", 0)):
            d.loaded_fixed += 1
        else:
            d.errors.append(f"{path}: {a!r} -> {b!r} is not rtt_ms + max_delay_ms")
    d.loaded = keep


def lines(data):
    return [json.loads(l) for l in gzip.decompress(data).decode().splitlines() if l.strip()]


def main():
    rev = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    changed = subprocess.run(["git", "-C", str(ROOT), "diff", "--name-only", rev, "--", "testdata/golden/flows"],
                             check=True, capture_output=True, text=True).stdout.split()
    changed = [c for c in changed if c.endswith(".jsonl.gz")]
    total, bad, fixed = Diff(), 0, 0
    for rel in changed:
        old = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{rel}"], check=True, capture_output=True).stdout
        new = (ROOT / rel).read_bytes()
        d = Diff()
        a, b = lines(old), lines(new)
        if len(a) != len(b):
            d.errors.append(f"{len(a)} lines != {len(b)}")
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                d.walk(x, y, f"line {i + 1}", "")
                check_loaded(d, y, f"line {i + 1}.")
        total.numbers += d.numbers
        fixed += d.loaded_fixed
        for s in TOL:
            total.largest[s] = max(total.largest[s], d.largest[s])
        status = "ok" if not d.errors else "DIFFERS"
        extra = f", {d.loaded_fixed} loaded_rtt_ms a nanosecond up" if d.loaded_fixed else ""
        print(f"{rel}: {d.numbers} numbers within resolution{extra}, {status}")
        for e in d.errors[:5]:
            print("   ", e)
        bad += bool(d.errors)
    print(f"{len(changed)} files changed, {total.numbers} numbers differ within the unit's resolution, "
          f"largest difference {total.largest['_s']:.3g} s (*_s), {total.largest['_ms']:.3g} ms (*_ms); "
          f"{fixed} loaded_rtt_ms one nanosecond up, now rtt_ms + max_delay_ms; {bad} files with other differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
