#!/usr/bin/env bash
# compare.sh CAPTURE [ROUNDS] - time netecology against the read+decode
# floor, tcptrace and tshark on the same capture, alternating the commands
# round by round (A B C D A B C D ...) so that a machine whose speed drifts
# treats them alike, and print each command's median wall time and peak
# RSS and the ratios of ours to the others (same-round pairs, median).
#
#   testdata/bench/compare.sh /tmp/lab-big/big.pcap 5
#
# Ours is `flows -json` (the full analysis: tcpstate, appproto, explain)
# with GOMAXPROCS=1 and =2; the floor is flow/flowtest/floor (pcapgo's
# ZeroCopyReadPacketData + gopacket's DecodingLayerParser, nothing else);
# tcptrace -l -r -n and tshark -q -z conv,tcp run when installed. Output
# goes to /dev/null; the capture should be in the page cache (one warm-up
# round is not counted). Needs /usr/bin/time (Debian package time).
set -euo pipefail
cap=${1:?usage: compare.sh CAPTURE [ROUNDS]}
rounds=${2:-5}
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd "$here" && go build -o "$bin/flows" ./examples/flows && go build -o "$bin/floor" ./flow/flowtest/floor)

names=(floor ours-1cpu ours-2cpu)
cmds=("$bin/floor $cap" "env GOMAXPROCS=1 $bin/flows -json -q $cap" "env GOMAXPROCS=2 $bin/flows -json -q $cap")
if command -v tcptrace >/dev/null; then names+=(tcptrace); cmds+=("tcptrace -l -r -n $cap"); fi
if [ -z "${NO_TSHARK:-}" ] && command -v tshark >/dev/null; then names+=(tshark); cmds+=("tshark -q -z conv,tcp -r $cap"); fi

out=$bin/times.tsv
for r in $(seq 0 "$rounds"); do
    for i in "${!cmds[@]}"; do
        /usr/bin/time -f "%e %M" -o "$bin/t" ${cmds[$i]} >/dev/null 2>&1 || true
        [ "$r" -gt 0 ] && printf '%s\t%s\t%s\n' "$r" "${names[$i]}" "$(cat "$bin/t" | tail -1 | tr ' ' '\t')" >>"$out"
    done
done

printf 'capture: %s (%s bytes), %s rounds after one warm-up\n' "$cap" "$(stat -c %s "$cap")" "$rounds"
awk -F'\t' '
function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ w[$2, $1] = $3; m[$2, $1] = $4; seen[$2] = 1; if ($1 > R) R = $1 }
END {
    printf "1\t%-10s %10s %12s\n", "command", "wall s", "peak RSS MB"
    for (c in seen) { n = 0; for (r = 1; r <= R; r++) { n++; a[n] = w[c, r]; b[n] = m[c, r] }
        printf "2\t%-10s %10.2f %12.1f\n", c, median(a, n), median(b, n) / 1024 }
    split("ours-1cpu ours-2cpu", ours, " ")
    for (o in ours) for (c in seen) if (c != ours[o]) {
        n = 0; for (r = 1; r <= R; r++) { n++; a[n] = w[c, r] / w[ours[o], r] }
        printf "3\t%s is %.2fx as fast as %s\n", ours[o], median(a, n), c }
}' "$out" | sort | cut -f2-
