#!/bin/sh
# Issue 16 item 1 on a real full disk: a 64 KiB tmpfs, mounted in a mount
# namespace of this script's own (so nothing outlives it). fltsim import and
# a trace written there fail with "No space left on device" and exit status
# 4, the earlier file stays as it was and no temporary file is left. Skipped
# (77) where it cannot mount: not root, or no unshare.
# usage: outputs_full_disk.sh FLTSIM WORKDIR
set -u
fltsim=$1 work=$2
if [ -z "${FLTSIM_FULL_DISK_NS:-}" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1 ||
     ! unshare -m true 2>/dev/null; then
    echo "skipped: mounting a small tmpfs needs root and unshare -m"
    exit 77
  fi
  FLTSIM_FULL_DISK_NS=1 exec unshare -m sh "$0" "$@"
fi
rm -rf "$work"
mkdir -p "$work/disk"
cd "$work" || exit 1
if ! mount -t tmpfs -o size=64k fltsim-full disk 2>/dev/null; then
  echo "skipped: cannot mount a tmpfs here"
  exit 77
fi
fail=0
printf '"Time of Day","Process Name","PID","Operation","Path","Result","Detail"\r\n' > c.csv
awk 'BEGIN { for (i = 0; i < 500; i++)
  printf "\"1:00:00 AM\",\"a.exe\",\"10\",\"CreateFile\",\"C:\\d\\f%d.txt\",\"SUCCESS\",\"Desired Access: Generic Read, Disposition: Open, Options: , Attributes: n/a, ShareMode: Read, AllocationSize: n/a, OpenResult: Opened\"\r\n", i }' >> c.csv
echo "the scenario written before" > disk/out.yaml
echo "the trace written before" > disk/trace.txt
# Most of the disk taken: what is left holds a few KiB.
dd if=/dev/zero of=disk/filler bs=1024 count=48 2>/dev/null

out=$("$fltsim" import --no-progress c.csv -o disk/out.yaml 2>&1); got=$?
if [ "$got" -ne 4 ] || ! printf '%s\n' "$out" | grep -qF "cannot write disk/out.yaml: No space left on device" ||
   printf '%s\n' "$out" | grep -qF "steps from"; then
  echo "FAIL: import onto a full disk -> exit $got: $out"; fail=1
fi
[ "$(cat disk/out.yaml)" = "the scenario written before" ] || { echo "FAIL: disk/out.yaml changed"; fail=1; }
out=$("$fltsim" replay --no-progress --trace text --trace-out disk/trace.txt c.csv 2>&1); got=$?
if [ "$got" -ne 4 ] || ! printf '%s\n' "$out" | grep -qF "cannot write the trace to 'disk/trace.txt': No space left on device"; then
  echo "FAIL: a trace onto a full disk -> exit $got: $out"; fail=1
fi
[ "$(cat disk/trace.txt)" = "the trace written before" ] || { echo "FAIL: disk/trace.txt changed"; fail=1; }
left=$(ls -A disk | grep -v '^\(out.yaml\|trace.txt\|filler\)$')
[ -z "$left" ] || { echo "FAIL: left on the disk: $left"; fail=1; }
umount disk
exit $fail
