#!/bin/sh
# vm.sh ACTION NAME [ARG]: a pretend hypervisor keeping state in files.
act=$1 name=$2
echo "$act $name $3" >>calls
case $act in
start) echo running >"$name.state" ;;
stop) echo stopped >"$name.state" ;;
reset) echo reset >>"$name.resets" ;;
status) cat "$name.state" ;;
bootset) echo "$3" >"$name.boot" ;;
bootget) cat "$name.boot" ;;
esac
