#!/bin/bash
# Make the QEMU work tree of a queue (QUEUE, see common.sh): the unpacked
# base as one commit (tagged "base"), then "git am" of the queue's series.
# An existing tree is brought up to date with the queue without touching
# unchanged files (so rebuilds stay
# incremental), and refused if it holds work that was never exported.
set -euo pipefail
. "$(dirname "$0")/common.sh"
tree=$queue_tree
stamps=$build/stamps
series=$queue_dir/series

git_tree() {
    git -C "$tree" -c user.name="passt-qemu" -c user.email="passt-qemu@localhost" \
        -c commit.gpgsign=false "$@"
}

series_patches() {
    grep -v -e '^#' -e '^[[:space:]]*$' "$series" || true
}

series_digest() {
    (cd "$queue_dir" && cat series $(series_patches)) | sha256sum | cut -d' ' -f1
}

tree_digest() {
    local tmp
    tmp=$(mktemp -d)
    "$here/export-patches.sh" --to "$tmp" >/dev/null
    (cd "$tmp" && cat series $(grep -v '^#' series)) | sha256sum | cut -d' ' -f1
    rm -rf "$tmp"
}

make_base() {
    rm -rf "$tree"
    cp -a "$queue_base" "$tree"
    rm -f "$tree/.unpacked"
    git_tree init -q -b main
    git_tree add -A -f
    git_tree commit -q -m "base: Debian qemu $(cd "$queue_base" && dpkg-parsechangelog -S Version)"
    git_tree tag base
}

apply_series() {
    local p
    for p in $(series_patches); do
        if ! git_tree am -q --keep-cr "$queue_dir/$p" >/dev/null 2>&1; then
            git_tree am --abort >/dev/null 2>&1 || true
            echo "make-tree: ${queue_dir#"$top"/}/$p does not apply" >&2
            exit 1
        fi
    done
}

mkdir -p "$stamps"
want=$(series_digest)
if [ -d "$tree/.git" ]; then
    [ "$(cat "$queue_stamp" 2>/dev/null)" = "$want" ] &&
        [ -z "$(git_tree status --porcelain)" ] && exit 0
    if [ -z "${FORCE:-}" ]; then
        if [ -n "$(git_tree status --porcelain)" ] ||
           [ "$(tree_digest)" != "$(cat "$queue_stamp" 2>/dev/null)" ]; then
            echo "make-tree: $tree has changes not in ${queue_dir#"$top"/}/;" \
                 "run 'make export' first, or 'make tree FORCE=1' to drop them" >&2
            exit 1
        fi
    fi
    git_tree am --abort >/dev/null 2>&1 || true
    git_tree reset -q --hard base
    git_tree clean -q -fdx
else
    make_base
fi
apply_series
echo "$want" > "$queue_stamp"
echo "make-tree: $tree at base + $(series_patches | wc -l) patches"
