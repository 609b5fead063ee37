#!/bin/sh
# fltsim replay / import on the command line: usage errors exit 2 with the
# problem named, an unreadable or malformed capture exits 3 naming the place,
# a filter that is not in the catalog exits 4, a good capture exits 0 with its
# report, and --min-fidelity fails (1) when the fidelity is lower.
# usage: cli.sh FLTSIM WORKDIR
set -u
fltsim=$1 work=$2
mkdir -p "$work"
fail=0
expect() { # expect STATUS PATTERN -- command...
  want=$1 pattern=$2; shift 3
  out=$("$@" 2>&1); got=$?
  if [ "$got" -ne "$want" ] || ! printf '%s\n' "$out" | grep -qF -- "$pattern"; then
    echo "FAIL: $* -> exit $got (wanted $want), output:"; printf '%s\n' "$out"; fail=1
  fi
}
good="$work/good.csv" bad="$work/bad.csv"
printf '"Time of Day","Process Name","PID","Operation","Path","Result","Detail"\r\n' > "$good"
printf '"1:00:00 AM","a.exe","10","CreateFile","C:\\x.txt","NAME NOT FOUND","Desired Access: Generic Read, Disposition: Open, Options: , Attributes: n/a, ShareMode: Read, AllocationSize: n/a"\r\n' >> "$good"
printf '"1:00:00 AM","a.exe","10","CreateFile","C:\\secret.txt","SUCCESS","Desired Access: Generic Read, Disposition: Open, Options: , Attributes: n/a, ShareMode: Read, AllocationSize: n/a, OpenResult: Opened"\r\n' >> "$good"
printf '"Time of Day","Process Name","PID","Path","Result"\r\n"x","a.exe","1","C:\\x","SUCCESS"\r\n' > "$bad"

expect 0 "fidelity 100.0%" -- "$fltsim" replay --no-progress "$good"
expect 2 "needs a CAPTURE" -- "$fltsim" replay
expect 2 "--volume takes DRIVE=memfs" -- "$fltsim" replay --volume Q "$good"
expect 2 "--format takes csv, xml or pml" -- "$fltsim" replay --format json "$good"
expect 2 "needs -o SCENARIO.yaml" -- "$fltsim" import --no-progress "$good"
expect 3 "Operation" -- "$fltsim" replay --no-progress "$bad"
expect 3 "$work/missing.csv" -- "$fltsim" replay --no-progress "$work/missing.csv"
expect 4 "nosuch" -- "$fltsim" replay --no-progress --filter nosuch "$good"
expect 1 "below --min-fidelity" -- "$fltsim" replay --no-progress --filter accessblocker --min-fidelity 100 "$good"
expect 0 "replayed rows" -- "$fltsim" import --no-progress "$good" -o "$work/good.yaml"
expect 0 "PASS" -- "$fltsim" run "$work/good.yaml"
exit $fail
