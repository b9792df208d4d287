#!/usr/bin/env bash
# The benchmark in one command: ghmicons, ipmitool, FreeIPMI ipmiconsole and
# pyghmi against OpenIPMI ipmi_sim and our fakebmc, measured the same way in
# the same run. See BENCHMARKS.md.
#
#   scripts/bench/run.sh                 # full run (about 45 minutes)
#   BENCH_QUICK=1 scripts/bench/run.sh   # smoke run (a few minutes)
#
# Builds ghmicons, fakebmc and the impairment proxy into a temporary
# directory (or uses GHMICONS_BIN_DIR if it has all three), makes sure the
# peers are installed (scripts/install-peers.sh, when run as root), then runs
# scripts/bench/bench.py, which writes scripts/bench/results/latest.json and
# latest.md and prints the table. Every knob is an environment variable
# documented at the top of bench.py.
#
# Everything listens on 127.0.0.1 only; UDP 127.0.0.1:623 (the impairment
# proxy) and 127.0.0.1:28418 (the BMC) must be free. Exit status: 0 when every
# client ran, 1 when a peer or BMC could not run (loudly: the reason is
# printed), 2 on bad usage; with BENCH_STRICT=1, 3 when a target was missed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

BUILD=$(mktemp -d /tmp/ghmicons-bench-bin.XXXXXX)
cleanup() { rm -rf "$BUILD"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" -eq 0 ] && [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
    bash "$ROOT/scripts/install-peers.sh" >&2 || {
        echo "bench: ERROR: scripts/install-peers.sh failed; the peers cannot run" >&2
        exit 1
    }
fi
for b in ipmitool ipmiconsole ipmi_sim; do
    command -v "$b" >/dev/null || { echo "bench: ERROR: '$b' not found (run scripts/install-peers.sh as root)" >&2; exit 1; }
done
[ -x /usr/bin/python3 ] || { echo "bench: ERROR: /usr/bin/python3 not found" >&2; exit 1; }

if [ -n "${GHMICONS_BIN_DIR:-}" ] && [ -x "$GHMICONS_BIN_DIR/ghmicons" ] &&
   [ -x "$GHMICONS_BIN_DIR/fakebmc" ] && [ -x "$GHMICONS_BIN_DIR/impairproxy" ]; then
    BIN=$GHMICONS_BIN_DIR
else
    GO=$(command -v go || echo /usr/local/go/bin/go)
    [ -x "$GO" ] || { echo "bench: ERROR: go not found" >&2; exit 1; }
    for p in cmd/ghmicons cmd/fakebmc scripts/bench/impairproxy; do
        (cd "$ROOT" && "$GO" build -o "$BUILD/$(basename "$p")" "./$p") ||
            { echo "bench: ERROR: go build ./$p failed" >&2; exit 1; }
    done
    BIN=$BUILD
fi

set +e
BENCH_BIN=$BIN /usr/bin/python3 "$HERE/bench.py"
rc=$?
set -e
exit $rc
