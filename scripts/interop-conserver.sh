#!/usr/bin/env bash
# conserver interop: a console of type exec running ghmicons against our
# simulated BMC. The console client attaches, types and sees the echo;
# conserver's log holds the host's output; a restart of the BMC is survived
# with --reconnect. Fails loudly when a peer is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
for t in conserver console tmux; do
    command -v "$t" >/dev/null || { echo "interop-conserver: $t not installed (run scripts/install-peers.sh)" >&2; exit 1; }
done
WORK=$(mktemp -d)
BIN=${GHMICONS_BIN_DIR:-}
if [ -z "$BIN" ]; then
    BIN=$WORK/bin; mkdir -p "$BIN"
    go build -o "$BIN/ghmicons" ./cmd/ghmicons
    go build -o "$BIN/fakebmc" ./cmd/fakebmc
fi
SESSION=ghm-conserver-$$
pids=()
cleanup() {
    tmux -L "$SESSION" kill-server 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "${CSPID:-}" ] && kill "$CSPID" 2>/dev/null || true
    [ -n "${BMCPID:-}" ] && kill "$BMCPID" 2>/dev/null || true
    # A ghmicons of this run still running (a failed check) goes too: its
    # command line names this run's work directory.
    pkill -f -- "-f $WORK/pass" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${KEEP_DEBUG:-}" ] && trap - EXIT

free_port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
BMCPORT=$(free_port SOCK_DGRAM)
CSPORT=$(free_port SOCK_STREAM)
results=()
fail=0
check() { # name, condition-result (0 ok), detail
    if [ "$2" -eq 0 ]; then results+=("PASS  conserver  $1  $3"); else results+=("FAIL  conserver  $1  $3"); fail=1; fi
}
rc() { if "$@"; then echo 0; else echo 1; fi; }
wait_for() { # file, pattern, seconds
    local end=$(( $(date +%s) + $3 ))
    while [ "$(date +%s)" -le "$end" ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}
BANNER="HOST-BANNER-$RANDOM$RANDOM"
start_bmc() {
    "$BIN/fakebmc" --listen "127.0.0.1:$BMCPORT" --user admin --password password -v \
        --serial "exec:echo $BANNER; exec cat" >>"$WORK/fakebmc.log" 2>&1 &
    BMCPID=$!
}
start_bmc
echo password >"$WORK/pass"
: >"$WORK/conserver.passwd"
cat >"$WORK/conserver.cf" <<CF
config * { }
default * { logfile $WORK/&.log; rw *; master 127.0.0.1; }
console node1 {
    type exec;
    exec $BIN/ghmicons -H 127.0.0.1:$BMCPORT -U admin -f $WORK/pass -e none --reconnect --keep-open --keepalive 2s --timeout 300ms --retries 2;
}
access * { trusted 127.0.0.1; allowed 127.0.0.1; }
CF
conserver -C "$WORK/conserver.cf" -P "$WORK/conserver.passwd" -M 127.0.0.1 -p "$CSPORT" -n >"$WORK/conserver.out" 2>&1 &
CSPID=$!

check "ghmicons started by conserver" "$(rc wait_for "$WORK/node1.log" "connected to" 15)" "$(tail -c 200 "$WORK/node1.log" | tr -d '\r' | tail -1)"
check "host output in conserver's log" "$(rc wait_for "$WORK/node1.log" "$BANNER" 10)" "banner $BANNER"

# The master answers once it is ready: wait for it to list the console as up.
end=$(( $(date +%s) + 15 ))
until console -M 127.0.0.1 -p "$CSPORT" -n -u 2>/dev/null | grep -q "node1 *up"; do
    [ "$(date +%s)" -gt "$end" ] && { echo "interop-conserver: conserver never listed node1 as up" >&2; console -M 127.0.0.1 -p "$CSPORT" -n -u || true; exit 1; }
    sleep 0.2
done
TOKEN1="typed-$RANDOM$RANDOM"
tmux -L "$SESSION" new-session -d -s "$SESSION" -x 120 -y 30 "console -M 127.0.0.1 -p $CSPORT -n node1 2>$WORK/console.err; sleep 30"
pane() { tmux -L "$SESSION" capture-pane -t "$SESSION" -p -S -200; }
end=$(( $(date +%s) + 10 ))
until pane | grep -q "Enter .*for help\|attached\|\[Enter"; do
    [ "$(date +%s)" -gt "$end" ] && break; sleep 0.2
done
tmux -L "$SESSION" send-keys -t "$SESSION" "$TOKEN1" Enter
check "typed text reaches the host and its echo is logged" "$(rc wait_for "$WORK/node1.log" "$TOKEN1" 10)" "$TOKEN1"
end=$(( $(date +%s) + 10 )); ok=1
while [ "$(date +%s)" -le "$end" ]; do pane | grep -q "$TOKEN1" && { ok=0; break; }; sleep 0.2; done
check "console client sees the echo" $ok "$TOKEN1"

# Restart the BMC: ghmicons must reconnect by itself.
kill "$BMCPID"; wait "$BMCPID" 2>/dev/null || true
start_bmc
check "BMC restart survived (--reconnect)" "$(rc wait_for "$WORK/node1.log" "reconnected" 40)" "$(grep -c reconnect "$WORK/node1.log" || true) reconnect lines"
TOKEN2="after-restart-$RANDOM$RANDOM"
tmux -L "$SESSION" send-keys -t "$SESSION" "$TOKEN2" Enter
check "echo after the BMC restart" "$(rc wait_for "$WORK/node1.log" "$TOKEN2" 15)" "$TOKEN2"

# conserver stopped while the BMC is gone: its ghmicons has nothing to write
# and ignores the end of input (--keep-open), so only the hang-up of its
# output tells it that its reader has gone; it must exit by itself.
tmux -L "$SESSION" kill-server 2>/dev/null || true
kill "$BMCPID"; wait "$BMCPID" 2>/dev/null || true; BMCPID=
wait_for "$WORK/node1.log" "not being delivered\|lost\|cannot connect\|no answer" 20 || true
kill "$CSPID"; wait "$CSPID" 2>/dev/null || true; CSPID=
end=$(( $(date +%s) + 10 )); ok=1
while [ "$(date +%s)" -le "$end" ]; do pgrep -f -- "-f $WORK/pass" >/dev/null || { ok=0; break; }; sleep 0.2; done
check "ghmicons exits once conserver has gone (BMC gone too)" $ok "$(pgrep -af -- "-f $WORK/pass" | head -1)"

echo
echo "conserver interop results:"
printf '%s\n' "${results[@]}"
if [ "$fail" -ne 0 ]; then
    echo "---- conserver log (node1.log):"; tail -c 3000 "$WORK/node1.log" | tr -d '\r'
    echo "---- fakebmc log:"; tail -20 "$WORK/fakebmc.log"
    echo "---- conserver.out:"; tail -20 "$WORK/conserver.out"
    exit 1
fi
