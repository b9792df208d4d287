#!/usr/bin/env bash
# Interop: the real OpenSSH client (ssh, openssh-client) against
# `ghmicons serve`, with two fakebmc processes (echoing hosts) behind it.
#
#   scripts/interop-serve.sh
#
# Checks, in pipes (ssh -T) and in tmux (ssh -t, a terminal):
#   - ssh GW list and ssh GW node01 power status (exit status 0);
#   - a key nobody granted is refused (ssh's own "Permission denied", 255),
#     a spy key asking for rw is refused (one line, exit status 3);
#   - two read-write viewers and a spy (pipes) see the same bytes;
#   - in tmux: the spy cannot type, ^Ecf (force) moves the write side, ^Ecw
#     lists who is attached, ^Ec. leaves;
#   - a later viewer's replay shows the last lines;
#   - the console's log has the lines and the markers;
#   - a BMC restarted under the sessions: reconnected, the log marked, the
#     viewer still typing;
#   - SIGHUP (logrotate, a console removed), SIGTERM;
#   - CVE-2024-45337's pattern with OpenSSH itself: -i victim.pub (the public
#     key only) then -i attacker: the server accepts the offered key, the
#     attacker signs with its own, and gets only its own grant.
#
# Environment: GHMICONS_BIN_DIR (prebuilt ghmicons and fakebmc, else go
# build), KEEP_WORK=1 (keep the logs).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib-interop.sh
. "$HERE/lib-interop.sh"

T_START=$(now)
WORK=$(mktemp -d /tmp/interop-serve.XXXXXX)
TMUX_SOCK=interop-serve-$$

finish() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
    kill_tracked
    finish_report interop-serve "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

need_cmd ssh ssh-keygen tmux python3
find_bins ghmicons fakebmc

# ---- ports: BMCs in 23000-25999, the SSH listener in 2222-2299 ---------
pick_port() { # pick_port LO HI PROTO
    python3 - "$@" <<'EOF'
import random, socket, sys
lo, hi, proto = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for p in random.sample(range(lo, hi + 1), hi - lo + 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p)); s.close(); print(p); sys.exit(0)
    except OSError:
        s.close()
sys.exit("no free port")
EOF
}
P1=$(pick_port 23000 25999 udp)
P2=$(pick_port 23000 25999 udp)
[ "$P1" != "$P2" ] || P2=$(pick_port 23000 25999 udp)
PSSH=$(pick_port 2222 2299 tcp)

# ---- keys, configuration ----------------------------------------------------
for k in admin other spy stranger victim attacker; do
    ssh-keygen -q -t ed25519 -N '' -C "interop-serve-$k" -f "$WORK/$k"
done
cat "$WORK/admin.pub" "$WORK/other.pub" >"$WORK/admins.keys"
printf 'role="ro" %s\n' "$(cat "$WORK/spy.pub")" >>"$WORK/admins.keys"
cp "$WORK/victim.pub" "$WORK/node01.keys"    # the victim's key: node01
cp "$WORK/attacker.pub" "$WORK/node02.keys"  # the attacker's own: node02
# The attacker has the victim's public key only (it is public): OpenSSH
# offers it, the server says it would accept it, and the attacker cannot sign.
mkdir "$WORK/stolen"
cp "$WORK/victim.pub" "$WORK/stolen/victim.pub"
echo password >"$WORK/bmc-password"
mkdir "$WORK/logs"
# write_config NODE:PORT...
write_config() {
    cat >"$WORK/consoles.toml" <<EOF
[ssh]
authorized_keys = ["admins.keys"]
host_key = "host_key"

[defaults]
user = "admin"
password_file = "bmc-password"
log = "logs/%s.log"
replay = "2KiB"
keepalive = "2s"
timeout = "300ms"
EOF
    local c
    for c in "$@"; do
        printf '\n[[console]]\nname = "%s"\nbmc = "127.0.0.1:%s"\nauthorized_keys = ["%s.keys"]\n' "${c%%:*}" "${c#*:}" "${c%%:*}" >>"$WORK/consoles.toml"
    done
}
write_config "node01:$P1" "node02:$P2"

for p in "$P1" "$P2"; do
    "$BIN_fakebmc" --listen "127.0.0.1:$p" --serial echo 2>"$WORK/fakebmc-$p.err" &
    track_pid $!
    [ "$p" = "$P1" ] && BMC1_PID=$!
done
"$BIN_ghmicons" serve --config "$WORK/consoles.toml" --listen "127.0.0.1:$PSSH" 2>"$WORK/serve.err" &
SERVE_PID=$!
track_pid $SERVE_PID

SSH_OPTS=(-F /dev/null -p "$PSSH" -o BatchMode=yes -o StrictHostKeyChecking=accept-new
    -o UserKnownHostsFile="$WORK/known_hosts" -o LogLevel=ERROR -o IdentitiesOnly=yes)
# gw KEY ARGS...: ssh to the server with KEY.
gw() { local k=$1; shift; ssh "${SSH_OPTS[@]}" -i "$WORK/$k" "$@"; }

all_connected() {
    local out
    out=$(gw admin 127.0.0.1 list 2>/dev/null) || return 1
    [ "$(grep -c ' connected ' <<<"$out")" -eq 2 ]
}
wait_for 20 all_connected || die "the consoles did not all connect within 20 s: $(gw admin 127.0.0.1 list 2>&1); $(cat "$WORK/serve.err")"
pass openssh - "list: both consoles connected" "$(gw admin 127.0.0.1 list | tr -s ' ' | head -3)"

# ---- exec: list, a command, refusals -------------------------------------------
run_cmd 30 ssh "${SSH_OPTS[@]}" -i "$WORK/admin" 127.0.0.1 node01 power status
[ "$RC" -eq 0 ] && grep -qi 'power is on' <<<"$OUT"
check $? openssh - "ssh gw node01 power status" "rc=$RC out=$OUT err=$ERR"

run_cmd 30 ssh "${SSH_OPTS[@]}" -i "$WORK/stranger" 127.0.0.1 list
[ "$RC" -eq 255 ] && grep -q 'Permission denied' <<<"$ERR"
check $? openssh - "a key not granted is refused" "rc=$RC err=$ERR"

run_cmd 30 ssh "${SSH_OPTS[@]}" -i "$WORK/spy" -T node01:rw@127.0.0.1
[ "$RC" -eq 3 ] && [ "$(wc -l <<<"$ERR")" -eq 1 ] && grep -q 'role too low' <<<"$ERR"
check $? openssh - "spy key asking for rw: refused" "rc=$RC err=$ERR"

run_cmd 30 ssh "${SSH_OPTS[@]}" -i "$WORK/admin" 127.0.0.1 node03
[ "$RC" -eq 3 ] && grep -q 'node03: no such console for this key' <<<"$ERR"
check $? openssh - "unknown console: refused" "rc=$RC err=$ERR"

# CVE-2024-45337's pattern with OpenSSH itself: the victim's key offered
# first (accepted by the server's callback), the attacker's used to sign.
run_cmd 30 ssh "${SSH_OPTS[@]}" -v -i "$WORK/stolen/victim.pub" -i "$WORK/attacker" 127.0.0.1 node01
grep -q "Server accepts key: $WORK/stolen/victim.pub" "$WORK/last.err" && grep -q "Authenticated .* using \"publickey\"" "$WORK/last.err" &&
    [ "$RC" -eq 3 ] && grep -q 'ghmicons: node01: no such console for this key' "$WORK/last.err"
check $? openssh - "CVE-2024-45337 pattern: offered key's grant not given" "rc=$RC $(grep -E 'Server accepts key|Authenticated|ghmicons:' "$WORK/last.err" | tr '\n' ' ')"
run_cmd 30 ssh "${SSH_OPTS[@]}" -i "$WORK/stolen/victim.pub" -i "$WORK/attacker" 127.0.0.1 node02 power status
[ "$RC" -eq 0 ]
check $? openssh - "CVE pattern: the signing key's own grant works" "rc=$RC out=$OUT"

# ---- pipes: two rw viewers and a spy see the same bytes ----------------------
mkfifo "$WORK/a.in" "$WORK/b.in" "$WORK/s.in"
gw admin -T 127.0.0.1 node01 <"$WORK/a.in" >"$WORK/a.out" 2>"$WORK/a.err" &
track_pid $!
gw other -T 127.0.0.1 node01 <"$WORK/b.in" >"$WORK/b.out" 2>"$WORK/b.err" &
track_pid $!
gw spy -T 127.0.0.1 node01 <"$WORK/s.in" >"$WORK/s.out" 2>"$WORK/s.err" &
track_pid $!
exec 7>"$WORK/a.in" 8>"$WORK/b.in" 9>"$WORK/s.in"
three_attached() { [ "$(gw admin 127.0.0.1 list | awk '$1 == "node01" { print $5 }')" = "3/2" ]; }
wait_for 15 three_attached || die "the three pipe viewers did not attach: $(gw admin 127.0.0.1 list)"
for i in $(seq 1 20); do echo "pipe-a-$i"; done >&7
echo "pipe-b-1" >&8
echo "pipe-spy-1" >&9
echo "pipe-a-last" >&7
has_all() { grep -q pipe-a-last "$WORK/a.out" && grep -q pipe-a-last "$WORK/b.out" && grep -q pipe-a-last "$WORK/s.out"; }
wait_for 15 has_all || true
from_first() { sed -n '/pipe-a-1\r*$/,$p' "$1" | tr -d '\r'; }
if has_all && [ "$(from_first "$WORK/a.out")" = "$(from_first "$WORK/b.out")" ] && [ "$(from_first "$WORK/a.out")" = "$(from_first "$WORK/s.out")" ]; then
    pass openssh - "pipes: 2 rw + spy see the same bytes" "$(from_first "$WORK/a.out" | wc -c) bytes each"
else
    fail openssh - "pipes: 2 rw + spy see the same bytes" "a=$(wc -c <"$WORK/a.out") b=$(wc -c <"$WORK/b.out") s=$(wc -c <"$WORK/s.out")"
fi
grep -q pipe-b-1 "$WORK/a.out"
check $? openssh - "pipes: the second rw viewer types too" "$(grep -c pipe-b-1 "$WORK/a.out")"
! grep -q pipe-spy-1 "$WORK/a.out" && grep -q 'read-only' "$WORK/s.err"
check $? openssh - "pipes: the spy cannot type" "$(cat "$WORK/s.err" | tr '\n' ' ')"
exec 7>&- 8>&- 9>&-

# ---- tmux: terminals, escapes, force -------------------------------------------
T() { tmux -L "$TMUX_SOCK" "$@"; }
pane() { T capture-pane -p -J -S -200 -t "$1"; }
in_pane() { pane "$1" | grep -q -- "$2"; }
export TERM=${TERM:-xterm}
[ "$TERM" = dumb ] && export TERM=xterm
sshcmd() { printf 'ssh -t -F /dev/null -p %s -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=%s -o LogLevel=ERROR -o IdentitiesOnly=yes -i %s %s@127.0.0.1; echo EXIT=$?; sleep 60' \
    "$PSSH" "$WORK/known_hosts" "$WORK/$1" "$2"; }
T new-session -d -s s -n a -x 150 -y 40 "$(sshcmd admin node01)"
T new-window -t s -n b "$(sshcmd other node01)"
T new-window -t s -n spy "$(sshcmd spy node01:ro)"
for w in a b spy; do
    wait_for 15 in_pane "s:$w" 'attached' || die "tmux $w did not attach: $(pane "s:$w")"
done
in_pane s:a pipe-a-last && in_pane s:spy pipe-a-last
check $? openssh - "tmux: replay shows the last lines" "$(pane s:spy | grep -c pipe-a)"
T send-keys -t s:a 'tmux-from-a' Enter
wait_for 10 in_pane s:b tmux-from-a && wait_for 10 in_pane s:spy tmux-from-a
check $? openssh - "tmux: rw viewer's typing seen by all" "$(pane s:b | grep -c tmux-from-a)"
T send-keys -t s:spy 'tmux-from-spy' Enter
wait_for 10 in_pane s:spy 'read-only: your input is not sent' && ! in_pane s:a tmux-from-spy
check $? openssh - "tmux: the spy cannot type" "$(pane s:spy | tail -3 | tr '\n' ' ')"
T send-keys -t s:b C-e c f
wait_for 10 in_pane s:b 'the write side is yours alone' && wait_for 10 in_pane s:a 'forced the write side'
check $? openssh - "tmux: ^Ecf forces the write side" "$(pane s:a | tail -2 | tr '\n' ' ')"
T send-keys -t s:a 'a-after-force' Enter
T send-keys -t s:b 'b-after-force' Enter
wait_for 10 in_pane s:spy b-after-force && ! in_pane s:spy a-after-force && in_pane s:a 'read-only'
check $? openssh - "tmux: force moved the write side" "$(pane s:spy | tail -3 | tr '\n' ' ')"
T send-keys -t s:spy C-e c w
wait_for 10 in_pane s:spy 'rw, forced'
check $? openssh - "tmux: ^Ecw lists who is attached" "$(pane s:spy | grep attached: | tail -1)"
T send-keys -t s:b C-e c .
wait_for 10 in_pane s:b 'EXIT=0' && wait_for 10 in_pane s:a 'shared again'
check $? openssh - "tmux: ^Ec. leaves (exit 0), write side shared again" "$(pane s:b | grep EXIT=)"

# ---- the log --------------------------------------------------------------------
LOG=$WORK/logs/node01.log
grep -q '\[ghmicons\] connected to' "$LOG" && grep -q 'tmux-from-a' "$LOG" && grep -q 'b-after-force' "$LOG" &&
    ! grep -q 'a-after-force' "$LOG" && grep -q 'attached (rw' "$LOG"
check $? openssh - "log: output and markers" "$(grep -c . "$LOG") lines"

# ---- logrotate + SIGHUP: reload with node02 removed; node01's viewer stays -----
mv "$LOG" "$LOG.1"
write_config "node01:$P1"
kill -HUP "$SERVE_PID"
node02_gone() { ! gw admin 127.0.0.1 list | grep -q node02; }
wait_for 15 node02_gone
check $? openssh - "SIGHUP: node02 removed" "$(gw admin 127.0.0.1 list | tr -s ' ' | tail -2 | tr '\n' ' ')"
T send-keys -t s:a 'after-reload' Enter
wait_for 10 in_pane s:a after-reload
check $? openssh - "SIGHUP: node01's viewer kept its session" "$(pane s:a | tail -2 | tr '\n' ' ')"
wait_for 10 grep -q after-reload "$LOG"
grep -q after-reload "$LOG" && ! grep -q after-reload "$LOG.1" && grep -q tmux-from-a "$LOG.1" && ! grep -q tmux-from-a "$LOG"
check $? openssh - "logrotate + SIGHUP: new lines in the new log" "$(wc -l <"$LOG.1") + $(wc -l <"$LOG") lines"

# ---- the BMC reboots under the session: reconnected, the log marked ------------
kill -TERM "$BMC1_PID"
wait "$BMC1_PID" 2>/dev/null || true
"$BIN_fakebmc" --listen "127.0.0.1:$P1" --serial echo 2>>"$WORK/fakebmc-$P1.err" &
track_pid $!
wait_for 30 grep -q '\[ghmicons\] reconnected to' "$LOG" && grep -q '\[ghmicons\] connection lost' "$LOG"
check $? openssh - "BMC restarted: reconnected, log marked" "$(grep -E '\[ghmicons\] (connection lost|reconnect)' "$LOG" | tr '\r\n' '  ')"
wait_for 10 in_pane s:a 'reconnected to'
T send-keys -t s:a 'after-bmc-reboot' Enter
wait_for 10 in_pane s:a after-bmc-reboot
check $? openssh - "BMC restarted: the ssh viewer stayed and types" "$(pane s:a | tail -3 | tr '\n' ' ')"

# ---- SIGTERM: the server closes every session and console, exit status 0 -------
T kill-server 2>/dev/null || true
kill -TERM "$SERVE_PID"
set +e
t0=$(now)
wait "$SERVE_PID"
rc=$?
set -e
[ "$rc" -eq 0 ] && grep -q 'SIGTERM: stopping' "$WORK/serve.err"
check $? openssh - "SIGTERM: stops, exit status 0" "rc=$rc in $(since "$t0") s"
grep -q 'console stopped: the server is shutting down' "$LOG"
check $? openssh - "log: the stop is marked" "$(tail -1 "$LOG")"
