#!/bin/sh
# fltsim explore through the CLI: FLTSIM CORRECT_SCENARIO GENERATED_DIR
# (the buggy AntiVirus scenario is GENERATED_DIR/antivirus_bug1.yaml).
fltsim=$1 correct=$2 dir=$3
fail() { echo "FAIL: $*"; exit 1; }
out=$("$fltsim" explore "$correct") ; rc=$?
[ $rc -eq 0 ] || fail "correct AntiVirus: exit $rc, expected 0: $out"
echo "$out" | grep -q '^[0-9][0-9]* fault points, [0-9]* runs, 0 findings$' || fail "summary: $out"
out=$("$fltsim" explore "$dir/antivirus_bug1.yaml"); rc=$?
[ $rc -eq 1 ] || fail "buggy AntiVirus: exit $rc, expected 1: $out"
echo "$out" | grep -q 'FINDING  point [0-9]*: deferred_queue #1: verifier report: .*V23' ||
    fail "no deferred_queue #1 V23 finding: $out"
echo "$out" | grep -q ', 2 findings$' || fail "expected 2 findings: $out"
cmd=$(echo "$out" | grep -m1 'reproduce: fltsim run .*--inject-fault deferred_queue:1' |
      sed 's/^ *reproduce: fltsim //')
[ -n "$cmd" ] || fail "no reproduce command: $out"
# shellcheck disable=SC2086
err=$("$fltsim" $cmd 2>&1); rc=$?
[ $rc -eq 1 ] || fail "reproduce: exit $rc, expected 1: $err"
echo "$err" | grep -q 'actual \[V23\]' || fail "reproduce does not show the V23 report: $err"
"$fltsim" run --inject-fault nonsense:1 "$correct" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "bad --inject-fault: exit $rc, expected 2"
"$fltsim" explore "$correct" "$correct" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "two files: exit $rc, expected 2"
"$fltsim" explore --help | grep -q 'usage: fltsim explore' || fail "--help"
echo "explore CLI: ok"
