#!/bin/sh
# Runs a command over a real Process Monitor capture, or skips (exit status
# 77, ctest's SKIP_RETURN_CODE for these entries) with the reason when the
# capture is absent: the real captures live outside the repository.
# usage: real_capture.sh CAPTURE COMMAND...
capture=$1
shift
if [ ! -f "$capture" ]; then
  echo "skipped: $capture is absent (the real captures are procmon-parser's test resources," \
       "see ../shared/TRACES.md; point cmake at them with -DFLTSIM_TRACES_DIR=DIR)"
  exit 77
fi
exec "$@"
