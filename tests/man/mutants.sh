#!/bin/sh
# check_man.sh must fail when the page and the program drift apart: each
# mutant here (an option, a command, an exit status taken out of the page; an
# option the program lacks, a groff warning added; an option added to the
# program's help by a wrapper) must make it exit 1, naming the difference.
# usage: mutants.sh FLTSIM MANPAGE README CLI_H WORKDIR
set -u
fltsim=$1 page=$2 readme=$3 cli_h=$4 work=$5
here=$(dirname "$0")
rm -rf "$work"
mkdir -p "$work"
fail=0

# expect NAME PAGE PROGRAM MESSAGE: check_man fails and prints MESSAGE.
expect() {
    if sh "$here/check_man.sh" "$3" "$2" "$readme" "$cli_h" "$work/run" > "$work/out" 2>&1; then
        echo "mutants: $1: check_man passed" >&2
        fail=1
    elif ! grep -qF -- "$4" "$work/out"; then
        echo "mutants: $1: check_man failed without '$4':" >&2
        cat "$work/out" >&2
        fail=1
    fi
}

# The unchanged page passes (else every mutant fails for nothing).
if ! sh "$here/check_man.sh" "$fltsim" "$page" "$readme" "$cli_h" "$work/run" > "$work/out" 2>&1
then
    cat "$work/out" >&2
    echo "mutants: the page itself does not pass" >&2
    exit 1
fi

# Drops the .TP paragraph whose tag line matches the awk pattern $1.
drop_tp() {
    awk -v pat="$1" '
        /^\.TP$/ { getline tag; if (tag ~ pat) { skip = 1; next } skip = 0; print; print tag; next }
        /^\.(TP|SH|SS|PP)/ { skip = 0 }
        !skip' "$page"
}

drop_tp 'update\\\\-golden' > "$work/no-update-golden.1"
expect "run --update-golden removed" "$work/no-update-golden.1" "$fltsim" \
    "option --update-golden of 'fltsim run --help' is not an option (.TP) of the page's run"

drop_tp '^\\.B 5$' > "$work/no-exit-5.1"
expect "exit status 5 removed" "$work/no-exit-5.1" "$fltsim" \
    "exit status 5 (README.md or cli.h) is not in the page's EXIT STATUS"

sed 's/^\.SS filters$/.SS filterz/' "$page" > "$work/no-filters.1"
expect "filters subsection renamed" "$work/no-filters.1" "$fltsim" \
    "command 'filters' of fltsim help has no .SS filters in COMMANDS"

printf '.TP\n.B \\-\\-frobnicate\nNot an option.\n' > "$work/tp"
sed "/^\.SS explore\$/r $work/tp" "$page" > "$work/frob.1"
expect "an option the program lacks" "$work/frob.1" "$fltsim" \
    "the page's explore subsection has option --frobnicate"

sed "/^\.SH OPTIONS\$/r $work/tp" "$page" > "$work/frob-global.1"
expect "a global option the program lacks" "$work/frob-global.1" "$fltsim" \
    "the page's global option --frobnicate"

sed '20a .nosuchmacro' "$page" > "$work/warn.1"
expect "a groff warning" "$work/warn.1" "$fltsim" "macro 'nosuchmacro' not defined"

# A program whose `run --help` names one option more than the page does.
cat > "$work/fltsim-plus" <<END
#!/bin/sh
"$fltsim" "\$@"
rc=\$?
[ "\$1 \$2" = "run --help" ] && echo "  --frobnicate        a new option"
exit \$rc
END
chmod +x "$work/fltsim-plus"
expect "an option added to the program" "$page" "$work/fltsim-plus" \
    "option --frobnicate of 'fltsim run --help' is not an option (.TP) of the page's run"

[ $fail -eq 0 ] && echo "mutants: every mutant fails check_man"
exit $fail
