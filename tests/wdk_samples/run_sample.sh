#!/bin/sh
# One of Microsoft's minifilter samples against fltsim (ctest wdk_sample_NAME,
# and the wdk_samples_update target): builds it unedited through
# fltsim_add_minifilter (the project in sample/, configured once in WORK and
# built again on every run), asks `fltsim check` which routines it needs that
# fltsim does not provide, and writes the outcome in the form of
# expected/NAME.txt. `check` compares it with that file (every line but the
# `#` comments, exactly); `update` rewrites the file, keeping its comments.
# A sample with a user/ folder gets its user-mode program built too (target
# NAME_user of the same project) and checked: it exports main or wmain, and
# every routine it imports resolves in the fltsim program (its exports and
# the libraries it and the program name), a wide-character routine of the C
# library never, as fltsim's loader checks a filter object.
#
# usage: run_sample.sh check|update NAME SAMPLES EXPECTED_DIR WORK FLTSIM FLTSIM_SOURCE
#                      UPDATE_HINT -- CMAKE_CONFIGURE_ARGUMENTS...
set -u
mode=$1 name=$2 samples=$3 expected_dir=$4 work=$5 fltsim=$6 source=$7 hint=$8
shift 8
[ "${1:-}" = "--" ] && shift
expected=$expected_dir/$name.txt
build=$work/build
mkdir -p "$work"

fail() {
  echo "wdk_sample_$name: $*" >&2
  exit 1
}

# The build: configured once, and again from scratch when the arguments
# change (another compiler); a later build re-runs CMake itself when
# fltsim's cmake file changes. Compiled on every run, in the C locale so
# that the diagnostics read the same everywhere.
printf '%s\n' "$source" "$samples/$name" "$@" > "$work/configure.args.new"
if ! cmp -s "$work/configure.args.new" "$work/configure.args"; then
  rm -rf "$build"
  mv "$work/configure.args.new" "$work/configure.args"
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  if ! cmake -S "$(dirname "$0")/sample" -B "$build" -DFLTSIM_SOURCE_DIR="$source" \
    -DSAMPLE_DIR="$samples/$name" -DSAMPLE="$name" "$@" > "$work/configure.log" 2>&1; then
    cat "$work/configure.log" >&2
    rm -f "$build/CMakeCache.txt"
    fail "the sample's project does not configure (log above)"
  fi
fi
LC_ALL=C cmake --build "$build" --target "$name" > "$work/build.log" 2>&1
built=$?
user_built=none
if [ -n "$(find "$samples/$name/user" -maxdepth 1 -name '*.c' -o -name '*.cpp' 2>/dev/null)" ]; then
  LC_ALL=C cmake --build "$build" --target "${name}_user" > "$work/user_build.log" 2>&1
  user_built=$?
fi

# A failed build's errors (build log $1), one line each, with the compiler's
# wording reduced to what gcc and clang share (the code and the name), paths
# relative to the samples folder, without columns.
build_errors() {
    awk -v samples="$samples/" -v source="$source/" '
      function rel(path) {
        if (index(path, samples) == 1) return substr(path, length(samples) + 1)
        if (index(path, source) == 1) return "fltsim:" substr(path, length(source) + 1)
        return path
      }
      function plain(text) {
        gsub(/\342\200[\230\231]|`/, "\047", text) # curly quotes, a backquote: plain
        return text
      }
      # compiler: FILE:LINE:COLUMN: error: MESSAGE
      match($0, /^[^ :][^:]*:[0-9]+:[0-9]+: (fatal )?error: /) {
        split($0, at, ":")
        msg = plain(substr($0, RLENGTH + 1))
        sub(/^call to undeclared function/, "implicit declaration of function", msg)
        sub(/ is invalid in C99.*$/, "", msg)
        sub(/;.*$/, "", msg)
        sub(/ \[-W[^]]*\]$/, "", msg)
        printf "  %s:%s: error: %s\n", rel(at[1]), at[2], msg
        found = 1
        next
      }
      # GNU ld: OBJECT:WHERE: multiple definition of NAME (quoted); ... WHERE is
      # a source line with gcc -g, a section offset with clang -g: left out.
      /: multiple definition of / {
        text = plain($0)
        what = substr(text, index(text, ": multiple definition of ") + 2)
        sub(/;.*$/, "", what)
        printf "  link: error: %s\n", what
        found = 1
        next
      }
      END { if (!found) print "  (no error the suite recognizes: see the build log)" }
    ' "$1" | sort -t: -k1,1 -k2,2n -k3 | uniq
}

# The user program's check (object $1): "user check: ok", or what it lacks.
user_check() {
  symbols() { nm -D "$@" 2>/dev/null | awk '{ sub(/@.*/, "", $NF); print $NF }' | sort -u; }
  if ! symbols --defined-only "$1" | grep -qx -e main -e wmain; then
    echo "user check: refused, it exports neither main nor wmain"
    return
  fi
  symbols --defined-only "$fltsim" > "$work/user_fltsim.syms"
  libc=$(ldd "$fltsim" | awk '$1 ~ /^libc\.so/ { print $3 }')
  symbols --defined-only $libc > "$work/user_libc.syms"
  ldd "$1" "$fltsim" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u > "$work/user_libs.txt"
  symbols --defined-only $(cat "$work/user_libs.txt") > "$work/user_libs.syms"
  nm -D --undefined-only "$1" | awk '$1 == "U" { sub(/@.*/, "", $2); print $2 }' | sort -u |
    while read -r sym; do
      # libc's wchar_t routines (4 bytes) are refused whoever provides them
      # (filter_object.c's wide_char_name).
      if printf '%s\n' "$sym" | sed 's/^_*//' |
        grep -Eq '^(wc|wmem|tow|isw|fgetw|fputw|getwc|putwc|ungetwc|fwide|btowc|mbrtowc|open_wmemstream)|wprintf|wscanf|wcs|towc' &&
        grep -qx "$sym" "$work/user_libc.syms"; then
        echo "  $sym: the C library's wide-character routine, for a 4-byte wchar_t"
      elif ! grep -qx "$sym" "$work/user_fltsim.syms" "$work/user_libs.syms"; then
        echo "  $sym"
      fi
    done > "$work/user_lacks.txt"
  count=$(wc -l < "$work/user_lacks.txt")
  if [ "$count" -eq 0 ]; then
    echo "user check: ok"
  else
    [ "$count" -eq 1 ] && what=routine || what=routines
    echo "user check: refused, it needs $count $what that fltsim does not provide:"
    cat "$work/user_lacks.txt"
  fi
}

# The outcome.
{
  if [ "$built" -eq 0 ]; then
    echo "build: ok"
  else
    echo "build: fails"
    build_errors "$work/build.log"
  fi
  if [ "$built" -eq 0 ]; then
    object=$build/$name.so
    [ -f "$object" ] || fail "the build succeeded but made no $object"
    printf '%s\n' "scenario: $name names its object" "volumes: [{drive: C}]" \
      "filters: [{name: $name, object: '$object', altitude: 100000}]" \
      "steps: [{note: nothing runs}]" > "$work/check.yaml"
    "$fltsim" check "$work/check.yaml" > "$work/check.out" 2> "$work/check.err"
    status=$?
    case $status in
    0) echo "fltsim check: ok" ;;
    4)
      sed -n '1s/^.*cannot be loaded: /fltsim check: refused, /p; 2,$p' "$work/check.err"
      ;;
    *)
      cat "$work/check.err" >&2
      fail "fltsim check $work/check.yaml: exit status $status, wanted 0 or 4 (output above)"
      ;;
    esac
  fi
  case $user_built in
  none) ;;
  0)
    echo "user build: ok"
    [ -f "$build/${name}_user.so" ] || fail "the user build succeeded but made no $build/${name}_user.so"
    user_check "$build/${name}_user.so"
    ;;
  *)
    echo "user build: fails"
    build_errors "$work/user_build.log"
    ;;
  esac
} > "$work/outcome.txt"

if [ "$mode" = "update" ]; then
  {
    if [ -f "$expected" ] && grep -q '^#' "$expected"; then
      grep '^#' "$expected"
    else
      echo "# Microsoft's $name sample built unedited against fltsim: the build's errors, or the"
      echo "# routines it needs that fltsim does not provide (tests/wdk_samples/README.md)."
    fi
    cat "$work/outcome.txt"
  } > "$work/expected.new"
  if [ -f "$expected" ] && cmp -s "$work/expected.new" "$expected"; then
    echo "$name: unchanged"
  else
    mv "$work/expected.new" "$expected"
    echo "$name: written to $expected"
  fi
  exit 0
fi

[ -f "$expected" ] || {
  cat "$work/outcome.txt"
  fail "no expected outcome in $expected; record the one above with: $hint"
}
grep -v '^#' "$expected" > "$work/expected.txt"
if ! diff -u "$work/expected.txt" "$work/outcome.txt" > "$work/diff.txt"; then
  echo "wdk_sample_$name: the outcome differs from $expected (- expected, + now):"
  sed 1,2d "$work/diff.txt"
  if [ "$built" -ne 0 ]; then
    echo "the build log ($work/build.log):"
    cat "$work/build.log"
  fi
  if [ "$user_built" != none ] && [ "$user_built" -ne 0 ]; then
    echo "the user program's build log ($work/user_build.log):"
    cat "$work/user_build.log"
  fi
  echo "If fltsim got better (a routine it now provides, a sample that now builds), record"
  echo "the new outcome and commit the file:"
  echo "  $hint"
  echo "If not, fltsim regressed: fix it rather than the file."
  exit 1
fi
cat "$work/outcome.txt"
