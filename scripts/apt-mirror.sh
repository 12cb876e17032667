#!/bin/bash
# Print the URI of the Debian archive this machine's apt already uses:
# the first enabled "deb" source whose suites include the release's own
# codename (bookworm on Debian 12), read from the deb822 files in
# /etc/apt/sources.list.d/ and then the one-line lists.  The scripts add
# suites on that same mirror (or proxy), so a machine keeps going where
# its administrator pointed it.
#   scripts/apt-mirror.sh [CODENAME]
set -euo pipefail

etc=${APT_ETC:-/etc/apt}
# shellcheck source=/dev/null
codename=${1:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
if [ -z "$codename" ]; then
    echo "apt-mirror: no VERSION_CODENAME in /etc/os-release" >&2
    exit 1
fi

from_deb822() {   # from_deb822 FILE...: URIs of matching stanzas
    awk -v want="$codename" '
        function flush() {
            if (types ~ /(^| )deb( |$)/ && enabled != "no" &&
                (" " suites " ") ~ (" " want " "))
                print uris
            types = suites = uris = enabled = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        {
            key = tolower($1); sub(/:$/, "", key)
            val = $0; sub(/^[^:]*:[ \t]*/, "", val)
            if (key == "types") types = val
            else if (key == "suites") suites = val
            else if (key == "uris") uris = val
            else if (key == "enabled") enabled = tolower(val)
        }
        END { flush() }' "$@" | awk '{ print $1 }'
}

from_list() {     # from_list FILE...: URIs of matching one-line entries
    sed -E -e 's/#.*//' -e 's/\[[^]]*\]//' "$@" |
        awk -v want="$codename" '$1 == "deb" && $3 == want { print $2 }'
}

read_files=()
shopt -s nullglob
for f in "$etc"/sources.list.d/*.sources; do
    [ "${f##*/}" = passt-qemu.sources ] && continue   # ours, added from this
    read_files+=("$f")
    uri=$(from_deb822 "$f" | head -1)
    [ -n "$uri" ] && { echo "${uri%/}"; exit 0; }
done
for f in "$etc"/sources.list "$etc"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    read_files+=("$f")
    uri=$(from_list "$f" | head -1)
    [ -n "$uri" ] && { echo "${uri%/}"; exit 0; }
done
echo "apt-mirror: no enabled 'deb' source for $codename in:" \
     "${read_files[*]:-$etc/sources.list.d/*.sources, $etc/sources.list (none exist)}" >&2
echo "apt-mirror: add the Debian mirror (or proxy) this machine should use" \
     "to one of them" >&2
exit 1
