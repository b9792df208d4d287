#!/usr/bin/env bash
# Interop: one fakebmc process serving a rack of BMCs from a TOML
# configuration (fakebmc --config), and the peer clients ipmitool and
# FreeIPMI (ipmi-chassis, ipmipower, ipmiconsole) against several of its
# BMCs at once: power, boot device, SOL on two BMCs at the same time with
# their output checked, a shipmi provider driving shell scripts whose
# effects are checked, a serial port reached as a chardev client
# (unix-connect:) served by a program that restarts, and a SIGHUP reload
# that adds a BMC while a console stays attached to another.
#
#   scripts/interop-rack.sh
#
# Builds cmd/fakebmc (or uses $GHMICONS_BIN_DIR/fakebmc). Exit status 0
# only if every check passed; a missing peer fails. KEEP_WORK=1 keeps the
# logs. Takes about a minute.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib-interop.sh
. "$HERE/lib-interop.sh"

T_START=$(now)
WORK=$(mktemp -d /tmp/interop-rack.XXXXXX)

finish() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    exec 7>&- 8>&- 2>/dev/null
    kill_tracked
    finish_report interop-rack "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

[ -x /usr/bin/python3 ] || die "/usr/bin/python3 not found"
need_cmd ipmitool ipmi-chassis ipmipower ipmiconsole script timeout mkfifo awk grep
find_bins fakebmc
FB=$BIN_fakebmc

read -r P1 P2 P3 P4 < <(free_ports 4)
log "ports: vm1 $P1, vm2 $P2, vm3 $P3 (shipmi provider), vm4 $P4 (added by reload); work dir $WORK"

# ---- the rack ----------------------------------------------------------------
mkdir -p "$WORK/providers"
printf 'password\n' >"$WORK/admin.pw"
# A shipmi provider as shipmi documents them, with a script by a relative
# path (resolved against the provider's folder) keeping the VM's state in
# files next to it: the files the Go tests use.
cp "$ROOT/internal/fakebmccli/testdata/shipmi/vm.conf" "$ROOT/internal/fakebmccli/testdata/shipmi/vm.sh" "$WORK/providers/"
chmod +x "$WORK/providers/vm.sh"
printf '[CONSOLE]\nserial=unix-connect:%s/%%(name)s.sock\n' "$WORK" >>"$WORK/providers/vm.conf"
echo stopped >"$WORK/providers/vm3.state"
echo hd >"$WORK/providers/vm3.boot"

bmc() { # bmc NAME PORT [EXTRA]: a [[bmc]] entry
    printf '[[bmc]]\nname = "%s"\nlisten = "127.0.0.1:%s"\n%s\n' "$1" "$2" "${3:-}"
}
rack_conf() {
    cat <<EOF
[defaults]
users = [{ name = "admin", password_file = "admin.pw" }]
cipher_suites = [3, 17]
serial = "exec:echo banner-{name}; exec cat"

EOF
    bmc vm1 "$P1"
    bmc vm2 "$P2"
    bmc vm3 "$P3" 'provider = "providers/vm.conf"'
}
rack_conf >"$WORK/rack.toml"

# The chardev socket of vm3's console: a program that serves it as QEMU
# does (-serial unix:PATH,server=on,wait=off), prints a boot banner to whoever
# connects and echoes; it exits after its first client leaves, and is
# started again (the VM restarting).
cat >"$WORK/chardev.py" <<'EOF'
import os, socket, sys
path, banner = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(1)
c, _ = s.accept()
c.sendall(banner.encode() + b"\r\n")
while True:
    b = c.recv(4096)
    if not b:
        break
    c.sendall(b)
    if b"@@restart@@" in b:
        break
c.close(); s.close(); os.unlink(path)
EOF
chardev() {
    /usr/bin/python3 "$WORK/chardev.py" "$WORK/vm3.sock" "$1" >"$WORK/chardev.log" 2>&1 &
    CHPID=$!
    track_pid "$CHPID"
    wait_for 5 test -S "$WORK/vm3.sock" || die "the chardev server did not start"
}
chardev "chardev-boot-1"

run_cmd 20 "$FB" --config "$WORK/rack.toml" --list
R=0
[ $RC -eq 0 ] && grep -qE "^vm1 +127\.0\.0\.1 +$P1 +builtin +on" <<<"$OUT" &&
    grep -qE "^vm3 +127\.0\.0\.1 +$P3 +.*providers/vm\.conf +off +unix-connect:" <<<"$OUT" || R=1
check $R fakebmc - "--config --list (vm3's power from the provider)" "rc=$RC $(tr '\n' ';' <<<"$OUT" | tr -s ' ') $ERR"

"$FB" --config "$WORK/rack.toml" -v </dev/null >"$WORK/fakebmc.out" 2>"$WORK/fakebmc.log" &
FBPID=$!
track_pid "$FBPID"
started() { grep -q 'rack of 3 BMCs serving' "$WORK/fakebmc.log" || ! kill -0 "$FBPID" 2>/dev/null; }
wait_for 10 started && grep -q 'rack of 3 BMCs serving' "$WORK/fakebmc.log" ||
    die "fakebmc did not start: $(cat "$WORK/fakebmc.log")"

export IPMI_PASSWORD=password
# it PORT ARGS...: ipmitool against one BMC of the rack, through run_cmd
it() { local port=$1; shift; run_cmd 20 ipmitool -I lanplus -H 127.0.0.1 -p "$port" -U admin -E -C 17 "$@"; }

# ---- power: every BMC at once ---------------------------------------------------
pids=()
for p in "$P1" "$P2" "$P3"; do
    timeout 20 ipmitool -I lanplus -H 127.0.0.1 -p "$p" -U admin -E -C 17 chassis power status \
        >"$WORK/status.$p" 2>&1 </dev/null &
    pids+=($!)
done
wait "${pids[@]}" || true
got="$(cat "$WORK/status.$P1") / $(cat "$WORK/status.$P2") / $(cat "$WORK/status.$P3")"
R=0; [ "$got" = "Chassis Power is on / Chassis Power is on / Chassis Power is off" ] || R=1
check $R ipmitool 17 "power status of 3 BMCs at once" "$got"

it "$P1" chassis power off
it "$P1" chassis power status
a=$OUT
it "$P2" chassis power status
R=0; [ "$a" = "Chassis Power is off" ] && [ "$OUT" = "Chassis Power is on" ] || R=1
check $R ipmitool 17 "power off vm1 leaves vm2 on" "vm1 '$a', vm2 '$OUT'"

run_cmd 20 ipmi-chassis -h "127.0.0.1:$P2" -u admin -p password -D LAN_2_0 -I 17 --get-chassis-status
R=0; [ $RC -eq 0 ] && grep -qE '^System Power +: on' <<<"$OUT" || R=1
check $R ipmi-chassis 17 "vm2 chassis status" "rc=$RC $(grep 'System Power' <<<"$OUT" | tr -s ' ') $ERR"

run_cmd 30 ipmipower -h "127.0.0.1:$P1" -u admin -p password -D LAN_2_0 -I 17 --on
run_cmd 30 ipmipower -h "127.0.0.1:$P3" -u admin -p password -D LAN_2_0 -I 17 --on
on3=$(cat "$WORK/providers/vm3.state" 2>/dev/null || true)
run_cmd 30 ipmipower -h "127.0.0.1:$P1" -u admin -p password -D LAN_2_0 -I 17 --stat
s1=$OUT
run_cmd 30 ipmipower -h "127.0.0.1:$P3" -u admin -p password -D LAN_2_0 -I 17 --stat
R=0; grep -q ': on' <<<"$s1" && grep -q ': on' <<<"$OUT" && [ "$on3" = running ] || R=1
check $R ipmipower 17 "power on vm1 (builtin) and vm3 (provider)" "vm1 '$s1', vm3 '$OUT', vm3 script state '$on3'"

# ---- boot device ------------------------------------------------------------------
it "$P3" chassis bootdev pxe
boot3=$(cat "$WORK/providers/vm3.boot")
it "$P3" chassis bootparam get 5
R=0; [ "$boot3" = network ] && grep -q 'Force PXE' <<<"$OUT" || R=1
check $R ipmitool 17 "bootdev pxe via the shipmi provider" "script got '$boot3'; bootparam: $(grep 'Boot Device Selector' <<<"$OUT" | tr -s ' ') $ERR"

echo optical >"$WORK/providers/vm3.boot"
it "$P3" chassis bootparam get 5
R=0; grep -q 'Force Boot from CD/DVD' <<<"$OUT" || R=1
check $R ipmitool 17 "boot device read from the provider's get" "$(grep 'Boot Device Selector' <<<"$OUT" | tr -s ' ') $ERR"

it "$P3" chassis bootdev bios
# (ipmitool reports the refusal but exits 0.)
R=0; grep -q 'Invalid data field in request' <<<"$ERR$OUT" && [ "$(cat "$WORK/providers/vm3.boot")" = optical ] || R=1
check $R ipmitool 17 "bootdev bios refused (shipmi has no name for it)" "rc=$RC $ERR"

it "$P2" chassis bootdev cdrom
it "$P2" chassis bootparam get 5
R=0; grep -q 'Force Boot from CD/DVD' <<<"$OUT" || R=1
check $R ipmitool 17 "bootdev cdrom on vm2 (builtin)" "$(grep 'Boot Device Selector' <<<"$OUT" | tr -s ' ') $ERR"

# (FreeIPMI's --set-boot-flags is not used: against fakebmc it fails in the
# client, "invalid parameters", the same with a single BMC; see
# docs/fakebmc-rack.md.)
run_cmd 20 ipmi-chassis -h "127.0.0.1:$P2" -u admin -p password -D LAN_2_0 -I 17 --get-boot-flags
R=0; grep -qiE 'Boot device selector +: Force boot from .*CD/DVD' <<<"$OUT" || R=1
check $R ipmi-chassis 17 "vm2's boot flags as ipmitool set them" "$(grep -i 'Boot device selector' <<<"$OUT" | tr -s ' ') $ERR"

# ---- SOL on two BMCs at once ------------------------------------------------------------
# sol_start NAME FD CMD: CMD under script, keystrokes from a FIFO on fd FD
sol_start() {
    local name=$1 fd=$2 cmd=$3
    rm -f "$WORK/$name.fifo"; mkfifo "$WORK/$name.fifo"
    eval "exec $fd<>\"\$WORK/\$name.fifo\""
    timeout -k 5 120 script -qefc "$cmd" /dev/null <"$WORK/$name.fifo" \
        >"$WORK/$name.cap" 2>"$WORK/$name.err" 7>&- 8>&- &
    eval "SOLPID_$name=$!"
    track_pid "$!"
}
cap_has() { grep -aqF -- "$2" "$WORK/$1.cap"; }

sol_start it 7 "ipmitool -I lanplus -H 127.0.0.1 -p $P1 -U admin -P password -C 17 sol activate"
sol_start ic 8 "ipmiconsole -h 127.0.0.1:$P2 -u admin -p password -I 17"
wait_for 20 cap_has it "[SOL Session operational" || true
wait_for 20 cap_has ic "[SOL established]" || true
R=0; cap_has it "[SOL Session operational" && cap_has ic "[SOL established]" || R=1
check $R "ipmitool+ipmiconsole" 17 "sol activate on vm1 and vm2 at once" "ipmitool: $(head -c 80 "$WORK/it.cap" | tr -d '\r' | tr '\n' ' '); ipmiconsole: $(head -c 80 "$WORK/ic.cap" | tr -d '\r' | tr '\n' ' ')"

# Each console sees its own machine: the banner it printed before any
# console was attached (the history, replayed on activation; vm1 printed
# it twice: once at start, once when powered on again), and what it types.
t1="typed-vm1-$RANDOM$RANDOM" t2="typed-vm2-$RANDOM$RANDOM"
printf '%s\r' "$t1" >&7
printf '%s\r' "$t2" >&8
wait_for 10 cap_has it "$t1" || true
wait_for 10 cap_has ic "$t2" || true
R=0
cap_has it banner-vm1 && cap_has it "$t1" && ! cap_has it banner-vm2 && ! cap_has it "$t2" &&
    cap_has ic banner-vm2 && cap_has ic "$t2" && ! cap_has ic banner-vm1 && ! cap_has ic "$t1" || R=1
check $R "ipmitool+ipmiconsole" 17 "each console sees its own BMC's output" "vm1: $(tr -d '\r' <"$WORK/it.cap" | tr '\n' ' ' | cut -c1-100); vm2: $(tr -d '\r' <"$WORK/ic.cap" | tr '\n' ' ' | cut -c1-100)"

# ---- reload while the consoles stay attached --------------------------------------
{ rack_conf; bmc vm4 "$P4" 'serial = "demo"'; } >"$WORK/rack.toml"
kill -HUP "$FBPID"
reloaded() { grep -q 'reloaded .*1 added, 0 removed, 0 changed, 3 unchanged' "$WORK/fakebmc.log"; }
wait_for 10 reloaded || true
it "$P4" chassis power status
R=0; reloaded && [ "$OUT" = "Chassis Power is on" ] || R=1
check $R fakebmc - "SIGHUP adds vm4" "$(grep 'reload' "$WORK/fakebmc.log" | tail -1); vm4 '$OUT' $ERR"
t3="after-reload-$RANDOM"
printf '%s\r' "$t3" >&7
wait_for 10 cap_has it "$t3" || true
R=0; cap_has it "$t3" || R=1
check $R ipmitool 17 "vm1's console works across the reload" "$(tail -c 60 "$WORK/it.cap" | tr -d '\r' | tr '\n' ' ')"

printf '~.' >&7
printf '&.' >&8
gone() { ! kill -0 "$SOLPID_it" 2>/dev/null && ! kill -0 "$SOLPID_ic" 2>/dev/null; }
wait_for 15 gone || true
R=0; gone || R=1
check $R "ipmitool+ipmiconsole" 17 "both consoles quit" "$(tail -c 40 "$WORK/it.cap" | tr -d '\r' | tr '\n' ' ') / $(tail -c 40 "$WORK/ic.cap" | tr -d '\r' | tr '\n' ' ')"
exec 7>&- 8>&-

# ---- vm3's console: a chardev client across a VM restart ------------------------------
sol_start c3 7 "ipmitool -I lanplus -H 127.0.0.1 -p $P3 -U admin -P password -C 17 sol activate"
wait_for 20 cap_has c3 "chardev-boot-1" || true
R=0; cap_has c3 "chardev-boot-1" || R=1
check $R ipmitool 17 "vm3 console from the chardev socket (unix-connect:)" "$(tr -d '\r' <"$WORK/c3.cap" | tr '\n' ' ' | cut -c1-100)"
printf '@@restart@@\r' >&7
chardev_gone() { ! kill -0 "$CHPID" 2>/dev/null; }
wait_for 10 chardev_gone || true
chardev "chardev-boot-2"
wait_for 20 cap_has c3 "chardev-boot-2" || true
t4="typed-vm3-$RANDOM$RANDOM"
printf '%s\r' "$t4" >&7
wait_for 10 cap_has c3 "$t4" || true
R=0; cap_has c3 "chardev-boot-2" && cap_has c3 "$t4" || R=1
check $R ipmitool 17 "vm3 console after the VM restarted (reconnected)" "$(tr -d '\r' <"$WORK/c3.cap" | tr '\n' ' ' | tail -c 120)"
printf '~.' >&7
exec 7>&-

# ---- vm4: the demo host, added by the reload -----------------------------------------
sol_start c4 7 "ipmitool -I lanplus -H 127.0.0.1 -p $P4 -U admin -P password -C 17 sol activate"
wait_for 20 cap_has c4 "demo login: " || true
printf 'root\r' >&7
wait_for 10 cap_has c4 "Password: " || true
printf 'x\r' >&7
wait_for 10 cap_has c4 "root@demo:~# " || true
printf 'echo rack-%s\r' "$P4" >&7
wait_for 10 cap_has c4 "rack-$P4"$'\r' || true
R=0; cap_has c4 "Boot device: disk" && cap_has c4 "root@demo:~# " && cap_has c4 "rack-$P4"$'\r' || R=1
check $R ipmitool 17 "vm4's demo host: boot log (history), login, shell" "$(tr -d '\r' <"$WORK/c4.cap" | tr '\n' ' ' | tail -c 120)"
printf '~.' >&7
exec 7>&-

calls=$(tr '\n' ';' <"$WORK/providers/calls")
R=0; grep -q 'start vm3' <<<"$calls" && grep -q 'bootset vm3 network' <<<"$calls" && grep -q 'status vm3' <<<"$calls" || R=1
check $R shipmi - "provider scripts ran in the provider's folder" "$calls"

R=0; kill -0 "$FBPID" 2>/dev/null || R=1
check $R fakebmc - "still running" "pid $FBPID"
