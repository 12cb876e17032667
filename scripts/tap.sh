# Helpers for scripts that gather test results, sourced by them after
# common.sh (for $build).  Every result is printed as a TAP line;
# tap_summary ends with the plan and the line "N passed, N failed" and
# fails if anything failed or nothing ran.  Logs go to $LOG_DIR (default
# $build/logs).
export LOG_DIR=${LOG_DIR:-$build/logs}
mkdir -p "$LOG_DIR"
tap_n=0
tap_passed=0
tap_failed=0
tap_skipped=0

tap_result() {    # tap_result ok|fail|skip NAME [REASON]
    tap_n=$((tap_n + 1))
    case $1 in
    ok)   tap_passed=$((tap_passed + 1)); echo "ok $tap_n - $2" ;;
    skip) tap_skipped=$((tap_skipped + 1)); echo "ok $tap_n - ${2% } # SKIP ${3:-}" ;;
    *)    tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $2${3:+ ($3)}" ;;
    esac
}

# Run a command that prints TAP and take its results over, prefixed with
# NAME; its output goes to $LOG_DIR/NAME.log, and the logs of a suite it
# runs in turn to $LOG_DIR/NAME/, never into that same file.  A command
# that fails without reporting a failed test counts as one failure, shown
# with the end of its log; so does a suite that ran no test, or reported
# other than its plan's number of results ("1..0 # SKIP why", a suite
# whose dependency is absent, is a skip).
tap_run() {       # tap_run NAME COMMAND...
    local name=$1 log rc=0 before=$tap_failed line plan results
    shift
    log=$LOG_DIR/$name.log
    echo "# $name: running" >&2
    LOG_DIR=$LOG_DIR/$name "$@" >"$log" 2>&1 || rc=$?
    while IFS= read -r line; do
        case $line in
        "ok "*"# SKIP"*) tap_result skip "$name: $(tap_desc "${line%%# SKIP*}")" \
                             "$(sed -E 's/^ +//' <<<"${line#*# SKIP}")" ;;
        "ok "*)          tap_result ok "$name: $(tap_desc "$line")" ;;
        "not ok "*)      tap_result fail "$name: $(tap_desc "$line")" ;;
        esac
    done < <(grep -E '^(not )?ok ' "$log")
    results=$(grep -cE '^(not )?ok ' "$log" || true)
    plan=$(grep -E '^1\.\.[0-9]+' "$log" | tail -n 1 || true)
    if [[ $plan =~ ^1\.\.0\ *#\ *[Ss][Kk][Ii][Pp]\ *(.*) ]] && [ "$results" -eq 0 ]; then
        tap_result skip "$name" "${BASH_REMATCH[1]:-no reason given}"
        return
    fi
    plan=${plan#1..}
    plan=${plan%%[!0-9]*}
    if [ -z "$plan" ] || [ "$plan" -eq 0 ] || [ "$results" -ne "$plan" ]; then
        tap_result fail "$name" "$results results for a plan of ${plan:-none}: it ran no test or stopped early, see $log"
        tail -n 20 "$log" | sed 's/^/#   /'
    elif [ "$rc" -ne 0 ] && [ "$tap_failed" -eq "$before" ]; then
        tap_result fail "$name" "exit status $rc, see $log"
        # its last words (a traceback, say) as TAP diagnostics, so that a
        # run whose logs are gone (CI's) still tells what went wrong
        tail -n 20 "$log" | sed 's/^/#   /'
    fi
}

tap_desc() {      # the description of a TAP line, without number and dash
    sed -E 's/^(not )?ok [0-9]+ (- )?//' <<<"$1"
}

tap_summary() {
    echo "1..$tap_n"
    echo "$tap_passed passed, $tap_failed failed, $tap_skipped skipped"
    [ "$tap_failed" -eq 0 ] && [ "$tap_passed" -gt 0 ]
}
