#!/usr/bin/env bash
# Stop an ipmi_sim started by start.sh:  stop.sh STATEDIR
# Only the pid recorded in STATEDIR/ipmi_sim.pid is signalled, and only if
# that process really is ipmi_sim.  SIGTERM, then SIGKILL after 5 s.
set -euo pipefail

die() { echo "ipmisim/stop.sh: ERROR: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: stop.sh STATEDIR"
PIDFILE=$1/ipmi_sim.pid

# Running and not a zombie (pid 1 in some containers reaps late).
alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

if [ ! -f "$PIDFILE" ]; then
    echo "ipmisim/stop.sh: no pid file $PIDFILE; nothing to stop"
    exit 0
fi
pid=$(cat "$PIDFILE")
[[ "$pid" =~ ^[0-9]+$ ]] || die "bad pid file content '$pid'"
if ! alive "$pid"; then
    echo "ipmisim/stop.sh: pid $pid not running"
    rm -f "$PIDFILE"
    exit 0
fi
if ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q ipmi_sim; then
    rm -f "$PIDFILE"
    die "pid $pid is not ipmi_sim (stale pid file removed); not killing it"
fi
kill -TERM "$pid"
for _ in $(seq 50); do
    alive "$pid" || break
    sleep 0.1
done
if alive "$pid"; then
    echo "ipmisim/stop.sh: pid $pid ignored SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
fi
rm -f "$PIDFILE"
echo "ipmisim/stop.sh: stopped ipmi_sim pid $pid"
