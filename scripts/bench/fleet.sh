#!/usr/bin/env bash
# Console servers side by side: N consoles (default 1000) of one rack of
# simulated BMCs held by
#   serve      `ghmicons serve --config` (one process, SSH front end)
#   conman     Debian's conmand, its native IPMI consoles (libipmiconsole)
#   conserver  Debian's conserver, N `type exec` consoles each running ghmicons
# each in turn, against a fresh rack, in the same run. For each: the time from
# start until every console's log holds a line from its host, RSS and PSS of
# all its processes, CPU as a share of one core over an idle minute (hosts
# silent, keepalives running), and whether the logs are complete (every
# numbered line the hosts wrote from the first one logged on is there once).
# For serve also: SSH attach to the first replayed line (OpenSSH ssh, median),
# and the keystroke round trip through SSH beside a direct ghmicons session on
# the same BMC: in alternating blocks while serve holds the other consoles
# (the echo console removed and restored by SIGHUP), and for context just
# before serve starts and just after it stopped.
#
#   scripts/bench/fleet.sh               # N=1000, about 10 minutes
#   scripts/bench/fleet.sh 200           # N=200
#   scripts/bench/fleet.sh --smoke       # N=20, short idle: what CI runs (< 2 min)
#
# Environment: N; FLEET_SYSTEMS=serve,conman,conserver (which, in that order);
# FLEET_KEYS (400) keystrokes each way in FLEET_KEYS_ROUNDS (8) blocks;
# FLEET_IDLE_SECS (60; smoke 5); FLEET_CONNECT_TIMEOUT (120 s); FLEET_OUT (the
# results file; default scripts/bench/results/fleet-latest.md, smoke: only
# printed); KEEP_WORK=1 keeps the logs; GHMICONS_BIN_DIR uses a prebuilt
# ghmicons; FLEET_LOAD_NOTE is recorded with the machine.
#
# Run as root: it calls scripts/install-peers.sh (which installs nothing that
# is already there) and raises the open-file limit to the hard limit (N*8+200 needed). Everything listens on
# 127.0.0.1 (BMCs on UDP 26000.., the echo BMC on 27500, servers on 34100-34101
# and SSH 2301); everything it started is stopped on exit, also on Ctrl-C. Any
# peer missing, any console that never connects or any incomplete log makes it
# exit 1; with --smoke the figures' targets are not checked, with the full run
# FLEET_STRICT=1 makes a missed target exit 3.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH:/usr/sbin:/sbin"
export GOFLAGS="${GOFLAGS:-} -mod=mod"

SMOKE=0
for a in "$@"; do
    case $a in
        --smoke) SMOKE=1 ;;
        [0-9]*) N=$a ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "fleet: unknown argument $a" >&2; exit 2 ;;
    esac
done
if [ "$SMOKE" = 1 ]; then
    N=${N:-20}; IDLE=${FLEET_IDLE_SECS:-5}; ATTACH_REPS=5; KEYS=16; KEYS_ROUNDS=2
else
    N=${N:-1000}; IDLE=${FLEET_IDLE_SECS:-60}; ATTACH_REPS=20; KEYS=${FLEET_KEYS:-400}; KEYS_ROUNDS=${FLEET_KEYS_ROUNDS:-8}
fi
SYSTEMS=${FLEET_SYSTEMS:-serve,conman,conserver}
CONNECT_TIMEOUT=${FLEET_CONNECT_TIMEOUT:-120}
BASE=26000 ECHO_PORT=27500 CONMAN_PORT=34100 CONSERVER_PORT=34101 SSH_PORT=2301
[ "$N" -ge 1 ] && [ "$N" -le 1500 ] || { echo "fleet: N must be 1-1500 (BMC ports $BASE..27499)" >&2; exit 2; }

die() { echo "fleet: ERROR: $*" >&2; exit 1; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# ---- peers: a missing one fails the run ------------------------------------
if [ "$(id -u)" -eq 0 ]; then
    bash scripts/install-peers.sh >/dev/null || die "scripts/install-peers.sh failed"
else
    echo "fleet: not root: not installing peers" >&2
fi
ulimit -n "$(ulimit -Hn)" || die "cannot raise the open-file limit to its hard limit $(ulimit -Hn)"
for c in conmand conserver ssh ssh-keygen ldd; do
    command -v "$c" >/dev/null || die "$c not found (scripts/install-peers.sh installs it)"
done
[[ $(ldd "$(command -v conmand)") == *libipmiconsole* ]] ||
    die "conmand is not built with FreeIPMI (no libipmiconsole): it has no native IPMI consoles"
need=$(( N * 8 + 200 ))
[ "$(ulimit -n)" -ge "$need" ] || die "open-file limit $(ulimit -n) < $need needed for N=$N"

WORK=$(mktemp -d /tmp/fleet-bench.XXXXXX)
RACK_PID= SERVER_PID=
stop_tree() { # PID [SPARE]: stop PID and everything it started (its descendants, and any
    # process of this run's work directory that they left behind), but not the tree of SPARE.
    # TERM first, so that each closes its sessions; then KILL, sweeping again for
    # what a dying server respawned (conserver restarts exec consoles).
    local p=$1 spare=${2:-} all round
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    for round in 1 2 3 4 5 6; do
        all=$("$TOOL" pids --pid "$p" --match "$WORK/" ${spare:+--exclude "$spare"} 2>/dev/null || true)
        [ -n "$all" ] || return 0
        if [ "$round" = 1 ]; then
            # shellcheck disable=SC2086
            kill -TERM $all 2>/dev/null || true
            sleep 3
        else
            # shellcheck disable=SC2086
            kill -KILL $all 2>/dev/null || true
            sleep 0.5
        fi
    done
    echo "fleet: WARNING: processes of $WORK still running: $all" >&2
}
stop_master() { # the OpenSSH master connection of the attach test
    [ -S "$WORK/ssh/cm" ] || return 0
    ssh -o "ControlPath=$WORK/ssh/cm" -O exit n0000@127.0.0.1 2>/dev/null || true
}
cleanup() {
    local rc=$?
    stop_master
    stop_tree "$SERVER_PID" "$RACK_PID"; SERVER_PID=
    stop_tree "$RACK_PID"; RACK_PID=
    local left
    left=$("$TOOL" pids --match "$WORK/" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
    if [ "${KEEP_WORK:-0}" = 1 ] || [ "$rc" -ne 0 ]; then echo "fleet: work files kept in $WORK" >&2; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- binaries ---------------------------------------------------------------
mkdir -p "$WORK/bin"
TOOL=$WORK/bin/fleettool
go build -o "$TOOL" ./scripts/bench/fleettool || die "go build fleettool failed"
if [ -n "${GHMICONS_BIN_DIR:-}" ]; then
    GHM=$GHMICONS_BIN_DIR/ghmicons
else
    GHM=$WORK/bin/ghmicons
    go build -o "$GHM" ./cmd/ghmicons || die "go build ghmicons failed"
fi
[ -x "$GHM" ] || die "no ghmicons at $GHM"
echo password >"$WORK/pass"; chmod 600 "$WORK/pass"
GHM_ARGS=(-U admin -f "$WORK/pass" -C 3)

# ---- the rack -------------------------------------------------------------------
start_rack() { # DIR
    "$TOOL" rack --count "$N" --base "$BASE" --echo "$ECHO_PORT" --state "$1/state" >"$1/rack.out" 2>&1 &
    RACK_PID=$!
    for _ in $(seq 100); do grep -q '^ready' "$1/rack.out" 2>/dev/null && return 0; sleep 0.1; done
    die "the rack did not start: $(cat "$1/rack.out")"
}
stop_rack() { stop_tree "$RACK_PID"; RACK_PID=; }

# ---- the servers ------------------------------------------------------------------
# start_X DIR: starts the server with every console logging to DIR/logs/NAME.log
# (NAME = n0000, n0001, ...); sets SERVER_PID.
start_conman() {
    local d=$1 i
    {
        echo 'SERVER keepalive=ON'
        echo "SERVER logdir=\"$d/logs\""
        echo 'SERVER logfile="conmand.log,info"'
        echo 'SERVER loopback=ON'
        echo "SERVER port=$CONMAN_PORT"
        echo 'GLOBAL log="%N.log"'
        echo 'GLOBAL ipmiopts="U:admin,P:password,C:3"'
        for ((i = 0; i < N; i++)); do
            printf 'CONSOLE name="n%04d" dev="ipmi:127.0.0.1:%d"\n' "$i" $((BASE + i))
        done
    } >"$d/conman.conf"
    conmand -F -c "$d/conman.conf" >"$d/server.out" 2>&1 &
    SERVER_PID=$!
}
start_conserver() {
    local d=$1 i
    : >"$d/conserver.passwd"
    {
        echo 'config * { }'
        echo "default * { logfile $d/logs/&.log; rw *; master 127.0.0.1; type exec; }"
        for ((i = 0; i < N; i++)); do
            printf 'console n%04d { exec exec %s -H 127.0.0.1:%d %s -e none --reconnect --keep-open; }\n' \
                "$i" "$GHM" $((BASE + i)) "${GHM_ARGS[*]}"
        done
        echo 'access * { trusted 127.0.0.1; allowed 127.0.0.1; }'
    } >"$d/conserver.cf"
    conserver -C "$d/conserver.cf" -P "$d/conserver.passwd" -M 127.0.0.1 -p "$CONSERVER_PORT" -n >"$d/server.out" 2>&1 &
    SERVER_PID=$!
}
ssh_opts() {
    echo -p "$SSH_PORT" -i "$WORK/ssh/id" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 -e none
}
start_serve() {
    local d=$1 i
    "$GHM" serve --help >/dev/null 2>&1 || die "this ghmicons has no 'serve' (FLEET_SYSTEMS=conman,conserver runs without it)"
    mkdir -p "$WORK/ssh"
    [ -e "$WORK/ssh/id" ] || ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/id"
    {
        echo '[ssh]'
        echo "listen = \"127.0.0.1:$SSH_PORT\""
        echo "host_key = \"$d/host_key\""
        echo "authorized_keys = [\"$WORK/ssh/id.pub\"]"
        echo '[defaults]'
        echo 'user = "admin"'
        echo "password_file = \"$WORK/pass\""
        echo 'suite = 3'
        echo "log = \"$d/logs/%s.log\""
        for ((i = 0; i < N; i++)); do
            printf '[[console]]\nname = "n%04d"\nbmc = "127.0.0.1:%d"\n' "$i" $((BASE + i))
        done
    } >"$d/consoles-noecho.toml"
    # The echo console comes and goes (SIGHUP) for the keystroke comparison.
    { cat "$d/consoles-noecho.toml"
      printf '[[console]]\nname = "echo"\nbmc = "127.0.0.1:%d"\nlog = "%s/echo.log"\n' "$ECHO_PORT" "$d"
    } >"$d/consoles-echo.toml"
    cp "$d/consoles-echo.toml" "$d/consoles.toml"
    "$GHM" serve --config "$d/consoles.toml" >"$d/server.out" 2>&1 &
    SERVER_PID=$!
}

# ---- keystrokes: SSH beside direct, same BMC, same moment -------------------------
# echo_state DIR: the echo console's state in serve's list ("absent" when it has none).
echo_state() {
    # shellcheck disable=SC2046
    ssh $(ssh_opts) 127.0.0.1 list 2>/dev/null | awk '$1 == "echo" { s = $3 } END { print (s == "" ? "absent" : s) }'
}
await_echo() { # DIR STATE
    local st=
    for _ in $(seq 300); do
        st=$(echo_state "$1"); [ "$st" = "$2" ] && return 0; sleep 0.1
    done
    die "serve: the echo console stayed $st (wanted $2) after SIGHUP"
}
# keys_side_by_side DIR: KEYS_ROUNDS blocks each way on the echo BMC while
# serve holds the N other consoles: serve lets the echo console go (SIGHUP,
# removed from its config) and a direct ghmicons session types; serve takes it
# back (SIGHUP) and the same keys go through SSH. The order alternates; each
# side's figure is over all its blocks, so a drift of the machine falls on both.
keys_side_by_side() {
    local d=$1 r per=$((KEYS / KEYS_ROUNDS)) side
    : >"$d/keys.ssh"; : >"$d/keys.direct"
    for ((r = 1; r <= KEYS_ROUNDS; r++)); do
        for side in $([ $((r % 2)) = 1 ] && echo "direct ssh" || echo "ssh direct"); do
            if [ "$side" = direct ]; then
                cp "$d/consoles-noecho.toml" "$d/consoles.toml"; kill -HUP "$SERVER_PID"
                await_echo "$d" absent
                "$TOOL" keys --keys "$per" --samples "$d/keys.direct" -- "$GHM" -H "127.0.0.1:$ECHO_PORT" "${GHM_ARGS[@]}" -e none >/dev/null ||
                    die "direct keystroke round trip (beside serve) failed"
            else
                cp "$d/consoles-echo.toml" "$d/consoles.toml"; kill -HUP "$SERVER_PID"
                await_echo "$d" connected
                # shellcheck disable=SC2046
                "$TOOL" keys --keys "$per" --samples "$d/keys.ssh" -- ssh $(ssh_opts) -tt echo@127.0.0.1 >/dev/null ||
                    die "serve: keystrokes through ssh failed"
            fi
        done
    done
    R[serve.keys]=$("$TOOL" samples "$d/keys.ssh"); log "ssh keystrokes: ${R[serve.keys]}"
    R[direct.keysnow]=$("$TOOL" samples "$d/keys.direct"); log "direct ghmicons keystrokes beside serve: ${R[direct.keysnow]}"
}

# ---- one system -------------------------------------------------------------------
declare -A R # R[system.figure]
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
run_system() {
    local s=$1 d=$WORK/$1 out t0
    mkdir -p "$d/logs"
    log "$s: rack of $N BMCs"
    start_rack "$d"
    if [ "$s" = serve ]; then
        # The direct session, for comparison: same echo BMC, hosts silent, no server.
        kill -USR1 "$RACK_PID"
        out=$("$TOOL" keys --keys "$KEYS" -- "$GHM" -H "127.0.0.1:$ECHO_PORT" "${GHM_ARGS[@]}" -e none) ||
            die "direct keystroke round trip failed"
        R[direct.keys]=$out; log "direct ghmicons keystrokes: $out"
        kill -USR2 "$RACK_PID"
    fi
    log "$s: starting $N consoles"
    t0=$(date +%s.%N)
    "start_$s" "$d"
    out=$("$TOOL" wait --dir "$d/logs" --count "$N" --since "$t0" --timeout "${CONNECT_TIMEOUT}s") ||
        die "$s: not every console connected (see $d/server.out): $(tail -3 "$d/server.out" | tr '\n' ' ')"
    R[$s.connect]=$(sed -n 's/.* after \([0-9.]*\) s (half.*/\1/p' <<<"$out")
    log "$s: $out"
    kill -0 "$SERVER_PID" 2>/dev/null || die "$s exited: $(tail -3 "$d/server.out")"
    sleep 5 # the connection storm ends; steady state
    kill -USR1 "$RACK_PID"; sleep 2
    out=$("$TOOL" usage --pid "$SERVER_PID" --cpu-secs "$IDLE") || die "$s: usage failed"
    R[$s.usage]=$out; log "$s idle: $out"
    [ "$s" = serve ] && keys_side_by_side "$d"
    kill -USR2 "$RACK_PID"
    sleep 3
    if [ "$s" = serve ]; then
        # shellcheck disable=SC2046
        out=$("$TOOL" first-byte --reps "$ATTACH_REPS" --expect 'n0000 [0-9]+' -- ssh $(ssh_opts) -tt n0000@127.0.0.1) ||
            die "serve: ssh attach failed"
        R[serve.attach]=$out; log "ssh attach to first replayed line: $out"
        # The same on a connection already open (OpenSSH multiplexing): the
        # attach itself, without the client's start, key exchange and auth.
        # shellcheck disable=SC2046
        ssh $(ssh_opts) -o ControlMaster=yes -o "ControlPath=$WORK/ssh/cm" -N -f n0000@127.0.0.1 ||
            die "serve: ssh master connection failed"
        # shellcheck disable=SC2046
        out=$("$TOOL" first-byte --reps "$ATTACH_REPS" --expect 'n0000 [0-9]+' -- ssh $(ssh_opts) -o ControlMaster=no \
            -o "ControlPath=$WORK/ssh/cm" -tt n0000@127.0.0.1) || die "serve: ssh attach over an open connection failed"
        R[serve.attachmux]=$out; log "ssh attach over an open connection: $out"
        stop_master
    fi
    sleep 2
    kill -HUP "$RACK_PID" # hosts stop and say what they wrote last
    for _ in $(seq 100); do [ -s "$d/state" ] && break; sleep 0.1; done
    sleep 3 # the last lines reach the logs
    kill -0 "$SERVER_PID" 2>/dev/null || die "$s exited during the run: $(tail -3 "$d/server.out")"
    if out=$("$TOOL" check --dir "$d/logs" --state "$d/state"); then R[$s.logs]=ok; else R[$s.logs]=FAIL; fi
    R[$s.logsdetail]=$(head -1 <<<"$out")
    log "$s: $out"
    stop_tree "$SERVER_PID" "$RACK_PID"; SERVER_PID=
    if [ "$s" = serve ]; then
        # The direct session again, now that serve is gone: the two bracket the SSH figure in time.
        kill -USR1 "$RACK_PID"
        out=$("$TOOL" keys --keys "$KEYS" -- "$GHM" -H "127.0.0.1:$ECHO_PORT" "${GHM_ARGS[@]}" -e none) ||
            die "direct keystroke round trip (after serve) failed"
        R[direct.keys2]=$out; log "direct ghmicons keystrokes after serve: $out"
    fi
    stop_rack
    [ "${R[$s.logs]}" = ok ] || die "$s: logs incomplete: $out"
}

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
IFS=, read -r -a sys_list <<<"$SYSTEMS"
for s in "${sys_list[@]}"; do
    case $s in serve|conman|conserver) run_system "$s" ;; *) die "unknown system $s" ;; esac
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table ------------------------------------------------------------------------
cell() { # SYSTEM KIND
    local u=${R[$1.usage]:-}
    case $2 in
        connect) echo "${R[$1.connect]:-–} s" ;;
        procs) field processes "$u" ;;
        rss) echo "$(field rss_mb "$u") MB" ;;
        pss) echo "$(field pss_mb "$u") MB" ;;
        cpu) echo "$(field cpu_pct "$u") %" ;;
        logs) echo "${R[$1.logsdetail]:-–}" | sed 's/^logs complete: \([0-9]* of [0-9]*\) consoles;.*; \([0-9]*\) gaps, \([0-9]*\) repeats.*/\1 complete (\2 gaps, \3 repeats)/' ;;
        reconn) echo "${R[$1.logsdetail]:-–}" | sed 's/.* \([0-9]*\) consoles connected more than once; \([0-9]*\) host lines split by a note.*/\1; \2/' ;;
    esac
}
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }
TABLE=$WORK/table.md
{
    echo "N = $N consoles; $(date -u +%Y-%m-%d) ($START); $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1);"
    echo "$(uname -sr); load average before $LOAD0, after $LOAD1${FLEET_LOAD_NOTE:+; $FLEET_LOAD_NOTE}."
    echo "conman $(ver conman) (libipmiconsole $(ver libipmiconsole2)), conserver $(ver conserver-server), OpenSSH $(ver openssh-client); $("$GHM" --version 2>/dev/null | head -1)."
    echo
    printf '| |'; for s in "${sys_list[@]}"; do printf ' %s |' "$s"; done; echo
    printf '|---|'; for s in "${sys_list[@]}"; do printf -- '---|'; done; echo
    for k in "connect:all connected (s from start)" "procs:processes" "rss:RSS, sum" "pss:PSS, sum" "cpu:idle CPU, one core, ${IDLE} s" "logs:logs complete" "reconn:consoles reconnected during the run; host lines split by a note"; do
        printf '| %s |' "${k#*:}"
        for s in "${sys_list[@]}"; do printf ' %s |' "$(cell "$s" "${k%%:*}")"; done
        echo
    done
    if [ -n "${R[serve.attach]:-}" ]; then
        echo
        echo "| ghmicons serve | median | p90 | min–max |"
        echo "|---|---|---|---|"
        for k in "serve.attach:SSH attach to first replayed line, ms, from starting ssh (${ATTACH_REPS} runs)" "serve.attachmux:… on an open connection (ssh -o ControlPath), ms" "serve.keys:keystroke round trip through SSH, ms (${KEYS_ROUNDS} blocks)" "direct.keysnow:keystroke round trip, direct ghmicons, same BMC, in the blocks between, ms" "direct.keys:… direct, before serve started, ms" "direct.keys2:… direct, after serve stopped, ms"; do
            v=${R[${k%%:*}]}
            echo "| ${k#*:} | $(field median_ms "$v") | $(field p90_ms "$v") | $(field min_ms "$v")–$(field max_ms "$v") |"
        done
    fi
} >"$TABLE"
echo
cat "$TABLE"

# ---- targets (serve) -------------------------------------------------------------------
missed=0
if [ "$SMOKE" = 0 ] && [ -n "${R[serve.usage]:-}" ]; then
    tgt() { # what value op limit
        if awk -v v="$2" -v l="$4" "BEGIN { exit !(v $3 l) }"; then echo "target met:    $1 = $2 ($3 $4)"; else echo "target MISSED: $1 = $2 (want $3 $4)"; missed=1; fi
    }
    tgt "serve: all connected, s" "${R[serve.connect]}" '<=' 15
    tgt "serve: RSS, MB" "$(field rss_mb "${R[serve.usage]}")" '<=' 150
    tgt "serve: idle CPU, %" "$(field cpu_pct "${R[serve.usage]}")" '<=' 2
    tgt "serve: SSH attach median, ms" "$(field median_ms "${R[serve.attach]}")" '<=' 50
    tgt "serve: SSH attach on an open connection, median, ms" "$(field median_ms "${R[serve.attachmux]}")" '<=' 50
    tgt "serve: keystroke SSH - direct (same BMC, blocks in turn), median, ms" "$(awk -v a="$(field median_ms "${R[serve.keys]}")" \
        -v b="$(field median_ms "${R[direct.keysnow]}")" 'BEGIN { printf "%.3f", a - b }')" '<=' 0.3
    tgt "serve: keystroke SSH - direct (mean of before and after serve), median, ms" "$(awk -v a="$(field median_ms "${R[serve.keys]}")" \
        -v b="$(field median_ms "${R[direct.keys]}")" -v c="$(field median_ms "${R[direct.keys2]}")" 'BEGIN { printf "%.3f", a - (b + c) / 2 }')" '<=' 0.3
fi | tee "$WORK/targets.txt"
grep -q MISSED "$WORK/targets.txt" && missed=1
if [ "$SMOKE" = 0 ]; then
    OUTF=${FLEET_OUT:-scripts/bench/results/fleet-latest.md}
    { cat "$TABLE"; echo; cat "$WORK/targets.txt"; } >"$OUTF"
    echo "fleet: table written to $OUTF"
fi
[ "$missed" = 1 ] && [ "${FLEET_STRICT:-0}" = 1 ] && exit 3
exit 0
