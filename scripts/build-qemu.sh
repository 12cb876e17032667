#!/bin/bash
# Configure (once) and build qemu-system-x86_64 from the work tree, with
# ccache.  Extra ninja targets (qtests, docs) may be given as arguments;
# QEMU_CONFIGURE_EXTRA adds configure options (--enable-sanitizers).
set -euo pipefail
. "$(dirname "$0")/common.sh"
tree=${QEMU_TREE:-$queue_tree}
obj=${QEMU_OBJ:-$queue_obj}
# Paths under $build are hashed relative to it, so that every checkout
# (CI's fresh clone, a second worktree) shares one warm compiler cache.
export CCACHE_BASEDIR=$build CCACHE_NOHASHDIR=1

configure_args=(
    --python=/usr/bin/python3
    --cc="ccache gcc" --cxx="ccache g++"
    --target-list=x86_64-softmmu
    --enable-slirp --enable-seccomp
    --disable-download --disable-install-blobs
    --enable-docs
    ${QEMU_CONFIGURE_EXTRA:-}
)

want="${configure_args[*]}"
if [ ! -f "$obj/build.ninja" ] ||
   [ "$(head -1 "$obj/.configure-args" 2>/dev/null)" != "$want" ]; then
    rm -rf "$obj"
    mkdir -p "$obj"
    [ -z "${PROGRESS_FD:-}" ] || echo "    configuring $obj" >&"$PROGRESS_FD"
    (cd "$obj" && "$tree/configure" "${configure_args[@]}" >configure.log 2>&1) || {
        tail -40 "$obj/configure.log" >&2
        echo "build-qemu: configure failed, see $obj/configure.log" >&2
        exit 1
    }
    echo "$want" > "$obj/.configure-args"
fi
# The base has no passt option: turn it on once the series adds it,
# without a fresh configure (and so without a full rebuild).
if grep -q "option('passt'" "$tree/meson_options.txt" &&
   ! grep -q -- "-Dpasst=enabled" "$obj/.configure-args"; then
    "$obj/pyvenv/bin/meson" configure -Dpasst=enabled "$obj" >/dev/null
    echo "-Dpasst=enabled" >> "$obj/.configure-args"
fi
# Regenerate build.ninja first: a target that a patch has just added is
# unknown to the old one, and ninja checks the targets before it reruns
# meson.
ninja -C "$obj" build.ninja >/dev/null
if [ -n "${PROGRESS_FD:-}" ]; then
    ninja -C "$obj" qemu-system-x86_64 "$@" | "$here/ninja-progress.sh"
else
    ninja -C "$obj" qemu-system-x86_64 "$@"
fi

"$here/link-firmware.sh" "$obj"
