#!/bin/sh
# The man page against the program (issue 21 item 5): the commands of
# `fltsim help` are the page's COMMANDS subsections, no more, no fewer; the
# options each `fltsim COMMAND --help` prints are the options (.TP tags) of
# that subsection, no more, no fewer; every option `fltsim help` names is
# somewhere in the page, and each global option of the page (OPTIONS) is one
# the program accepts; EXIT STATUS holds every status of the README's table
# and of cli.h, and none cli.h lacks; groff renders the page without a
# warning. Prints each difference and exits 1 when there is one.
# usage: check_man.sh FLTSIM MANPAGE README CLI_H WORKDIR
set -u
fltsim=$1 page=$2 readme=$3 cli_h=$4 work=$5
rm -rf "$work"
mkdir -p "$work"
fail=0
problem() {
    echo "check_man: $*" >&2
    fail=1
}

# Options in a text: -x and --long-name words, not the dash inside a word
# (comma-separated, 1-based, hostfs-ro).
options_of() {
    grep -oE '(^|[^A-Za-z0-9_-])--?[a-z][a-z0-9-]*' | sed -E 's/^[^-]*//' | sort -u
}

# The page's text in the given section (.SH NAME) or subsection (.SS NAME),
# only the tag lines of its .TP paragraphs, escapes removed.
tags_of() { # KIND(SH|SS) NAME
    awk -v kind=".$1" -v name="$2" '
        /^\.S[HS] / { sec = $0; sub(/^\.S[HS] +/, "", sec); gsub(/"/, "", sec)
                      if ($1 == kind) inside = (sec == name)
                      else if ($1 == ".SH") inside = 0
                      next }
        inside && tag { print; tag = 0; next }
        inside && /^\.TP/ { tag = 1 }' "$page" |
        sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\e/\\/g' -e 's/^\.[A-Z]* //' -e 's/"//g'
}

# ---- commands ----
"$fltsim" help > "$work/help" || problem "fltsim help failed"
awk '/^commands:/ { on = 1; next } on && /^$/ { on = 0 } on { print $1 }' "$work/help" |
    sort -u > "$work/commands.program"
awk '/^\.SH COMMANDS/ { on = 1; next } /^\.SH / { on = 0 }
     on && /^\.SS / { print $2 }' "$page" | sed 's/"//g' | sort -u > "$work/commands.page"
[ -s "$work/commands.program" ] || problem "no commands found in fltsim help"
comm -23 "$work/commands.program" "$work/commands.page" |
    while read -r c; do echo "command '$c' of fltsim help has no .SS $c in COMMANDS"; done \
    > "$work/missing"
comm -13 "$work/commands.program" "$work/commands.page" |
    while read -r c; do echo "the page's command '$c' is not one fltsim help lists"; done \
    >> "$work/missing"

# ---- options of each command ----
while read -r c; do
    [ "$c" = help ] && continue # `fltsim help CMD` takes no options
    if ! "$fltsim" "$c" --help > "$work/$c.help"; then
        echo "fltsim $c --help failed" >> "$work/missing"
        continue
    fi
    options_of < "$work/$c.help" > "$work/$c.program"
    tags_of SS "$c" | options_of > "$work/$c.page"
    comm -23 "$work/$c.program" "$work/$c.page" | while read -r o; do
        echo "option $o of 'fltsim $c --help' is not an option (.TP) of the page's $c subsection"
    done >> "$work/missing"
    comm -13 "$work/$c.program" "$work/$c.page" | while read -r o; do
        echo "the page's $c subsection has option $o, which 'fltsim $c --help' does not name"
    done >> "$work/missing"
done < "$work/commands.program"

# ---- global options ----
options_of < "$work/help" > "$work/global.program"
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$page" | options_of > "$work/all.page"
comm -23 "$work/global.program" "$work/all.page" | while read -r o; do
    echo "option $o of 'fltsim help' is nowhere in the page"
done >> "$work/missing"
tags_of SH OPTIONS | options_of > "$work/global.page"
[ -s "$work/global.page" ] || echo "the page has no OPTIONS section with .TP options" \
    >> "$work/missing"
while read -r o; do
    "$fltsim" "$o" > "$work/global.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && [ -s "$work/global.out" ] ||
        echo "the page's global option $o: 'fltsim $o' exits $rc (not 0 with output)" \
            >> "$work/missing"
done < "$work/global.page"

# ---- exit statuses ----
# README: the paragraph "Exit status: `0` ...; `1` ..." of "The fltsim program",
# or rows "| `0` | ..." of a table there.
awk '/^## The fltsim program/ { on = 1; next } on && /^## / { on = 0 }
     on && /^Exit status/ { para = 1 } para && /^$/ { para = 0 }
     on && (para || /^\| *`?[0-9]+`? *\|/) { print }' "$readme" |
    grep -oE '(^\| *`?[0-9]+`? *\|)|(`[0-9]+`)' | grep -oE '[0-9]+' | sort -u > "$work/exit.readme"
grep -E '^#define CLI_EXIT_[A-Z_]+ +[0-9]+' "$cli_h" | awk '{ print $3 }' | sort -u \
    > "$work/exit.program"
tags_of SH "EXIT STATUS" | grep -oE '^[0-9]+' | sort -u > "$work/exit.page"
[ -s "$work/exit.readme" ] || problem "no exit statuses found in README.md's The fltsim program"
[ -s "$work/exit.program" ] || problem "no CLI_EXIT_ statuses found in $cli_h"
sort -u "$work/exit.readme" "$work/exit.program" | comm -23 - "$work/exit.page" | while read -r s
do
    echo "exit status $s (README.md or cli.h) is not in the page's EXIT STATUS"
done >> "$work/missing"
comm -13 "$work/exit.program" "$work/exit.page" | while read -r s; do
    echo "the page's exit status $s is not one the program has (cli.h)"
done >> "$work/missing"

# ---- rendering ----
groff -man -ww -z "$page" > "$work/groff" 2>&1 || echo "groff failed on the page" >> "$work/missing"
if [ -s "$work/groff" ]; then
    echo "groff -man -ww warns:" >> "$work/missing"
    cat "$work/groff" >> "$work/missing"
fi

if [ -s "$work/missing" ]; then
    sed 's/^/check_man: /' "$work/missing" >&2
    fail=1
fi
[ $fail -eq 0 ] && echo "check_man: $(wc -l < "$work/commands.page") commands, \
$(cat "$work"/*.page | wc -l) page entries, $(wc -l < "$work/exit.page") exit statuses agree"
exit $fail
