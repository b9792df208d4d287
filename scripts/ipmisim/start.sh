#!/usr/bin/env bash
# Start OpenIPMI's ipmi_sim as a BMC on 127.0.0.1:PORT/udp for interop tests.
#
#   start.sh PORT SOLPORT STATEDIR
#
# PORT      UDP port for RMCP/RMCP+ (IPMI 1.5 "lan" and 2.0 "lanplus")
# SOLPORT   TCP port on 127.0.0.1 that ipmi_sim connects OUT to as the SOL
#           serial side (put a listener there, e.g. socat; ipmi_sim retries
#           about every 10 s while nothing listens)
# STATEDIR  directory for the rendered config, logs, pid file and state
#
# Environment:
#   IPMISIM_TIMEOUT  seconds to wait for the BMC to answer (default 10)
#   KEEP_STATE=1     keep chassis state and ipmi_sim's persisted data
#                    (users, SOL config) from a previous run in STATEDIR;
#                    by default both are reset (power on, boot none)
#
# Files in STATEDIR: lan.conf, ipmi_sim.pid, ipmi_sim.log,
#   chassis/{power,boot,identify,reset_count,chassis.log}, ipmi_sim/ (persist)
# Stop with: stop.sh STATEDIR
set -euo pipefail

die() { echo "ipmisim/start.sh: ERROR: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: start.sh PORT SOLPORT STATEDIR"
PORT=$1 SOLPORT=$2 STATEDIR=$3
for p in "$PORT" "$SOLPORT"; do
    [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] ||
        die "bad port '$p'"
done
TIMEOUT=${IPMISIM_TIMEOUT:-10}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v ipmi_sim >/dev/null || die "ipmi_sim not installed (run scripts/install-peers.sh)"
command -v ipmitool >/dev/null || die "ipmitool not installed (run scripts/install-peers.sh)"

mkdir -p "$STATEDIR"
STATEDIR=$(cd "$STATEDIR" && pwd)
case "$STATEDIR$HERE" in *'|'*|*'"'*|*' '*) die "paths must not contain '|', '\"' or spaces";; esac
PIDFILE=$STATEDIR/ipmi_sim.pid
LOG=$STATEDIR/ipmi_sim.log

if [ -f "$PIDFILE" ]; then
    old=$(cat "$PIDFILE")
    if [ -n "$old" ] && kill -0 "$old" 2>/dev/null &&
       tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q ipmi_sim; then
        die "ipmi_sim already running for $STATEDIR (pid $old); run stop.sh first"
    fi
    rm -f "$PIDFILE"
fi

if ss -Hlun "sport = :$PORT" 2>/dev/null | grep -q .; then
    die "UDP port $PORT is already in use: $(ss -Hlunp "sport = :$PORT" | tr -s ' ')"
fi

if [ "${KEEP_STATE:-0}" != 1 ]; then
    rm -rf "$STATEDIR/chassis" "$STATEDIR/ipmi_sim"
fi
mkdir -p "$STATEDIR/chassis"

sed -e "s|@PORT@|$PORT|g" -e "s|@SOLPORT@|$SOLPORT|g" \
    -e "s|@STATEDIR@|$STATEDIR|g" -e "s|@CHASSIS@|$HERE/chassis.sh|g" \
    "$HERE/lan.conf.in" >"$STATEDIR/lan.conf"
cp "$HERE/bmc.emu" "$STATEDIR/bmc.emu"

# -n: no interactive console on stdin/stdout.  stdin is /dev/null so no tty
# is needed; setsid detaches it from the caller's process group/terminal
# (setsid does not fork here, so $! is ipmi_sim's own pid).
: >"$LOG"
setsid ipmi_sim -n -c "$STATEDIR/lan.conf" -f "$STATEDIR/bmc.emu" \
    -s "$STATEDIR" </dev/null >>"$LOG" 2>&1 &
pid=$!
echo "$pid" >"$PIDFILE"

start=$(date +%s.%N)
deadline=$(( $(date +%s) + TIMEOUT ))
while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$PIDFILE"
        echo "---- $LOG:" >&2; cat "$LOG" >&2
        die "ipmi_sim exited during startup"
    fi
    if ipmitool -I lanplus -H 127.0.0.1 -p "$PORT" -U admin -P password -C 3 \
           -N 1 -R 1 chassis power status >/dev/null 2>&1; then
        break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        kill "$pid" 2>/dev/null || true
        rm -f "$PIDFILE"
        echo "---- $LOG:" >&2; cat "$LOG" >&2
        die "ipmi_sim (pid $pid) did not answer on 127.0.0.1:$PORT within ${TIMEOUT}s"
    fi
    sleep 0.2
done
elapsed=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo '?')
echo "ipmi_sim pid $pid ready on 127.0.0.1:$PORT/udp after ${elapsed}s (SOL -> tcp:127.0.0.1:$SOLPORT, state $STATEDIR)"
