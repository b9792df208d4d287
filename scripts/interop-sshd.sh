#!/usr/bin/env bash
# Interop: OpenSSH through the console. fakebmc's exec host runs `sshd -i`
# (one SSH connection on stdin/stdout, then it exits) as the machine behind
# the serial port; ssh reaches it with ghmicons as its ProxyCommand, three
# times in a row through one fakebmc. Each works only if
#   - ghmicons carries the binary SSH stream both ways, byte-exact, and ends
#     cleanly at end of input / when ssh hangs up (pipe mode), and
#   - fakebmc starts sshd again after each connection (exec host respawn)
#     and leaves nothing running once it exits (process group kill).
#
#   scripts/interop-sshd.sh
#
# sshd never listens: its configuration (in a temp dir, with a throwaway
# host key and authorized key) is only ever used with -i. As root, sshd
# needs its privilege separation directory /run/sshd; it is created when
# missing (what the openssh-server service would do).
#
# Environment: GHMICONS_BIN_DIR (prebuilt ghmicons and fakebmc, else go
# build), KEEP_WORK=1 (keep the logs), ROUNDS (default 3).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib-interop.sh
. "$HERE/lib-interop.sh"

ROUNDS=${ROUNDS:-3}
SSHD=/usr/sbin/sshd
T_START=$(now)
WORK=$(mktemp -d /tmp/interop-sshd.XXXXXX)

finish() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    kill_tracked
    finish_report interop-sshd "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

need_cmd ssh ssh-keygen python3
[ -x "$SSHD" ] || die "$SSHD not found (openssh-server; run scripts/install-peers.sh as root)"
find_bins ghmicons fakebmc

# ---- keys and configuration ---------------------------------------------
ME=$(id -un)
ssh-keygen -q -t ed25519 -N '' -C interop-sshd-host -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -C interop-sshd-client -f "$WORK/client_key"
cp "$WORK/client_key.pub" "$WORK/authorized_keys"
chmod 600 "$WORK/authorized_keys"
cat >"$WORK/sshd_config" <<CF
# Used only with sshd -i: it never listens.
HostKey $WORK/host_key
AuthorizedKeysFile $WORK/authorized_keys
AllowUsers $ME
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile none
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
CF
if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
    mkdir -p -m 0755 /run/sshd
fi
"$SSHD" -t -f "$WORK/sshd_config" 2>"$WORK/sshd-t.err" || die "sshd -t rejects the test configuration: $(cat "$WORK/sshd-t.err")"
echo password >"$WORK/pass"

# ssh_to PROXYCOMMAND WORD: runs `echo WORD` through PROXYCOMMAND.
ssh_to() {
    run_cmd 60 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile="$WORK/known_hosts" -o LogLevel=ERROR \
        -o IdentitiesOnly=yes -i "$WORK/client_key" -l "$ME" \
        -o ProxyCommand="$1" console-host "echo $2"
}

# ---- baseline: sshd -i straight as ssh's ProxyCommand ---------------------
# If this fails the harness, not ghmicons or fakebmc, is broken.
ssh_to "$SSHD -i -e -f $WORK/sshd_config" baseline-ok
[ "$RC" -eq 0 ] && [ "$OUT" = baseline-ok ] ||
    die "ssh to sshd -i without the console failed (rc $RC): $OUT $ERR"
pass ssh - "baseline: ProxyCommand sshd -i" "rc 0 in ${DT}s"

# ---- through fakebmc and ghmicons -----------------------------------------
read -r PORT < <(free_ports 1)
"$BIN_fakebmc" --listen "127.0.0.1:$PORT" --user admin --password password -v \
    --serial "exec:exec $SSHD -i -e -f $WORK/sshd_config" >"$WORK/fakebmc.log" 2>&1 &
BMCPID=$!
track_pid "$BMCPID"
wait_for 10 grep -q "serving RMCP+" "$WORK/fakebmc.log" || die "fakebmc did not start: $(cat "$WORK/fakebmc.log")"
# Our sshd processes, known by their configuration file (nothing else has it).
sshd_count() { { pgrep -f -- "-f $WORK/sshd_config" 2>/dev/null || true; } | wc -l; }
sshd_waiting() { [ "$(sshd_count)" -ge 1 ]; }
no_sshd() { [ "$(sshd_count)" -eq 0 ]; }
sshd_pids() { pgrep -f -- "-f $WORK/sshd_config" 2>/dev/null | sort | tr '\n' ' ' || true; }
# A fresh sshd: one runs, and none of those that ran before the round is left
# (the last one may still be finishing its session when ssh returns; bytes of
# the next round sent to it would be taken as its own).
fresh_sshd() {
    local now p
    now=$(sshd_pids)
    [ -n "$now" ] || return 1
    for p in $BEFORE; do case " $now " in *" $p "*) return 1 ;; esac; done
}
wait_for 10 sshd_waiting || die "fakebmc's exec host did not start sshd -i: $(tail -5 "$WORK/fakebmc.log")"

PROXY="$BIN_ghmicons -H 127.0.0.1:$PORT -U admin -f $WORK/pass"
for i in $(seq "$ROUNDS"); do
    BEFORE=$(sshd_pids)
    ssh_to "$PROXY" "ok-$i"
    ok=1
    [ "$RC" -eq 0 ] && [ "$OUT" = "ok-$i" ] || ok=0
    detail="rc $RC in ${DT}s"
    [ "$ok" -eq 1 ] || detail="$detail; stdout '$OUT'; stderr: $(printf '%s' "$ERR" | tail -c 300)"
    check $((1 - ok)) ssh fakebmc "ssh via ghmicons, round $i" "$detail"
    # The next round needs a fresh sshd: the exec host restarts it 1 s after
    # the exit (twice as long each time a run got no input). As with a getty
    # on a real serial line, the next login waits until the last one is over.
    if [ "$i" -lt "$ROUNDS" ]; then
        wait_for 10 fresh_sshd || true
    fi
done
n=$(sshd_count)
check $(( n <= 1 ? 0 : 1 )) fakebmc - "no sshd left from earlier rounds" "$n sshd -i running (the waiting one)"

# ---- fakebmc's end ends its host ------------------------------------------
kill -TERM "$BMCPID"
wait "$BMCPID" 2>/dev/null || true
wait_for 5 no_sshd || true
n=$(sshd_count)
check $(( n == 0 ? 0 : 1 )) fakebmc - "no sshd left after fakebmc exits" "$n sshd -i running"
