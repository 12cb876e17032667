# Pinned inputs, sourced by the scripts.  To move to another QEMU 10.0.x,
# change QEMU_VERSION and the three sums (apt-get source prints the files;
# sha256sum them and check the .dsc's Checksums-Sha256 field agrees).
QEMU_VERSION=1:10.0.13+ds-0+deb13u1
QEMU_SHA256=(
    "a426c892e5369058c3423816c8625bc8010bb5a58ece57261f62b64ee4d765ad  qemu_10.0.13+ds-0+deb13u1.dsc"
    "6a0888e806c2ffc0c5f0733e974f9aea55491950d3c47c98669c8b236dde59ae  qemu_10.0.13+ds.orig.tar.xz"
    "da73c092f5684c551b0334d675eb16a3dec91e1edea94759cfb1102fa4a0364e  qemu_10.0.13+ds-0+deb13u1.debian.tar.xz"
)

# The benchmarks' peer: the Debian QEMU with upstream's own -netdev passt
# (QEMU 10.1 and later), from sid's deb-src through a private apt
# configuration (fetch-upstream-qemu.sh).  Same rule for the sums.
UPSTREAM_QEMU_VERSION=1:10.2.2+ds-1
UPSTREAM_QEMU_SHA256=(
    "f1684b3aa5ec500c3389d346c6501dee45041ea91656c6556d4da9023b7987dd  qemu_10.2.2+ds-1.dsc"
    "be05230fe47a6937cd29f28f562932c8125f9c93c2a82c625198f7a4aa601dfb  qemu_10.2.2+ds.orig.tar.xz"
    "ddf75aceab4f8f77374f3cb34fc97b41514895aeb293ce8b2ddd5e072bb0f5c0  qemu_10.2.2+ds-1.debian.tar.xz"
)

# The .dsc of this passt is missing on the mirror; the tarballs are enough.
PASST_VERSION=0.0~git20250503.587980c-2+deb13u1
PASST_SHA256=(
    "69d5eb843f7d648c2cc60bfbca6ea7b5014c6b6f07cdee362c2a8cf490515a49  passt_0.0~git20250503.587980c.orig.tar.xz"
)
