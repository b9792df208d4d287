#!/bin/sh
# chassis_control program for OpenIPMI ipmi_sim (ghmicons interop harness).
#
# ipmi_sim runs the configured command line through popen() (so /bin/sh -c)
# with the operation appended:
#     <cmd> get PARM [PARM...]        -> print one "PARM:VALUE" line per PARM
#     <cmd> set PARM "VALUE" [...]    -> store, print nothing, exit 0
#     <cmd> check PARM "VALUE" [...]  -> exit 0 (accept everything)
# PARM is one of: power (0|1), reset (1), shutdown (1),
# boot (none|pxe|default|cdrom|bios), identify ("INTERVAL FORCE").
#
# State lives in one file per PARM in the state directory, given either as the
# first argument (before get/set/check) or via $CHASSIS_STATE_DIR.
# Every call is appended to <statedir>/chassis.log.
#
# Side effects that model a machine: "set shutdown 1" powers off;
# "set reset 1" only counts resets (file reset_count) and leaves power alone.
# A non-zero exit makes ipmi_sim answer the IPMI command with 0xFF
# (unspecified error).
set -eu

dir=${CHASSIS_STATE_DIR:-}
case "${1:-}" in
    get|set|check|"") ;;
    *) dir=$1; shift ;;
esac
if [ -z "$dir" ]; then
    echo "chassis.sh: no state directory (argument or CHASSIS_STATE_DIR)" >&2
    exit 2
fi
mkdir -p "$dir"
op=${1:-}
[ $# -gt 0 ] && shift

echo "$(date +%H:%M:%S.%N) $op $*" >>"$dir/chassis.log"

default_of() {
    case "$1" in
        power) echo 1 ;;
        boot) echo none ;;
        identify) echo "0 0" ;;
        *) echo 0 ;;
    esac
}

readval() {
    if [ -f "$dir/$1" ]; then cat "$dir/$1"; else default_of "$1"; fi
}

writeval() {
    printf '%s\n' "$2" >"$dir/.$1.tmp"
    mv -f "$dir/.$1.tmp" "$dir/$1"
}

valid() {
    case "$1" in
        power|reset|shutdown) case "$2" in 0|1) return 0 ;; esac ;;
        boot) case "$2" in none|pxe|default|cdrom|bios) return 0 ;; esac ;;
        identify) case "$2" in *[!0-9\ ]*|"") ;; *) return 0 ;; esac ;;
    esac
    return 1
}

case "$op" in
    get)
        [ $# -gt 0 ] || { echo "chassis.sh: get needs a parameter" >&2; exit 2; }
        for p in "$@"; do
            case "$p" in
                power|reset|shutdown|boot|identify) ;;
                *) echo "chassis.sh: unknown parameter '$p'" >&2; exit 2 ;;
            esac
            # Every line must end in a newline: ipmi_sim's parser walks lines
            # with strchr('\n').
            printf '%s:%s\n' "$p" "$(readval "$p")"
        done
        ;;
    set|check)
        [ $# -ge 2 ] || { echo "chassis.sh: $op needs PARM VALUE" >&2; exit 2; }
        while [ $# -ge 2 ]; do
            p=$1; v=$2; shift 2
            if ! valid "$p" "$v"; then
                echo "chassis.sh: bad value '$v' for '$p'" >&2
                exit 2
            fi
            [ "$op" = check ] && continue
            case "$p" in
                power|boot|identify) writeval "$p" "$v" ;;
                shutdown) [ "$v" = 1 ] && writeval power 0 ;;
                reset)
                    n=$(cat "$dir/reset_count" 2>/dev/null || echo 0)
                    writeval reset_count $((n + 1)) ;;
            esac
        done
        [ $# -eq 0 ] || { echo "chassis.sh: dangling argument '$1'" >&2; exit 2; }
        ;;
    *)
        echo "usage: chassis.sh [STATEDIR] get PARM... | set PARM VALUE..." >&2
        exit 2
        ;;
esac
exit 0
