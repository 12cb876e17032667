#!/bin/bash
# Export the work tree's commits since "base" into patches/ (or --to DIR):
# one file per commit, byte-identical for an unchanged commit, and
# patches/series rewritten in order.
set -euo pipefail
. "$(dirname "$0")/common.sh"
tree=$build/qemu
out=$top/patches
if [ "${1:-}" = "--to" ]; then
    out=$2
fi

if [ ! -d "$tree/.git" ]; then
    echo "export-patches: no work tree in $tree; 'make tree' makes it" >&2
    exit 1
fi
if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
    echo "export-patches: $tree has uncommitted changes; commit them first" >&2
    exit 1
fi
mkdir -p "$out"
rm -f "$out"/*.patch
git -C "$tree" format-patch -q --zero-commit --no-signature \
    --no-numbered --full-index --src-prefix=a/ --dst-prefix=b/ \
    -o "$out" base..HEAD
{
    echo "# Applied in this order by scripts/make-tree.sh"
    (cd "$out" && ls -1 -- *.patch 2>/dev/null || true)
} > "$out/series"
if [ "$out" = "$top/patches" ]; then
    (cd "$out" && cat series $(grep -v '^#' series)) | sha256sum | cut -d' ' -f1 \
        > "$build/stamps/tree-digest"
fi
echo "export-patches: $(grep -vc '^#' "$out/series") patches in $out"
