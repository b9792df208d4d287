#!/usr/bin/env bash
# Fleet power benchmark: ghmicons against FreeIPMI's ipmipower on a fakebmc
# rack of N BMCs (default 256) on consecutive UDP ports, one process.
# For each tool: power status, off, status, on, status on all N BMCs, each
# ROUNDS times (default 5); wall time (median), CPU of the client
# (user+sys, median) and hosts that did not give the expected answer.
#
#   scripts/bench/power.sh
#   POWER_N=256 POWER_PORT=28000 POWER_ROUNDS=5 scripts/bench/power.sh
#
# ipmipower takes the rack as one hostrange with a port,
# -h '127.0.0.1:[28000-28255]' (its output drops the port: every line says
# "127.0.0.1: on", so the answers are counted, not matched to hosts);
# ghmicons takes the same hostlist with -H. ipmipower negotiates cipher
# suite 3 by default and ghmicons 17, so ghmicons is also run with -C 3.
# Prints a Markdown table (also appended to $POWER_OUT if set). Exit status
# 0 when every answer was the expected one.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
N=${POWER_N:-256}
PORT=${POWER_PORT:-28000}
ROUNDS=${POWER_ROUNDS:-5}
LAST=$((PORT + N - 1))
HOSTS="127.0.0.1:[$PORT-$LAST]"

for c in ipmipower go; do
    command -v "$c" >/dev/null || { echo "power.sh: $c not found (scripts/install-peers.sh installs freeipmi-tools)" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/ghmicons-power-bench.XXXXXX)
PID=
cleanup() {
    [ -z "$PID" ] || kill -TERM "$PID" 2>/dev/null || true
    [ -z "$PID" ] || wait "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${GHMICONS_BIN_DIR:-}" ]; then
    BIN=$GHMICONS_BIN_DIR
else
    (cd "$ROOT" && go build -o "$WORK/fakebmc" ./cmd/fakebmc && go build -o "$WORK/ghmicons" ./cmd/ghmicons)
    BIN=$WORK
fi

FAKEBMC_PASSWORD=password "$BIN/fakebmc" --count "$N" --listen "127.0.0.1:$PORT" --serial demo 2>"$WORK/fakebmc.log" &
PID=$!
for _ in $(seq 200); do
    grep -q "rack of $N BMCs serving" "$WORK/fakebmc.log" && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/fakebmc.log" >&2; exit 1; }
    sleep 0.05
done
grep -q "rack of $N BMCs serving" "$WORK/fakebmc.log" || { echo "power.sh: fakebmc did not start" >&2; exit 1; }

export IPMI_PASSWORD=password
# run TOOL ACTION: the tool's command line for ACTION (status, on, off).
run() {
    case $1 in
    ghmicons) "$BIN/ghmicons" -H "$HOSTS" -U admin -E power "$2" ;;
    ghmicons-C3) "$BIN/ghmicons" -H "$HOSTS" -U admin -E -C 3 power "$2" ;;
    ipmipower) ipmipower -D LAN_2_0 -h "$HOSTS" -u admin -p password "--${2/status/stat}" ;;
    esac
}
# good WANT OUTPUT: how many lines give the expected answer (on, off, ok).
good() { awk -v w="$1" '$NF == w { n++ } END { print n + 0 }' "$2"; }
# The steps, ACTION:ANSWER: the rack starts on.
STEPS="status:on off:ok status:off on:ok status:on"
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

TIMEFORMAT='%R %U %S'
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
declare -A WALL CPU FAIL
fails_total=0
for tool in ghmicons ghmicons-C3 ipmipower; do
    n=0
    for step in $STEPS; do
        n=$((n + 1))
        action=${step%%:*}
        want=${step#*:}
        : >"$WORK/times"
        bad=0
        for _ in $(seq "$ROUNDS"); do
            { time run "$tool" "$action" >"$WORK/out" 2>"$WORK/err" </dev/null; } 2>>"$WORK/times" || true
            ok=$(good "$want" "$WORK/out")
            bad=$((bad + N - ok))
            # off and on are measured again each round: put the rack back.
            if [ "$action" = off ]; then run ghmicons on >/dev/null 2>&1 || true; fi
            if [ "$action" = on ]; then run ghmicons off >/dev/null 2>&1 || true; fi
        done
        # Leave the rack as the step after this one expects it.
        if [ "$action" = off ]; then run ghmicons off >/dev/null 2>&1 || true; fi
        if [ "$action" = on ]; then run ghmicons on >/dev/null 2>&1 || true; fi
        key="$tool $n"
        WALL[$key]=$(awk '{ print $1 }' "$WORK/times" | median)
        CPU[$key]=$(awk '{ print $2 + $3 }' "$WORK/times" | median)
        FAIL[$key]=$bad
        fails_total=$((fails_total + bad))
    done
done

{
    echo "Fleet power, $N BMCs of a fakebmc rack, median of $ROUNDS runs (wall s / client CPU user+sys s / failed answers over all runs);"
    echo "load average $LOAD0 at the start, $(cut -d' ' -f1 /proc/loadavg) at the end; $(nproc) cores; $(ipmipower --version | head -1):"
    echo
    echo "| step | ghmicons (suite 17) | ghmicons -C 3 | ipmipower (suite 3) | ghmicons / ipmipower wall |"
    echo "|---|---|---|---|---|"
    n=0
    for step in $STEPS; do
        n=$((n + 1))
        action=${step%%:*}
        label="power $action"
        [ "$action" != status ] || label="power status (all ${step#*:})"
        row="| $label |"
        for tool in ghmicons ghmicons-C3 ipmipower; do
            key="$tool $n"
            row+=" ${WALL[$key]} / ${CPU[$key]} / ${FAIL[$key]} |"
        done
        ratio=$(awk -v a="${WALL[ghmicons $n]}" -v b="${WALL[ipmipower $n]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
        echo "$row $ratio |"
    done
} | tee -a "${POWER_OUT:-/dev/null}"
[ "$fails_total" -eq 0 ]
