#!/bin/sh
# Messages and exit statuses (issue 16 item 6): a directory given as a
# scenario is named as one (3); replay and import refuse a --filter altitude
# that is not a number as a bad command line (2) before reading anything;
# replay --help prints a plain percent sign; `fltsim help help` is help (0).
# (A byte that is not UTF-8 is placed by line and column in
# tests/scenarios/bad/not_utf8_line5.yaml.)
# usage: slips.sh FLTSIM WORKDIR
set -u
fltsim=$1 work=$2
rm -rf "$work"
mkdir -p "$work/adir"
fail=0
expect() { # expect STATUS PATTERN -- command...
  want=$1 pattern=$2; shift 3
  out=$("$@" 2>&1); got=$?
  if [ "$got" -ne "$want" ] || ! printf '%s\n' "$out" | grep -qF -- "$pattern"; then
    echo "FAIL: $* -> exit $got (wanted $want and '$pattern'), output:"; printf '%s\n' "$out"
    fail=1
  fi
}
expect 3 "$work/adir: is a directory; expected a scenario file (YAML)" -- "$fltsim" check "$work/adir"
expect 3 "$work/adir: is a directory" -- "$fltsim" run "$work/adir"
printf '"Time of Day","Process Name","PID","Operation","Path","Result","Detail"\r\n' > "$work/c.csv"
expect 2 "--filter antivirus@abc: the altitude is not a decimal number" -- \
  "$fltsim" replay --no-progress --filter antivirus@abc "$work/c.csv"
expect 2 "--filter antivirus@1.2.3: the altitude is not a decimal number" -- \
  "$fltsim" import --no-progress --filter antivirus@1.2.3 "$work/c.csv" -o "$work/x.yaml"
[ -e "$work/x.yaml" ] && { echo "FAIL: import wrote x.yaml"; fail=1; }
expect 0 "fidelity" -- "$fltsim" replay --no-progress --filter antivirus@328000.5 "$work/c.csv"
expect 0 "fewer than PCT% of replayed rows" -- "$fltsim" replay --help
if "$fltsim" replay --help | grep -qF '%%'; then echo "FAIL: replay --help prints %%"; fail=1; fi
expect 0 "2 for a bad command line" -- "$fltsim" help replay
expect 0 "usage: fltsim [COMMAND]" -- "$fltsim" help help
expect 2 "help: no command 'nosuch'" -- "$fltsim" help nosuch
exit $fail
