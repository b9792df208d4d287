#!/usr/bin/env bash
# Install the peer tools used by the interop harness (ipmi_sim BMC, client
# implementations, console helpers), and what CI checks the man pages and
# shell completion with (groff, man-db, mandoc, zsh).  Idempotent; safe to
# re-run.
#
# Installing conserver-server runs its maintainer scripts, which try to start
# the conserver service.  In a container without systemd/init that can fail, so
# while installing we make sure /usr/sbin/policy-rc.d denies service starts
# (exit 101).  An existing policy-rc.d is left untouched; one we create is
# removed again on exit.
set -euo pipefail

PKGS=(openipmi ipmitool freeipmi-tools conserver-server conserver-client
      python3-pyghmi tmux socat tcpdump openssh-server openssh-client
      groff-base man-db mandoc zsh powerman conman)

die() { echo "install-peers: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

export DEBIAN_FRONTEND=noninteractive

# Install only what is missing; the checks below always run.
missing=()
for p in "${PKGS[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-peers: all packages already installed: ${PKGS[*]}"
else
    echo "install-peers: need to install: ${missing[*]}"

    apt-get update

    # Every package must have an install candidate; fail loudly otherwise.
    nocand=()
    for p in "${missing[@]}"; do
        cand=$(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')
        if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then nocand+=("$p"); fi
    done
    [ "${#nocand[@]}" -eq 0 ] || die "no install candidate for: ${nocand[*]}"

    POLICY=/usr/sbin/policy-rc.d
    created_policy=0
    cleanup() {
        if [ "$created_policy" -eq 1 ]; then rm -f "$POLICY"; fi
    }
    trap cleanup EXIT
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\n# temporary, created by ghmicons install-peers.sh\nexit 101\n' >"$POLICY"
        chmod 755 "$POLICY"
        created_policy=1
    fi

    apt-get install -y --no-install-recommends "${missing[@]}"
    cleanup
    created_policy=0
fi

# Verify the binaries we rely on are present.
for b in ipmi_sim ipmitool ipmi-chassis ipmi-config ipmiconsole conserver console conmand conman tmux socat tcpdump ssh ssh-keygen \
         groff man mandoc zsh pm; do
    command -v "$b" >/dev/null || die "expected binary '$b' not found after install"
done
# sshd is run by scripts/interop-sshd.sh as an exec host (sshd -i), never as
# a service; /usr/sbin may not be in PATH.
[ -x /usr/sbin/sshd ] || die "expected /usr/sbin/sshd (openssh-server) not found after install"
# powermand is run by scripts/interop-powerman.sh in the foreground, never as
# a service.
[ -x /usr/sbin/powermand ] || die "expected /usr/sbin/powermand (powerman) not found after install"
/usr/bin/python3 -c 'import pyghmi.ipmi.command' || die "python3-pyghmi not importable by /usr/bin/python3 (Debian's python; a pyenv python3 earlier in PATH will not see it)"

# A conserver daemon must not have been left running by the install.
if pgrep -x conserver >/dev/null; then
    echo "install-peers: WARNING: a conserver daemon is running (started by the package?)" >&2
fi
echo "install-peers: done"
