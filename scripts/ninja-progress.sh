#!/bin/bash
# Pass ninja's output through unchanged and show how far the build is on
# descriptor $PROGRESS_FD: one line updated in place on a terminal, a
# line a minute (and the last one) elsewhere, such as CI's log.
#   ninja ... | scripts/ninja-progress.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/progress.sh"
fd=${PROGRESS_FD:?}
tty=false
[ -t "$fd" ] && tty=true
last=0 done=0 total=0 shown=-1

show() {
    local pct=$((total ? done * 100 / total : 0))

    shown=$done
    if $tty; then
        printf '\r[%s] build: %d of %d steps (%d%%)\033[K' \
            "$(elapsed)" "$done" "$total" "$pct" >&"$fd"
    else
        say "build: $done of $total steps ($pct%)" 2>&"$fd"
    fi
}

while IFS= read -r line; do
    printf '%s\n' "$line"
    [[ $line =~ ^\[([0-9]+)/([0-9]+)\] ]] || continue
    # ninja's own regeneration of build.ninja is one step of one: no news
    [ "${BASH_REMATCH[2]}" -gt 1 ] || continue
    done=${BASH_REMATCH[1]} total=${BASH_REMATCH[2]}
    printf -v now '%(%s)T' -1
    if $tty || [ $((now - last)) -ge 60 ]; then
        show
        last=$now
    fi
done
if [ "$total" -gt 0 ]; then
    [ "$shown" = "$done" ] || show
    $tty && echo >&"$fd"
fi
exit 0
