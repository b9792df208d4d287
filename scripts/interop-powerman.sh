#!/usr/bin/env bash
# powerman interop: the real powermand and pm (Debian's powerman package)
# drive a fakebmc rack through ghmicons --powerman, a coprocess device
# described by scripts/powerman/ghmicons.dev. Nodes t[1-8] are plugs
# 127.0.0.1:[BASE-BASE+7]: t1-t6 one fakebmc --count 6 rack, t7 a fakebmc
# of its own (killed halfway), t8 no BMC at all. Checks pm -q, -1, -0, -c,
# -r on ranges, and each time the rack's power as ipmitool reads it; a BMC
# that is down is "unknown" to powerman, never a state, and nobody else's
# state changes. Fails loudly when a peer is missing.
#
#   bash scripts/interop-powerman.sh
#   POWERMAN_BMC_PORT=28400 POWERMAN_PORT=35110 bash scripts/interop-powerman.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH:/usr/sbin"
WORK=$(mktemp -d /tmp/ghmicons-powerman.XXXXXX)
T_START=$(date +%s.%N)
# shellcheck source=scripts/lib-interop.sh
. scripts/lib-interop.sh
trap 'rc=$?; kill_tracked; finish_report interop-powerman "$rc"' EXIT

need_cmd powermand pm ipmitool python3
find_bins ghmicons fakebmc
BASE=${POWERMAN_BMC_PORT:-28400}
PMPORT=${POWERMAN_PORT:-35110}
PEER=powerman
N=8

# The BMCs. The rack prints "rack of 6 BMCs serving" once all listen.
FAKEBMC_PASSWORD=password "$BIN_fakebmc" --count 6 --listen "127.0.0.1:$BASE" -v 2>"$WORK/rack.log" &
track_pid $!
FAKEBMC_PASSWORD=password "$BIN_fakebmc" --listen "127.0.0.1:$((BASE + 6))" 2>"$WORK/bmc7.log" &
BMC7=$!
track_pid $BMC7
wait_for 10 grep -q "rack of 6 BMCs serving" "$WORK/rack.log" || die "the fakebmc rack did not start: $(cat "$WORK/rack.log")"
wait_for 10 grep -q "serving RMCP+" "$WORK/bmc7.log" || die "fakebmc 7 did not start: $(cat "$WORK/bmc7.log")"

# powermand with the shipped device script and a coprocess for the 8 plugs.
echo password >"$WORK/bmc.pass"
chmod 600 "$WORK/bmc.pass"
cat >"$WORK/powerman.conf" <<EOF
include "$ROOT/scripts/powerman/ghmicons.dev"
listen "127.0.0.1:$PMPORT"
device "bmcs0" "ghmicons" "$BIN_ghmicons --powerman -H 127.0.0.1:[$BASE-$((BASE + N - 1))] -U admin -f $WORK/bmc.pass --timeout 200ms --retries 1 --wait-timeout 10s |&"
node "t[1-$N]" "bmcs0" "127.0.0.1:[$BASE-$((BASE + N - 1))]"
EOF
powermand -c "$WORK/powerman.conf" -f >"$WORK/powermand.log" 2>&1 &
track_pid $!
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $PMPORT), 1)" ||
    die "powermand does not listen on $PMPORT: $(cat "$WORK/powermand.log")"

# pmq: pm -q as one line, "on=... off=... unknown=...".
pmq() {
    pm -h "127.0.0.1:$PMPORT" -q 2>&1 | awk -F': *' '{ gsub(/ /, "", $2); printf "%s%s=%s", sep, $1, $2; sep = " " }'
}
# rack: each node's power as ipmitool reads it from its BMC, "t1=on t2=off ...";
# "down" when the BMC does not answer. Call it as $(rack).
rack() {
    local i out line=""
    for i in $(seq 1 $N); do
        IPMI_PASSWORD=password timeout 10 ipmitool -I lanplus -H 127.0.0.1 -p $((BASE + i - 1)) -U admin -E -C 17 -N 1 -R 1 \
            chassis power status >"$WORK/rack.$i" 2>/dev/null </dev/null &
    done
    wait # rack runs in $(...), a subshell of its own: this waits for its ipmitool jobs only
    for i in $(seq 1 $N); do
        out=$(cat "$WORK/rack.$i")
        case $out in
        "Chassis Power is on") line+=" t$i=on" ;;
        "Chassis Power is off") line+=" t$i=off" ;;
        *) line+=" t$i=down" ;;
        esac
    done
    echo "${line# }"
}
# step NAME PM-ARGS EXPECTED-PM-Q EXPECTED-RACK: run pm, then check both.
step() {
    local name=$1 args=$2 wantq=$3 wantr=$4
    if [ -n "$args" ]; then
        run_cmd 60 pm -h "127.0.0.1:$PMPORT" $args
        check $RC "$PEER" - "pm $args" "exit $RC, $DT s: $OUT $ERR"
    fi
    local q r
    q=$(pmq)
    [ "$q" = "$wantq" ]
    check $? "$PEER" - "pm -q after $name" "got '$q', want '$wantq'"
    r=$(rack)
    [ "$r" = "$wantr" ]
    check $? "$PEER" - "rack (ipmitool) after $name" "got '$r', want '$wantr'"
}

step "start" "" "on=t[1-7] off= unknown=t8" \
    "t1=on t2=on t3=on t4=on t5=on t6=on t7=on t8=down"
step "pm -0 t[1-3]" "-0 t[1-3]" "on=t[4-7] off=t[1-3] unknown=t8" \
    "t1=off t2=off t3=off t4=on t5=on t6=on t7=on t8=down"
step "pm -1 t[1-2]" "-1 t[1-2]" "on=t[1-2,4-7] off=t3 unknown=t8" \
    "t1=on t2=on t3=off t4=on t5=on t6=on t7=on t8=down"

# cycle and reset: the BMCs are told (the rack logs each Chassis Control),
# and the nodes come back on.
before=$(grep -c "Chassis Control" "$WORK/rack.log" || true)
step "pm -c t[3-4]" "-c t[3-4]" "on=t[1-7] off= unknown=t8" \
    "t1=on t2=on t3=on t4=on t5=on t6=on t7=on t8=down"
step "pm -r t5" "-r t5" "on=t[1-7] off= unknown=t8" \
    "t1=on t2=on t3=on t4=on t5=on t6=on t7=on t8=down"
after=$(grep -c "Chassis Control" "$WORK/rack.log" || true)
[ $((after - before)) -eq 3 ]
check $? "$PEER" - "cycle t[3-4] and reset t5 reach the BMCs" "$((after - before)) Chassis Control requests in the rack's log, want 3"

# A BMC killed halfway: its node is unknown, never a stale state, and an
# action on a range holding it acts on the others.
kill -TERM "$BMC7"
wait "$BMC7" 2>/dev/null || true
step "killing t7's BMC" "" "on=t[1-6] off= unknown=t[7-8]" \
    "t1=on t2=on t3=on t4=on t5=on t6=on t7=down t8=down"
step "pm -0 t[6-8]" "-0 t[6-8]" "on=t[1-5] off=t6 unknown=t[7-8]" \
    "t1=on t2=on t3=on t4=on t5=on t6=off t7=down t8=down"
step "pm -1 t[5-8]" "-1 t[5-8]" "on=t[1-6] off= unknown=t[7-8]" \
    "t1=on t2=on t3=on t4=on t5=on t6=on t7=down t8=down"

# The coprocess protocol as powermand saw it: errors for t7 and t8 only.
run_cmd 20 bash -c "printf 'stat\nquit\n' | IPMI_PASSWORD=password '$BIN_ghmicons' --powerman -H '127.0.0.1:[$BASE-$((BASE + N - 1))]' -U admin -E --timeout 200ms --retries 1"
errs=$(printf '%s\n' "$OUT" | grep -c ': error: ' || true)
printf '%s\n' "$OUT" | grep -q "^127.0.0.1:$((BASE + 7)): error: " && printf '%s\n' "$OUT" | grep -q "^127.0.0.1:$((BASE + 6)): error: " && [ "$errs" -eq 2 ]
check $? ghmicons - "stat: error lines for the down BMCs only" "$errs error lines: $(printf '%s' "$OUT" | tr '\n' '|')"
