#!/bin/sh
# Builds the consumer project (CfgGuard and its tests, this folder) against
# fltsim each way a minifilter project can take it, and runs its tests:
#   install     find_package(fltsim 0.2) from PREFIX (CMAKE_PREFIX_PATH)
#   subproject  this checkout built inside the project (FetchContent,
#               -DFLTSIM_SOURCE_DIR)
#   pkgconfig   plain make, `pkg-config fltsim` from PREFIX/lib/pkgconfig
#   deb         fltsim installed in /usr (the Debian package): find_package
#               with no hint, then make with pkg-config's default path
# usage: tests/consumer/run.sh [--prefix PREFIX] [--work DIR] MODE...
# PREFIX is where `cmake --install` put fltsim (install, pkgconfig); DIR holds
# one build folder per way (default build/consumer in the checkout; emptied
# first). Each way runs even when one before failed; the exit status is 1
# when any failed, naming them, 2 on a usage error.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/../.." && pwd)
prefix=""
work="$checkout/build/consumer"
usage() {
  echo "usage: tests/consumer/run.sh [--prefix PREFIX] [--work DIR] install|subproject|pkgconfig|deb ..." >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
  --prefix) [ $# -ge 2 ] || usage; prefix=$(cd "$2" && pwd); shift 2 ;;
  --work) [ $# -ge 2 ] || usage; work=$2; shift 2 ;;
  -*) usage ;;
  *) break ;;
  esac
done
[ $# -gt 0 ] || usage
for mode in "$@"; do
  case "$mode" in
  install | pkgconfig) [ -n "$prefix" ] || { echo "run.sh: $mode needs --prefix PREFIX" >&2; exit 2; } ;;
  subproject | deb) ;;
  *) echo "run.sh: unknown way '$mode'" >&2; usage ;;
  esac
done
jobs=$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)

# cmake_way DIR [configure options]: configure, build, ctest.
cmake_way() {
  dir=$1
  shift
  rm -rf "$dir"
  cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=Debug "$@" &&
    cmake --build "$dir" --parallel "$jobs" &&
    ctest --test-dir "$dir" --output-on-failure
}

# found_under DIR PREFIX: the fltsim package CMake found is PREFIX's.
found_under() {
  found=$(sed -n 's/^fltsim_DIR:PATH=//p' "$1/CMakeCache.txt")
  case "$(cd "$found" 2>/dev/null && pwd -P)" in
  "$(cd "$2" && pwd -P)"/*) echo "consumer: fltsim package found at $found" ;;
  *) echo "consumer: fltsim package found at '$found', not under $2" >&2; return 1 ;;
  esac
}

# make_way DIR: plain make with the pkg-config path as it is.
make_way() {
  rm -rf "$1"
  echo "consumer: pkg-config fltsim $(pkg-config --modversion fltsim) at prefix $(pkg-config --variable=prefix fltsim)" &&
    make -C "$here" O="$1" check
}

# pc_prefix_is DIR: the fltsim.pc pkg-config finds is DIR's.
pc_prefix_is() {
  if ! pkg-config --print-errors --exists fltsim; then
    echo "consumer: pkg-config finds no fltsim (PKG_CONFIG_PATH=${PKG_CONFIG_PATH:-})" >&2
    return 1
  fi
  pc=$(pkg-config --variable=prefix fltsim)
  if [ "$(cd "$pc" 2>/dev/null && pwd -P)" != "$(cd "$1" && pwd -P)" ]; then
    echo "consumer: pkg-config found fltsim with prefix '$pc', not $1" >&2
    return 1
  fi
}

pc_path() { # the pkg-config folders a prefix may hold
  for d in lib lib64 share; do printf '%s:' "$1/$d/pkgconfig"; done
  printf '%s' "$1/lib/$(gcc -print-multiarch 2>/dev/null || echo none)/pkgconfig"
}

run_way() {
  case "$1" in
  install)
    cmake_way "$work/install" -DCMAKE_PREFIX_PATH="$prefix" && found_under "$work/install" "$prefix"
    ;;
  subproject)
    cmake_way "$work/subproject" -DFLTSIM_SOURCE_DIR="$checkout"
    ;;
  pkgconfig)
    (
      PKG_CONFIG_PATH=$(pc_path "$prefix")
      export PKG_CONFIG_PATH
      pc_prefix_is "$prefix" && make_way "$work/pkgconfig"
    )
    ;;
  deb)
    (
      unset CMAKE_PREFIX_PATH PKG_CONFIG_PATH
      cmake_way "$work/deb-cmake" && found_under "$work/deb-cmake" /usr &&
        pc_prefix_is /usr && make_way "$work/deb-make"
    )
    ;;
  esac
}

mkdir -p "$work"
failed=""
for mode in "$@"; do
  echo "== consumer: $mode"
  if run_way "$mode"; then
    echo "consumer: $mode: passed"
  else
    echo "consumer: $mode: FAILED" >&2
    failed="$failed $mode"
  fi
done
if [ -n "$failed" ]; then
  echo "consumer: failed way(s):$failed" >&2
  exit 1
fi
echo "consumer: passed: $*"
