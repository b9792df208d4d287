# Shared helpers for scripts/interop-*.sh (sourced, not executed).
#
# Provides: result matrix (result/print_matrix), process tracking for cleanup
# (track_pid/kill_tracked), free port picking, binary build/lookup, and a
# bounded command runner (run_cmd).  Callers set WORK (a temp dir) first.

# ---- result matrix ----------------------------------------------------
RESULTS=()
NFAIL=0
# result PASS|FAIL PEER SUITE CHECK DETAIL
result() {
    local st=$1 peer=$2 suite=$3 check=$4 detail=${5:-}
    detail=$(printf '%s' "$detail" | tr '\r\n\t' '   ' | tr -s ' ' | cut -c1-220)
    local line
    line=$(printf '%-4s  %-12s  %-5s  %-36s  %s' "$st" "$peer" "$suite" "$check" "$detail")
    RESULTS+=("$line")
    [ "$st" = PASS ] || NFAIL=$((NFAIL + 1))
    echo ">>> $line" >&2
}
pass() { result PASS "$@"; }
fail() { result FAIL "$@"; }
# check COND_RC PEER SUITE CHECK DETAIL: PASS if COND_RC is 0
check() {
    local rc=$1; shift
    if [ "$rc" -eq 0 ]; then result PASS "$@"; else result FAIL "$@"; fi
}

print_matrix() {
    local title=$1
    echo
    echo "==== $title: result matrix ===="
    printf '%-4s  %-12s  %-5s  %-36s  %s\n' RES PEER SUITE CHECK DETAIL
    local l
    for l in "${RESULTS[@]}"; do echo "$l"; done
    echo "==== ${#RESULTS[@]} checks, $NFAIL failed ===="
}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
# die MSG: a check or prerequisite that cannot run; the EXIT trap prints the
# matrix and the script exits non-zero.
die() {
    echo "ERROR: $*" >&2
    result FAIL harness - setup "$*"
    exit 1
}

# ---- processes ----------------------------------------------------------
TRACKED_PIDS=()
track_pid() { TRACKED_PIDS+=("$1"); }
# Ends only the processes this script started (by pid), TERM then KILL.
kill_tracked() {
    local p
    for p in "${TRACKED_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for _ in $(seq 30); do
        local alive=0
        for p in "${TRACKED_PIDS[@]}"; do
            if kill -0 "$p" 2>/dev/null && [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" != Z ]; then
                alive=1
            fi
        done
        [ $alive -eq 0 ] && break
        sleep 0.1
    done
    for p in "${TRACKED_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    TRACKED_PIDS=()
}

# ---- time ----------------------------------------------------------------
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
# rate BYTES SECONDS -> "N B/s"
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) print "n/a"; else printf "%.0f B/s", n / s }'; }

# ---- ports ----------------------------------------------------------------
# free_ports N: N distinct ports free on 127.0.0.1 for both TCP and UDP, in
# 20000-32767: FreeIPMI 1.6.10's ipmiconsole rejects "-h host:PORT" with
# PORT > 32767 ("hostname invalid"), and this stays below the kernel's
# ephemeral range (32768-60999 by default). free_ports N MIN MAX picks them
# in MIN-MAX instead (a script's own range, away from other runs').
free_ports() {
    /usr/bin/python3 - "$1" "${2:-20000}" "${3:-32767}" <<'EOF'
import random, socket, sys
n, lo, hi = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]); got = []; held = []
for p in random.sample(range(lo, hi + 1), min(2000, hi + 1 - lo)):
    if len(got) == n:
        break
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        t.bind(("127.0.0.1", p)); u.bind(("127.0.0.1", p))
    except OSError:
        t.close(); u.close(); continue
    held += [t, u]; got.append(p)
if len(got) < n:
    sys.exit("free_ports: could not find %d free ports" % n)
print(" ".join(map(str, got)))
EOF
}

# ---- prerequisites and binaries -------------------------------------------
need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            die "required program '$c' not found (run scripts/install-peers.sh as root)"
    done
}

# find_bins NAME...: sets BIN_<NAME> (dashes removed) to a usable binary.
# Uses $GHMICONS_BIN_DIR if set, else builds into $WORK/bin.
find_bins() {
    local n dir
    if [ -n "${GHMICONS_BIN_DIR:-}" ]; then
        dir=$GHMICONS_BIN_DIR
        for n in "$@"; do
            [ -x "$dir/$n" ] || die "GHMICONS_BIN_DIR=$dir has no executable '$n'"
        done
        log "using prebuilt binaries from $dir"
    else
        if ! command -v go >/dev/null 2>&1; then
            [ -x /usr/local/go/bin/go ] && PATH=$PATH:/usr/local/go/bin
        fi
        command -v go >/dev/null 2>&1 || die "go not found (set GHMICONS_BIN_DIR to use prebuilt binaries)"
        dir=$WORK/bin
        mkdir -p "$dir"
        for n in "$@"; do
            log "building $n"
            (cd "$ROOT" && go build -o "$dir/$n" "./cmd/$n") || die "go build ./cmd/$n failed"
        done
    fi
    for n in "$@"; do
        printf -v "BIN_${n//-/}" '%s' "$dir/$n"
    done
}

# ---- bounded command runner -------------------------------------------------
# run_cmd SECS CMD...: runs CMD with a timeout; sets RC, DT (seconds), OUT, ERR
# (stdout/stderr text) and keeps the raw output in $WORK/last.out/.err.
run_cmd() {
    local t=$1; shift
    local s; s=$(now)
    set +e
    timeout -k 3 "$t" "$@" </dev/null >"$WORK/last.out" 2>"$WORK/last.err"
    RC=$?
    set -e
    DT=$(since "$s")
    OUT=$(cat "$WORK/last.out")
    ERR=$(cat "$WORK/last.err")
    [ "$RC" -ne 124 ] || ERR="TIMEOUT after ${t}s; $ERR"
}

# wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout.
wait_for() {
    local t=$1; shift
    local deadline; deadline=$(awk -v a="$(now)" -v t="$t" 'BEGIN { printf "%.3f", a + t }')
    while :; do
        if "$@"; then return 0; fi
        if awk -v d="$deadline" -v n="$(now)" 'BEGIN { exit !(n > d) }'; then return 1; fi
        sleep 0.1
    done
}

# finish_report NAME RC: the end of a script's EXIT trap. Marks an aborted
# run as failed, prints the matrix, keeps the logs when anything failed (or
# KEEP_WORK=1), and exits 0 only when every check passed.
finish_report() {
    local name=$1 rc=$2
    [ "$rc" -eq 0 ] || [ "$NFAIL" -gt 0 ] || result FAIL harness - aborted "script exited with status $rc before finishing (see log above)"
    print_matrix "$name ($(since "$T_START") s)"
    if [ "${KEEP_WORK:-0}" = 1 ] || [ "$NFAIL" -gt 0 ]; then
        echo "logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    [ "$NFAIL" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
    exit 1
}
