#!/bin/bash
# Unpack a Debian source package, its patches applied, into DEST, unless
# DEST already holds it (unpacked after the .dsc was fetched).
#   scripts/unpack-source.sh DSC DEST
set -euo pipefail
dsc=$1 dest=$2

if [ -f "$dest/.unpacked" ] && [ "$dest/.unpacked" -nt "$dsc" ]; then
    exit 0
fi
rm -rf "$dest"
dpkg-source --no-check -x "$dsc" "$dest" >/dev/null
rm -rf "$dest/.pc"
touch "$dest/.unpacked"
echo "unpack-source: $(basename "$dsc") unpacked in $dest"
