#!/usr/bin/env bash
# The rack benchmark: one fakebmc process serving N BMCs (default 1000) on
# consecutive UDP ports, what each costs (RSS, idle CPU), and how long
# ipmitool takes to get the power status from each in turn.
#
#   scripts/bench/rack.sh            # 1000 BMCs on 127.0.0.1:20000-20999
#   RACK_N=256 RACK_PORT=20000 RACK_IDLE=5 scripts/bench/rack.sh
#
# Prints one line of figures (also written to $RACK_OUT if set). Exit
# status 0 when every BMC answered, 1 otherwise (or when ipmitool or go is
# missing).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
N=${RACK_N:-1000}
PORT=${RACK_PORT:-20000}
IDLE=${RACK_IDLE:-5}

command -v ipmitool >/dev/null || { echo "rack.sh: ipmitool not found (scripts/install-peers.sh)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/ghmicons-rack-bench.XXXXXX)
PID=
cleanup() {
    [ -z "$PID" ] || kill -TERM "$PID" 2>/dev/null || true
    [ -z "$PID" ] || wait "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${GHMICONS_BIN_DIR:-}" ]; then
    BIN=$GHMICONS_BIN_DIR/fakebmc
else
    (cd "$ROOT" && go build -o "$WORK/fakebmc" ./cmd/fakebmc)
    BIN=$WORK/fakebmc
fi

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# cpu_ticks PID: utime + stime in clock ticks (fields 14 and 15 of stat,
# counted after the command name, which may hold spaces).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
HZ=$(getconf CLK_TCK)

t0=$(date +%s.%N)
FAKEBMC_PASSWORD=password "$BIN" --count "$N" --listen "127.0.0.1:$PORT" --serial demo 2>"$WORK/fakebmc.log" &
PID=$!
for _ in $(seq 200); do
    grep -q "rack of $N BMCs serving" "$WORK/fakebmc.log" && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/fakebmc.log" >&2; exit 1; }
    sleep 0.05
done
grep -q "rack of $N BMCs serving" "$WORK/fakebmc.log" || { echo "rack.sh: fakebmc did not start" >&2; exit 1; }
start=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
# Let the demo hosts print their boot logs (about 1 s), then measure idle.
sleep 2
c0=$(cpu_ticks "$PID")
sleep "$IDLE"
c1=$(cpu_ticks "$PID")
rss=$(rss_kib "$PID")

export IPMI_PASSWORD=password
fails=0
t1=$(date +%s.%N)
for i in $(seq 0 $((N - 1))); do
    out=$(ipmitool -I lanplus -H 127.0.0.1 -p $((PORT + i)) -U admin -E -C 17 -N 1 -R 3 chassis power status 2>&1 </dev/null) || true
    if [ "$out" != "Chassis Power is on" ]; then
        fails=$((fails + 1))
        [ "$fails" -gt 5 ] || echo "port $((PORT + i)): $out" >&2
    fi
done
total=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
rss_after=$(rss_kib "$PID")

line=$(awk -v n="$N" -v rss="$rss" -v rss2="$rss_after" -v c="$((c1 - c0))" -v hz="$HZ" -v idle="$IDLE" \
    -v total="$total" -v start="$start" -v fails="$fails" 'BEGIN {
    printf "fakebmc rack of %d BMCs: started in %s s; RSS %.0f KiB total, %.1f KiB/BMC idle (%.1f KiB/BMC after the sessions); ", n, start, rss, rss / n, rss2 / n
    printf "idle CPU %.3f%% of a core for the rack (%.2f us/BMC/s) over %d s; ", 100 * c / hz / idle, 1e6 * c / hz / idle / n, idle
    printf "ipmitool power status from each in turn: %s s (%.1f ms each), %d failed\n", total, 1000 * total / n, fails }')
echo "$line"
[ -z "${RACK_OUT:-}" ] || echo "$line" >>"$RACK_OUT"
[ "$fails" -eq 0 ]
