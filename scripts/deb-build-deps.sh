#!/bin/bash
# Install what a binary-only build (-B) of the unpacked source SRC lacks
# with the build profiles PROFILES, as apt-get build-dep would, on
# Debian 12: dpkg-checkbuilddeps names each missing dependency; the
# first alternative that Debian 12 has in a version that satisfies it is
# installed from there, else from bookworm-backports (setup-host.sh adds
# it; meson comes from there), else it is an error.  What is installed
# anew (with what it pulls in) is listed in OUT/build-deps.installed, so
# that "apt-get purge $(cat OUT/build-deps.installed)" takes it away.
# With --print, only print the packages, as they would be installed.
#   scripts/deb-build-deps.sh [--print] SRC PROFILES OUT
set -euo pipefail
print=false
[ "$1" = --print ] && { print=true; shift; }
src=$1 profiles=$2 out=$3
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

unmet() {         # the missing build dependencies, one group a line
    local msg
    msg=$(cd "$src" && dpkg-checkbuilddeps -B -P "$profiles" 2>&1) && return 0
    if [[ $msg == *"Build conflicts:"* ]]; then
        echo "deb-build-deps: $msg" >&2
        echo "deb-build-deps: remove those first; this script removes nothing" >&2
        return 1
    fi
    if [[ $msg != *"Unmet build dependencies: "* ]]; then
        echo "deb-build-deps: $msg" >&2
        return 1
    fi
    # "a (>= 1) | b:native c" -> "a (>= 1) | b:native" and "c"
    grep -oE '[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?( \([<>=]+ [^)]+\))?( \| [a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?( \([<>=]+ [^)]+\))?)*' \
        <<<"${msg#*Unmet build dependencies: }"
}

satisfies() {     # satisfies VERSION [OP WANTED]
    [ -n "$1" ] && { [ -z "${2:-}" ] || dpkg --compare-versions "$1" "$2" "$3"; }
}

pick() {          # pick GROUP: the apt-get argument that satisfies it
    local alt name op want cand bpo
    while read -r alt; do
        name=${alt%% *} op='' want=''
        name=${name%%:*}          # :native, :any: the same on a native build
        if [[ $alt =~ \(([<>=]+)\ ([^\)]+)\) ]]; then
            op=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
            case $op in '<') op='<<' ;; '>') op='>>' ;; esac
        fi
        cand=$(apt-cache policy "$name" | awk '/Candidate:/ {print $2}')
        if [ "$cand" = "(none)" ] || [ -z "$cand" ]; then
            # a virtual package (debhelper-compat): apt picks its provider
            if apt-cache showpkg "$name" 2>/dev/null |
                    sed '1,/^Reverse Provides:/d' | grep -q .; then
                echo "$name"; return 0
            fi
            continue
        fi
        if satisfies "$cand" ${op:+"$op" "$want"}; then
            echo "$name"; return 0
        fi
        bpo=$(apt-cache madison "$name" |
              awk -F' [|] ' '$3 ~ /bookworm-backports\/.* Packages$/ {print $2; exit}')
        if satisfies "$bpo" ${op:+"$op" "$want"}; then
            echo "$name/bookworm-backports"; return 0
        fi
    done <<<"${1// | /$'\n'}"
    echo "deb-build-deps: neither Debian 12 nor bookworm-backports has $1" >&2
    return 1
}

list=$(unmet)
if [ -z "$list" ]; then
    echo "deb-build-deps: every build dependency is installed"
    exit 0
fi
mapfile -t groups <<<"$list"
pkgs=()
for g in "${groups[@]}"; do
    p=$(pick "$g")
    pkgs+=("$p")
done
if $print; then
    printf '%s\n' "${pkgs[@]}"
    exit 0
fi

installed() { dpkg-query -W -f='${db:Status-Abbrev} ${binary:Package}\n' | awk '$1 == "ii" {print $2}' | sort; }
mkdir -p "$out"
before=$(installed)
echo "deb-build-deps: apt-get install ${pkgs[*]}"
apt-get install -y -q --no-install-recommends "${pkgs[@]}"
comm -13 <(echo "$before") <(installed) >>"$out/build-deps.installed"
sort -u -o "$out/build-deps.installed" "$out/build-deps.installed"
# what apt chose must do: dpkg-checkbuilddeps again
(cd "$src" && dpkg-checkbuilddeps -B -P "$profiles")
echo "deb-build-deps: $(wc -l <"$out/build-deps.installed") packages installed," \
     "listed in $out/build-deps.installed"
