#!/bin/bash
# Export the work tree's commits since "base" into the queue's folder
# (QUEUE, see common.sh: patches/ or patches-10.2/), or --to DIR:
# one numbered file per commit ([PATCH NN/MM]), the cover letter as
# 0000-cover-letter.patch (its subject and text from
# the queue's cover-letter.txt), and its series rewritten in order.
set -euo pipefail
. "$(dirname "$0")/common.sh"
tree=$queue_tree
out=$queue_dir
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
    --numbered --cover-letter --full-index --src-prefix=a/ --dst-prefix=b/ \
    -o "$out" base..HEAD
# The cover letter's date is today's: take the first patch's, so that an
# unchanged series exports byte for byte the same.
"$here/fill-cover-letter.py" "$queue_dir/cover-letter.txt" \
    "$out/0000-cover-letter.patch" "$(ls "$out"/0001-*.patch)"
{
    echo "# Applied in this order by scripts/make-tree.sh"
    (cd "$out" && ls -1 -- *.patch 2>/dev/null | grep -v '^0000-cover-letter' || true)
} > "$out/series"
if [ "$out" = "$queue_dir" ]; then
    (cd "$out" && cat series $(grep -v '^#' series)) | sha256sum | cut -d' ' -f1 \
        > "$queue_stamp"
fi
echo "export-patches: $(grep -vc '^#' "$out/series") patches in $out"
