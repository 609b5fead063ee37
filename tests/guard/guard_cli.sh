#!/bin/sh
# Crash and hang reports of fltsim run and replay (issue 16): a filter
# (tests/fixtures/misbehave.c) that segfaults in a pre, aborts in a post,
# overflows its stack, spins in a pre, never completes a read it pended, or
# waits on a KEVENT nobody sets. Each must end in a report naming the
# filter, the callback, the operation and the scenario step, with exit
# status 5 (a crash) or 1 and a FAIL line (a watchdog or a deadlock).
# usage: guard_cli.sh FLTSIM MISBEHAVE_SO WORKDIR
set -u
fltsim=$1 so=$2 work=$3
mkdir -p "$work"
fail=0

# scenario NAME FILE STEPS...: a scenario with C:\FILE and Misbehave loaded,
# whose steps open it (step 1, line 14) then do what follows.
scenario() {
  name=$1 file=$2 more=$3
  cat > "$work/$name.yaml" <<YAML
scenario: Misbehave on $file
volumes:
  - drive: C
    files:
      - path: \\$file
        data: "hello"
filters:
  - name: Misbehave
    object: $so
    altitude: 123000
steps:
  - op: open
    handle: h
    path: C:\\$file
$more
YAML
}

# expect STATUS NAME [PATTERN...] -- COMMAND...: the exit status, and every
# pattern in what it printed.
expect() {
  want=$1 name=$2; shift 2
  patterns=""
  while [ "$1" != "--" ]; do patterns="$patterns
$1"; shift; done
  shift
  start=$(date +%s)
  out=$("$@" 2>&1); got=$?
  took=$(( $(date +%s) - start ))
  ok=1
  [ "$got" -eq "$want" ] || ok=0
  printf '%s\n' "$patterns" | while IFS= read -r p; do
    [ -z "$p" ] && continue
    printf '%s\n' "$out" | grep -qF -- "$p" || { echo "  missing: $p"; exit 1; }
  done || ok=0
  if [ $ok -eq 0 ]; then
    echo "FAIL: $name: exit $got (wanted $want) after ${took}s, output:"
    printf '%s\n' "$out"
    fail=1
  else
    echo "ok: $name (exit $got, ${took}s)"
  fi
}

read_step='  - op: read
    handle: h
    offset: 0
    length: 5'

scenario segv segv.txt ""
scenario abort abort.txt "$read_step"
scenario overflow overflow.txt ""
scenario spin spin.txt ""
scenario event event.txt ""
scenario pend pend.txt "  - op: read
    id: r1
    handle: h
    offset: 0
    length: 5
    nowait: true"
scenario pendunload pend.txt "  - op: read
    id: r1
    handle: h
    offset: 0
    length: 5
    thread: app
    nowait: true
  - unload: Misbehave
threads: [{name: app}]"

for ex in deterministic concurrent; do
  expect 5 "segv in a pre ($ex)" "filter code crashed: SIGSEGV" "filter:    Misbehave" \
    "callback:  pre-operation callback" "IRP_MJ_CREATE \\segv.txt" "segv.yaml, step 1 (open) at line 12" \
    "FAIL  $work/segv.yaml" -- "$fltsim" run --executor $ex "$work/segv.yaml"
  expect 5 "abort in a post ($ex)" "filter code crashed: SIGABRT" "filter:    Misbehave" \
    "callback:  post-operation callback" "IRP_MJ_READ \\abort.txt" "abort.yaml, step 2 (read) at line 15" \
    -- "$fltsim" run --executor $ex "$work/abort.yaml"
  expect 5 "stack overflow in a pre ($ex)" "filter code crashed: SIGSEGV" "filter:    Misbehave" \
    "callback:  pre-operation callback" "IRP_MJ_CREATE \\overflow.txt" "overflow.yaml, step 1 (open)" \
    -- "$fltsim" run --executor $ex "$work/overflow.yaml"
  expect 1 "spin in a pre ($ex)" "Misbehave's pre-operation callback has not returned within 1 s" \
    "--callback-timeout" "IRP_MJ_CREATE \\spin.txt" "spin.yaml, step 1 (open) at line 12" \
    "FAIL  $work/spin.yaml: a filter callback did not return" \
    -- "$fltsim" run --executor $ex --callback-timeout 1 "$work/spin.yaml"
done
# The stack of a coroutine is known: the overflow is named as one.
expect 5 "stack overflow named" "a stack overflow" "FAIL  $work/overflow.yaml: filter code overflowed its stack" \
  -- "$fltsim" run --executor deterministic "$work/overflow.yaml"
# A read pended and never completed. The run waits for it at its end:
# deterministic, a deadlock; concurrent, the --timeout.
pended="pended: operation #2 IRP_MJ_READ \\pend.txt pended in its pre-operation callback by Misbehave"
expect 1 "pended read never completed (deterministic)" "deadlock" "$pended" \
  "pend.yaml, step 2 (read r1) at line 15" "FAIL  $work/pend.yaml: deadlock" \
  -- "$fltsim" run --executor deterministic "$work/pend.yaml"
expect 1 "pended read never completed (concurrent)" "did not finish within 2 s (--timeout)" \
  "$pended" "pend.yaml, step 2 (read r1) at line 15" "FAIL  $work/pend.yaml: timed out" \
  -- "$fltsim" run --executor concurrent --timeout 2 "$work/pend.yaml"
# ... and an unload while it is pended: teardown waits for it for ever (V26).
v26="V26: operation #2 IRP_MJ_READ \\pend.txt pended in its pre-operation callback by Misbehave (instance Misbehave Instance) and never completed; the instance's teardown waits for it"
for ex in deterministic concurrent; do
  expect 1 "pended read at unload ($ex)" "$v26" "pendunload.yaml, step 3 (unload) at line 22" "FilterUnloadCallback" \
    "FAIL  $work/pendunload.yaml" \
    -- "$fltsim" run --executor $ex --timeout 2 "$work/pendunload.yaml"
done
# A pre waiting on an event nobody sets: every simulated thread blocked.
expect 1 "KEVENT nobody sets (deterministic)" "deadlock" \
  "blocked in Misbehave's pre-operation callback for operation #1 IRP_MJ_CREATE \\event.txt" \
  "event.yaml, step 1 (open) at line 12" "FAIL  $work/event.yaml: deadlock" \
  -- "$fltsim" run --executor deterministic "$work/event.yaml"
expect 1 "KEVENT nobody sets (concurrent)" "Misbehave's pre-operation callback has not returned" \
  "IRP_MJ_CREATE \\event.txt" "FAIL  $work/event.yaml" \
  -- "$fltsim" run --executor concurrent --callback-timeout 1 "$work/event.yaml"
# A well-behaved file through the same filter still passes, and the options
# are checked.
scenario fine fine.txt "$read_step"
expect 0 "a file it leaves alone" "PASS" -- "$fltsim" run --timeout 5 --callback-timeout 1 "$work/fine.yaml"
expect 2 "bad --timeout" "--timeout and --callback-timeout need a number of seconds" \
  -- "$fltsim" run --timeout soon "$work/fine.yaml"

# fltsim replay: the same crash while a capture is replayed.
capture="$work/segv.csv"
printf '"Time of Day","Process Name","PID","Operation","Path","Result","Detail"\r\n' > "$capture"
printf '"1:00:00 AM","a.exe","10","CreateFile","C:\\segv.txt","SUCCESS","Desired Access: Generic Read, Disposition: Open, Options: , Attributes: n/a, ShareMode: Read, AllocationSize: n/a, OpenResult: Opened"\r\n' >> "$capture"
expect 5 "segv in a pre (replay)" "filter code crashed: SIGSEGV" "filter:    fixture_misbehave" \
  "callback:  pre-operation callback" "IRP_MJ_CREATE \\segv.txt" "capture:   $capture" \
  -- "$fltsim" replay --no-progress --filter "$so@123000" "$capture"
exit $fail
