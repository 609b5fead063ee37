#!/bin/sh
# Filter objects must never reference the C library's wide-character
# routines (glibc's assume a 4-byte wchar_t; filters use 16-bit WCHAR): no
# undefined symbol named wcs*, wmem*, *wprintf*, tow*, isw*, wctype/wctrans
# or their _FORTIFY_SOURCE forms (__wcscpy_chk ...). fltsim's own routines
# (fltsim_crt_*) are what the objects must reference instead.
#
# usage: crt_symbols.sh NM CONTROL_OBJECT OBJECT...
# CONTROL_OBJECT references glibc's wcslen on purpose: it must be flagged,
# so the check is shown able to fail. Exit 0 when the control is flagged and
# no OBJECT is; 1 otherwise, naming each offending symbol.
set -eu
nm=$1
control=$2
shift 2

wide_symbols() { # undefined libc wide-character symbols of one object
  "$nm" -u "$1" | awk '{print $NF}' | grep -v '^fltsim_crt_' |
    grep -E '^_*(wcs|wmem|tow|isw|wctype|wctrans)|wprintf' || true
}

status=0
if [ -z "$(wide_symbols "$control")" ]; then
  echo "crt_symbols: the control object $control shows no libc wide symbol: the check is broken" >&2
  status=1
fi
checked=0
for obj in "$@"; do
  found=$(wide_symbols "$obj")
  if [ -n "$found" ]; then
    for sym in $found; do
      echo "crt_symbols: $obj references the C library's $sym" >&2
    done
    status=1
  fi
  if ! "$nm" -u "$obj" | grep -q 'fltsim_crt_wcslen'; then
    echo "crt_symbols: $obj does not call fltsim_crt_wcslen: not a filter-like object?" >&2
    status=1
  fi
  checked=$((checked + 1))
done
if [ "$checked" -eq 0 ]; then
  echo "crt_symbols: no object to check" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "crt_symbols: $checked filter objects reference no libc wide-character routine"
exit "$status"
