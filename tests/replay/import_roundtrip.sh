#!/bin/sh
# fltsim import CAPTURE, then fltsim run on the scenario it wrote: every step
# must see the status the replay saw (issue 6: "replays identically").
# usage: import_roundtrip.sh FLTSIM CAPTURE WORKDIR
set -eu
fltsim=$1 capture=$2 work=$3
mkdir -p "$work"
scenario="$work/$(basename "$capture").yaml"
"$fltsim" import --no-progress "$capture" -o "$scenario"
"$fltsim" run "$scenario"
