# shellcheck shell=bash
# What a long command is doing, for the scripts that set the machine up
# (sourced after common.sh): each step as it starts, with the time since
# the first one, on standard error; the step's output in a log of its
# own; on failure, which step failed and the end of its log.
#   step NAME WHAT COMMAND...
# A step may report finer progress on the descriptor named by
# $PROGRESS_FD (build-qemu.sh does, with ninja-progress.sh).
printf -v progress_start '%(%s)T' -1
export PROGRESS_T0=${PROGRESS_T0:-$progress_start}
progress_logs=${LOG_DIR:-$build/logs}/setup
mkdir -p "$progress_logs"

elapsed() {
    local now
    printf -v now '%(%s)T' -1
    now=$((now - PROGRESS_T0))
    printf '%d:%02d' $((now / 60)) $((now % 60))
}

say() {
    echo "[$(elapsed)] $*" >&2
}

step() {
    local name=$1 what=$2 log=$progress_logs/$1.log rc=0
    shift 2
    say "$name: $what"
    PROGRESS_FD=3 "$@" 3>&2 >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        say "$name: failed (exit status $rc); the end of $log:"
        tail -n 30 "$log" | sed 's/^/    /' >&2
        exit "$rc"
    fi
}
