#!/bin/bash
# The bash completion of fltsim (issue 21 item 5), with plain bash: sources
# sim/cli/fltsim.bash-completion, sets COMP_WORDS and COMP_CWORD for a command
# line as bash would, calls the function `complete` registered for fltsim and
# compares COMPREPLY (sorted) with what it must be: commands, options per
# command, option values, catalog filter names, files by kind.
# usage: completion.sh FLTSIM COMPLETION_FILE WORKDIR
set -u
fltsim=$1 completion=$2 work=$3
rm -rf "$work"
mkdir -p "$work/bin" "$work/files/sub"
ln -s "$fltsim" "$work/bin/fltsim"
PATH=$work/bin:$PATH
cd "$work/files" || exit 1
touch a.yaml b.yml notes.txt cap.csv cap.pml.gz cap.xml cap.txt my_filter.so my_filter.c
fail=0

# shellcheck source=/dev/null
source "$completion" || exit 1
func=$(complete -p fltsim 2> /dev/null | sed -E 's/.*-F ([^ ]+).*/\1/')
if [[ -z $func ]]; then
    echo "completion: sourcing $completion registers no completion for fltsim" >&2
    exit 1
fi

# expect 'COMMAND LINE' 'WANTED WORDS': the line's last word is completed (a
# trailing space: an empty word).
expect() {
    local line=$1 want=$2
    read -r -a COMP_WORDS <<< "$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    "$func" fltsim "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
    if [[ $got != "$want" ]]; then
        echo "completion: '$line': got '$got', expected '$want'" >&2
        fail=1
    fi
}

expect 'fltsim ' 'check demo explore filters help import replay run'
expect 'fltsim r' 'replay run'
expect 'fltsim help ' 'check demo explore filters help import replay run'
expect 'fltsim help ex' 'explore'
expect 'fltsim run --tr' '--trace --trace-out'
expect 'fltsim run --u' '--update-golden'
expect 'fltsim explore -' '--help --seed --timeout-ms --verbose --verifier-disable -h -v'
expect 'fltsim check -' '--help --quiet -h -q'
expect 'fltsim --co' '--concurrent'
expect 'fltsim run --trace ' 'jsonl mermaid none normalized text'
expect 'fltsim demo --executor c' 'concurrent'
expect 'fltsim run --verifier ' 'report strict'
expect 'fltsim replay --format ' 'csv pml xml'
expect 'fltsim run --fltmc filters,in' 'filters,instances'
expect 'fltsim run --verifier-disable V7,V3' 'V7,V3 V7,V30 V7,V31 V7,V32 V7,V33 V7,V34 V7,V35 V7,V36'
expect 'fltsim run --inject-fault ' 'alloc: deferred_queue: fs: generic_queue:'
expect 'fltsim replay --filter pass' 'passthrough'
expect 'fltsim replay --filter my' 'my_filter.so'
expect 'fltsim import --filter a' 'accessblocker antivirus'
expect 'fltsim run ' 'a.yaml b.yml sub/'
expect 'fltsim check a' 'a.yaml'
expect 'fltsim replay cap' 'cap.csv cap.pml.gz cap.xml'
expect 'fltsim import cap.csv -o ' 'a.yaml b.yml sub/'
expect 'fltsim replay --seed ' ''
expect 'fltsim filters ' ''

# The catalog: every name `fltsim filters` prints is offered after --filter.
catalog=$( (fltsim filters | awk 'NR == 1 { next } /^$/ { exit } { print $1 }'
    printf '%s\n' my_filter.so sub/) | sort | tr '\n' ' ' | sed 's/ $//')
[[ $catalog == *passthrough*readquota* ]] || { echo "completion: no catalog in fltsim filters" >&2; fail=1; }
expect 'fltsim replay --filter ' "$catalog"

[[ $fail -eq 0 ]] && echo "completion: every case completes as expected"
exit $fail
