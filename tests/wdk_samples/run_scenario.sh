#!/bin/sh
# A scenario of one of Microsoft's samples (ctest wdk_sample_scenario_NAME and
# _concurrent): `fltsim run` under the executor given, with its expectations
# and, under the deterministic executor, its golden trace; then the lines of
# the scenario file that state what the normalized trace must show:
#   # trace-has: ERE         some line of the trace matches
#   # trace-lacks: ERE       no line matches
#   # trace-every-op: NAME   every operation (io_start) reaches filter NAME's
#                            pre, and its post unless that pre asked for none
#   # dbgprint-has: ERE      some line the run wrote to standard error (with
#                            --dbgprint: what the sample printed) matches
#   # dbgprint-lacks: ERE    no such line matches
# While expected/NAME.txt records that the sample does not build or is
# refused, the scenario cannot run: the refusal must be the recorded one, and
# the test is skipped (exit 77) saying why.
#
# usage: run_scenario.sh FLTSIM SCENARIO EXPECTED EXECUTOR WORK
set -u
fltsim=$1 scenario=$2 expected=$3 executor=$4 work=$5
name=$(basename "$scenario" .yaml)
mkdir -p "$work"

fail() {
  echo "$scenario ($executor): $*" >&2
  exit 1
}

if grep -q '^build: fails' "$expected"; then
  echo "SKIP: $name does not build (recorded in $expected); the scenario runs once it does"
  exit 77
fi
if grep -q '^fltsim check: refused' "$expected"; then
  # Refused at load, before anything runs, naming what the record names.
  "$fltsim" run "$scenario" > "$work/run.out" 2> "$work/run.err"
  status=$?
  sed -n '/^fltsim check: refused/,$p' "$expected" | sed 1d > "$work/want"
  sed 1d "$work/run.err" > "$work/got"
  if [ "$status" -ne 4 ] || ! cmp -s "$work/want" "$work/got"; then
    cat "$work/run.err" >&2
    fail "exit status $status; wanted 4, refused for exactly what $expected lists"
  fi
  echo "SKIP: $name is refused at load, as $expected records; it lacks:"
  cat "$work/got"
  echo "The scenario runs once fltsim provides these and the record says 'fltsim check: ok'."
  exit 77
fi

golden=$(sed -n 's/^golden: *//p' "$scenario")
if [ "$executor" = "deterministic" ] && [ -n "$golden" ] && [ ! -f "$golden" ]; then
  fail "no golden trace $golden yet. Write it with
  $fltsim run --update-golden $scenario
read it (every callback the sample's README promises should be there), and commit it."
fi

trace=$work/trace.txt
dbgprint=$work/stderr.txt
"$fltsim" run -q --dbgprint --executor "$executor" --trace normalized --trace-out "$trace" \
  "$scenario" 2> "$dbgprint"
status=$?
cat "$dbgprint" >&2
[ "$status" -eq 0 ] || fail "fltsim run failed (above)"

failures=0
while IFS= read -r line; do
  case $line in
  "# trace-has: "*)
    pattern=${line#\# trace-has: }
    if ! grep -Eq "$pattern" "$trace"; then
      echo "$scenario ($executor): no line of the trace matches: $pattern"
      failures=$((failures + 1))
    fi
    ;;
  "# trace-lacks: "*)
    pattern=${line#\# trace-lacks: }
    if grep -Eq "$pattern" "$trace"; then
      echo "$scenario ($executor): the trace has, and should not:"
      grep -E "$pattern" "$trace" | head -5
      failures=$((failures + 1))
    fi
    ;;
  "# dbgprint-has: "*)
    pattern=${line#\# dbgprint-has: }
    if ! grep -Eq "$pattern" "$dbgprint"; then
      echo "$scenario ($executor): no line the sample printed (DbgPrint) matches: $pattern"
      failures=$((failures + 1))
    fi
    ;;
  "# dbgprint-lacks: "*)
    pattern=${line#\# dbgprint-lacks: }
    if grep -Eq "$pattern" "$dbgprint"; then
      echo "$scenario ($executor): the sample printed (DbgPrint), and should not:"
      grep -E "$pattern" "$dbgprint" | head -5
      failures=$((failures + 1))
    fi
    ;;
  "# trace-every-op: "*)
    filter=${line#\# trace-every-op: }
    if ! awk -v filter="filter=\"$filter\"" '
      function op_of(line) { match(line, / op=[0-9]+ /); return substr(line, RSTART + 4, RLENGTH - 5) }
      function major_of(line) { match(line, / major=[^ ]+ /); return substr(line, RSTART + 7, RLENGTH - 8) }
      $1 == "io_start" { op = op_of($0); started[op] = major_of($0); order[++n] = op }
      $1 == "pre" && index($0, filter) { pre[op_of($0)]++ }
      $1 == "pre_return" && index($0, filter) {
        if (index($0, "status=FLT_PREOP_SUCCESS_WITH_CALLBACK ")) wants_post[op_of($0)] = 1
      }
      $1 == "post" && index($0, filter) { post[op_of($0)]++ }
      END {
        bad = 0
        for (i = 1; i <= n; i++) {
          op = order[i]
          if (pre[op] != 1 || post[op] != (op in wants_post ? 1 : 0)) {
            printf "operation %s (%s): %d pre, %d post by %s\n", op, started[op], pre[op] + 0,
                   post[op] + 0, filter
            bad = 1
          }
        }
        if (n == 0) { print "no operation in the trace"; bad = 1 }
        exit bad
      }' "$trace"; then
      echo "$scenario ($executor): not every operation went through $filter's pre and post"
      failures=$((failures + 1))
    fi
    ;;
  esac
done < "$scenario"
if [ "$failures" -ne 0 ]; then
  echo "the trace: $trace"
  exit 1
fi
echo "PASS $name ($executor): expectations, trace checks$([ "$executor" = deterministic ] && echo ", golden trace")"
