#!/bin/sh
# Runs `fltsim check` on every malformed scenario in the directories given
# after the program: each must be refused (exit status 3) with exactly the one
# error line its first line announces ("# expect: LINE:COLUMN: message"; a
# message ending in "..." is a prefix). Used by ctest (tests/CMakeLists.txt).
fltsim=$1
shift
failures=0
checked=0
for dir in "$@"; do
    for file in "$dir"/*.yaml; do
        [ -e "$file" ] || continue
        expect=$(head -n 1 "$file" | sed -n 's/^# expect: //p')
        want="$file:$expect"
        got=$("$fltsim" check "$file" 2>&1 >/dev/null)
        status=$?
        case "$want" in
        *...) prefix=${want%...}
              case "$got" in "$prefix"*) ok=1 ;; *) ok=0 ;; esac ;;
        *) [ "$got" = "$want" ] && ok=1 || ok=0 ;;
        esac
        if [ "$status" -ne 3 ] || [ "$ok" -ne 1 ]; then
            echo "FAIL $file (exit $status)"
            echo "  expected: $want"
            echo "  actual:   $got"
            failures=$((failures + 1))
        fi
        checked=$((checked + 1))
    done
done
echo "$checked malformed scenarios checked, $failures failed"
[ "$checked" -ge 15 ] && [ "$failures" -eq 0 ]
