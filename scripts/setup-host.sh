#!/bin/bash
# Install everything the build, the tests and the benchmarks need on a
# Debian 12 host.  Idempotent: a second run only checks.
set -euo pipefail
. "$(dirname "$0")/common.sh"
stamp_dir=$build/stamps
stamp=$stamp_dir/setup-host

packages=(
    build-essential ccache git pkg-config ninja-build flex bison
    python3-venv python3-sphinx python3-sphinx-rtd-theme
    libglib2.0-dev libslirp-dev libfdt-dev libpixman-1-dev zlib1g-dev
    libseccomp-dev seabios ipxe-qemu qemu-system-data
    passt iproute2 util-linux procps psmisc socat
    dpkg-dev xz-utils cpio
    busybox-static iperf3 gnuplot-nox linux-perf
    clang libclang-rt-14-dev
)
backports=(meson python3-pycotap)

if [ -f "$stamp" ] && [ "$stamp" -nt "$here/setup-host.sh" ]; then
    exit 0
fi

# bookworm-backports for a meson >= 1.5; trixie only as deb-src, and pinned
# away so that no trixie binary can ever be installed.  Both from the
# mirror the machine's own apt sources name.
mirror=$("$here/apt-mirror.sh")
cat > /etc/apt/sources.list.d/passt-qemu.sources <<EOF
Types: deb deb-src
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat > /etc/apt/preferences.d/passt-qemu-no-trixie <<'EOF'
Package: *
Pin: release n=trixie
Pin-Priority: -1
EOF

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
apt-get install -y -qq --no-install-recommends -t bookworm-backports \
    "${backports[@]}" >/dev/null

mkdir -p "$stamp_dir"
touch "$stamp"
echo "setup-host: packages installed"
