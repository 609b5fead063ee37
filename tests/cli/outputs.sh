#!/bin/sh
# Nothing the user owns is lost (issue 16 item 1): an output that is one of
# the command's inputs (by device and inode: a symbolic or hard link counts)
# is refused with exit status 2 and the input left as it was; a golden trace
# that is its own scenario is an invalid scenario (3); a write that fails (a
# file-size limit, /dev/full, a reader that has gone) is an error naming the
# output with exit status 4, and the file it would have replaced is left as it
# was, with no temporary file behind.
# usage: outputs.sh FLTSIM SCENARIOS_DIR WORKDIR
set -u
fltsim=$1 scenarios=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
fail=0
expect() { # expect STATUS PATTERN -- command...
  want=$1 pattern=$2; shift 3
  out=$("$@" 2>&1); got=$?
  if [ "$got" -ne "$want" ] || ! printf '%s\n' "$out" | grep -qF -- "$pattern"; then
    echo "FAIL: $* -> exit $got (wanted $want and '$pattern'), output:"; printf '%s\n' "$out"
    fail=1
  fi
}
unchanged() { # unchanged FILE COPY: FILE still holds what COPY does (else restored)
  if ! cmp -s "$1" "$2"; then echo "FAIL: $1 was changed"; fail=1; rm -f "$1"; cp "$2" "$1"; fi
}
no_temp() { # no temporary file left in the work directory
  left=$(ls -A . | grep '\.tmp$')
  if [ -n "$left" ]; then echo "FAIL: temporary files left: $left"; fail=1; rm -f $left; fi
}

cp "$scenarios/passthrough.yaml" "$scenarios/passthrough.trace" .
cp passthrough.yaml scenario.orig
cp passthrough.trace golden.orig
printf '"Time of Day","Process Name","PID","Operation","Path","Result","Detail"\r\n' > c.csv
awk 'BEGIN { for (i = 0; i < 2000; i++)
  printf "\"1:00:00 AM\",\"a.exe\",\"10\",\"CreateFile\",\"C:\\d\\f%d.txt\",\"SUCCESS\",\"Desired Access: Generic Read, Disposition: Open, Options: , Attributes: n/a, ShareMode: Read, AllocationSize: n/a, OpenResult: Opened\"\r\n", i }' >> c.csv
cp c.csv capture.orig
ln -s passthrough.yaml scenario.link
ln passthrough.yaml scenario.hard
ln -s c.csv capture.link

# An output that is an input: refused before anything is written.
expect 2 "'passthrough.yaml' is the same file as the scenario 'passthrough.yaml'" -- \
  "$fltsim" run --trace text --trace-out passthrough.yaml passthrough.yaml
expect 2 "is the same file as the scenario" -- "$fltsim" run --trace-out passthrough.yaml passthrough.yaml
expect 2 "'scenario.link' is the same file as the scenario" -- \
  "$fltsim" run --trace text --trace-out scenario.link passthrough.yaml
expect 2 "'scenario.hard' is the same file as the scenario" -- \
  "$fltsim" run --trace jsonl --trace-out scenario.hard passthrough.yaml
unchanged passthrough.yaml scenario.orig
expect 2 "is the same file as the golden trace of passthrough.yaml" -- \
  "$fltsim" run --trace normalized --trace-out passthrough.trace passthrough.yaml
unchanged passthrough.trace golden.orig
expect 2 "'c.csv' is the same file as the capture 'c.csv'" -- \
  "$fltsim" import --no-progress c.csv -o c.csv
expect 2 "'capture.link' is the same file as the capture 'c.csv'" -- \
  "$fltsim" import --no-progress c.csv -o capture.link
expect 2 "'c.csv' is the same file as the capture 'c.csv'" -- \
  "$fltsim" replay --no-progress --trace text --trace-out c.csv c.csv
unchanged c.csv capture.orig

# A golden trace that is its own scenario: invalid, and never overwritten.
sed 's/^golden: .*/golden: self.yaml/' passthrough.yaml > self.yaml
cp self.yaml self.orig
expect 3 "self.yaml:8:9: golden 'self.yaml' is the scenario file itself" -- \
  "$fltsim" run --update-golden self.yaml
unchanged self.yaml self.orig

# A failed write (here a file-size limit of 2 KiB) leaves the target whole.
expect 4 "golden trace $work/passthrough.trace cannot be written: File too large" -- \
  sh -c 'ulimit -f 4; exec "$@"' sh "$fltsim" run --update-golden passthrough.yaml
unchanged passthrough.trace golden.orig
echo "a scenario written before" > imported.yaml
cp imported.yaml imported.orig
expect 4 "File too large (imported.yaml is not written)" -- \
  sh -c 'ulimit -f 4; exec "$@"' sh "$fltsim" import --no-progress c.csv -o imported.yaml
unchanged imported.yaml imported.orig
expect 4 "cannot write the trace to 'trace.txt': File too large" -- \
  sh -c 'ulimit -f 4; exec "$@"' sh "$fltsim" run --trace text --trace-out trace.txt passthrough.yaml
[ -e trace.txt ] && { echo "FAIL: trace.txt written in part"; fail=1; }
no_temp
# A capture that cannot be read: the earlier scenario stays.
printf '"Time of Day","Path"\r\n' > bad.csv
expect 3 "Operation" -- "$fltsim" import --no-progress bad.csv -o imported.yaml
unchanged imported.yaml imported.orig

# Devices and standard output: an error naming the output, exit status 4.
# The device is reached through a link of the work directory, so that a
# program that removes a failed output (as fltsim once did) removes the link.
[ -c /dev/full ] || { echo "no /dev/full: the rest is not checked"; exit $fail; }
ln -s /dev/full full
expect 4 "cannot write the trace to 'full': No space left on device" -- \
  "$fltsim" run --trace text --trace-out full passthrough.yaml
expect 4 "cannot write full: No space left on device" -- \
  "$fltsim" import --no-progress c.csv -o full
out=$("$fltsim" replay --no-progress c.csv 2>&1 >/dev/full); got=$?
if [ "$got" -ne 4 ] || ! printf '%s\n' "$out" | grep -qF "error writing standard output: No space left on device"; then
  echo "FAIL: replay > /dev/full -> exit $got: $out"; fail=1
fi
out=$("$fltsim" run passthrough.yaml 2>&1 >/dev/full); got=$?
if [ "$got" -ne 4 ] || ! printf '%s\n' "$out" | grep -qF "error writing standard output"; then
  echo "FAIL: run > /dev/full -> exit $got: $out"; fail=1
fi
out=$("$fltsim" run --trace text passthrough.yaml 2>&1 >/dev/full); got=$?
[ "$got" -eq 4 ] || { echo "FAIL: run --trace text > /dev/full -> exit $got: $out"; fail=1; }
# A reader that has gone (SIGPIPE is ignored: EPIPE is a write error).
( "$fltsim" replay --no-progress --trace text c.csv 2>epipe.err; echo $? > epipe.status ) | true
if [ "$(cat epipe.status)" -ne 4 ] || ! grep -qF "error writing standard output: Broken pipe" epipe.err; then
  echo "FAIL: replay | true -> exit $(cat epipe.status): $(tail -n 3 epipe.err)"; fail=1
fi

# What goes well: outputs written whole, a link stays a link, a mode stays.
expect 0 "2000 steps" -- "$fltsim" import --no-progress c.csv -o imported.yaml
expect 0 "PASS" -- "$fltsim" run --trace text --trace-out trace.txt imported.yaml
echo old > kept.txt
chmod 640 kept.txt
ln -s kept.txt kept.link
expect 0 "" -- "$fltsim" run -q --trace text --trace-out kept.link passthrough.yaml
if [ ! -L kept.link ] || ! grep -q "PassThrough" kept.txt || [ "$(stat -c %a kept.txt)" != 640 ]; then
  echo "FAIL: --trace-out through a link: link $(ls -l kept.link), mode $(stat -c %a kept.txt)"
  fail=1
fi
expect 0 "golden trace written" -- "$fltsim" run --update-golden passthrough.yaml
unchanged passthrough.trace golden.orig
no_temp
exit $fail
