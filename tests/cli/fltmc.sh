#!/bin/sh
# The fltmc view on the command line (issue 19 item 4): scenarios/fltmc.yaml's
# `fltmc:` steps print the tables at their point, exactly, under both
# executors, -q or not; `run --fltmc VIEWS` prints them once the steps are
# done; a view that does not exist is a usage error (2).
# usage: fltmc.sh FLTSIM SCENARIOS_DIR WORKDIR
set -u
fltsim=$1 scenarios=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
fail=0
cat > "$work/want" <<'END'
fltmc.yaml:23: step 1: fltmc filters

Filter Name                     Num Instances    Altitude    Frame
------------------------------  -------------  ------------  -----
ActivityLogger                          2       385100         0
fltmc.yaml:27: step 5: fltmc filters

Filter Name                     Num Instances    Altitude    Frame
------------------------------  -------------  ------------  -----
ActivityLogger                          2       385100         0
PassThrough                             2       370030         0
fltmc.yaml:28: step 6: fltmc instances

Filter                Volume Name                              Altitude        Instance Name       Frame
--------------------  -------------------------------------  ------------  ----------------------  -----
ActivityLogger        C:                                        385100     ActivityLogger Instance    0
ActivityLogger        D:                                        385100     ActivityLogger Instance    0
PassThrough           C:                                        370030     PassThrough Instance      0
PassThrough           C:                                         45000     PassThrough Low           0
fltmc.yaml:29: step 7: fltmc volumes

Dos Name                        Volume Name                              FileSystem   Status
------------------------------  ---------------------------------------  ----------  --------
C:                              \Device\HarddiskVolume1                  NTFS
D:                              \Device\HarddiskVolume2                  NTFS
END
check() { # check NAME -- command...: exit 0 and standard output equal to $work/want
  name=$1; shift 2
  (cd "$scenarios" && "$@") > "$work/$name.out" 2> "$work/$name.err"; got=$?
  if [ "$got" -ne 0 ] || ! cmp -s "$work/want" "$work/$name.out"; then
    echo "FAIL: $name: $* -> exit $got; output differs:"
    diff "$work/want" "$work/$name.out"; cat "$work/$name.err"
    fail=1
  fi
}
check deterministic -- "$fltsim" run -q fltmc.yaml
check concurrent -- "$fltsim" run -q --concurrent fltmc.yaml

# --fltmc: the views after the last step, whatever the scenario says.
(cd "$scenarios" && "$fltsim" run -q --fltmc volumes,filters passthrough.yaml) > "$work/end.out"
got=$?
cat > "$work/end.want" <<'END'
passthrough.yaml: end of run: fltmc filters

Filter Name                     Num Instances    Altitude    Frame
------------------------------  -------------  ------------  -----
ActivityLogger                          1       385100         0
PassThrough                             1       370030         0
passthrough.yaml: end of run: fltmc volumes

Dos Name                        Volume Name                              FileSystem   Status
------------------------------  ---------------------------------------  ----------  --------
C:                              \Device\HarddiskVolume1                  NTFS
END
if [ "$got" -ne 0 ] || ! cmp -s "$work/end.want" "$work/end.out"; then
  echo "FAIL: run --fltmc volumes,filters -> exit $got; output differs:"
  diff "$work/end.want" "$work/end.out"; fail=1
fi
(cd "$scenarios" && "$fltsim" run -q --fltmc all passthrough.yaml) > "$work/all.out"
[ "$(grep -c ': end of run: fltmc ' "$work/all.out")" -eq 3 ] ||
  { echo "FAIL: --fltmc all does not print three views"; cat "$work/all.out"; fail=1; }

# Bad values: a usage error naming the value, nothing run.
for bad in drivers filters,,volumes "" filters,; do
  out=$("$fltsim" run --fltmc "$bad" "$scenarios/fltmc.yaml" 2>&1); got=$?
  case "$out" in
  *"--fltmc takes filters, instances or volumes (comma-separated) or all, not '$bad'"*) ok=1 ;;
  *) ok=0 ;;
  esac
  if [ "$got" -ne 2 ] || [ "$ok" -ne 1 ]; then
    echo "FAIL: run --fltmc '$bad' -> exit $got:"; printf '%s\n' "$out"; fail=1
  fi
done
exit $fail
