#!/usr/bin/env bash
# Interop: scripted consoles (--expect, --send, --script) against OpenIPMI's
# ipmi_sim as the BMC.
#
#   scripts/interop-expect.sh
#
# Starts scripts/ipmisim/loginhost.py (a host on ipmi_sim's serial line that
# boots, naming its boot device, to a login prompt at every power-on or reset
# it sees in the chassis state, and answers a few shell commands), then
# ipmi_sim (scripts/ipmisim/start.sh) on free 127.0.0.1 ports, and runs:
#   1. --bootdev pxe --power cycle --expect 'Boot device: pxe' --expect 'login: $'
#      through the console's own session: exit 0, the PXE boot on stdout;
#   2. a script that powers the host through a cycle, logs in (the password
#      from ${env:...}), runs a command and prints the value it captured;
#   3. an expect that times out: exit 9, the last output on stderr.
# Exit status 0 only if every check passed; a missing peer fails.  Under a
# minute.
#
# Environment:
#   GHMICONS_BIN_DIR   use a prebuilt ghmicons from this directory (else go build)
#   EXPECT_PORTS       "MIN MAX" of the ports to use (default "30000 30999")
#   KEEP_WORK=1        keep the temp dir (logs) after the run
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib-interop.sh
. "$HERE/lib-interop.sh"

PEER=ipmi_sim
T_START=$(now)
WORK=$(mktemp -d /tmp/interop-expect.XXXXXX)
STATEDIR=$WORK/bmc
HOST_PID=
BMC_STARTED=0

finish() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    if [ "$BMC_STARTED" = 1 ]; then
        "$HERE/ipmisim/stop.sh" "$STATEDIR" >&2 || true
    fi
    kill_tracked
    finish_report interop-expect "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

[ -x /usr/bin/python3 ] || die "/usr/bin/python3 not found"
need_cmd ipmi_sim ipmitool timeout awk setsid ss
find_bins ghmicons
G=$BIN_ghmicons

read -r PMIN PMAX <<<"${EXPECT_PORTS:-30000 30999}"
read -r PORT SOLPORT < <(free_ports 2 "$PMIN" "$PMAX")
log "ports: RMCP+ udp $PORT, serial tcp $SOLPORT; work dir $WORK"

setsid /usr/bin/python3 "$HERE/ipmisim/loginhost.py" --serial "127.0.0.1:$SOLPORT" \
    --chassis "$STATEDIR/chassis" --ready-file "$WORK/host.ready" --log "$WORK/host.log" \
    </dev/null >"$WORK/host.out" 2>&1 &
HOST_PID=$!
track_pid "$HOST_PID"
wait_for 10 test -f "$WORK/host.ready" || die "loginhost.py did not start listening (see $WORK/host.out)"

IPMISIM_TIMEOUT=15 "$HERE/ipmisim/start.sh" "$PORT" "$SOLPORT" "$STATEDIR" >&2 ||
    die "ipmi_sim did not start (start.sh failed)"
BMC_STARTED=1
connected() { grep -q "serial connection" "$WORK/host.log" 2>/dev/null; }
wait_for 15 connected || die "ipmi_sim did not connect to the serial listener 127.0.0.1:$SOLPORT"

export IPMI_PASSWORD=password
GH=("$G" -H "127.0.0.1:$PORT" -U admin -E)
boots() { grep -c " boot " "$WORK/host.log" 2>/dev/null || true; }

# ---- 1. power cycle + PXE + wait for the login prompt -------------------------
b0=$(boots)
run_cmd 60 "${GH[@]}" --log "$WORK/console1.log" --bootdev pxe --power cycle \
    --expect 'Boot device: pxe' --expect 'login: $' --expect-timeout 30s
b1=$(boots)
R=0; [ $RC -eq 0 ] && grep -q 'PXE: DHCP' <<<"$OUT" && grep -q 'ipmisim-host login: ' <<<"$OUT" &&
    [ "$b1" -gt "$b0" ] && grep -q 'login: ' "$WORK/console1.log" || R=1
check $R $PEER auto "--bootdev pxe --power cycle --expect login" \
    "rc=$RC ${DT}s; host booted $((b1 - b0))x, from $(grep ' boot ' "$WORK/host.log" | tail -n 1 | awk '{print $NF}'); stdout $(printf '%s' "$OUT" | tail -n 2 | tr -d '\r' | tr '\n' ';'); $ERR"

# ---- 2. a script: log in, run a command, capture a value ------------------------
cat >"$WORK/login.exp" <<'SCRIPT'
# ipmi_sim's host: cycle it, log in, read its machine id
timeout 30s
power cycle
expect /Boot device: (\w+)/
expect /login: $/
send "root\r"
expect /Password: $/
send "${env:HOST_PW}\r"
expect /root@ipmisim-host:~# $/
send "cat /etc/machine-id\r"
expect /\r\n(?P<id>[0-9a-f]{32})\r\n/
print "machine-id=${id}"
send "exit\r"
expect /login: $/
SCRIPT
run_cmd 60 env HOST_PW=hunter2 "${GH[@]}" --script "$WORK/login.exp" --quiet-console
R=0; [ $RC -eq 0 ] && [ "$OUT" = "machine-id=5f3c2a9e8d7b4c61a0e9f8d7c6b5a493" ] &&
    grep -q "login as root" "$WORK/host.log" && ! grep -q hunter2 "$WORK/last.err" || R=1
check $R $PEER auto "--script: log in, run, capture" "rc=$RC ${DT}s out='$OUT' $ERR"

# ---- 3. a timeout: exit 9, the last output on stderr ----------------------------
run_cmd 30 "${GH[@]}" --send '\r' --expect 'Kernel panic' --expect-timeout 2s
last=$(tail -n 1 "$WORK/last.err")
R=0; [ $RC -eq 9 ] && [ "$last" = "ghmicons: --expect: /Kernel panic/ not seen within 2s" ] &&
    grep -q '^ghmicons: the last output:' "$WORK/last.err" && grep -q '^  ipmisim-host login:' "$WORK/last.err" &&
    awk -v d="$DT" 'BEGIN { exit !(d < 10) }' || R=1
check $R $PEER auto "--expect timeout: exit 9, tail on stderr" "rc=$RC ${DT}s; $(tr '\n' ';' <"$WORK/last.err" | cut -c1-160)"

# ---- the BMC still serves, with no session left behind --------------------------
run_cmd 20 "${GH[@]}" power status
R=0; [ $RC -eq 0 ] && [ "$OUT" = "Chassis Power is on" ] || R=1
check $R $PEER auto "power status afterwards" "rc=$RC out='$OUT' $ERR"
