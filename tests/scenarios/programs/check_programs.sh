#!/bin/sh
# User programs loaded from shared objects in scenarios (issue 19 item 3),
# through `fltsim run`: echo.yaml passes under both executors and copies each
# program's console output to the run's output after "[NAME] ", and says so
# when it terminates one still running at the end; timeout.yaml and
# expect_fails.yaml fail (exit status 1) with the lines given below (steps on
# programs that ended or never started, a process id taken, exit codes and
# output that differ); crash.yaml crashes (exit status 5) naming the program.
# usage: check_programs.sh FLTSIM DIR WORKDIR
set -u
fltsim=$1 dir=$2 work=$3
mkdir -p "$work"
failures=0

fail() {
  echo "FAIL $1"
  sed 's/^/    /' "$work/out"
  failures=$((failures + 1))
}

for executor in deterministic concurrent; do
  "$fltsim" run --executor "$executor" "$dir/echo.yaml" > "$work/out" 2>&1
  status=$?
  [ "$status" -eq 0 ] || fail "echo.yaml under $executor: exit $status, wanted 0"
  grep -qx '\[echo\] arg 2: two words' "$work/out" || fail "echo.yaml under $executor: no [echo] line"
  grep -qx '\[wide\] wide arg 1: héllo' "$work/out" || fail "echo.yaml under $executor: no [wide] line"
  grep -qx "$dir/echo.yaml: end of run: program 'left' still runs; terminated (exit code 1)" \
    "$work/out" || fail "echo.yaml under $executor: no line for the program terminated at the end"
  if grep -q "end of run: program '\(echo\|wide\|stopped\|killed\)' still runs" "$work/out"; then
    fail "echo.yaml under $executor: a program that ended is said to run"
  fi

  "$fltsim" run -q --executor "$executor" "$dir/timeout.yaml" > "$work/out" 2>&1
  status=$?
  [ "$status" -eq 1 ] || fail "timeout.yaml under $executor: exit $status, wanted 1"
  grep -q "^$dir/timeout.yaml:9: step 2 (wait_program reader): timed out after 100 ms waiting for its exit; thread [0-9]*: in [a-zA-Z]" \
    "$work/out" || fail "timeout.yaml under $executor: no timeout line naming the thread's wait"
  grep -q "^$dir/timeout.yaml:12: step 3 (wait_program reader): timed out after 100 ms waiting for its output \"never printed\"; thread [0-9]*: in [a-zA-Z]" \
    "$work/out" || fail "timeout.yaml under $executor: no timeout line for the output"

  "$fltsim" run -q --executor "$executor" "$dir/expect_fails.yaml" > "$work/out" 2>&1
  status=$?
  [ "$status" -eq 1 ] || fail "expect_fails.yaml under $executor: exit $status, wanted 1"
  [ "$(grep -c "^$dir/expect_fails.yaml:" "$work/out")" -eq 10 ] ||
    fail "expect_fails.yaml under $executor: not exactly 10 failure lines"
  for line in \
    "$dir/expect_fails.yaml:15: step 2 (wait_program reader): exit code 10 (0x0000000a); expected 3" \
    "$dir/expect_fails.yaml:15: step 2 (wait_program reader): output has no \"not printed\"" \
    "$dir/expect_fails.yaml:18: step 3 (input reader): cannot type at its console: STATUS_PROCESS_IS_TERMINATING" \
    "$dir/expect_fails.yaml:20: step 4 (wait_program reader): it exited (code 10) before it was idle: STATUS_PROCESS_IS_TERMINATING" \
    "$dir/expect_fails.yaml:22: step 5 (kill reader): TerminateProcess: STATUS_PROCESS_IS_TERMINATING" \
    "$dir/expect_fails.yaml:24: step 7 (start clash): cannot be started: STATUS_OBJECT_NAME_COLLISION (fltsim_process_start: process id 2004 is taken (a live process or the System process))" \
    "$dir/expect_fails.yaml:25: step 8 (wait_program clash): the program did not start" \
    "$dir/expect_fails.yaml:30: end of run: program 'reader': exit code 10 (0x0000000a); expected 4" \
    "$dir/expect_fails.yaml:30: end of run: program 'reader': output has no \"nor this\"" \
    "$dir/expect_fails.yaml:31: end of run: program 'clash': it did not start"; do
    grep -qxF "$line" "$work/out" || fail "expect_fails.yaml under $executor: no line: $line"
  done
done
# A crash in a program's own code: exit status 5 (as for a filter's crash),
# the report names the program, its process and thread, not a filter.
for executor in deterministic concurrent; do
  "$fltsim" run -q --executor "$executor" "$dir/crash.yaml" > "$work/out" 2>&1
  status=$?
  [ "$status" -eq 5 ] || fail "crash.yaml under $executor: exit $status, wanted 5"
  grep -q '^fltsim: a user program crashed: SIGSEGV' "$work/out" ||
    fail "crash.yaml under $executor: no line saying a user program crashed"
  grep -q '^  program:   program_crash.exe (process 2400, simulated thread [0-9]*)$' "$work/out" ||
    fail "crash.yaml under $executor: the report does not name the program"
  grep -q "^FAIL  $dir/crash.yaml: a user program crashed" "$work/out" ||
    fail "crash.yaml under $executor: no FAIL line"
done
[ "$failures" -eq 0 ] && echo "programs: every check passed"
exit "$failures"
