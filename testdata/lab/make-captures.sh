#!/usr/bin/env bash
# make-captures.sh - reproducible "WAN lab": real client/server applications
# (PostgreSQL, MariaDB, nginx, curl, ping, a UDP echo service) talking across an emulated WAN
# link between a client and a server network namespace, captured with
# tcpdump/dumpcap on the client side.
#
#   [LAB_SET=SET] make-captures.sh [OUTDIR]  default OUTDIR: <this script's dir>/../corpus/lab
#   [LAB_SET=SET] make-captures.sh --plan    print the capture plan of SET (tab-separated), run nothing
#   [LAB_SET=SET] make-captures.sh --readme OUTDIR
#                                            re-render README.md/groundtruth.json of OUTDIR
#   make-captures.sh --big PATH [PACKETS]    one large capture over an unthrottled
#                                            veth (default 3000000 packets)
#   make-captures.sh --teardown              remove namespaces / stop lab processes
#
# Capture sets (LAB_SET, see plan()):
#   default  wan512 / wan2m / wan2m-loss: 150 ms base RTT trans-Atlantic link, 23 captures
#   rtt      rtt10 / rtt50: six wan2m workloads at the same 2000 kbit/s, no loss, base RTT 10 and
#            50 ms (wan2m-* is the 150 ms member): validates what-if RTT projections
#   holdout  h30 / h250 / hloss: another family (1-1.5 Mbit/s, 30-250 ms, 1 % loss) for
#            hidden evaluation
#   project  netecology's committed testdata/lab set: chatty and bulk sessions at 150 ms
#            (wan2m) and the same at 10 and 50 ms, an ICMP ping sweep and a UDP echo sweep
# netecology's sub-folder sets (each run into its own folder testdata/lab/SET, which gets its own
# README.md and groundtruth.json; captures there are .pcap.gz, gzip -9n):
#   vantage  one session captured at the client, in the middle and at the server at once: two
#            emulators in series (20 ms, unlimited | 55 ms, 2 Mbit/s, 0 or 1 % loss) with a tap between
#   events   an 8 s path blackout (bulk and chatty), a client that stops reading for 10 s (zero
#            window), a duplex-mismatch LAN link (collisions) and its clean twin, a third host's ping flood
#   span     every frame twice (c0 and wc merged with mergecap, as from a SPAN port) and the same clean
#   sweeps   ICMP sweeps through Meek et al.'s size rule (every other frame over 966 B of IP length
#            dropped), through 5 % Bernoulli loss, and clean, with per-size emulator counters
#   budget   pg-chatty and http-chatty twice at 10 ms, the same rows by FETCH 15, and 50 extra queries/requests
#   whatif   nine workloads on six profiles from LAN (0.5 ms, 50 Mbit/s) to geostationary (600 ms)
#   think    whatif's pg-chatty on its six profiles, captured at the client and the server at once
#   calib    (not committed) the emulator's accuracy at 10..200 Mbit/s
#
# netecology's copy (testdata/lab/make-captures.sh) differs from ../shared/lab's by the
# udp-echo task (a UDP echo server on port 7, RFC 862, and a client that sends 200
# datagrams of 0..1472 B one at a time and checks every reply byte for byte) and the
# project set; run it as  sudo LAB_SET=project testdata/lab/make-captures.sh testdata/lab
# (LAB_ONLY="wan2m-pg-bulk ..." takes only the named captures of a set)
# OUTDIR's groundtruth.json and README.md always cover every capture in OUTDIR:
# a run replaces the entries of the captures it takes and keeps the others
# (so LAB_SET=rtt can add to the folder of the default set).
#
# Everything runs inside three namespaces that the script creates itself:
#   nse_client (10.77.0.1, c0) <-veth-> nse_wan (wc | emulator | ws) <-veth-> nse_server (10.77.0.2, s0)
# No address outside 10.77.0.1/10.77.0.2 is ever used; the namespaces have no
# default route, so nothing can leave the machine.
#
# Why a userspace emulator: this kernel is built without sch_netem
# (CONFIG_NET_SCH_NETEM unset, no loadable modules), so `tc qdisc ... netem`
# fails with "Specified qdisc kind is unknown". The bridge in nse_wan models
# the link per direction exactly like `netem delay D rate R loss L limit N`:
# a frame waits for the serializer (FIFO, at most N frames), takes
# len(frame)*8/R seconds to serialize (len = Ethernet frame incl. 14-byte header,
# no FCS/preamble), then arrives D later. Loss is Bernoulli per frame (seeded).
#
# Fault rules of the emulator (wanemu.py --help; off unless a capture asks for them, see plan_at):
# --blackout-at/--blackout-for, --sizedrop N, --collision P, --bin B (per-size counters), --log-lost N.
# Host shaping (plan_shape, off unless a capture asks for it): a tbf on the client's and the server's
# egress, so that both send below the link rate and the emulator's FIFOs stay nearly empty.
# Ground truth that the capture cannot give comes from outside it: the emulators' counters, the
# client task's own record ($WORK/task.json: zero-window times, the flood's ping summary), the
# servers' logs (PostgreSQL log_statement=all, MariaDB's general log, nginx's access log: the exact
# statements and requests executed during each capture) and, for hosts, tshark's statistics.
#
# Idempotent: every run first tears down leftovers of a previous run (its own
# namespaces, the processes inside them, and the PIDs it recorded, each only if
# it still runs the recorded program), and always tears down on exit. Only one
# run at a time (/run/wanlab.pid). Server data/logs live in /var/tmp/wanlab.
set -Eeuo pipefail

SELF=$(readlink -f "$0")
NS_C=nse_client NS_W=nse_wan NS_S=nse_server NS_H=nse_host3
C_IP=10.77.0.1 S_IP=10.77.0.2 H_IP=10.77.0.3
C_MAC=02:77:00:00:00:01 S_MAC=02:77:00:00:00:02 H_MAC=02:77:00:00:00:03
WORK=/var/tmp/wanlab                 # server data, logs, pid records
PIDREC=$WORK/pids                    # "pid<TAB>comm<TAB>stop-signal" of every process we start
PY=/usr/bin/python3
DB_USER=lab DB_PASS=labpass DB_NAME=labdb
NROWS_TABLE=20000    # rows in the orders table
NROWS_QUERY=3000     # rows returned by the bulk query
NCHATTY=200          # single-row queries in the chatty sessions
FETCH=15             # psql FETCH_COUNT, like SQL*Plus' default arraysize 15
BULK_SQL="SELECT * FROM orders WHERE order_id <= $NROWS_QUERY ORDER BY order_id"
DUPLEX_ROWS=16       # duplex.csv: rows.csv's header, then its first DUPLEX_ROWS rows ...
DUPLEX_COPIES=2700   # ... repeated this many times (3850294 bytes; repeating, so that the captures gzip small)
DUPLEX_LAG=1         # duplex: the download starts this many seconds after the upload
DUPLEX_COLLISION=0.05 # events: dpx10m-duplex's collision probability (--collision)
DUPLEX_SHAPE=8000    # events: dpx10m-duplex*: the client and the server send at most this many kbit/s
LAB_SET=${LAB_SET:-default}   # capture set (see plan())
export LAB_SET

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- client tasks
# Invoked as "$SELF __client TASK ..." inside nse_client (see run_client).
client_task() {
    local task=$1; shift
    export PGPASSWORD=$DB_PASS PGCONNECT_TIMEOUT=20
    local pgconn="host=$S_IP port=5432 user=$DB_USER dbname=$DB_NAME sslmode=disable gssencmode=disable application_name=wanlab"
    local my=(mariadb --no-defaults --skip-ssl -h "$S_IP" -P 3306 -u "$DB_USER" -p"$DB_PASS" "$DB_NAME")
    local cu=(curl -sS --fail --noproxy '*' --max-time 600)
    unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
    case $task in
    pg-bulk)   psql -X -q -d "$pgconn" -c "$BULK_SQL" >/dev/null ;;
    pg-fetch)  psql -X -q -v FETCH_COUNT="$FETCH" -d "$pgconn" -c "$BULK_SQL" >/dev/null ;;
    pg-chatty) psql -X -q -d "$pgconn" -f "$WORK/chatty.sql" >/dev/null ;;
    pg-chatty-n) head -n "$1" "$WORK/chatty.sql" | psql -X -q -d "$pgconn" >/dev/null ;;
    pg-chatty-idle) psql -X -q -d "$pgconn" -f "$WORK/chatty-idle.sql" >/dev/null ;;
    my-bulk)   "${my[@]}" -e "$BULK_SQL" >/dev/null ;;
    my-chatty) "${my[@]}" <"$WORK/chatty.sql" >/dev/null ;;
    http-bulk) "${cu[@]}" "http://$S_IP/rows.csv" "http://$S_IP/blob.bin" >/dev/null ;;
    http-chatty) "${cu[@]}" $(sed "s|^|http://$S_IP/row/|; s|\$|.csv|" "$WORK/chatty.ids") >/dev/null ;;
    http-blob) "${cu[@]}" "http://$S_IP/blob.bin" >/dev/null ;;
    mixed)     # one bulk HTTP download competing with a chatty SQL session
        "${cu[@]}" "http://$S_IP/blob.bin" >/dev/null & local p=$!
        sleep 1; client_task pg-chatty-n 40; wait "$p" ;;
    ping-sweep) # ICMP echo, payload sizes 0..1472 in a fixed shuffled order, one at a time
        # (optional argument: seconds to wait for each reply, default 5)
        local n
        for n in $("$PY" -c 'import random
s=[round(i*1472/199) for i in range(200)]; random.Random(7).shuffle(s); print(*s)'); do
            ping -n -q -c 1 -W "${1:-5}" -s "$n" "$S_IP" >/dev/null || echo "ping -s $n: no reply" >&2
            sleep 0.05
        done ;;
    http-bulk-s) "${cu[@]}" "http://$S_IP/rows.csv" >/dev/null ;;
    mixed-s)   # rows.csv downloaded while, 0.5 s later, psql runs 40 single-row queries
        "${cu[@]}" "http://$S_IP/rows.csv" >/dev/null & local p=$!
        sleep 0.5; client_task pg-chatty-n 40; wait "$p" ;;
    pg-fetch-n) psql -X -q -v FETCH_COUNT="$1" -d "$pgconn" -c "$BULK_SQL" >/dev/null ;;
    pg-chatty-fetch15)   # the 200 chatty rows in one query, read through a cursor 15 rows per FETCH
        psql -X -q -v FETCH_COUNT=15 -d "$pgconn" \
            -c "SELECT * FROM orders WHERE order_id IN ($(paste -sd, "$WORK/chatty.ids")) ORDER BY order_id" >/dev/null ;;
    pg-chatty-plus50) cat "$WORK/chatty.sql" "$WORK/extra50.sql" | psql -X -q -d "$pgconn" >/dev/null ;;
    http-chatty-plus50) "${cu[@]}" $(cat "$WORK/chatty.ids" "$WORK/extra50.ids" | sed "s|^|http://$S_IP/row/|; s|\$|.csv|") >/dev/null ;;
    http-many) "${cu[@]}" $(seq -f "http://$S_IP/obj/%g.txt" 1 50) >/dev/null ;;
    zero-window)   # read 64 KiB of rows.csv, stop reading for 10 s (receive buffer 16 KiB requested), read the rest
        "$PY" - "$S_IP" "$WORK/task.json" <<'PYEOF'
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)     # before connect: fixes the window scale
s.connect((sys.argv[1], 80))
s.sendall(b'GET /rows.csv HTTP/1.1\r\nHost: ' + sys.argv[1].encode() + b'\r\nConnection: close\r\n\r\n')
got = 0
while got < 65536:
    b = s.recv(65536 - got)
    if not b: break
    got += len(b)
stop = time.time(); time.sleep(10); resume = time.time()
before = got
while True:
    b = s.recv(65536)
    if not b: break
    got += len(b)
end = time.time()
json.dump(dict(zero_window=dict(stop_reading_epoch=round(stop, 6), resume_reading_epoch=round(resume, 6),
    paused_s=round(resume - stop, 6), end_epoch=round(end, 6), bytes_read_before_stop=before, bytes_read_total=got,
    so_rcvbuf_requested=16384, so_rcvbuf_actual=s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))), open(sys.argv[2], 'w'))
s.close()
PYEOF
        ;;
    duplex)    # both directions busy for seconds: psql uploads duplex.csv (\copy = COPY FROM STDIN), and
        # DUPLEX_LAG s after it starts curl downloads the same file over HTTP; each command's start and
        # end (epoch seconds) in $WORK/task.json
        local u0 d0 d1
        rm -f "$WORK/upload.end"
        u0=$EPOCHREALTIME
        { psql -X -q -d "$pgconn" -c "\\copy uploads FROM '$WORK/duplex.csv' CSV HEADER"; echo "$EPOCHREALTIME" >"$WORK/upload.end"; } &
        local p=$!
        sleep "$DUPLEX_LAG"
        d0=$EPOCHREALTIME
        "${cu[@]}" "http://$S_IP/duplex.csv" >/dev/null
        d1=$EPOCHREALTIME
        wait "$p"
        "$PY" - "$u0" "$(cat "$WORK/upload.end")" "$d0" "$d1" "$WORK/task.json" <<'PYEOF'
import json, sys
u0, u1, d0, d1 = (round(float(x), 6) for x in sys.argv[1:5])
json.dump(dict(duplex=dict(upload=dict(command='psql -c "\\copy uploads FROM duplex.csv CSV HEADER" (COPY FROM STDIN)', start_epoch=u0, end_epoch=u1),
    download=dict(command='curl http://10.77.0.2/duplex.csv', start_epoch=d0, end_epoch=d1))), open(sys.argv[5], 'w'))
PYEOF
        ;;
    flood)     # mixed-s while the third host 10.77.0.3 pings the server: 1400-B payload, 20/s, 200 echoes
        ip netns exec nse_host3 ping -n -q -s 1400 -i 0.05 -c 200 -W 2 "$S_IP" >"$WORK/flood.ping" 2>&1 & local f=$!
        sleep 0.2; client_task mixed-s; wait "$f" || true
        "$PY" - "$WORK/flood.ping" "$WORK/task.json" <<'PYEOF'
import json, re, sys
t = open(sys.argv[1]).read()
m = re.search(r'(\d+) packets transmitted, (\d+) received', t)
json.dump(dict(flood=dict(host='10.77.0.3', target='10.77.0.2', command='ping -n -q -s 1400 -i 0.05 -c 200 -W 2',
    icmp_payload=1400, frame_len=1442, transmitted=int(m.group(1)), received=int(m.group(2)))), open(sys.argv[2], 'w'))
PYEOF
        ;;
    udp-echo)  # UDP echo (port 7), payload sizes 0..1472 in a fixed shuffled order, one at a time
        "$PY" - "$S_IP" <<'PYEOF'
import hashlib, random, socket, sys
sizes = [round(i * 1472 / 199) for i in range(200)]
random.Random(11).shuffle(sizes)
rnd = random.Random(5)
bad = lost = 0
for n in sizes:
    msg = rnd.randbytes(n)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(msg, (sys.argv[1], 7))
    try:
        got, _ = s.recvfrom(65535)
        if hashlib.md5(got).digest() != hashlib.md5(msg).digest():
            bad += 1
    except socket.timeout:
        lost += 1
    s.close()
print(f"udp-echo: {len(sizes)} sent, {lost} lost, {bad} corrupted", file=sys.stderr)
PYEOF
        sleep 0.05 ;;
    big-loader) big_loader "$@" ;;
    *) die "unknown client task $task" ;;
    esac
}

# Load generator for --big: runs one kind of session in a loop until $WORK/big.stop exists.
big_loader() {
    local kind=$1 i=0
    local pgconn="host=$S_IP port=5432 user=$DB_USER dbname=$DB_NAME sslmode=disable gssencmode=disable application_name=wanlab-big"
    local cu=(curl -sS --noproxy '*' --max-time 120)
    while [ ! -e "$WORK/big.stop" ]; do
        i=$((i + 1))
        case $kind in
        pgbench)   pgbench -n -d "$pgconn" -c 4 -j 1 -T 5 -S -M extended >/dev/null 2>&1 || true ;;
        pgbench-C) pgbench -n -d "$pgconn" -c 2 -j 1 -T 5 -S -C >/dev/null 2>&1 || true ;;
        pg-bulk)   psql -X -q -d "$pgconn" -c "$BULK_SQL" >/dev/null || true ;;
        pg-fetch)  psql -X -q -v FETCH_COUNT="$FETCH" -d "$pgconn" -c "$BULK_SQL" >/dev/null || true ;;
        pg-chatty) psql -X -q -d "$pgconn" -f "$WORK/chatty.sql" >/dev/null || true ;;
        http-bulk) "${cu[@]}" --limit-rate 20M "http://$S_IP/rows.csv" "http://$S_IP/blob.bin" >/dev/null || true ;;
        http-chatty) "${cu[@]}" $(sed "s|^|http://$S_IP/row/|; s|\$|.csv|" "$WORK/chatty.ids") >/dev/null || true ;;
        esac
    done
}

if [ "${1:-}" = __client ]; then
    shift
    client_task "$@"
    exit 0
fi

# ---------------------------------------------------------------- setup helpers
need_root() { [ "$(id -u)" = 0 ] || die "run as root"; }

install_deps() {
    local need=0 c
    for c in ip ethtool tcpdump tshark dumpcap capinfos curl ping setpriv chrt \
             nginx mariadbd mariadb mariadb-install-db psql pgbench "$PY"; do
        command -v "$c" >/dev/null 2>&1 || { log "missing: $c"; need=1; }
    done
    ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need=1
    [ $need = 1 ] || return 0
    log "installing Debian packages"
    local made_policy=0
    # keep package postinst scripts from starting system-wide services
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections || true
    apt-get update -q
    apt-get install -y -q --no-install-recommends \
        iproute2 ethtool tcpdump tshark wireshark-common curl iputils-ping util-linux \
        postgresql postgresql-client postgresql-contrib nginx-light mariadb-server mariadb-client \
        python3 procps ca-certificates
    [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

# record PID, the program name it will have once its exec chain (ip netns exec,
# setpriv, chrt) is done, and the signal that stops it cleanly
record_pid() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-TERM}" >>"$PIDREC"; }

# stop one process we started: TERM (or given signal), wait, then KILL
stop_pid() {
    local pid=$1 sig=${2:-TERM} i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -s "$sig" "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    log "pid $pid did not stop on $sig, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
}

ns_exists() { ip netns list 2>/dev/null | grep -q "^$1\( \|$\)"; }

teardown() {
    set +e
    local pid comm sig ns
    # 1. clients first (so that servers are not kept waiting for them)
    if ns_exists $NS_C; then for pid in $(ip netns pids $NS_C 2>/dev/null); do stop_pid "$pid"; done; fi
    # 2. processes this script recorded, newest first, with their own stop signal
    #    (only if the PID still runs the same program)
    if [ -f "$PIDREC" ]; then
        tac "$PIDREC" | while IFS=$'\t' read -r pid comm sig; do
            [ -n "$pid" ] || continue
            if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$comm" ]; then stop_pid "$pid" "${sig:-TERM}"; fi
        done
        rm -f "$PIDREC"
    fi
    # 3. anything still running inside our own namespaces (only we start processes there)
    for ns in $NS_C $NS_H $NS_W $NS_S; do
        ns_exists "$ns" || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do stop_pid "$pid"; done
        ip netns del "$ns" 2>/dev/null
    done
    set -e
}

# one run at a time: a second concurrent run would tear down the first one's lab
LOCKPID=/run/wanlab.pid
take_lock() {
    local other
    other=$(cat "$LOCKPID" 2>/dev/null || true)
    if [ -n "$other" ] && [ "$other" != $$ ] && tr '\0' ' ' 2>/dev/null <"/proc/$other/cmdline" | grep -q make-captures.sh; then
        die "another make-captures.sh run is active (pid $other)"
    fi
    echo $$ >"$LOCKPID"
}
drop_lock() { [ "$(cat "$LOCKPID" 2>/dev/null)" = $$ ] && rm -f "$LOCKPID"; return 0; }

on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    [ "$rc" = 0 ] || log "failed (exit $rc), tearing down"
    teardown
    # drop the server data (~200 MB); keep logs and $WORK/meta (used by --readme)
    rm -rf "$WORK/pg/data" "$WORK/my/data" "$WORK/www" "$WORK/attempt"
    drop_lock
    exit "$rc"
}

# veth with offloads off, so every captured frame is a real <=1514-byte wire
# frame with valid checksums (no TSO/GRO super-packets, no partial checksums)
nooffload() { ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true; }

make_ns() {
    local ns
    for ns in "$@"; do
        ip netns add "$ns"
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
}

# topology wan:    c0 (nse_client) <-> wc [emulator] ws <-> s0 (nse_server)
# topology wan2:   c0 (nse_client) <-> wc [emulator 1] m1 <-tap-> m2 [emulator 2] ws <-> s0 (nse_server):
#                  two emulators in series in nse_wan, m1-m2 a veth pair (the middle capture point is m1)
# topology wan3:   as wan, and a third host nse_host3 (10.77.0.3, h0) on the client's side: the client's
#                  address is on a bridge br0 in nse_client whose ports are c0 and hb (peer of h0), so c0
#                  carries both hosts' traffic to the WAN
# topology direct: c0 (nse_client) <-> s0 (nse_server)
setup_topology() {
    local mode=$1 cdev=c0
    if [ "$mode" != direct ]; then
        make_ns $NS_C $NS_W $NS_S
        local cmac=$C_MAC
        [ "$mode" = wan3 ] && cmac=02:77:00:00:00:b1
        ip link add c0 netns $NS_C address $cmac type veth peer name wc netns $NS_W address 02:77:00:00:00:a1
        ip link add s0 netns $NS_S address $S_MAC type veth peer name ws netns $NS_W address 02:77:00:00:00:a2
        nooffload $NS_W wc; nooffload $NS_W ws
        ip -n $NS_W link set wc up; ip -n $NS_W link set ws up
        if [ "$mode" = wan2 ]; then
            ip -n $NS_W link add m1 address 02:77:00:00:00:a3 type veth peer name m2 address 02:77:00:00:00:a4
            nooffload $NS_W m1; nooffload $NS_W m2
            ip -n $NS_W link set m1 up; ip -n $NS_W link set m2 up
        fi
        if [ "$mode" = wan3 ]; then
            make_ns $NS_H
            ip -n $NS_C link add br0 address $C_MAC type bridge stp_state 0 forward_delay 0
            ip link add hb netns $NS_C address 02:77:00:00:00:b3 type veth peer name h0 netns $NS_H address $H_MAC
            nooffload $NS_C hb; nooffload $NS_H h0; nooffload $NS_C br0
            ip -n $NS_C link set c0 master br0; ip -n $NS_C link set hb master br0
            ip -n $NS_C link set hb up; ip -n $NS_C link set br0 up
            ip -n $NS_H addr add $H_IP/24 dev h0; ip -n $NS_H link set h0 up
            ip -n $NS_H neigh replace $S_IP lladdr $S_MAC dev h0 nud permanent
            ip -n $NS_S neigh replace $H_IP lladdr $H_MAC dev s0 nud permanent
            cdev=br0
        fi
    else
        make_ns $NS_C $NS_S
        ip link add c0 netns $NS_C address $C_MAC type veth peer name s0 netns $NS_S address $S_MAC
    fi
    nooffload $NS_C c0; nooffload $NS_S s0
    ip -n $NS_C addr add $C_IP/24 dev $cdev
    ip -n $NS_S addr add $S_IP/24 dev s0
    ip -n $NS_C link set c0 up
    ip -n $NS_S link set s0 up
    # static neighbours: no ARP in the captures, first frame of a session is the SYN
    ip -n $NS_C neigh replace $S_IP lladdr $S_MAC dev $cdev nud permanent
    ip -n $NS_S neigh replace $C_IP lladdr $C_MAC dev s0 nud permanent
}

write_emulator() {
    cat >"$WORK/wanemu.py" <<'PYEOF'
#!/usr/bin/python3
"""Userspace WAN link emulator (stand-in for tc netem, absent from this kernel).
Bridges two interfaces at L2 via AF_PACKET. Per direction: Bernoulli loss,
FIFO serializer queue of at most --limit frames, serialization at --rate-kbit
(frame length incl. Ethernet header), then --delay-ms propagation delay.
Optional faults (all off by default, so the default link is unchanged):
  --blackout-at S --blackout-for N  every frame that reaches the emulator from S to S+N seconds
                                    after the first frame it saw is dropped, both directions
                                    (frames accepted earlier are still delivered: a path cut here)
  --sizedrop N                      per direction, every other frame whose IP total length
                                    exceeds N bytes is dropped (the 2nd, 4th, ... such frame)
  --collision P                     (P >= 0) half-duplex collisions: a frame whose serialization overlaps
                                    a serialization in the other direction is lost with probability P
                                    (it still takes its time on the wire); judged once, when the frame
                                    reaches the emulator, against the other direction's frames queued or
                                    being serialized then (so of two overlapping frames the later one)
  --bin B                           per-direction counters of frames received / dropped per IP-length bin
  --log-lost N                      record the first N dropped frames (time, direction, cause, headers)"""
import argparse, collections, ctypes, json, os, random, select, signal, socket, struct, time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = getattr(socket, 'SO_TIMESTAMPNS', 35)
SPIN = 0.0005          # busy-wait the last 0.5 ms before a departure (VM timers are coarse)
try:
    ctypes.CDLL(None).prctl(29, 1, 0, 0, 0)      # PR_SET_TIMERSLACK = 1 ns
except Exception:
    pass

ap = argparse.ArgumentParser()
ap.add_argument('--if-a', required=True)
ap.add_argument('--if-b', required=True)
ap.add_argument('--delay-ms', type=float, default=75.0)
ap.add_argument('--rate-kbit', type=float, default=0.0, help='0 = unlimited')
ap.add_argument('--loss', type=float, default=0.0)
ap.add_argument('--limit', type=int, default=1000)
ap.add_argument('--seed', type=int, default=1)
ap.add_argument('--blackout-at', type=float, default=-1.0)
ap.add_argument('--blackout-for', type=float, default=0.0)
ap.add_argument('--sizedrop', type=int, default=0)
ap.add_argument('--collision', type=float, default=-1.0)
ap.add_argument('--bin', type=int, default=0)
ap.add_argument('--log-lost', type=int, default=0)
ap.add_argument('--stats')
ap.add_argument('--ready')
args = ap.parse_args()

def mksock(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind((ifname, ETH_P_ALL))
    s.setblocking(False)
    try:
        while True:
            s.recv(65535)
    except BlockingIOError:
        pass
    return s

def headers(frame):
    """The IPv4 total length and the fields that name a frame in a capture."""
    if len(frame) < 34 or frame[12:14] != b'\x08\x00':
        return len(frame) - 14, {}
    ihl = (frame[14] & 15) * 4
    iplen, ipid = struct.unpack('!HH', frame[16:20])
    h = dict(ip_id=ipid, proto=frame[23], src=socket.inet_ntoa(frame[26:30]), dst=socket.inet_ntoa(frame[30:34]))
    l4 = frame[14 + ihl:]
    if h['proto'] == 6 and len(l4) >= 20:
        sp, dp, seq, ack, off = struct.unpack('!HHIIB', l4[:13])
        h.update(sport=sp, dport=dp, seq=seq, ack=ack, flags=l4[13], tcp_len=iplen - ihl - (off >> 4) * 4)
    elif h['proto'] == 1 and len(l4) >= 8:
        h.update(icmp_type=l4[0], icmp_id=struct.unpack('!H', l4[4:6])[0], icmp_seq=struct.unpack('!H', l4[6:8])[0])
    return iplen, h

clock = dict(first=None, epoch_minus_mono=None)
blackout = dict(start_epoch=None, end_epoch=None, duration_s=args.blackout_for, after_first_frame_s=args.blackout_at)
lost_log = []

class Direction:
    def __init__(self, name, seed):
        self.name, self.rng = name, random.Random(seed)
        self.crng = random.Random(seed + 1000)   # collisions: own stream, loss pattern unchanged
        self.q = collections.deque()      # (deliver_at, frame)
        self.ser = collections.deque()    # (start, txend) of frames queued for / in serialization
        self.busy_until = 0.0
        self.big = 0                      # frames above --sizedrop seen
        self.bins = {}
        self.rate, self.delay = args.rate_kbit * 1000.0, args.delay_ms / 1000.0
        self.st = dict(rx_frames=0, rx_bytes=0, tx_frames=0, tx_bytes=0, lost=0, tail_dropped=0,
                       max_frame=0, max_queue_frames=0, max_queue_delay_ms=0.0, max_late_ms=0.0,
                       sum_late_ms=0.0)
        if args.blackout_at >= 0: self.st['blackout_dropped'] = 0
        if args.sizedrop: self.st.update(sizedrop_frames_above=0, sizedrop_dropped=0)
        if args.collision >= 0: self.st.update(both_busy_frames=0, collision_lost=0)
    def drop(self, why, frame, now, iplen, h):
        if args.bin:
            self.bins.setdefault(iplen // args.bin, [0, 0])[1] += 1
        if len(lost_log) < args.log_lost:
            lost_log.append(dict(epoch=round(now + clock['epoch_minus_mono'], 6), direction=self.name,
                                 cause=why, frame_len=len(frame), ip_len=iplen, **h))
    def enqueue(self, frame, now, other):
        st = self.st
        st['rx_frames'] += 1; st['rx_bytes'] += len(frame)
        st['max_frame'] = max(st['max_frame'], len(frame))
        iplen, h = headers(frame)
        if args.bin:
            self.bins.setdefault(iplen // args.bin, [0, 0])[0] += 1
        if args.loss > 0 and self.rng.random() < args.loss:
            st['lost'] += 1; self.drop('loss', frame, now, iplen, h); return
        if args.blackout_at >= 0 and clock['first'] + args.blackout_at <= now < clock['first'] + args.blackout_at + args.blackout_for:
            st['blackout_dropped'] += 1; self.drop('blackout', frame, now, iplen, h); return
        if args.sizedrop and iplen > args.sizedrop:
            self.big += 1; st['sizedrop_frames_above'] += 1
            if self.big % 2 == 0:
                st['sizedrop_dropped'] += 1; self.drop('sizedrop', frame, now, iplen, h); return
        while self.ser and self.ser[0][1] <= now:
            self.ser.popleft()
        if len(self.ser) >= args.limit:
            st['tail_dropped'] += 1; self.drop('tail', frame, now, iplen, h); return
        start = max(now, self.busy_until)
        txend = start + (len(frame) * 8.0 / self.rate if self.rate > 0 else 0.0)
        self.busy_until = txend
        st['max_queue_delay_ms'] = max(st['max_queue_delay_ms'], (start - now) * 1000)
        self.ser.append((start, txend))
        st['max_queue_frames'] = max(st['max_queue_frames'], len(self.ser))
        if args.collision >= 0 and any(s < txend and e > start for s, e in other.ser):
            st['both_busy_frames'] += 1
            if self.crng.random() < args.collision:
                st['collision_lost'] += 1; self.drop('collision', frame, now, iplen, h); return
        self.q.append((txend + self.delay, frame))

sa, sb = mksock(args.if_a), mksock(args.if_b)
a2b, b2a = Direction('client_to_server', args.seed * 2), Direction('server_to_client', args.seed * 2 + 1)
route = {sa.fileno(): (sa, a2b, b2a), sb.fileno(): (sb, b2a, a2b)}
out = [(a2b, sb), (b2a, sa)]
running = True
def stop(*_):
    global running
    running = False
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
if args.ready:
    with open(args.ready, 'w') as f:
        f.write(str(os.getpid()))

while running:
    now = time.monotonic()
    nxt = None
    for d, tx in out:
        while d.q and d.q[0][0] <= now:
            deliver, frame = d.q.popleft()
            try:
                tx.send(frame)
            except OSError:
                pass
            late = (now - deliver) * 1000
            d.st['tx_frames'] += 1; d.st['tx_bytes'] += len(frame)
            d.st['max_late_ms'] = max(d.st['max_late_ms'], late); d.st['sum_late_ms'] += late
        if d.q:
            nxt = d.q[0][0] if nxt is None else min(nxt, d.q[0][0])
    timeout = 0.5 if nxt is None else max(0.0, nxt - time.monotonic() - SPIN)
    try:
        r, _, _ = select.select([sa, sb], [], [], timeout)
    except InterruptedError:
        continue
    for s in r:
        sock, d, other = route[s.fileno()]
        while True:
            try:
                frame, anc, _fl, addr = sock.recvmsg(65535, 64)
            except BlockingIOError:
                break
            if addr[2] == PACKET_OUTGOING:
                continue
            now = time.monotonic()
            t = now
            for lvl, typ, data in anc:       # kernel rx timestamp, realtime -> monotonic
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(data) >= 16:
                    sec, nsec = struct.unpack('qq', data[:16])
                    t = sec + nsec * 1e-9 - (time.time() - now)
                    if t > now or now - t > 0.05:
                        t = now
            if clock['first'] is None:
                clock['first'], clock['epoch_minus_mono'] = t, time.time() - time.monotonic()
                if args.blackout_at >= 0:
                    blackout['start_epoch'] = round(t + args.blackout_at + clock['epoch_minus_mono'], 6)
                    blackout['end_epoch'] = round(t + args.blackout_at + args.blackout_for + clock['epoch_minus_mono'], 6)
            d.enqueue(frame, t, other)

if args.stats:
    res = {}
    for d in (a2b, b2a):
        st = dict(d.st)
        st['mean_late_ms'] = st.pop('sum_late_ms') / st['tx_frames'] if st['tx_frames'] else 0.0
        if args.bin:
            st['ip_len_bins'] = [dict(ip_len_from=k * args.bin, ip_len_to=k * args.bin + args.bin - 1, rx=v[0], dropped=v[1])
                                 for k, v in sorted(d.bins.items())]
        res[d.name] = st
    if args.blackout_at >= 0:
        res['blackout'] = blackout
    if args.log_lost:
        res['dropped_frames'] = lost_log
    res['params'] = {k: v for k, v in vars(args).items() if k not in ('stats', 'ready')}
    with open(args.stats, 'w') as f:
        json.dump(res, f, indent=1)
PYEOF
}

# ---------------------------------------------------------------- servers
pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

start_postgres() {
    local bin; bin=$(pg_bin)
    install -d -o postgres -g postgres -m 700 "$WORK/pg"
    install -d -o postgres -g postgres -m 755 "$WORK/pg/sock"
    (cd "$WORK" && setpriv --reuid=postgres --regid=postgres --init-groups -- \
        "$bin/initdb" -D "$WORK/pg/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$WORK/pg/initdb.log" 2>&1) || { cat "$WORK/pg/initdb.log" >&2; die "initdb failed"; }
    echo "host all all 10.77.0.0/24 scram-sha-256" >>"$WORK/pg/data/pg_hba.conf"
    cat >>"$WORK/pg/data/postgresql.conf" <<EOF
listen_addresses = '$S_IP'
port = 5432
unix_socket_directories = '$WORK/pg/sock'
ssl = off
max_connections = 200
shared_buffers = 128MB
fsync = off
synchronous_commit = off
logging_collector = off
log_statement = 'all'
log_line_prefix = '%m [%p] %a: '
EOF
    (cd "$WORK" && exec ip netns exec $NS_S setpriv --reuid=postgres --regid=postgres --init-groups -- \
        "$bin/postgres" -D "$WORK/pg/data" >"$WORK/pg/postgres.log" 2>&1) &
    # the subshell execs ip, which execs setpriv, which execs postgres: $! is the postmaster
    record_pid $! postgres INT     # SIGINT = fast shutdown
    local i
    for i in $(seq 1 100); do
        "$bin/pg_isready" -q -h "$WORK/pg/sock" && break; sleep 0.2
    done
    "$bin/pg_isready" -q -h "$WORK/pg/sock" || { cat "$WORK/pg/postgres.log" >&2; die "postgres did not start"; }
    psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/pg/sock" -U postgres -d postgres <<EOF
CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASS';
CREATE DATABASE $DB_NAME OWNER $DB_USER;
EOF
    psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/pg/sock" -U $DB_USER -d $DB_NAME <<EOF
CREATE TABLE orders (order_id int PRIMARY KEY, customer_id int, customer_name text,
  product_code text, quantity int, unit_price numeric(10,2), order_date date, status text, comment text);
INSERT INTO orders
SELECT i, (i*7919)%1000+1, 'Customer '||lpad(((i*7919)%1000+1)::text,4,'0'),
       'SKU-'||lpad(((i*104729)%5000)::text,5,'0'), i%17+1, ((i*37)%10000)/100.0+1,
       date '2024-01-01' + i%365, (ARRAY['NEW','PAID','SHIPPED','DELIVERED','CANCELLED'])[i%5+1], md5(i::text)
FROM generate_series(1,$NROWS_TABLE) i;
ANALYZE orders;
CREATE TABLE uploads (LIKE orders);
EOF
}

start_mariadb() {
    install -d -o mysql -g mysql -m 750 "$WORK/my" "$WORK/my/tmp"
    mariadb-install-db --no-defaults --user=mysql --datadir="$WORK/my/data" --skip-test-db \
        --auth-root-authentication-method=socket >"$WORK/my/install.log" 2>&1 \
        || { cat "$WORK/my/install.log" >&2; die "mariadb-install-db failed"; }
    (cd "$WORK" && exec ip netns exec $NS_S setpriv --reuid=mysql --regid=mysql --init-groups -- \
        mariadbd --no-defaults --datadir="$WORK/my/data" --socket="$WORK/my/mysqld.sock" \
        --pid-file="$WORK/my/mysqld.pid" --tmpdir="$WORK/my/tmp" --log-error="$WORK/my/error.log" \
        --bind-address=$S_IP --port=3306 --skip-name-resolve --skip-log-bin --max-connections=200 \
        --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 \
        --general-log=1 --general-log-file="$WORK/my/general.log" >/dev/null 2>&1) &
    record_pid $! mariadbd
    local i
    for i in $(seq 1 150); do
        mariadb-admin --no-defaults -S "$WORK/my/mysqld.sock" -u root ping >/dev/null 2>&1 && break; sleep 0.2
    done
    mariadb-admin --no-defaults -S "$WORK/my/mysqld.sock" -u root ping >/dev/null 2>&1 \
        || { cat "$WORK/my/error.log" >&2; die "mariadb did not start"; }
    mariadb --no-defaults -S "$WORK/my/mysqld.sock" -u root <<EOF
CREATE DATABASE $DB_NAME;
CREATE USER '$DB_USER'@'10.77.0.%' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'10.77.0.%';
USE $DB_NAME;
CREATE TABLE orders (order_id int PRIMARY KEY, customer_id int, customer_name text,
  product_code text, quantity int, unit_price decimal(10,2), order_date date, status text, comment text);
INSERT INTO orders
SELECT seq, (seq*7919)%1000+1, CONCAT('Customer ', LPAD((seq*7919)%1000+1,4,'0')),
       CONCAT('SKU-', LPAD((seq*104729)%5000,5,'0')), seq%17+1, ((seq*37)%10000)/100.0+1,
       DATE '2024-01-01' + INTERVAL (seq%365) DAY, ELT(seq%5+1,'NEW','PAID','SHIPPED','DELIVERED','CANCELLED'), MD5(seq)
FROM seq_1_to_$NROWS_TABLE;
EOF
}

start_nginx() {
    local w=$WORK/www
    install -d -m 755 "$WORK/nginx" "$w" "$w/row"
    # same rows as the SQL bulk query, as CSV; and one small CSV per chatty query
    psql -X -q -h "$WORK/pg/sock" -U $DB_USER -d $DB_NAME -c "\\copy ($BULK_SQL) TO '$w/rows.csv' CSV HEADER"
    local id
    psql -X -q -h "$WORK/pg/sock" -U $DB_USER -d $DB_NAME -At -F '|' \
        -c "SELECT order_id, customer_id, customer_name, product_code, quantity, unit_price, order_date, status, comment FROM orders" \
        | "$PY" -c '
import sys
hdr = "order_id,customer_id,customer_name,product_code,quantity,unit_price,order_date,status,comment\n"
want = set(open(sys.argv[1]).read().split())
for line in sys.stdin:
    f = line.rstrip("\n").split("|")
    if f[0] in want:
        open(sys.argv[2] + "/" + f[0] + ".csv", "w").write(hdr + ",".join(f) + "\n")
' "$WORK/rows.ids" "$w/row"
    # http-many: 50 small text objects (1000..7999 bytes, slices of rows.csv)
    install -d -m 755 "$w/obj"
    "$PY" -c '
import sys
rows = open(sys.argv[1], "rb").read()
for i in range(1, 51):
    n = 1000 + i * 1543 % 7000
    open("%s/%d.txt" % (sys.argv[2], i), "wb").write(rows[i * 4001:i * 4001 + n])
' "$w/rows.csv" "$w/obj"
    # duplex: the same file uploaded (COPY FROM STDIN) and downloaded (HTTP) at once
    "$PY" -c '
import sys
rows = open(sys.argv[1], "rb").read().split(b"\n")
open(sys.argv[2], "wb").write(rows[0] + b"\n" + b"".join(r + b"\n" for r in rows[1:1 + int(sys.argv[3])]) * int(sys.argv[4]))
' "$w/rows.csv" "$w/duplex.csv" "$DUPLEX_ROWS" "$DUPLEX_COPIES"
    cp "$w/duplex.csv" "$WORK/duplex.csv"; chmod a+r "$WORK/duplex.csv"
    "$PY" -c 'import random,sys; sys.stdout.buffer.write(random.Random(42).randbytes(300*1024))' >"$w/blob.bin"
    echo "wanlab" >"$w/index.html"
    chmod -R a+rX "$w"
    cat >"$WORK/nginx/nginx.conf" <<EOF
user www-data;
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log $WORK/nginx/access.log;
    client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
    types { text/csv csv; text/html html; text/plain txt; application/octet-stream bin; }
    sendfile on; tcp_nopush on; keepalive_timeout 65; keepalive_requests 100000;
    server { listen $S_IP:80; root $w; }
}
EOF
    (exec ip netns exec $NS_S nginx -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >/dev/null 2>&1) &
    record_pid $! nginx
    local i
    for i in $(seq 1 50); do
        ip netns exec $NS_S curl -s --noproxy '*' -o /dev/null "http://$S_IP/index.html" && return 0; sleep 0.2
    done
    cat "$WORK/nginx/error.log" >&2; die "nginx did not start"
}

make_workload_files() {
    # NCHATTY pseudo-random order ids, identical for SQL and HTTP chatty sessions
    "$PY" -c "print('\n'.join(str(k*7919 % $NROWS_TABLE + 1) for k in range(1, $NCHATTY + 1)))" >"$WORK/chatty.ids"
    sed 's/.*/SELECT * FROM orders WHERE order_id = &;/' "$WORK/chatty.ids" >"$WORK/chatty.sql"
    # the same queries, the client pausing 49 ms after each answer (psql's \! runs sleep in a shell)
    awk '{ print; print "\\! sleep 0.049" }' "$WORK/chatty.sql" >"$WORK/chatty-idle.sql"
    # 50 more ids (k = NCHATTY+1 .. NCHATTY+50) for the *-plus50 budget sessions
    "$PY" -c "print('\n'.join(str(k*7919 % $NROWS_TABLE + 1) for k in range($NCHATTY + 1, $NCHATTY + 51)))" >"$WORK/extra50.ids"
    sed 's/.*/SELECT * FROM orders WHERE order_id = &;/' "$WORK/extra50.ids" >"$WORK/extra50.sql"
    cat "$WORK/chatty.ids" "$WORK/extra50.ids" >"$WORK/rows.ids"
    chmod a+r "$WORK/chatty.ids" "$WORK/chatty.sql" "$WORK/chatty-idle.sql" "$WORK/extra50.ids" "$WORK/extra50.sql" "$WORK/rows.ids"
}

start_udp_echo() {   # RFC 862 echo over UDP on port 7 in the server namespace
    (exec ip netns exec $NS_S "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7))
while True:
    b, a = s.recvfrom(65535)
    s.sendto(b, a)
' "$S_IP" >/dev/null 2>&1) &
    record_pid $! python3
}

start_servers() {   # [nomariadb]
    make_workload_files
    start_udp_echo
    start_postgres
    [ "${1:-}" = nomariadb ] || start_mariadb
    start_nginx
    log "servers up on $S_IP: postgres :5432, $([ "${1:-}" = nomariadb ] || echo "mariadb :3306, ")nginx :80"
}

# ---------------------------------------------------------------- emulator + capture
EMU_PIDS=()
# start_emu TAG IF_A IF_B delay_ms rate_kbit loss limit [more wanemu.py options]: stats in $WORK/emu-TAG.json
start_emu() {
    local tag=$1 ifa=$2 ifb=$3 d=$4 r=$5 l=$6 lim=$7; shift 7
    rm -f "$WORK/emu-$tag.ready"
    # SCHED_FIFO so other processes in this VM cannot delay departures (chrt execs python: same PID)
    ip netns exec $NS_W chrt -f 50 "$PY" "$WORK/wanemu.py" --if-a "$ifa" --if-b "$ifb" --delay-ms "$d" --rate-kbit "$r" \
        --loss "$l" --limit "$lim" --seed 1 "$@" --stats "$WORK/emu-$tag.json" --ready "$WORK/emu-$tag.ready" &
    EMU_PIDS+=($!)
    record_pid $! python3
    local i
    for i in $(seq 1 100); do [ -s "$WORK/emu-$tag.ready" ] && return 0; sleep 0.05; done
    die "emulator $tag did not start"
}
stop_emu() {
    local p
    for p in "${EMU_PIDS[@]}"; do stop_pid "$p"; wait "$p" 2>/dev/null || true; done
    EMU_PIDS=()
}

run_client() { ip netns exec $NS_C bash "$SELF" __client "$@"; }

# shape_hosts KBIT | off JSON: a token bucket (tbf, one frame of burst) on the client's c0 and the
# server's s0 egress, so that each host sends at most KBIT kbit/s, as an application below the
# link rate does: the emulator's FIFOs then stay (nearly) empty. The queue limit is large, so the
# tbf itself never drops (TCP small queues keep only ~2 frames of a socket in it); "off" writes
# its counters (tc -s) to JSON and removes it.
SHAPE_DEVS="$NS_C:c0 $NS_S:s0" SHAPE_LIMIT=4000000
shape_hosts() {
    local x
    if [ "$1" != off ]; then
        for x in $SHAPE_DEVS; do
            ip netns exec "${x%%:*}" tc qdisc replace dev "${x#*:}" root tbf rate "${1}kbit" burst 1600 limit "$SHAPE_LIMIT"
        done
        return 0
    fi
    for x in $SHAPE_DEVS; do
        printf '%s\t%s\t%s\n' "${x%%:*}" "${x#*:}" "$(ip netns exec "${x%%:*}" tc -s -j qdisc show dev "${x#*:}")"
        ip netns exec "${x%%:*}" tc qdisc del dev "${x#*:}" root 2>/dev/null || true
    done | "$PY" -c '
import json, sys
out = {}
for line in sys.stdin:
    ns, dev, js = line.rstrip("\n").split("\t", 2)
    q = [x for x in json.loads(js) if x.get("kind") == "tbf"][0]
    out[dev] = dict(namespace=ns, qdisc="tbf", rate_kbit=q["options"]["rate"] * 8 / 1000, burst_bytes=q["options"]["burst"],
                    limit_bytes=int(sys.argv[2]), max_latency_s=q["options"]["lat"] / 1e6, sent_packets=q["packets"], sent_bytes=q["bytes"], dropped=q["drops"],
                    overlimits=q["overlimits"], requeues=q["requeues"])
json.dump(out, open(sys.argv[1], "w"))
' "$2" "$SHAPE_LIMIT"
}

# profiles: name delay_ms(one-way) rate_kbit loss limit settle_s
declare -A PROF_DELAY PROF_RATE PROF_LOSS PROF_LIMIT PROF_SETTLE
defprof() { PROF_DELAY[$1]=$2; PROF_RATE[$1]=$3; PROF_LOSS[$1]=$4; PROF_LIMIT[$1]=$5; PROF_SETTLE[$1]=$6; }
defprof wan512     75  512  0     1000 1.5     # LAB_SET=default
defprof wan2m      75  2000 0     1000 1.5
defprof wan2m-loss 75  2000 0.005 1000 4
defprof rtt10      5   2000 0     1000 1.5     # LAB_SET=rtt: wan2m at other RTTs
defprof rtt50      25  2000 0     1000 1.5
defprof h30        15  1000 0     1000 1.5     # LAB_SET=holdout
defprof h250       125 1000 0     1000 1.5
defprof hloss      60  1500 0.01  1000 4
# netecology's sub-folder sets (testdata/lab/<set>/)
defprof wan2m-l5   75  2000 0.05  1000 1.5     # sweeps: wan2m with Bernoulli 5 % each way
defprof dpx10m     0.5 10000 0    1000 2       # events: duplex-mismatch LAN link (collisions per capture)
defprof lan        0.25 50000 0   1000 1.5     # whatif: LAN, 0.5 ms RTT at the emulator's trustworthy maximum
defprof dsl512     40  512  0     1000 1.5     # whatif: 80 ms, below 1 Mbit/s
defprof m20        25  20000 0    1000 1.5     # whatif: 50 ms at 20 Mbit/s
defprof loss1      25  5000 0.01  1000 4       # whatif: 50 ms, 1 % loss each way
defprof shallow    25  2000 0     20   4       # whatif: 50 ms, 20-frame FIFO
defprof geo        300 2000 0     1000 2       # whatif: geostationary-class 600 ms RTT
# two emulators in series (topology wan2): hop 1 = client side (wc-m1), hop 2 = server side (m2-ws).
# PROF_* then describe the whole path: delays added, the slower rate, loss of the lossy hop, its limit.
declare -A PROF_HOP2
defprof2() {   # NAME d1 r1 l1 lim1 d2 r2 l2 lim2 settle
    PROF_HOP2[$1]="$2 $3 $4 $5 $6 $7 $8 $9"
    local r=$7; [ "$3" != 0 ] && { [ "$7" = 0 ] || [ "${3%.*}" -lt "${7%.*}" ]; } && r=$3
    local l=$8; [ "$4" != 0 ] && l=$4
    defprof "$1" "$(awk "BEGIN{print $2 + $6}")" "$r" "$l" "$([ "$r" = "$3" ] && echo "$5" || echo "$9")" "${10}"
}
defprof2 vt      20 0 0 1000  55 2000 0    1000 1.5   # vantage: 20 ms + 55 ms, 2 Mbit/s on the server-side hop
defprof2 vt-loss 20 0 0 1000  55 2000 0.01 1000 4     # vantage: same, 1 % loss each way on the server-side hop

LATE_LIMIT_MS=${LATE_LIMIT_MS:-10}   # re-take a capture if the emulator ran later than this
MAX_TRIES=${MAX_TRIES:-3}

CAPLIST=()   # capture names, in order
declare -A CAP_PROF CAP_FMT CAP_SNAP CAP_TASK CAP_DESC CAP_EXPECT
# per capture, optional: CAP_POINTS = capture points (client mid server span, default client; see
# cap_files), CAP_EMU = extra wanemu.py options (fault rules) for the emulator (hop 2 on wan2),
# CAP_SHAPE = kbit/s the client and the server may send at (a tbf on c0 and s0; see shape_hosts)
declare -A CAP_POINTS CAP_EMU CAP_SHAPE
# per set: SET_TOPO (wan, wan2, wan3), SET_GZ=1 to write .pcap.gz (gzip -9n), SET_DOC (README text)
SET_TOPO=wan SET_GZ=0 SET_DOC=
# plan_add NAME PROFILE FORMAT(pcap|pcap-nsec|pcapng) SNAPLEN TASK "what it is" "expected behaviour"
plan_add() {
    [ -n "${PROF_RATE[$2]:-}" ] || die "plan_add $1: unknown profile $2"
    CAPLIST+=("$1"); CAP_PROF[$1]=$2; CAP_FMT[$1]=$3; CAP_SNAP[$1]=$4; CAP_TASK[$1]=$5; CAP_DESC[$1]=$6; CAP_EXPECT[$1]=$7
}
# cap_files NAME: "point file" per capture point. One point (client): NAME.pcap. Several of
# client/mid/server: NAME-POINT.pcap each. span: NAME.pcap (client, clean) and NAME-dup.pcap (the
# client's and wc's captures merged: every frame twice, as from a SPAN port).
cap_files() {
    local n=$1 e=pcap pts=" ${CAP_POINTS[$1]:-client} " p
    [ "${CAP_FMT[$n]}" = pcapng ] && e=pcapng
    [ "$SET_GZ" = 1 ] && e+=.gz
    for p in ${CAP_POINTS[$n]:-client}; do
        case $p in
        client) if [ "$pts" = " client " ] || [[ $pts == *" span "* ]]; then echo "client $OUT/$n.$e"; else echo "client $OUT/$n-client.$e"; fi ;;
        span) echo "span $OUT/$n-dup.$e" ;;
        *) echo "$p $OUT/$n-$p.$e" ;;
        esac
    done
}
# point_if POINT: "namespace interface" of a capture point
point_if() {
    case $1 in
    client) echo "$NS_C c0" ;; mid) echo "$NS_W m1" ;; server) echo "$NS_S s0" ;; span) echo "$NS_W wc" ;;
    *) die "unknown capture point $1" ;;
    esac
}
cap_tool() {
    case ${CAP_FMT[$1]} in
    pcap) echo "tcpdump -s ${CAP_SNAP[$1]}" ;;
    pcap-nsec) echo "tcpdump -s ${CAP_SNAP[$1]} --time-stamp-precision=nano" ;;
    pcapng) echo "dumpcap -n -s ${CAP_SNAP[$1]}" ;;
    esac
}
# the planned profiles, each once, in order of first use
plan_profiles() {
    local n seen=" "
    for n in "${CAPLIST[@]}"; do
        [[ $seen == *" ${CAP_PROF[$n]} "* ]] || { seen+="${CAP_PROF[$n]} "; echo "${CAP_PROF[$n]}"; }
    done
}

# what each client task is and how it should behave on any profile (plan_std)
declare -A TASK_DESC TASK_EXPECT
TASK_DESC[pg-bulk]="psql: one query returning 3000 rows (~380 KB of RowDescription/DataRow messages)"
TASK_EXPECT[pg-bulk]="5 client turns (startup, 2x SCRAM, query, terminate); the result streams in full-size segments at link rate; the client ACKs every 1-2 segments (delayed ACK / quickack)"
TASK_DESC[pg-fetch]="psql with FETCH_COUNT=15: the same 3000 rows through a cursor, 15 rows per FETCH round trip (like SQL*Plus arraysize 15)"
TASK_EXPECT[pg-fetch]="~209 turns; each FETCH answer is ~2.1 KB (one 1448-B + one ~700-B segment) and is ACKed at once; time ~= turns x (RTT + serialization of one answer), the link idle for the rest of each turn"
TASK_DESC[pg-chatty]="psql: 200 single-row queries, one per round trip (chatty)"
TASK_EXPECT[pg-chatty]="~204 turns of ~50 B requests and ~410 B responses; many small segments; session time ~= 204 x RTT"
TASK_DESC[pg-chatty-idle]="psql: the 200 single-row queries of pg-chatty, the client pausing 49 ms (sleep in a shell) after each answer"
TASK_EXPECT[pg-chatty-idle]="~204 turns as pg-chatty; the server idles ~50 ms before each query, as it does on a 50 ms path, while the path is the LAN's"
TASK_DESC[http-bulk]="curl: rows.csv (the same 3000 rows as CSV, 278 KB) + blob.bin (300 KiB) over one keep-alive HTTP/1.1 connection"
TASK_EXPECT[http-bulk]="2 requests; 405 full-size segments; throughput ~= link rate after slow start; the client ACKs every 1-2 segments; queueing inflates RTT"
TASK_DESC[http-chatty]="curl: 200 sequential GETs of one-row CSV files over one keep-alive connection"
TASK_EXPECT[http-chatty]="200 turns of ~85 B requests and ~420 B responses; no pure ACKs (each side's data ACKs the other); >= 1 RTT per turn"
TASK_DESC[my-bulk]="mariadb client: the 3000-row query (MySQL protocol, text result set)"
TASK_EXPECT[my-bulk]="3 client turns (login, query, quit); ~290 KB result streamed in full-size segments at link rate"
TASK_DESC[my-chatty]="mariadb client: 200 single-row queries, one per round trip"
TASK_EXPECT[my-chatty]="~202 turns of ~47 B requests and ~690 B responses; >= 1 RTT per turn"
TASK_DESC[ping-sweep]="ping: 200 ICMP echoes, one at a time, payload 0..1472 B (evenly spread, shuffled order)"
TASK_EXPECT[ping-sweep]="RTT(N) = 2*delay + 2*(N+42)*8/rate: fitted slope = serialization time per byte, intercept = fixed delay (see fits below)"
TASK_DESC[udp-echo]="python3: 200 UDP echoes (port 7), one at a time, payload 0..1472 B (evenly spread, shuffled order), each reply compared byte for byte"
TASK_EXPECT[udp-echo]="RTT(N) = 2*delay + 2*(N+42)*8/rate, as ping-sweep (UDP header 8 B = ICMP header 8 B); no loss, no corruption"
TASK_DESC[mixed]="curl downloads blob.bin while, 1 s later, psql connects and runs 40 single-row queries on the same link"
TASK_EXPECT[mixed]="2 connections; the chatty session's RTTs are inflated by the bulk transfer's queue (bufferbloat, several hundred ms)"

TASK_DESC[http-bulk-s]="curl: rows.csv (the 3000 rows as CSV, 278 KB) over one HTTP/1.1 connection (http-bulk without blob.bin)"
TASK_EXPECT[http-bulk-s]="1 request; ~193 full-size segments; throughput ~= link rate after slow start; queueing inflates RTT"
TASK_DESC[mixed-s]="curl downloads rows.csv while, 0.5 s later, psql connects and runs 40 single-row queries on the same link"
TASK_EXPECT[mixed-s]="2 connections; while the download lasts, the queries' RTTs are inflated by its queue (on fast links it is over before they start)"
TASK_DESC[pg-fetch-n]="psql with FETCH_COUNT=N: the 3000 rows of the bulk query through a cursor, N rows per FETCH round trip"
TASK_DESC[http-many]="curl: 50 small text objects /obj/1..50.txt (1000-7999 B each) over one keep-alive HTTP/1.1 connection"
TASK_EXPECT[http-many]="50 requests of ~85 B, responses of 1-8 KB (1-6 segments each); >= 1 RTT per object"
TASK_DESC[pg-chatty-fetch15]="psql with FETCH_COUNT=15: the chatty session's 200 rows in one query (WHERE order_id IN (...)), read through a cursor 15 rows per FETCH"
TASK_EXPECT[pg-chatty-fetch15]="BEGIN, DECLARE, 14 FETCHes, CLOSE, COMMIT instead of 200 queries: ~20 turns"
TASK_DESC[pg-chatty-plus50]="psql: the 200 chatty single-row queries and 50 more (order ids k*7919 mod 20000 + 1, k = 201..250), one per round trip"
TASK_EXPECT[pg-chatty-plus50]="~254 turns: 50 more than pg-chatty, ~50 x RTT longer"
TASK_DESC[http-chatty-plus50]="curl: the 200 chatty GETs and 50 more (the same 50 extra ids), one keep-alive connection"
TASK_EXPECT[http-chatty-plus50]="250 requests: 50 more than http-chatty, ~50 x RTT longer"
TASK_DESC[zero-window]="python3 HTTP/1.1 client, SO_RCVBUF 16384 requested before connect: GET /rows.csv, reads 64 KiB, stops reading for 10 s, then reads the rest"
TASK_EXPECT[zero-window]="the receive buffer fills: the client advertises a zero window, the server sends zero-window probes with backoff; a window update when the client reads again"
TASK_DESC[duplex]="psql uploads duplex.csv (rows.csv's header and first $DUPLEX_ROWS rows, the rows repeated $DUPLEX_COPIES times: ~4 MB) with \\copy uploads FROM a CSV (COPY FROM STDIN), and $DUPLEX_LAG s after it starts curl downloads the same file over HTTP: both directions busy at once for seconds"
TASK_EXPECT[duplex]="2 connections: upload alone, then bulk data both ways at once, then the download alone; with --collision, frames sent while the other direction serializes are lost: retransmissions on both connections, crowded into the two-way period"
TASK_DESC[flood]="mixed-s while a third host (10.77.0.3, on the client's side of the link) pings the server: 200 echoes of 1400 B payload, 20/s"
TASK_EXPECT[flood]="3 hosts on the wire: ICMP from 10.77.0.3 (~577 kB in 400 frames of 1442 B) competes with the client's 2 connections"

# plan_std NAME PROFILE TASK [EXPECTED]: a pcap (snaplen 0) of TASK with its standard texts
plan_std() { plan_add "$1" "$2" pcap 0 "$3" "${TASK_DESC[$3]}" "${4:-${TASK_EXPECT[$3]}}"; }
# plan_tasks PROFILE TASK...: plan_std PROFILE-TASK for each TASK (pg-fetch is named pg-fetch15)
plan_tasks() {
    local p=$1 t; shift
    for t in "$@"; do plan_std "$p-${t/#pg-fetch/pg-fetch15}" "$p" "$t"; done
}

# LAB_SET=default: 150 ms base RTT at 512 kbit/s and 2 Mbit/s, loss, capture formats
plan_default() {
    local P
    for P in wan512 wan2m; do
        plan_tasks $P pg-bulk
        plan_std "$P-pg-fetch15" $P pg-fetch \
            "~209 turns; each FETCH answer is ~2.1 KB (one 1448-B + one ~700-B segment) and is ACKed at once; time ~= turns x RTT, link mostly idle"
    done
    for P in wan512 wan2m; do
        plan_tasks $P http-bulk http-chatty my-bulk my-chatty ping-sweep
    done
    plan_add wan512-pg-chatty wan512 pcapng 0 pg-chatty \
        "psql: 200 single-row queries, one per round trip (chatty, SQL*Net-like); pcapng written by dumpcap" \
        "${TASK_EXPECT[pg-chatty]}"
    plan_add wan2m-pg-chatty wan2m pcap 0 pg-chatty "${TASK_DESC[pg-chatty]}" \
        "like wan512-pg-chatty; the 4x faster link barely shortens it: RTT-bound"
    plan_tasks wan512 mixed
    plan_add wan2m-pg-bulk-s96 wan2m pcap 96 pg-bulk \
        "as wan2m-pg-bulk, captured with snaplen 96 (headers + 30 B of TCP payload)" \
        "as pg-bulk; frames longer than 96 B are truncated (caplen < len)"
    plan_add wan2m-http-bulk-s96 wan2m pcap 96 http-bulk \
        "as wan2m-http-bulk, captured with snaplen 96" \
        "as http-bulk; frames truncated to 96 B"
    plan_add wan2m-http-bulk-nsec wan2m pcap-nsec 0 http-bulk \
        "as wan2m-http-bulk, pcap with nanosecond timestamps (magic a1b23c4d)" \
        "as http-bulk"
    plan_add wan2m-loss-pg-bulk wan2m-loss pcap 0 pg-bulk \
        "psql 3000-row query over 2 Mbit/s with 0.5% random loss each way" \
        "like wan2m-pg-bulk plus a few retransmissions (SACK / fast retransmit)"
    plan_add wan2m-loss-http-bulk wan2m-loss pcap 0 http-bulk \
        "curl rows.csv + blob.bin over 2 Mbit/s with 0.5% random loss each way" \
        "like wan2m-http-bulk plus a few retransmissions and cwnd reductions"
    plan_add wan2m-loss-pg-chatty wan2m-loss pcap 0 pg-chatty \
        "psql 200 single-row queries over 2 Mbit/s with 0.5% random loss each way" \
        "lost requests/responses cannot trigger dupacks: recovery by RTO / tail-loss probe, each costing >= ~0.3 s"
}

# LAB_SET=rtt: the wan2m workloads (2000 kbit/s, no loss) at base RTT 10 and 50 ms;
# with wan2m (150 ms) a family for validating what-if RTT projections
plan_rtt() {
    local P
    for P in rtt10 rtt50; do
        plan_tasks $P pg-chatty pg-fetch pg-bulk http-bulk http-chatty my-chatty
    done
}

# LAB_SET=project: netecology's committed testdata/lab (small: about 3 MB)
plan_project() {
    plan_tasks wan2m pg-chatty pg-bulk http-chatty http-bulk ping-sweep udp-echo
    local P
    for P in rtt10 rtt50; do
        plan_tasks $P pg-chatty http-bulk
    done
}

# LAB_SET=holdout: another family (other rates, RTTs and loss) for hidden evaluation
plan_holdout() {
    local P
    for P in h30 h250; do
        plan_tasks $P pg-chatty pg-fetch pg-bulk http-bulk http-chatty my-chatty my-bulk ping-sweep
    done
    plan_tasks hloss pg-bulk http-bulk pg-chatty ping-sweep
    plan_tasks h250 mixed
}

# ---- netecology's sub-folder sets: testdata/lab/<set>/ has its own README.md and groundtruth.json
# plan_at NAME POINTS [EMULATOR OPTIONS]: capture points and fault rules of a planned capture
plan_at() { CAP_POINTS[$1]=$2; CAP_EMU[$1]=${3:-}; }
# plan_shape NAME KBIT: the client's and the server's egress shaped to KBIT (below the link rate)
plan_shape() { CAP_SHAPE[$1]=$2; }

# LAB_SET=vantage (issue 11): one session captured at the client, in the middle and at the server
plan_vantage() {
    SET_TOPO=wan2 SET_GZ=1
    SET_DOC="Every session is captured at three points at once: the client (c0), the middle of the path (m1, the tap between the two emulators) and the server (s0). Hop 1 (client side, wc-m1): 20 ms one way, no rate limit, no loss. Hop 2 (server side, m2-ws): 55 ms one way, 2000 kbit/s, FIFO of 1000 frames, and in profile vt-loss 1 % Bernoulli loss each way. So the middle sees client->server frames 20 ms after the client and server->client frames after the bottleneck; a frame lost on hop 2 is seen at the client and the middle (client->server) or only at the server (server->client). Each file's capture_point and legs say where it was taken and what each side of it is."
    local t
    for t in pg-chatty pg-fetch http-bulk-s mixed-s; do
        plan_std "vt-${t/#pg-fetch/pg-fetch15}" vt "$t"
        plan_at "vt-${t/#pg-fetch/pg-fetch15}" "client mid server"
    done
    for t in http-bulk-s pg-chatty; do
        plan_std "vt-loss-$t" vt-loss "$t" "${TASK_EXPECT[$t]}; plus retransmissions of the frames hop 2 lost (emulator counters)"
        plan_at "vt-loss-$t" "client mid server"
    done
}

# LAB_SET=events (issues 11, 16): path blackout, a receiver that stops reading, duplex mismatch, a third host's ping flood
plan_events() {
    SET_TOPO=wan3 SET_GZ=1
    SET_DOC="Events with known times. Blackout: the emulator drops every frame that reaches it, both ways, for 8 s starting a fixed time after the first frame it saw (frames it had already accepted are still delivered); events.blackout gives the start and end as epoch seconds and as offsets from the capture's first frame. Zero window: the client stops reading; events.zero_window gives when it stopped and resumed. Duplex mismatch: a 10 Mbit/s LAN link (1 ms RTT) where a frame whose serialization overlaps one in the other direction is lost with probability $DUPLEX_COLLISION (the clean capture is the same workload without collisions). psql uploads a 3.85 MB CSV (COPY FROM STDIN) and $DUPLEX_LAG s later curl downloads the same file, so data flows both ways at once for about 3 s, between an upload-only and a download-only phase. Both hosts send at most $DUPLEX_SHAPE kbit/s (a tbf on c0 and on s0; host_shaping gives its counters, it dropped nothing), below the link rate, so the emulator's FIFOs hold only a few frames: the emulator judges an overlap on the frame that reaches it later, so with full FIFOs the direction that queued first is never the one judged, and trial runs without shaping lost data frames in one direction only (the set's first take, with the upload and the download one after the other, lost only pure ACKs). events.two_way gives the periods when both directions carried data (from the capture) and events.duplex_commands when each command ran; the emulator lists every frame it dropped (dropped_frames: kind data, pure_ack or control; two_way: inside a two-way period, by the emulator's clock), dropped_summary counts them per direction. Flood: a third host, 10.77.0.3, behind the same client-side link (a bridge in nse_client), pings the server during a mixed session; hosts holds tshark's per-host statistics of the file. This set's topology puts the client's address on that bridge for every capture (the third host is idle in the others)."
    plan_add wan2m-http-bulk-blackout wan2m pcap 0 http-bulk-s "${TASK_DESC[http-bulk-s]}; an 8 s path blackout 0.9 s after the SYN" \
        "the transfer stalls mid-way; RTO backoff (retransmissions ~0.3, 0.6, 1.2, 2.4, 4.8 s apart) until a retransmission crosses after the blackout"
    plan_at wan2m-http-bulk-blackout client "--blackout-at 0.9 --blackout-for 8 --log-lost 5000"
    plan_add wan2m-pg-chatty-blackout wan2m pcap 0 pg-chatty "${TASK_DESC[pg-chatty]}; an 8 s path blackout 5 s after the SYN" \
        "the turn in flight at 5 s is lost; RTO backoff until after the blackout, then the remaining turns"
    plan_at wan2m-pg-chatty-blackout client "--blackout-at 5 --blackout-for 8 --log-lost 5000"
    plan_std wan2m-zero-window wan2m zero-window
    plan_add dpx10m-duplex dpx10m pcap 0 duplex "${TASK_DESC[duplex]}; each host sends at most $DUPLEX_SHAPE kbit/s (tbf); duplex mismatch: collision loss $DUPLEX_COLLISION" "${TASK_EXPECT[duplex]}"
    plan_at dpx10m-duplex client "--collision $DUPLEX_COLLISION --log-lost 20000"
    plan_shape dpx10m-duplex "$DUPLEX_SHAPE"
    plan_add dpx10m-duplex-clean dpx10m pcap 0 duplex "${TASK_DESC[duplex]}; each host sends at most $DUPLEX_SHAPE kbit/s (tbf); no collisions (the comparison for dpx10m-duplex)" \
        "2 connections: upload alone, then bulk data both ways at once, then the download alone, each at up to the hosts' $DUPLEX_SHAPE kbit/s; no loss"
    plan_at dpx10m-duplex-clean client "--collision 0"
    plan_shape dpx10m-duplex-clean "$DUPLEX_SHAPE"
    plan_std wan2m-flood wan2m flood
}

# LAB_SET=span: every frame twice (a SPAN port mirroring both directions), and the same session clean
plan_span() {
    SET_GZ=1
    SET_DOC="Each session is captured on both ends of the client's veth at once: c0 (the client, as everywhere: NAME.pcap.gz, the clean capture) and wc (the emulator's side). NAME-dup.pcap.gz is the two merged in time order with mergecap, so every frame is there twice, a few microseconds apart (client->server: c0 first; server->client: wc first), as from a SPAN port that mirrors both directions of two ports. span.duplicates counts the frames of the dup file whose exact bytes are also in the clean file."
    plan_std wan2m-pg-chatty wan2m pg-chatty;     plan_at wan2m-pg-chatty "client span"
    plan_std wan2m-http-bulk-s wan2m http-bulk-s; plan_at wan2m-http-bulk-s "client span"
}

# LAB_SET=sweeps (issue 16): Meek et al.'s size-dependent drop, and Bernoulli loss that is not
plan_sweeps() {
    SET_GZ=1
    SET_DOC="ICMP echo sweeps (the ping-sweep of the project set: 200 echoes of 0..1472 B payload, one at a time, each waiting at most 1 s for its reply) through three links at 150 ms / 2000 kbit/s: with the size rule of Meek et al.'s 966-byte buffer (per direction, every other frame whose IP total length exceeds 966 bytes is dropped: the 2nd, 4th, ... such frame; frame length = IP length + 14), with 5 % Bernoulli loss each way (not size-dependent), and clean. The emulator counts frames received and dropped per 100-byte bin of IP length in each direction (emulator.*.ip_len_bins) and lists every frame it dropped."
    plan_add wan2m-ping-sizedrop966 wan2m pcap 0 "ping-sweep 1" "${TASK_DESC[ping-sweep]}; every other frame over 966 B of IP length dropped, each way" \
        "no loss up to IP length 966 (payload 938); above it, half the requests and half of the remaining replies lost (~3/4 of the echoes)"
    plan_at wan2m-ping-sizedrop966 client "--sizedrop 966 --bin 100 --log-lost 1000"
    plan_add wan2m-l5-ping-sweep wan2m-l5 pcap 0 "ping-sweep 1" "${TASK_DESC[ping-sweep]}; 5 % Bernoulli loss each way" \
        "~10 % of the echoes lost, evenly over all sizes"
    plan_at wan2m-l5-ping-sweep client "--bin 100 --log-lost 1000"
    plan_add wan2m-ping-sweep wan2m pcap 0 "ping-sweep 1" "${TASK_DESC[ping-sweep]}; no loss" "${TASK_EXPECT[ping-sweep]}"
    plan_at wan2m-ping-sweep client "--bin 100"
}

# LAB_SET=budget (issue 14): the same workload twice on one profile, and changed ones
plan_budget() {
    SET_GZ=1
    SET_DOC="CI budgets: the same session twice on rtt10 (10 ms base RTT, 2000 kbit/s) - run1 and run2 must agree within run-to-run noise - and changed sessions: the same 200 rows fetched by one query through a FETCH 15 cursor, and 50 extra queries / requests. sql.count (PostgreSQL's log_statement=all) and http_requests.count (nginx's access log) are the server's own counts."
    local r
    for r in run1 run2; do
        plan_std "rtt10-pg-chatty-$r" rtt10 pg-chatty
        plan_std "rtt10-http-chatty-$r" rtt10 http-chatty
    done
    plan_std rtt10-pg-chatty-fetch15 rtt10 pg-chatty-fetch15
    plan_std rtt10-pg-chatty-plus50 rtt10 pg-chatty-plus50
    plan_std rtt10-http-chatty-plus50 rtt10 http-chatty-plus50
}

# LAB_SET=whatif (issue 18): every workload on every profile, LAN to geostationary
plan_whatif() {
    SET_GZ=1
    SET_DOC="What-if validation: nine workloads on each of six profiles, from a LAN (0.5 ms RTT at 50 Mbit/s, the fastest rate the emulator serializes accurately: see the calibration note below) to a geostationary-class path (600 ms RTT), rates from 512 kbit/s to 50 Mbit/s, a lossy medium-RTT profile (50 ms, 5 Mbit/s, 1 % each way) and a shallow-queue one (50 ms, 2 Mbit/s, FIFO of 20 frames). Any capture can be projected onto any other profile and compared with the capture of the same workload there. The bulk HTTP workload is http-bulk-s (rows.csv only, 278 KB) and the mixed one mixed-s, to keep the set small.

Calibration (\`LAB_SET=calib make-captures.sh /tmp/lab-out/calib\`: http-bulk at 0.5 ms RTT, run 2026-12-01): the spacing of back-to-back 1514-byte frames at the client, 10th percentile / median / 90th percentile, against one frame's serialization time: 10 Mbit/s 1206.9 / 1211.2 / 1215.0 us (1211.2); 20 Mbit/s 600.1 / 605.1 / 610.8 us (605.6); 50 Mbit/s 230.1 / 242.0 / 248.0 us (242.2); 100 Mbit/s 55.1 / 120.9 / 128.0 us (121.1); 200 Mbit/s 9.1 / 58.9 / 73.9 us (60.6); worst lateness 0.6-1.0 ms at every rate. Up to 50 Mbit/s the emulator serializes accurately (median within 0.1 %, 80 % of the frames within -5 / +2 %); at 100 Mbit/s one frame in ten leaves in a burst, at 200 Mbit/s most do: those rates are not trustworthy, so the LAN profile runs at 50 Mbit/s. Against the LAN's 0.25 ms one-way delay the emulator's lateness (mean ~0.01-0.05 ms, worst ~1 ms) is not negligible: LAN RTTs carry up to a few tenths of a millisecond of emulator jitter (see late and the handshake RTTs below). In the run committed here the LAN handshake RTTs were 0.57-0.84 ms against the profile's 0.52 ms (0.5 ms + two 74-byte frames at 50 Mbit/s): each crossing of the emulator adds ~0.05-0.3 ms of its own, so a LAN projection should be compared with the measured RTT, not the nominal one. Take the set on an otherwise idle machine: a first take, run beside compile jobs on the 2-core machine, had hosts whose think time per turn grew with the path (psql's gaps between an answer and its next query summed 0.07 s on the LAN and 2.0 s on the 600 ms path, tens of milliseconds in one turn in ten); the take committed here (2026-12-02, nothing else running) has them at 0.05-0.09 s on every profile."
    local P
    for P in lan dsl512 m20 loss1 shallow geo; do
        plan_tasks $P pg-chatty pg-fetch
        plan_add "$P-pg-fetch100" $P pcap 0 "pg-fetch-n 100" "${TASK_DESC[pg-fetch-n]/N rows/100 rows} (FETCH_COUNT=100)" \
            "~35 turns; each FETCH answer is ~13 KB (9-10 segments)"
        plan_tasks $P my-chatty http-chatty http-bulk-s pg-bulk http-many mixed-s
    done
}

# LAB_SET=think (issue 18): whatif's chatty PostgreSQL session on each of its profiles, captured at
# the client and at the server at once
plan_think() {
    SET_GZ=1
    SET_DOC="Think time measured at both ends: the chatty PostgreSQL session of the whatif set (200 single-row queries, one per round trip) on each of its six profiles, captured at the client (c0) and at the server (s0) at once. At the server's own interface a query's arrival and its answer's departure have no path between them: their gap is what the server spent, whatever the link; likewise the client's capture times the client. Compare those with the think time an explanation infers from the capture at the other end, and the profiles with each other: a host's think per turn that changes with the path is the hosts', not the model's. lan-pg-chatty-idle50 is the LAN session again with the client pausing 49 ms after each answer (psql runs sleep in a shell): the server then idles between queries about as long as on the 50 ms paths, on the LAN's path. Its server time per turn tells whether a host's think follows the path or the idle time before each query."
    local P
    for P in lan m20 loss1 shallow dsl512 geo; do
        plan_std "$P-pg-chatty" $P pg-chatty
        plan_at "$P-pg-chatty" "client server"
    done
    # the LAN with the idle time of a 50 ms path: the client pauses after each answer
    plan_std lan-pg-chatty-idle50 lan pg-chatty-idle
    plan_at lan-pg-chatty-idle50 "client server"
}

# LAB_SET=calib: the emulator's accuracy at high rates (not committed: LAB_SET=calib make-captures.sh /tmp/lab-out/calib)
plan_calib() {
    SET_DOC="Calibration of the userspace emulator: the same bulk HTTP download at 10 to 200 Mbit/s, 0.5 ms RTT. Compare emulator lateness with the serialization time of one frame, and the capture's throughput with the rate."
    local r
    for r in 10 20 50 100 200; do
        defprof "cal$r" 0.25 $((r * 1000)) 0 1000 1.5
        plan_std "cal$r-http-bulk" "cal$r" http-bulk
    done
}

plan() {
    case $LAB_SET in
    default) plan_default ;;
    rtt) plan_rtt ;;
    holdout) plan_holdout ;;
    project) plan_project ;;
    vantage|events|span|sweeps|budget|whatif|think|calib) "plan_$LAB_SET" ;;
    *) die "unknown LAB_SET '$LAB_SET' (default, rtt, holdout, project, vantage, events, span, sweeps, budget, whatif, think or calib)" ;;
    esac
    # LAB_ONLY="name ...": take only these captures of the set (the others'
    # files and ground truth in OUTDIR stay as they are)
    if [ -n "${LAB_ONLY:-}" ]; then
        local n keep=()
        for n in "${CAPLIST[@]}"; do [[ " $LAB_ONLY " == *" $n "* ]] && keep+=("$n"); done
        [ ${#keep[@]} -gt 0 ] || die "LAB_ONLY names no capture of set $LAB_SET"
        CAPLIST=("${keep[@]}")
    fi
}

# --plan: one tab-separated line per capture
plan_print() {
    local n p
    printf '%s\t' name file profile delay_ms rate_kbit loss limit format snaplen task description; echo expected
    for n in "${CAPLIST[@]}"; do
        p=${CAP_PROF[$n]}
        printf '%s\t' "$n" "$(cap_files "$n" | while read -r _ f; do basename "$f"; done | paste -sd,)" "$p" "${PROF_DELAY[$p]}" "${PROF_RATE[$p]}" \
            "${PROF_LOSS[$p]}" "${PROF_LIMIT[$p]}" "${CAP_FMT[$n]}" "${CAP_SNAP[$n]}" "${CAP_TASK[$n]}" "${CAP_DESC[$n]}"
        echo "${CAP_EXPECT[$n]}"
    done
}

# capture NAME: run the planned task with fresh emulator(s) and a capture at each capture point.
# Re-taken (up to MAX_TRIES) when an emulator was scheduled late by more than
# LATE_LIMIT_MS (VM hiccups); the attempt with the smallest lateness is kept.
capture() {
    local name=$1 prof=${CAP_PROF[$1]} fmt=${CAP_FMT[$1]} snap=${CAP_SNAP[$1]}
    local tmpd="$WORK/attempt" try best=999999 late took i pt f ns dev
    local -a pts=(${CAP_POINTS[$name]:-client}) emuargs=(${CAP_EMU[$name]:-})
    mkdir -p "$WORK/meta"
    while read -r pt f; do rm -f "$f"; done < <(cap_files "$name")
    for try in $(seq 1 "$MAX_TRIES"); do
        rm -rf "$tmpd"; mkdir -p "$tmpd"; rm -f "$WORK"/emu-*.json "$WORK/task.json"
        log "capture $name ($prof, $fmt, snaplen $snap, at ${pts[*]}, try $try): ${CAP_TASK[$name]} ${emuargs[*]}"
        if [ -n "${PROF_HOP2[$prof]:-}" ]; then
            local d1 r1 l1 m1 d2 r2 l2 m2
            read -r d1 r1 l1 m1 d2 r2 l2 m2 <<<"${PROF_HOP2[$prof]}"
            start_emu hop1 wc m1 "$d1" "$r1" "$l1" "$m1"
            start_emu hop2 m2 ws "$d2" "$r2" "$l2" "$m2" "${emuargs[@]}"
        else
            start_emu hop1 wc ws "${PROF_DELAY[$prof]}" "${PROF_RATE[$prof]}" "${PROF_LOSS[$prof]}" "${PROF_LIMIT[$prof]}" "${emuargs[@]}"
        fi
        [ -z "${CAP_SHAPE[$name]:-}" ] || shape_hosts "${CAP_SHAPE[$name]}"
        local cpids=()
        for pt in "${pts[@]}"; do
            read -r ns dev <<<"$(point_if "$pt")"
            case $fmt in
            pcap)      ip netns exec "$ns" tcpdump -Z root -n -i "$dev" -s "$snap" -B 16384 -w "$tmpd/$pt.cap" 2>"$tmpd/$pt.err" & ;;
            pcap-nsec) ip netns exec "$ns" tcpdump -Z root -n -i "$dev" -s "$snap" -B 16384 --time-stamp-precision=nano -w "$tmpd/$pt.cap" 2>"$tmpd/$pt.err" & ;;
            pcapng)    ip netns exec "$ns" dumpcap -n -i "$dev" -s "$snap" -B 16 -w "$tmpd/$pt.cap" 2>"$tmpd/$pt.err" & ;;
            esac
            cpids+=($!)
            record_pid $! "$([ "$fmt" = pcapng ] && echo dumpcap || echo tcpdump)" INT
        done
        for pt in "${pts[@]}"; do
            for i in $(seq 1 100); do grep -qE "listening on|Capturing on" "$tmpd/$pt.err" 2>/dev/null && break; sleep 0.05; done
            grep -qE "listening on|Capturing on" "$tmpd/$pt.err" || { cat "$tmpd/$pt.err" >&2; die "capture at $pt did not start"; }
        done
        log_marks >"$tmpd/marks"
        sleep 0.5
        local t0=$SECONDS
        run_client ${CAP_TASK[$name]} || log "WARNING: client task ${CAP_TASK[$name]} exited non-zero"
        took=$((SECONDS - t0))
        sleep "${PROF_SETTLE[$prof]}"
        for i in "${cpids[@]}"; do stop_pid "$i" INT; wait "$i" 2>/dev/null || true; done
        stop_emu
        [ -z "${CAP_SHAPE[$name]:-}" ] || shape_hosts off "$tmpd/shape.json"
        log_since "$tmpd/marks" "$tmpd"
        for pt in "${pts[@]}"; do
            if grep -qE "(^|[^0-9])[1-9][0-9]* packets? dropped by kernel" "$tmpd/$pt.err"; then log "WARNING: capture drops at $pt: $(tr '\n' ' ' <"$tmpd/$pt.err")"; fi
        done
        late=$("$PY" -c 'import json,sys
print(int(1000*max(json.load(open(p))[k]["max_late_ms"] for p in sys.argv[1:] for k in ("client_to_server","server_to_client"))))' "$WORK"/emu-*.json)
        if [ "$late" -lt "$best" ]; then
            best=$late
            [ -f "$tmpd/span.cap" ] && "$PY" "$WORK/extras.py" span "$tmpd/client.cap" "$tmpd/span.cap" >"$tmpd/span.json" \
                && mergecap -F pcap -w "$tmpd/span.merged" "$tmpd/client.cap" "$tmpd/span.cap" && mv -f "$tmpd/span.merged" "$tmpd/span.cap"
            while read -r pt f; do
                if [ "$SET_GZ" = 1 ]; then gzip -9n <"$tmpd/$pt.cap" >"$f"; else mv -f "$tmpd/$pt.cap" "$f"; fi
                chmod 644 "$f"   # dumpcap creates 0600
            done < <(cap_files "$name")
            rm -f "$WORK/meta/$name".*
            for f in "$WORK"/emu-*.json; do cp "$f" "$WORK/meta/$name.$(basename "$f")"; done
            if [ -f "$WORK/task.json" ]; then cp "$WORK/task.json" "$WORK/meta/$name.task.json"; fi
            for f in span.json shape.json pg.log my.log http.log; do
                if [ -f "$tmpd/$f" ]; then cp "$tmpd/$f" "$WORK/meta/$name.$f"; fi
            done
            echo "$took" >"$WORK/meta/$name.took"
        fi
        log "  -> $(capinfos -M -c "$(cap_files "$name" | head -1 | cut -d' ' -f2)" | awk -F': *' '/Number of packets/{print $2}') packets, ${took}s, emulator max lateness $((late / 1000)).$(printf %03d $((late % 1000))) ms"
        [ "$late" -le $((LATE_LIMIT_MS * 1000)) ] && break
        log "  emulator lateness above ${LATE_LIMIT_MS} ms (VM scheduling hiccup)$([ "$try" -lt "$MAX_TRIES" ] && echo ", re-taking")"
    done
    echo "$try" >"$WORK/meta/$name.tries"
}

# server logs: the statements PostgreSQL (log_statement=all) and MariaDB (general log)
# executed and the requests nginx served during one capture (byte offsets before, text after)
SRV_LOGS="pg:$WORK/pg/postgres.log my:$WORK/my/general.log http:$WORK/nginx/access.log"
log_marks() { local x; for x in $SRV_LOGS; do echo "${x%%:*} $(stat -c %s "${x#*:}" 2>/dev/null || echo -1)"; done; }
log_since() {   # MARKS DIR: DIR/pg.log etc. = what each log gained since MARKS
    local k off x
    while read -r k off; do
        [ "$off" -ge 0 ] || continue
        for x in $SRV_LOGS; do
            if [ "${x%%:*}" = "$k" ]; then tail -c +$((off + 1)) "${x#*:}" >"$2/$k.log"; fi
        done
    done <"$1"
    return 0
}

# ---------------------------------------------------------------- analysis for README
write_analyser() {
    cat >"$WORK/capstats.py" <<'PYEOF'
#!/usr/bin/python3
"""Ground-truth summary of one capture via tshark fields: per-direction
segment counts/sizes, handshake RTTs, retransmissions, application turns,
and an RTT-vs-size fit for ICMP echo."""
import json, subprocess, sys, statistics
path, cip = sys.argv[1], sys.argv[2]
F = ['frame.time_epoch', 'frame.len', 'ip.src', 'ip.proto', 'tcp.stream', 'tcp.len', 'tcp.flags.syn',
     'tcp.flags.ack', 'tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission',
     'icmp.type', 'icmp.ident', 'icmp.seq', 'ip.len', 'udp.srcport', 'udp.dstport', 'udp.length']
cmd = ['tshark', '-n', '-r', path, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f']
for f in F: cmd += ['-e', f]
out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
d = {k: dict(pkts=0, data_segs=0, payload=0, pure_acks=0, retrans=0, seglens=[]) for k in ('c2s', 's2c')}
syn = {}; hs = []; streams = set(); turns = 0; last = {}; echo = {}; pairs = []; uecho = None; upairs = []
t_first = t_last = None
prev_full = None; gaps = []   # spacing of back-to-back full-size server->client frames
for line in out.splitlines():
    v = line.split('\t') + [''] * len(F)
    if t_first is None: t_first = float(v[0])
    t_last = float(v[0])
    t, flen, src, proto, st, tl, fs, fa, rt, frt, it, iid, iseq, iplen, usp, udp_, ulen = v[:17]
    k = 'c2s' if src == cip else 's2c'
    if k == 's2c':
        if flen == '1514':
            if prev_full is not None: gaps.append(float(t) - prev_full)
            prev_full = float(t)
        else:
            prev_full = None
    if proto == '6':
        x = d[k]; x['pkts'] += 1; tl = int(tl or 0)
        streams.add(st)
        if fs == '1' and fa != '1': syn.setdefault(st, float(t))
        if fs == '1' and fa == '1' and st in syn and st not in dict(hs): hs.append((st, (float(t) - syn[st]) * 1000))
        if rt or frt: x['retrans'] += 1
        if tl > 0:
            x['data_segs'] += 1; x['payload'] += tl; x['seglens'].append(tl)
            if last.get(st) != k and k == 'c2s': turns += 1
            last[st] = k
        elif fs != '1': x['pure_acks'] += 1
    elif proto == '1' and it in ('8', '0'):
        key = (iid, iseq)
        if it == '8': echo[key] = (float(t), int(iplen) - 28)
        elif key in echo: pairs.append((echo[key][1], (float(t) - echo[key][0]) * 1000))
    elif proto == '17' and '7' in (usp, udp_):
        # one echo outstanding at a time: a reply answers the last request
        if udp_ == '7': uecho = (float(t), int(ulen) - 8)
        elif uecho: upairs.append((uecho[1], (float(t) - uecho[0]) * 1000)); uecho = None
res = {}
for k, x in d.items():
    sl = x.pop('seglens')
    x['mean_seg'] = round(statistics.mean(sl), 1) if sl else 0
    x['median_seg'] = statistics.median(sl) if sl else 0
    x['max_seg'] = max(sl) if sl else 0
    res[k] = x
res['tcp_streams'] = len(streams)
res['requests'] = turns
hsv = [r for _, r in hs]
res['handshake_rtt_ms'] = [round(min(hsv), 3), round(statistics.median(hsv), 3), round(max(hsv), 3)] if hsv else None
def fit(pairs):
    xs = [p[0] for p in pairs]; ys = [p[1] for p in pairs]
    n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
    sxx = sum((a - mx) ** 2 for a in xs); sxy = sum((a - mx) * (b - my) for a, b in zip(xs, ys))
    slope = sxy / sxx if sxx else 0.0; icpt = my - slope * mx
    resid = [b - (icpt + slope * a) for a, b in zip(xs, ys)]
    return dict(pairs=n, min_payload=min(xs), max_payload=max(xs), slope_us_per_byte=round(slope * 1000, 4),
                intercept_ms=round(icpt, 4), resid_max_ms=round(max(abs(r) for r in resid), 4),
                rtt_min_ms=round(min(ys), 3), rtt_max_ms=round(max(ys), 3))
if pairs: res['icmp'] = fit(pairs)
if upairs: res['udp_echo'] = fit(upairs)
res['first_epoch'], res['last_epoch'] = t_first, t_last
if len(gaps) >= 20 and len(sys.argv) > 3:
    gaps.sort(); q = lambda p: round(gaps[int(p * (len(gaps) - 1))] * 1e6, 1)
    res['s2c_full_frame_spacing_us'] = dict(pairs=len(gaps), p10=q(0.1), median=q(0.5), p90=q(0.9))
print(json.dumps(res))
PYEOF
}

write_extras() {
    cat >"$WORK/extras.py" <<'PYEOF'
#!/usr/bin/python3
"""Ground truth from outside the capture: span duplicates, server logs, tshark's host statistics.
  extras.py span CLIENT.pcap WAN.pcap   frames of WAN whose bytes are also in CLIENT (the SPAN duplicates)
  extras.py pg LOG                      statements PostgreSQL logged (log_statement=all) for application wanlab
  extras.py my LOG                      statements (Query commands) in MariaDB's general log
  extras.py http LOG                    requests in nginx's access log (combined format)
  extras.py hosts FILE                  per-IP packets/bytes of a capture (tshark -z endpoints,ip)
  extras.py twoway FILE CLIENT_IP GAP   periods when both directions carried TCP data (tshark fields)"""
import collections, json, re, struct, subprocess, sys

def frames(path):
    with open(path, 'rb') as f:
        b = f.read()
    magic = struct.unpack('<I', b[:4])[0]
    e, div = ('<', 1e6) if magic in (0xa1b2c3d4, 0xa1b23c4d) else ('>', 1e6)
    if magic in (0xa1b23c4d, 0x4d3cb2a1): div = 1e9
    o = 24
    while o + 16 <= len(b):
        ts, tf, cl, _ = struct.unpack(e + 'IIII', b[o:o + 16])
        yield ts + tf / div, b[o + 16:o + 16 + cl]
        o += 16 + cl

cmd = sys.argv[1]
if cmd == 'span':
    seen = collections.defaultdict(list)
    n1 = 0
    for t, fr in frames(sys.argv[2]):
        seen[fr].append(t); n1 += 1
    n2 = dup = 0; gap = 0.0
    for t, fr in frames(sys.argv[3]):
        n2 += 1
        if seen[fr]:
            dup += 1; gap = max(gap, abs(t - seen[fr].pop(0)))
    print(json.dumps(dict(role='dup', frames_client_c0=n1, frames_wan_wc=n2, duplicates=dup, frames=n1 + n2,
                          max_copy_gap_us=round(gap * 1e6, 1), merged_with='mergecap -F pcap (time order)')))
elif cmd == 'pg':
    st, cur = [], None
    head = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] (\S*): (\w+):  (.*)$')
    for line in open(sys.argv[2], errors='replace'):
        m = head.match(line.rstrip('\n'))
        if m:
            cur = None
            if m.group(1) == 'wanlab' and m.group(2) == 'LOG' and m.group(3).startswith('statement: '):
                cur = [m.group(3)[len('statement: '):]]; st.append(cur)
        elif cur is not None and line.startswith('\t'):
            cur.append(line[1:].rstrip('\n'))
    st = ['\n'.join(x) for x in st]
    print(json.dumps(dict(server='postgresql', source='server log, log_statement=all, application_name wanlab', count=len(st), statements=st)))
elif cmd == 'my':
    st, cur = [], None
    head = re.compile(r'^(?:\d{6}\s+\d?\d:\d\d:\d\d)?\s+(\d+) (\w[\w ]*?)\t(.*)$')
    for line in open(sys.argv[2], errors='replace'):
        m = head.match(line.rstrip('\n'))
        if m:
            cur = None
            if m.group(2) == 'Query':
                cur = [m.group(3)]; st.append(cur)
        elif cur is not None:
            cur.append(line.rstrip('\n'))
    st = ['\n'.join(x) for x in st]
    print(json.dumps(dict(server='mariadb', source='general query log (Query commands of the session)', count=len(st), statements=st)))
elif cmd == 'http':
    rq = []
    for line in open(sys.argv[2], errors='replace'):
        m = re.search(r'"([A-Z]+ \S+ HTTP/[\d.]+)" (\d+) (\d+)', line)
        if m:
            rq.append('%s %s %s' % m.groups())
    print(json.dumps(dict(server='nginx', source='access log: request line, status, body bytes', count=len(rq), requests=rq)))
elif cmd == 'readme':
    g = json.load(open(sys.argv[2]))
    F, P = g['files'], g['profiles']
    def table(head, rows):
        if not rows: return
        print('\n| ' + ' | '.join(head) + ' |'); print('|' + '---|' * len(head))
        for r in rows: print('| ' + ' | '.join(str(x) for x in r) + ' |')
    legs = [(n, ' + '.join(f"hop {l['hop']} ({l['side']} side): {l['one_way_delay_ms']:g} ms, "
                           f"{'no rate limit' if not l['rate_kbit'] else '%g kbit/s' % l['rate_kbit']}, loss {100 * l['loss_each_way']:g} %, limit {l['queue_limit_frames']}"
                           for l in p['legs'])) for n, p in P.items() if 'legs' in p]
    if legs:
        print('\n## Legs of the two-hop profiles\n\nThe profile table above describes the whole path (delays added; the rate, loss and queue limit of the hop that has them).')
        table(['profile', 'legs'], legs)
    print('\n## Capture points, queues and the emulator\'s accuracy\n')
    print('"delay to client/server" = one-way propagation delay between the capture point and that end. "max queue" = the emulator\'s own '
          'longest wait in the serializer FIFO (ms) and most frames in it, each way (hop 2\'s on two-hop profiles). "late" = its worst lateness '
          '(a frame sent this much after its due time; max over directions and hops). "spacing" = 10th percentile / median / 90th percentile of '
          'the time between back-to-back 1514-byte server->client frames in the capture, against one frame\'s serialization time at the rate '
          '(the bottleneck rate seen where the capture point is after it).')
    rows = []
    for f in F:
        q = f.get('queue') or {}
        hops = [h for h in (f.get('emulator_hops') or {}).values() if h] or [f.get('emulator') or {}]
        late = max((h[d]['max_late_ms'] for h in hops for d in ('client_to_server', 'server_to_client') if d in h), default=None)
        sp = f['measured'].get('s2c_full_frame_spacing_us')
        rate = P[f['profile']]['rate_kbit_each_way']
        pt = f.get('capture_point', {}).get('point', 'client')
        rows.append([f"`{f['file']}`", pt, f.get('one_way_delay_to_client_ms', 0 if pt != 'server' else '-'),
                     f.get('one_way_delay_to_server_ms', P[f['profile']]['one_way_delay_ms'] if pt != 'server' else 0),
                     f"{q['c2s']['max_queue_delay_ms']:.1f} / {q['c2s']['max_queue_frames']}" if q else '-',
                     f"{q['s2c']['max_queue_delay_ms']:.1f} / {q['s2c']['max_queue_frames']}" if q else '-',
                     f'{late:.2f}' if late is not None else '-',
                     f"{sp['p10']} / {sp['median']} / {sp['p90']} ({sp['pairs']})" if sp else '-', f'{1514 * 8 / rate * 1000:.1f}'])
    table(['file', 'point', 'delay to client (ms)', 'delay to server (ms)', 'max queue c2s ms / frames', 'max queue s2c ms / frames',
           'late (ms)', 'spacing us p10 / median / p90 (pairs)', '1514-B frame at rate (us)'], rows)
    rows = []
    for f in F:
        for k, e in (f.get('events') or {}).items():
            if k == 'blackout':
                rows.append([f"`{f['file']}`", 'blackout (emulator drops everything, both ways)', f"{e['start_offset_s']:.3f}", f"{e['end_offset_s']:.3f}",
                             f"{e['duration_s']:g} s; dropped c2s {e['dropped_client_to_server']}, s2c {e['dropped_server_to_client']}"])
            if k == 'zero_window':
                rows.append([f"`{f['file']}`", 'client stops reading', f"{e['stop_reading_offset_s']:.3f}", f"{e['resume_reading_offset_s']:.3f}",
                             f"paused {e['paused_s']:.3f} s after {e['bytes_read_before_stop']} B; SO_RCVBUF {e['so_rcvbuf_requested']} requested, {e['so_rcvbuf_actual']} given"])
            if k == 'duplex_commands':
                for w, c in e.items():
                    rows.append([f"`{f['file']}`", f'{w} command runs', f"{c['start_offset_s']:.3f}", f"{c['end_offset_s']:.3f}", f"`{c['command']}`"])
            if k == 'two_way':
                df = e['data_frames']
                for i, x in enumerate(e['periods']):
                    rows.append([f"`{f['file']}`", f"both directions carry data ({i + 1} of {len(e['periods'])})", f"{x['start_offset_s']:.3f}",
                                 f"{x['end_offset_s']:.3f}", f"{x['duration_s']:.3f} s; data frames c2s {x['c2s_data_frames']}, s2c {x['s2c_data_frames']}"])
                rows.append([f"`{f['file']}`", 'both directions carry data: all periods', '-', '-',
                             f"{e['total_s']:.3f} s (a direction's data frames up to {e['gap_s']:g} s apart); data frames in / out of them: "
                             f"c2s {df['c2s']['two_way']} / {df['c2s']['one_way']}, s2c {df['s2c']['two_way']} / {df['s2c']['one_way']}"])
    if rows:
        print('\n## Events (offsets in seconds from the file\'s first frame)')
        table(['file', 'event', 'start (s)', 'end (s)', 'details'], rows)
    rows = []
    for f in F:
        x = f.get('faults')
        if not x: continue
        e = f['emulator']; c, v = e['client_to_server'], e['server_to_client']
        kinds = collections.Counter(d['cause'] for d in f.get('dropped_frames') or [])
        det = []
        if 'collision_probability' in x:
            det.append(f"frames serialized while the other direction was busy: c2s {c['both_busy_frames']}, s2c {v['both_busy_frames']}; "
                       f"lost to collisions: c2s {c['collision_lost']}, s2c {v['collision_lost']}")
        if 'sizedrop_ip_len_above' in x:
            det.append(f"frames above {x['sizedrop_ip_len_above']} B: c2s {c['sizedrop_frames_above']}, s2c {v['sizedrop_frames_above']}; dropped c2s {c['sizedrop_dropped']}, s2c {v['sizedrop_dropped']}")
        det.append(f"Bernoulli losses c2s {c['lost']}, s2c {v['lost']}")
        for d, sd in (('client_to_server', 'c2s'), ('server_to_client', 's2c')):
            for cause, n in sorted(((f.get('dropped_summary') or {}).get(d) or {}).items()):
                det.append(f"dropped {sd} by {cause}: " + ', '.join(f'{k.replace("_", " ")} {n[k]}' for k in
                                                                        ('data', 'data_in_two_way', 'pure_ack', 'control', 'other') if k in n))
        rows.append([f"`{f['file']}`", ', '.join(f'{k} {w}' for k, w in x.items()), '; '.join(det),
                     ', '.join(f'{k} {n}' for k, n in sorted(kinds.items())) or '-'])
    if rows:
        print('\n## Fault rules and what they did (emulator counters; every dropped frame is listed in dropped_frames)')
        table(['file', 'rule', 'counters', 'dropped_frames by cause'], rows)
    rows = [[f"`{f['file']}`", f"{x['namespace']} {dev}", f"{x['qdisc']} rate {x['rate_kbit']:g} kbit/s, burst {x['burst_bytes']} B, limit {x['limit_bytes']} B",
             x['sent_packets'], x['sent_bytes'], x['dropped'], x['overlimits']]
            for f in F for dev, x in (f.get('host_shaping') or {}).items()]
    if rows:
        print('\n## Host shaping (the hosts\' egress qdisc, tc -s counters at the end of the capture)')
        table(['file', 'interface', 'qdisc', 'sent packets', 'sent bytes', 'dropped', 'overlimits'], rows)
    for f in F:
        bins = (f.get('emulator') or {}).get('client_to_server', {}).get('ip_len_bins')
        if not bins: continue
        sb = {b['ip_len_from']: b for b in f['emulator']['server_to_client'].get('ip_len_bins', [])}
        print(f"\n### `{f['file']}`: frames per IP-length bin (emulator counters)")
        table(['IP length (B)', 'c2s received', 'c2s dropped', 's2c received', 's2c dropped'],
              [[f"{b['ip_len_from']}-{b['ip_len_to']}", b['rx'], b['dropped'], sb.get(b['ip_len_from'], {}).get('rx', 0),
                sb.get(b['ip_len_from'], {}).get('dropped', 0)] for b in bins])
    rows = [[f"`{f['file']}`", f['span'].get('role'), f['span'].get('duplicates', '-'), f['span'].get('frames_client_c0', '-'),
             f['span'].get('frames_wan_wc', '-'), f['span'].get('max_copy_gap_us', '-'), f['span'].get('dup_file', '-')] for f in F if f.get('span')]
    if rows:
        print('\n## SPAN duplicates')
        table(['file', 'role', 'duplicates', 'frames from c0', 'frames from wc', 'max gap between copies (us)', 'dup file'], rows)
    rows = []
    for f in F:
        if f.get('sql'):
            q = f['sql']['statements']
            rows.append([f"`{f['file']}`", f['sql']['server'], f['sql']['count'], '`' + q[0][:60] + '`', '`' + q[-1][:60] + '`'])
        if f.get('http_requests'):
            q = f['http_requests']['requests']
            rows.append([f"`{f['file']}`", 'nginx', f['http_requests']['count'], '`' + q[0] + '`', '`' + q[-1] + '`'])
    if rows:
        print('\n## What the servers executed (sql.statements in order from the server logs; http_requests from nginx\'s access log)')
        table(['file', 'server', 'statements / requests', 'first', 'last'], rows)
    rows = []
    for f in F:
        if f.get('flood') or len((f.get('hosts') or {}).get('endpoints', [])) > 2:
            for h in f['hosts']['endpoints']:
                rows.append([f"`{f['file']}`", h['ip'], h['packets'], h['bytes'], h['tx_packets'], h['tx_bytes'], h['rx_packets'], h['rx_bytes']])
    if rows:
        print('\n## Hosts on the wire (tshark -q -z endpoints,ip of each file: frame bytes)')
        table(['file', 'host', 'packets', 'bytes', 'tx packets', 'tx bytes', 'rx packets', 'rx bytes'], rows)
elif cmd == 'twoway':
    # A direction carries data from one of its data frames (TCP payload > 0) to the next when the
    # next comes within GAP seconds; the periods when both directions do, in time order.
    path, cip, gap = sys.argv[2], sys.argv[3], float(sys.argv[4])
    out = subprocess.run(['tshark', '-n', '-r', path, '-Y', 'tcp.len > 0', '-T', 'fields', '-E', 'separator=\t',
                          '-e', 'frame.time_epoch', '-e', 'ip.src'], capture_output=True, text=True, check=True).stdout
    ts = {'c2s': [], 's2c': []}
    for line in out.splitlines():
        t, src = line.split('\t')[:2]
        ts['c2s' if src == cip else 's2c'].append(float(t))
    def busy(v):
        iv = []
        for t in v:
            if iv and t - iv[-1][1] <= gap: iv[-1][1] = t
            else: iv.append([t, t])
        return iv
    a, b = busy(ts['c2s']), busy(ts['s2c'])
    per, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi: per.append([lo, hi])
        if a[i][1] < b[j][1]: i += 1
        else: j += 1
    inside = lambda t: any(lo <= t <= hi for lo, hi in per)
    frames = {k: dict(two_way=sum(map(inside, v)), one_way=sum(not inside(t) for t in v)) for k, v in ts.items()}
    print(json.dumps(dict(source=f'the capture (tshark): a direction carries data from one of its data frames (TCP payload > 0) '
                                 f'to the next when that comes within {gap:g} s; periods when both directions do',
                          gap_s=gap, periods=[dict(start_epoch=round(lo, 6), end_epoch=round(hi, 6), duration_s=round(hi - lo, 6),
                                                   c2s_data_frames=sum(lo <= t <= hi for t in ts['c2s']),
                                                   s2c_data_frames=sum(lo <= t <= hi for t in ts['s2c'])) for lo, hi in per],
                          total_s=round(sum(hi - lo for lo, hi in per), 6), data_frames=frames)))
elif cmd == 'hosts':
    out = subprocess.run(['tshark', '-n', '-q', '-r', sys.argv[2], '-z', 'endpoints,ip'], capture_output=True, text=True, check=True).stdout
    hs = []
    for line in out.splitlines():
        v = line.split()
        if len(v) >= 7 and re.match(r'^\d+\.\d+\.\d+\.\d+$', v[0]):
            nums = [int(x) for x in v[1:] if x.isdigit()]
            if len(nums) >= 6:
                hs.append(dict(ip=v[0], packets=nums[0], bytes=nums[1], tx_packets=nums[2], tx_bytes=nums[3],
                               rx_packets=nums[4], rx_bytes=nums[5]))
    print(json.dumps(dict(source='tshark -q -z endpoints,ip (frame bytes)', endpoints=hs)))
PYEOF
}

# groundtruth.json: machine-readable profile parameters, emulator counters and
# measured statistics for every capture; README.md is rendered from it.
write_groundtruth() {
    local name f pt gt="$OUT/groundtruth.json" tmpd="$WORK/gt" files=()
    rm -rf "$tmpd"; mkdir -p "$tmpd"
    for name in "${CAPLIST[@]}"; do
        while read -r pt f; do
            [ -f "$f" ] || { log "WARNING: $f missing"; continue; }
            local ftype snapl pk sz du b; b=$(basename "$f")
            IFS=$'\t' read -r _ ftype snapl _ _ pk sz du <<<"$(capinfos -M -T -r -t -l -c -s -u "$f")"
            "$PY" "$WORK/capstats.py" "$f" "$C_IP" $([ "$LAB_SET" = project ] || [ "$LAB_SET" = default ] || [ "$LAB_SET" = rtt ] || [ "$LAB_SET" = holdout ] || echo spacing) >"$tmpd/$b.stats"
            files+=("$b")
            "$PY" - "$name" "$b" "${CAP_PROF[$name]}" "$ftype" "$snapl" "$pk" "$sz" "$du" "$(cap_tool "$name")" \
                "${CAP_TASK[$name]}" "${CAP_DESC[$name]}" "${CAP_EXPECT[$name]}" "$tmpd/$b.stats" \
                "$WORK/meta/$name" "$OUT/groundtruth.json" "$pt" "${CAP_POINTS[$name]:-client}" "${CAP_EMU[$name]:-}" \
                "${PROF_HOP2[${CAP_PROF[$name]}]:-}" "$f" "$WORK/extras.py" \
                >"$tmpd/$b.json" <<'PYEOF'
import json, os, subprocess, sys
a = sys.argv[1:]
name, fname, meta, point, points, emuopts, hop2 = a[0], a[1], a[13], a[15], a[16].split(), a[17].split(), a[18].split()
path, extras = a[19], a[20]
def load(p, conv=json.load):
    try:
        with open(p) as f: return conv(f)
    except Exception: return None
emu1, emu2 = load(meta + '.emu-hop1.json'), load(meta + '.emu-hop2.json')
blackout = dropped = None
for e in (emu1, emu2):
    if e:
        e.pop('params', None)
        blackout = e.pop('blackout', None) or blackout
        dropped = e.pop('dropped_frames', None) if 'dropped_frames' in e else dropped
emu = emu2 if hop2 else emu1
measured = load(a[12])
first = measured.pop('first_epoch', None) if measured else None
measured.pop('last_epoch', None)
multi = len(points) > 1 and 'span' not in points
rec = dict(name=os.path.basename(fname).split('.')[0] if multi or point == 'span' else name, file=fname, profile=a[2],
    format=a[3], snaplen=a[4], packets=int(a[5]), size_bytes=int(a[6]), duration_s=float(a[7]), tool=a[8], task=a[9],
    description=a[10], expected=a[11], measured=measured, emulator=emu,
    client_task_s=load(meta + '.took', lambda f: int(f.read())), tries=load(meta + '.tries', lambda f: int(f.read())))
new_style = os.environ.get('LAB_SET') not in ('default', 'rtt', 'holdout', 'project')
# every set: the queue ground truth and what the servers executed
if emu:
    rec['queue'] = {k: dict(max_queue_delay_ms=emu[d]['max_queue_delay_ms'], max_queue_frames=emu[d]['max_queue_frames'])
                    for k, d in (('c2s', 'client_to_server'), ('s2c', 'server_to_client'))}
    rec['queue']['hop'] = 'hop 2 (server side)' if hop2 else 'the emulator'
for kind in ('pg', 'my', 'http'):
    if os.path.exists(meta + '.' + kind + '.log'):
        x = json.loads(subprocess.run([sys.executable, extras, kind, meta + '.' + kind + '.log'], capture_output=True, text=True, check=True).stdout)
        if x and x.get('count'):
            rec['http_requests' if kind == 'http' else 'sql'] = x
if new_style:
    if first is not None:
        rec['first_frame_epoch'] = first
    rec['session'] = name
    where = {'client': ('nse_client', 'c0', 'the client (10.77.0.1) end of the path'),
             'mid': ('nse_wan', 'm1', 'the middle of the path: the tap between hop 1 (client side) and hop 2 (server side)'),
             'server': ('nse_server', 's0', 'the server (10.77.0.2) end of the path'),
             'span': ('nse_client+nse_wan', 'c0+wc', 'both ends of the client veth, merged: every frame twice')}[point]
    rec['capture_point'] = dict(point=point, namespace=where[0], interface=where[1], where=where[2])
    if hop2:
        d1, r1, l1, m1, d2, r2, l2, m2 = hop2
        legs = [dict(hop=1, side='client', between='client c0 - middle m1', one_way_delay_ms=float(d1), rate_kbit=float(r1),
                     loss_each_way=float(l1), queue_limit_frames=int(m1)),
                dict(hop=2, side='server', between='middle m2 - server s0', one_way_delay_ms=float(d2), rate_kbit=float(r2),
                     loss_each_way=float(l2), queue_limit_frames=int(m2))]
        rec['legs'] = legs   # rate_kbit 0 = no rate limit
        to_client = {'client': 0.0, 'mid': float(d1), 'server': float(d1) + float(d2)}[point]
        rec['one_way_delay_to_client_ms'], rec['one_way_delay_to_server_ms'] = to_client, float(d1) + float(d2) - to_client
        rec['emulator_hops'] = dict(client_side=emu1, server_side=emu2)
    if emuopts:
        o = dict(zip(emuopts[::2], emuopts[1::2]))
        fl = {}
        if '--blackout-at' in o: fl.update(blackout_after_first_frame_s=float(o['--blackout-at']), blackout_for_s=float(o['--blackout-for']))
        if '--sizedrop' in o: fl.update(sizedrop_ip_len_above=int(o['--sizedrop']), sizedrop_drops='every other frame above it, per direction (2nd, 4th, ...)')
        if '--collision' in o: fl.update(collision_probability=float(o['--collision']))
        if '--bin' in o: fl.update(ip_len_bin_bytes=int(o['--bin']))
        if fl:
            fl['on'] = 'hop 2 (server side)' if hop2 else 'the emulator'
            rec['faults'] = fl
    off = lambda t: round(t - first, 6) if first is not None and t is not None else None
    ev = {}
    if blackout:
        b = dict(blackout)
        b.update(start_offset_s=off(b['start_epoch']), end_offset_s=off(b['end_epoch']))
        for d in ('client_to_server', 'server_to_client'):
            b['dropped_' + d] = emu[d].get('blackout_dropped')
        ev['blackout'] = b
    task = load(meta + '.task.json') or {}
    if 'zero_window' in task:
        z = dict(task['zero_window'])
        z.update(stop_reading_offset_s=off(z['stop_reading_epoch']), resume_reading_offset_s=off(z['resume_reading_epoch']))
        ev['zero_window'] = z
    if a[9].split()[0] == 'duplex':
        # the periods when both directions carried data (from the capture), and when each command ran
        tw = json.loads(subprocess.run([sys.executable, extras, 'twoway', path, '10.77.0.1', '0.1'], capture_output=True, text=True, check=True).stdout)
        for x in tw['periods']:
            x.update(start_offset_s=off(x['start_epoch']), end_offset_s=off(x['end_epoch']))
        ev['two_way'] = tw
        if 'duplex' in task:
            c = task['duplex']
            for x in c.values():
                x.update(start_offset_s=off(x['start_epoch']), end_offset_s=off(x['end_epoch']))
            ev['duplex_commands'] = c
    if ev:
        rec['events'] = ev
    if dropped is not None:
        tw = ev.get('two_way')
        summ = {}
        for x in dropped:
            x['offset_s'] = off(x['epoch'])
            if 'tcp_len' in x:
                # data: TCP payload; pure_ack: no payload, only ACK set; control: SYN, FIN or RST without payload
                x['kind'] = 'data' if x['tcp_len'] > 0 else 'pure_ack' if x['flags'] & 0x07 == 0 else 'control'
            else:
                x['kind'] = 'other'
            if tw is not None:   # by the emulator's time of the drop
                x['two_way'] = any(p['start_epoch'] <= x['epoch'] <= p['end_epoch'] for p in tw['periods'])
            k = summ.setdefault(x['direction'], {}).setdefault(x['cause'], {})
            k[x['kind']] = k.get(x['kind'], 0) + 1
            if x.get('two_way') and x['kind'] == 'data':
                k['data_in_two_way'] = k.get('data_in_two_way', 0) + 1
        rec['dropped_frames'] = dropped
        rec['dropped_summary'] = summ
    if 'flood' in task:
        rec['flood'] = task['flood']
    shape = load(meta + '.shape.json')
    if shape:
        rec['host_shaping'] = shape
    if point == 'span':
        rec['span'] = load(meta + '.span.json')
    elif 'span' in points:
        rec['span'] = dict(role='clean', dup_file=fname.replace(name + '.', name + '-dup.', 1))
    rec['hosts'] = json.loads(subprocess.run([sys.executable, extras, 'hosts', path], capture_output=True, text=True, check=True).stdout)
# --readme after $WORK was wiped: keep the run-time facts recorded in the previous groundtruth.json
old = load(a[14])
if old and emu is None:
    prev = {f['file']: f for f in old.get('files', [])}.get(fname)
    if prev and prev.get('packets') == rec['packets'] and prev.get('size_bytes') == rec['size_bytes']:
        for k in ('emulator', 'client_task_s', 'tries', 'emulator_hops', 'queue', 'events', 'dropped_frames', 'dropped_summary', 'host_shaping', 'flood',
                  'span', 'sql', 'http_requests'):
            if k in prev:
                rec[k] = prev.get(k)
print(json.dumps(rec))
PYEOF
        done < <(cap_files "$name")
    done
    # merged with the folder's previous ground truth: the entries of captures this
    # run did not take stay as they are (in their order), the planned ones are
    # replaced in place or appended
    "$PY" - "$gt" "$tmpd" "$C_IP" "$S_IP" "$(prof_args)" "$SET_TOPO" "${files[@]}" <<'PYEOF'
import json, sys, os
out, d, cip, sip, profs, topo, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7:]
outdir = os.path.dirname(out)
prof = {}
for item in filter(None, profs.split(';')):
    p, dl, rt, ls, lim, legs = item.split()
    dl, rt, ls, lim = float(dl), float(rt), float(ls), int(lim)
    prof[p] = dict(one_way_delay_ms=dl, base_rtt_ms=2 * dl, rate_kbit_each_way=rt, loss_each_way=ls,
                   queue_limit_frames=lim, full_frame_serialization_ms=round(1514 * 8 / rt, 4),
                   bdp_bytes=round(rt * 1000 / 8 * 2 * dl / 1000))
    if legs != '-':
        prof[p]['legs'] = [dict(hop=i + 1, side=('client', 'server')[i], one_way_delay_ms=float(x[0]), rate_kbit=float(x[1]),
                                loss_each_way=float(x[2]), queue_limit_frames=int(x[3]))
                           for i, x in enumerate(l.split(',') for l in legs.split('/'))]
new = {}
for n in names:
    if os.path.exists(os.path.join(d, n + '.json')):
        f = json.load(open(os.path.join(d, n + '.json'))); new[f['file']] = f
try:
    old = json.load(open(out))
except FileNotFoundError:
    old = {}
files = []
for f in old.get('files', []):
    if f['file'] in new:
        files.append(new.pop(f['file']))
    elif os.path.exists(os.path.join(outdir, f['file'])):
        files.append(f)
    else:
        print(f"WARNING: {f['file']} is gone, dropped from groundtruth.json", file=sys.stderr)
files += new.values()
used = {f['profile'] for f in files}
profiles = {p: prof.pop(p, v) for p, v in old.get('profiles', {}).items() if p in used or p in prof}
profiles.update(prof)
listed = {f['file'] for f in files}
for x in sorted(os.listdir(outdir)):
    if x.endswith(('.pcap', '.pcapng', '.pcap.gz', '.pcapng.gz')) and x not in listed:
        print(f"WARNING: {x} in {outdir} has no ground truth", file=sys.stderr)
with open(out + '.tmp', 'w') as fh:
    point = {'wan2': 'per file (files[].capture_point): client c0, middle m1 (between the two emulators) or server s0',
             'wan3': 'client-side veth c0 in namespace nse_client, a port of the bridge that holds the client 10.77.0.1 and the third host 10.77.0.3'}.get(
        topo, 'client veth c0 in namespace nse_client')
    extra = dict(third_host_ip='10.77.0.3') if topo == 'wan3' else {}
    json.dump(dict(client_ip=cip, server_ip=sip, **extra, capture_point=point,
                   rtt_formula='2*one_way_delay + (request_frame_len + response_frame_len)*8/rate, frame len incl. 14-B Ethernet header',
                   profiles=profiles, files=files), fh, indent=1)
os.replace(out + '.tmp', out)
PYEOF
}

# "name delay rate loss limit;" for each planned profile
prof_args() {
    local p
    for p in $(plan_profiles); do
        local legs=-
        if [ -n "${PROF_HOP2[$p]:-}" ]; then
            local h=(${PROF_HOP2[$p]}); legs="${h[0]},${h[1]},${h[2]},${h[3]}/${h[4]},${h[5]},${h[6]},${h[7]}"
        fi
        printf '%s %s %s %s %s %s;' "$p" "${PROF_DELAY[$p]}" "${PROF_RATE[$p]}" "${PROF_LOSS[$p]}" "${PROF_LIMIT[$p]}" "$legs"
    done
}

# Before a run: OUT's groundtruth.json is merged with at the end, so it must not
# define a planned profile with other parameters for captures this run keeps.
check_merge() {
    [ -f "$OUT/groundtruth.json" ] || return 0
    local n files=()
    local pt f
    for n in "${CAPLIST[@]}"; do
        while read -r pt f; do files+=("$(basename "$f")"); done < <(cap_files "$n")
    done
    "$PY" - "$OUT/groundtruth.json" "$(prof_args)" "${files[@]}" <<'PYEOF' || die "cannot add LAB_SET=$LAB_SET to $OUT"
import json, sys
g = json.load(open(sys.argv[1])); planned = set(sys.argv[3:]); bad = []
for item in filter(None, sys.argv[2].split(';')):
    p, dl, rt, ls, lim = item.split()[:5]
    o = g.get('profiles', {}).get(p)
    if o and (o['one_way_delay_ms'], o['rate_kbit_each_way'], o['loss_each_way'], o['queue_limit_frames']) != \
            (float(dl), float(rt), float(ls), int(lim)) and \
            any(f['profile'] == p and f['file'] not in planned for f in g.get('files', [])):
        bad.append(p)
if bad:
    sys.exit(f"{sys.argv[1]}: profile(s) {' '.join(bad)} have other parameters there, for captures this run keeps")
PYEOF
}

write_readme() {
    write_groundtruth
    local r="$OUT/README.md"
    log "writing $r"
    {
    if [ -n "$SET_DOC" ]; then
    cat <<EOF
# WAN lab captures: LAB_SET=$LAB_SET

$SET_DOC

Made with \`sudo LAB_SET=$LAB_SET testdata/lab/make-captures.sh testdata/lab/$(basename "$OUT")\` on $(date -u +%Y-%m-%d)
(the lab script next to this folder's parent; PostgreSQL $(basename "$(dirname "$(pg_bin)")"), MariaDB $(mariadbd --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1),
nginx $(nginx -v 2>&1 | grep -oE '[0-9.]+$') + curl, ping; kernel $(uname -r), $(tcpdump --version 2>&1 | head -1)).
$([ "$SET_GZ" = 1 ] && echo "Captures are pcap files compressed with \`gzip -9n\` (\`.pcap.gz\`; tshark, capinfos and netecology read them as they are), snaplen unlimited.")
Client 10.77.0.1, server 10.77.0.2$([ "$SET_TOPO" = wan3 ] && echo ", third host 10.77.0.3"). Machine-readable ground truth for every file: \`groundtruth.json\`
(the same fields as ../groundtruth.json, plus the ones described below).
Times in the ground truth are epoch seconds of the capture clock (all capture points and the
emulators share the kernel's clock) and offsets from the file's first frame (\`first_frame_epoch\`).

EOF
    else
    cat <<EOF
# WAN lab captures

Real applications (PostgreSQL $(basename "$(dirname "$(pg_bin)")") / psql, MariaDB $(mariadbd --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1), nginx $(nginx -v 2>&1 | grep -oE '[0-9.]+$') + curl, ping)
talking across emulated WAN links between Linux network namespaces,
captured on the **client** side (\`c0\` in \`nse_client\`, 10.77.0.1; the server
is 10.77.0.2). Made by \`make-captures.sh\` (last run: \`LAB_SET=$LAB_SET\`, $(date -u +%Y-%m-%d);
kernel $(uname -r), $(tcpdump --version 2>&1 | head -1), $(dumpcap --version 2>&1 | head -1 | cut -d' ' -f1-3)).
Machine-readable ground truth for every file: \`groundtruth.json\`.
$([ "$LAB_SET" = project ] && echo "How netecology's copy of the script and this set were made: ../README.md.")
$(ls "$OUT"/*/groundtruth.json >/dev/null 2>&1 && cat <<'SUBEOF'

Sub-folders hold netecology's further sets, each made by its own run into its own
folder, with its own README.md (how it was made, every file, its ground truth)
and groundtruth.json (these fields plus capture points, legs, queues, events,
fault rules and dropped frames, the servers' statements and requests, hosts):
`vantage/` (client, middle and server captures of one session; issue 11),
`events/` (blackout, zero window, duplex mismatch, a third host's ping flood;
issues 11, 16), `span/` (every frame twice), `sweeps/` (size-dependent drop and
Bernoulli loss; issue 16), `budget/` (repeated and changed sessions; issue 14),
`whatif/` (nine workloads on six profiles, LAN to geostationary; issue 18).
Each is made with `sudo LAB_SET=<set> testdata/lab/make-captures.sh testdata/lab/<set>`;
../README.md lists them. This README and groundtruth.json cover only the files
of this folder (the `project` set).
SUBEOF
)

Capture sets (\`LAB_SET\`): \`default\` = profiles wan512, wan2m, wan2m-loss (150 ms
base RTT; workloads, loss, capture formats); \`rtt\` = rtt10, rtt50: the wan2m
workloads at the same 2000 kbit/s with base RTT 10 and 50 ms (wan2m is the 150 ms
member), for validating what-if RTT projections; \`holdout\` = h30, h250, hloss,
for hidden evaluation. A run replaces its own captures' entries in this README
and in \`groundtruth.json\` and keeps those of the other captures in the folder.

EOF
    fi
    cat <<EOF
## Link profiles (ground truth)

This kernel lacks \`sch_netem\`, so the link is a userspace L2 bridge in a third
namespace (\`nse_wan\`, run under SCHED_FIFO) with netem semantics: per direction,
Bernoulli loss, a FIFO of at most *limit* frames, serialization at *rate* (of the
whole Ethernet frame, 14-byte header included, no FCS/preamble), then the one-way
*delay*. Both directions are identical. Offloads (TSO/GSO/GRO/checksum) are off,
so every frame is a real <=1514-byte wire frame with valid checksums. Static ARP,
IPv6 disabled: the captures hold only the application traffic.

EOF
    "$PY" - "$OUT/groundtruth.json" <<'PYEOF'
import json, sys
P = json.load(open(sys.argv[1]))['profiles']
print('| profile | one-way delay | base RTT | rate (each way) | loss (each way) | queue limit | 1514-B frame serialization | BDP |')
print('|---|---|---|---|---|---|---|---|')
for n, p in P.items():
    d, r = p['one_way_delay_ms'], p['rate_kbit_each_way']
    print('| %s | %g ms | %g ms | %g kbit/s (%g bytes/s) | %g %% | %d frames | %.3f ms | %.0f bytes |' % (
        n, d, 2 * d, r, r * 1000 / 8, p['loss_each_way'] * 100, p['queue_limit_frames'], 1514 * 8 / r, r * 1000 / 8 * 2 * d / 1000))
print('''
RTT of a request frame of L bytes answered at once by a frame of M bytes, queues
empty: `2*delay + (L+M)*8/rate`. ICMP echo with payload N (`ping -s N`, a frame
of N+42 bytes each way): `RTT(N) = 2*delay + 2*(N+42)*8/rate`. Per profile:

| profile | SYN/SYN-ACK RTT (74+74 B) | ICMP RTT slope | ICMP RTT intercept (N = 0) |
|---|---|---|---|''')
num = lambda x: f'{x:.4f}'.rstrip('0').rstrip('.')
for n, p in P.items():
    d, r = p['one_way_delay_ms'], p['rate_kbit_each_way']
    print(f"| {n} | {num(2 * d + 148 * 8 / r)} ms | {num(16e3 / r)} us/byte | {num(2 * d + 84 * 8 / r)} ms |")
PYEOF
    cat <<'EOF'

The emulator adds ~0.05-0.5 ms per round trip (scheduling); its worst lateness
per capture is listed below (a capture is re-taken, up to 3 times, when it
exceeds 10 ms). Bulk transfers fill the FIFO (limit 1000 frames, netem's
default: no tail drops here), so RTTs during bulk transfers are inflated by
queueing (bufferbloat); "max queue" shows how much.

Workload: table `orders` (20000 rows, 9 columns). Bulk query:
`SELECT * FROM orders WHERE order_id <= 3000 ORDER BY order_id` (3000 rows); nginx
serves exactly those rows as `rows.csv`. Chatty sessions: 200 single-row
`SELECT * FROM orders WHERE order_id = N` (simple query protocol, one statement per
round trip); the HTTP chatty session fetches the same 200 rows as 200 small CSV
files over one keep-alive connection. `blob.bin` is 307200 random bytes.
psql/libpq: `sslmode=disable`, SCRAM-SHA-256 login (2 extra round trips).
MariaDB: mysql_native_password, no TLS. nginx: sendfile, tcp_nopush, keep-alive.

## Files

EOF
    "$PY" - "$OUT/groundtruth.json" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
print('| file | profile | format, snaplen (tool) | packets | size (bytes) | duration (s) | TCP conns | what it is | expected behaviour |')
print('|---|---|---|---|---|---|---|---|---|')
for f in g['files']:
    m = f['measured']
    snap = 'unlimited' if f['snaplen'] in ('(not set)', '262144', '0') else f['snaplen']
    print(f"| `{f['file']}` | {f['profile']} | {f['format']}, snaplen {snap} (`{f['tool']}`) | {f['packets']} | "
          f"{f['size_bytes']} | {f['duration_s']:.1f} | {m['tcp_streams']} | {f['description']} | {f['expected']} |")
print('''
## Measured per-file summary (from the captures themselves)

c2s = client->server (10.77.0.1 -> 10.77.0.2), s2c = server->client. "data" =
TCP segments with payload; "seg" = TCP payload bytes per data segment; "acks" =
pure ACKs (no payload, no SYN); "retx" = segments tshark flags as
retransmissions; "turns" = client->server application turns (client data after
server data, or first data, per connection); "hs RTT" = SYN -> SYN/ACK at the
client (min/median/max over connections); "emu drops" = frames discarded by the
emulator (random loss + tail drop); "max queue" = longest wait in the s2c
serializer FIFO; "emu late" = worst emulator lateness (both directions).
''')
print('| file | c2s pkts / data / acks / mean seg | s2c pkts / data / acks / mean seg / max seg | retx c2s/s2c | turns | hs RTT ms | emu drops c2s/s2c | max queue s2c ms | emu late ms |')
print('|---|---|---|---|---|---|---|---|---|')
for f in g['files']:
    m, e = f['measured'], f['emulator']
    c, v = m['c2s'], m['s2c']
    hs = ' / '.join(f'{x:.2f}' for x in m['handshake_rtt_ms']) if m['handshake_rtt_ms'] else '-'
    if e:
        a, b = e['client_to_server'], e['server_to_client']
        drops = f"{a['lost'] + a['tail_dropped']}/{b['lost'] + b['tail_dropped']}"
        q = f"{b['max_queue_delay_ms']:.0f}"; late = f"{max(a['max_late_ms'], b['max_late_ms']):.2f}"
    else:
        drops = q = late = '-'
    print(f"| `{f['file']}` | {c['pkts']} / {c['data_segs']} / {c['pure_acks']} / {c['mean_seg']} | "
          f"{v['pkts']} / {v['data_segs']} / {v['pure_acks']} / {v['mean_seg']} / {v['max_seg']} | "
          f"{c['retrans']}/{v['retrans']} | {m['requests']} | {hs} | {drops} | {q} | {late} |")
print('''
## Chatty vs bulk at a glance

"turns x RTT" = client turns times the base RTT: the time a session needs for its
round trips alone. "goodput" = server->client TCP payload / capture duration;
"util" = goodput / link rate. RTT-bound sessions have turns x RTT close to their
duration and low utilisation; bulk sessions the reverse.
''')
print('| file | turns | duration (s) | turns x RTT (s) | s2c payload (B) | goodput (kbit/s) | link (kbit/s) | util |')
print('|---|---|---|---|---|---|---|---|')
for f in g['files']:
    m = f['measured']
    if not m['tcp_streams']: continue
    p = g['profiles'][f['profile']]
    gp = m['s2c']['payload'] * 8 / f['duration_s'] / 1000 if f['duration_s'] else 0
    print(f"| `{f['file']}` | {m['requests']} | {f['duration_s']:.1f} | {m['requests'] * p['base_rtt_ms'] / 1000:.1f} | "
          f"{m['s2c']['payload']} | {gp:.0f} | {p['rate_kbit_each_way']:g} | {100 * gp / p['rate_kbit_each_way']:.0f} % |")
print('''
## ICMP RTT-vs-size fits (least squares over each capture: RTT ms vs ICMP payload bytes)
''')
print('| file | pairs | payload range (B) | RTT range (ms) | fitted slope (us/B) | expected | fitted intercept (ms) | expected | max residual (ms) |')
print('|---|---|---|---|---|---|---|---|---|')
for f in g['files']:
    i = f['measured'].get('icmp')
    if not i: continue
    p = g['profiles'][f['profile']]
    r = p['rate_kbit_each_way'] * 1000
    print(f"| `{f['file']}` | {i['pairs']} | {i['min_payload']}-{i['max_payload']} | {i['rtt_min_ms']}-{i['rtt_max_ms']} | "
          f"{i['slope_us_per_byte']} | {16e6 / r:.4f} | {i['intercept_ms']} | {p['base_rtt_ms'] + 2 * 42 * 8 / r * 1000:.4f} | {i['resid_max_ms']} |")
PYEOF
    [ -z "$SET_DOC" ] || "$PY" "$WORK/extras.py" readme "$OUT/groundtruth.json"
    if [ -n "$SET_DOC" ]; then
    cat <<EOF

## Re-generating

    sudo LAB_SET=$LAB_SET testdata/lab/make-captures.sh testdata/lab/$(basename "$OUT")
    sudo LAB_SET=$LAB_SET LAB_ONLY="NAME ..." testdata/lab/make-captures.sh testdata/lab/$(basename "$OUT")   # only some sessions

TCP initial sequence numbers, ports, timestamps and jitter differ from run to
run; link parameters, workloads, data and the emulator's loss pattern (seeded
RNG, per frame index in each direction) are fixed.
EOF
    else
    cat <<'EOF'

## Re-generating

    sudo make-captures.sh /path/to/outdir                # LAB_SET=default; 10-15 min; installs its own Debian packages
    sudo LAB_SET=rtt make-captures.sh /path/to/outdir    # adds the rtt set to the same folder (~5 min)
    sudo LAB_SET=holdout make-captures.sh /path/to/other # the holdout set, kept apart (~10 min)
    sudo make-big.sh /tmp/lab-big/big.pcap               # large unthrottled capture (kept out of this folder)

TCP initial sequence numbers, ports, timestamps and jitter differ from run to
run; link parameters, workloads, data and the emulator's loss pattern (seeded
RNG, per frame index in each direction) are fixed.
EOF
    fi
    } >"$r"
}

# ---------------------------------------------------------------- main: corpus
make_corpus() {
    write_emulator
    write_analyser
    write_extras
    setup_topology "$SET_TOPO"
    start_servers
    local name
    for name in "${CAPLIST[@]}"; do capture "$name"; done
    write_readme
}

# ---------------------------------------------------------------- main: big capture
make_big() {
    local path=$1 target=${2:-3000000}
    mkdir -p "$(dirname "$path")"
    setup_topology direct
    start_servers nomariadb
    log "pgbench -i (scale 10)"
    pgbench -i -q -s 10 -h "$WORK/pg/sock" -U $DB_USER $DB_NAME >/dev/null 2>&1 || die "pgbench -i failed"
    rm -f "$WORK/big.stop" "$path"
    local err=$WORK/big.err
    ip netns exec $NS_C tcpdump -Z root -n -i c0 -s 0 -B 262144 -w "$path" 2>"$err" &
    local cpid=$! i
    record_pid $cpid tcpdump INT
    for i in $(seq 1 100); do grep -q "listening on" "$err" 2>/dev/null && break; sleep 0.05; done
    local base; base=$(ifpkts)
    # many concurrent sessions of every kind
    local kinds="pgbench pgbench pgbench-C pg-bulk pg-bulk pg-fetch pg-chatty pg-chatty http-bulk http-bulk http-chatty http-chatty http-chatty"
    local k lpids=()
    for k in $kinds; do
        ip netns exec $NS_C bash "$SELF" __client big-loader "$k" & lpids+=($!); record_pid $! bash
    done
    log "big: load running (${#lpids[@]} loaders), target $target packets"
    local n=0 t0=$SECONDS
    while :; do
        sleep 1
        n=$(( $(ifpkts) - base ))
        [ $(( (SECONDS - t0) % 10 )) = 0 ] && log "  $n packets, $((SECONDS - t0)) s"
        # stop a little early: loaders finish the session they are in (pgbench runs up to 5 s)
        [ "$n" -ge $((target * 97 / 100)) ] && break
        [ $((SECONDS - t0)) -ge 1800 ] && { log "WARNING: time limit reached"; break; }
    done
    touch "$WORK/big.stop"     # loaders finish their current session and exit
    for k in "${lpids[@]}"; do wait "$k" 2>/dev/null || true; done
    sleep 1
    stop_pid "$cpid" INT; wait "$cpid" 2>/dev/null || true
    cat "$err" >&2
    grep -qE "(^|[^0-9])[1-9][0-9]* packets? dropped by kernel" "$err" && log "WARNING: tcpdump dropped packets"
    local info="$path.info.txt" syn='tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn'
    {
        echo "big capture made by make-captures.sh --big on $(date -u '+%Y-%m-%d %H:%M UTC'): unthrottled veth"
        echo "10.77.0.1 (client, capture point c0) <-> 10.77.0.2 (server), offloads off (<=1514-B frames), no emulator."
        echo "loaders: $kinds"
        echo "tcpdump: $(grep -E 'captured|received|dropped' "$err" | tr '\n' ' ')"
        echo "TCP connections (SYNs): postgres $(tcpdump -nr "$path" "dst port 5432 and $syn" 2>/dev/null | wc -l), http $(tcpdump -nr "$path" "dst port 80 and $syn" 2>/dev/null | wc -l)"
        capinfos -M "$path"
    } >"$info"
    cat "$info" >&2
}
ifpkts() {   # frames seen on c0 (rx + tx) = frames tcpdump sees
    ip -n $NS_C -s -j link show c0 | "$PY" -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print(s["rx"]["packets"]+s["tx"]["packets"])'
}

# ---------------------------------------------------------------- entry
main() {
    case "${1:-}" in
    --plan) OUT=; plan; plan_print; return 0 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$SELF"; return 0 ;;
    esac
    need_root
    local mode=corpus
    case "${1:-}" in
    --teardown) take_lock; teardown; rm -rf "$WORK"; drop_lock; return 0 ;;
    --big) mode=big; BIG_PATH=${2:?usage: $0 --big PATH [PACKETS]}; BIG_N=${3:-3000000} ;;
    --readme)  # re-render README.md/groundtruth.json of OUTDIR from the last run's $WORK/meta
        OUT=$(readlink -f "${2:?usage: $0 --readme OUTDIR}")
        plan; check_merge; install -d -m 755 "$WORK"; write_analyser; write_extras; write_readme; return 0 ;;
    -*) die "unknown option $1" ;;
    *)  OUT=$(readlink -f "${1:-$(dirname "$SELF")/../corpus/lab}")
        plan; check_merge ;;   # before touching anything
    esac
    take_lock
    install_deps
    teardown
    rm -rf "$WORK"; install -d -m 755 "$WORK"
    : >"$PIDREC"
    trap on_exit EXIT
    trap 'exit 130' INT TERM
    if [ $mode = big ]; then
        make_big "$BIG_PATH" "$BIG_N"
    else
        mkdir -p "$OUT"
        # README.md and groundtruth.json stay: write_readme merges into them
        local name
        local pt f
        for name in "${CAPLIST[@]}"; do
            while read -r pt f; do rm -f "$f"; done < <(cap_files "$name")
        done
        make_corpus
        log "done: $OUT"
        ls -l "$OUT" >&2
    fi
}

main "$@"
