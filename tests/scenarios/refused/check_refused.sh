#!/bin/sh
# Scenarios whose shared objects fltsim refuses (generated from *.yaml.in in
# this folder, with the fixtures' paths written in): `fltsim check` and
# `fltsim run` must each exit with status 4 and print exactly the lines the
# file's "# expect: " lines give (the first one after the file's name; `*`
# matches anything), so every missing routine is named and nothing else.
# Then `fltsim replay` with the fixture that lacks two routines: exit 4,
# both named, before the capture is read (it does not exist).
# usage: check_refused.sh FLTSIM MISSING_ROUTINES_SO DIR WORKDIR
set -u
fltsim=$1 missing=$2 dir=$3 work=$4
mkdir -p "$work"
failures=0
checked=0

# compare FILE WANT_FILE GOT_FILE: each line of GOT matches the pattern
# line of WANT, and there are as many.
compare() {
  [ "$(wc -l < "$2")" -eq "$(wc -l < "$3")" ] || return 1
  n=1
  while IFS= read -r want; do
    got=$(sed -n "${n}p" "$3")
    # shellcheck disable=SC2254
    case "$got" in $want) ;; *) return 1 ;; esac
    n=$((n + 1))
  done < "$2"
}

for file in "$dir"/*.yaml; do
  [ -e "$file" ] || continue
  sed -n 's/^# expect: //p' "$file" > "$work/want"
  # The first line names the file.
  sed -i "1s|^|$file:|" "$work/want"
  for cmd in check run; do
    "$fltsim" "$cmd" "$file" > /dev/null 2> "$work/got"
    status=$?
    if [ "$status" -ne 4 ] || ! compare "$file" "$work/want" "$work/got"; then
      echo "FAIL fltsim $cmd $file (exit $status, wanted 4)"
      echo "  expected:"; sed 's/^/    /' "$work/want"
      echo "  actual:"; sed 's/^/    /' "$work/got"
      failures=$((failures + 1))
    fi
    checked=$((checked + 1))
  done
done

out=$("$fltsim" replay --no-progress --filter "$missing@100000" "$work/no-such-capture.csv" 2>&1)
status=$?
case "$out" in
"fltsim replay: shared object '$missing' cannot be loaded: it needs 2 routines that fltsim does not provide:
  FltFixtureOtherRoutineFltsimLacks
  FltFixtureRoutineFltsimLacks") ok=1 ;;
*) ok=0 ;;
esac
if [ "$status" -ne 4 ] || [ "$ok" -ne 1 ]; then
  echo "FAIL fltsim replay --filter $missing@100000 (exit $status, wanted 4):"
  printf '%s\n' "$out" | sed 's/^/    /'
  failures=$((failures + 1))
fi
checked=$((checked + 1))

echo "$checked refusals checked, $failures failed"
[ "$checked" -ge 7 ] && [ "$failures" -eq 0 ]
