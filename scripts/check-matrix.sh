#!/bin/bash
# Build the series' QEMU (build/qemu, from make tree) in three more
# configurations, each in a build directory of its own under
# build/matrix/NAME, warnings as errors: with clang; without passt and
# slirp; and --without-default-devices, whose -netdev help must still
# list passt.  Configures once per directory (again only when the
# options change), with ccache.  Not part of make check: three full
# builds.  Prints TAP; each build's log is $LOG_DIR/matrix/NAME.log.
# The builds read a snapshot of build/qemu's HEAD (build/matrix/src,
# updated in place), so that a tree rewritten meanwhile (make tree)
# cannot mix two versions of the series in one build.
set -euo pipefail
. "$(dirname "$0")/common.sh"
tree=$build/qemu
src=$build/matrix/src
logs=${LOG_DIR:-$build/logs}/matrix
mkdir -p "$logs"
# as build-qemu.sh: one warm compiler cache for every checkout
export CCACHE_BASEDIR=$build CCACHE_NOHASHDIR=1

configure_args() {    # configure_args NAME: sets args
    local gcc=(--cc="ccache gcc" --cxx="ccache g++")
    case $1 in
    clang) args=(--cc="ccache clang" --cxx="ccache clang++"
                 --enable-passt --enable-slirp) ;;
    no-passt-no-slirp) args=("${gcc[@]}" --disable-passt --disable-slirp) ;;
    without-default-devices) args=("${gcc[@]}" --without-default-devices
                                   --enable-passt --enable-slirp) ;;
    esac
    args+=(--python=/usr/bin/python3 --target-list=x86_64-softmmu
           --disable-download --disable-install-blobs --disable-docs
           --enable-werror)
}

snapshot() {          # $src at build/qemu's HEAD, once HEAD stays put 10 s
    local a b try
    [ -d "$src/.git" ] || git init -q "$src"
    for try in $(seq 30); do
        a=$(git -C "$tree" rev-parse HEAD)
        sleep 10
        b=$(git -C "$tree" rev-parse HEAD)
        [ "$a" = "$b" ] || continue
        git -C "$src" fetch -q "$tree" HEAD
        if [ "$(git -C "$src" rev-parse FETCH_HEAD)" = "$b" ]; then
            git -C "$src" checkout -q -f --detach FETCH_HEAD
            return 0
        fi
    done
    echo "check-matrix: $tree kept changing for 5 minutes" >&2
    return 1
}

build_one() {         # build_one NAME: configure if needed, then ninja
    local obj=$build/matrix/$1 want targets=(qemu-system-x86_64)
    configure_args "$1"
    want="$src ${args[*]}"
    if [ ! -f "$obj/build.ninja" ] ||
       [ "$(cat "$obj/.configure-args" 2>/dev/null)" != "$want" ]; then
        rm -rf "$obj"
        mkdir -p "$obj"
        (cd "$obj" && "$src/configure" "${args[@]}") || return
        echo "$want" >"$obj/.configure-args"
    fi
    if grep -q '^build tests/unit/test-stream-offload:' "$obj/build.ninja"; then
        targets+=(tests/unit/test-stream-offload)
    fi
    echo "ninja targets: ${targets[*]}"
    nice -n 10 ninja -C "$obj" "${targets[@]}"
}

snapshot
n=0 failed=0 wdd_built=false
echo "1..4"
echo "# build/qemu at $(git -C "$src" log -1 --format='%h %s')"
for name in clang no-passt-no-slirp without-default-devices; do
    n=$((n + 1))
    log=$logs/$name.log
    start=$SECONDS
    rc=0
    build_one "$name" >"$log" 2>&1 || rc=$?
    t=$((SECONDS - start))
    took=$(printf '%dm%02ds' $((t / 60)) $((t % 60)))
    if [ "$rc" -eq 0 ]; then
        echo "ok $n - $name (built in $took)"
        [ "$name" != without-default-devices ] || wdd_built=true
    else
        failed=$((failed + 1))
        echo "not ok $n - $name (exit status $rc after $took, see $log)"
        tail -n 30 "$log" | sed 's/^/# /'
    fi
done

n=$((n + 1))
what="without-default-devices: -netdev help lists passt"
if ! $wdd_built; then
    echo "ok $n - $what # SKIP not built"
elif out=$(cd "$build/matrix/without-default-devices" &&
           ./qemu-system-x86_64 -M none -netdev help 2>&1) &&
     grep -qx passt <<<"$out"; then
    echo "ok $n - $what"
else
    failed=$((failed + 1))
    echo "not ok $n - $what"
    sed 's/^/# /' <<<"$out"
fi
[ "$failed" -eq 0 ]
