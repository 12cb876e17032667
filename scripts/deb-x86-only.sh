#!/bin/bash
# The x86-only variant of make deb (the default; DEB_FULL=1 builds all):
# edit the unpacked Debian QEMU source SRC so that qemu-system-x86
# (targets i386 and x86_64) is the only emulator it builds.  The rest of
# the architecture-dependent build stays as Debian has it: the tools,
# the modules, the microvm build, the manuals, qemu-system-common,
# -gui, -modules-*, qemu-utils, qemu-block-extra, qemu-guest-agent.
# build-deb.sh adds the build profiles pkg.qemu.omit-user (no qemu-user
# build) and pkg.qemu.omit-system-xen (no Xen build); no profile limits
# the system targets, hence these edits:
#   debian/control.mk  system-packages := x86 (was "arm mips ppc riscv
#       s390x sparc x86 misc"): debian/rules moves the binaries of each
#       into qemu-system-PKG; and QEMU_CONFIGURE_OPTIONS +=
#       --target-list=i386-softmmu,x86_64-softmmu, since the main
#       configure line of debian/rules names no target list and so builds
#       every softmmu target, whose binaries no package would take
#       (dh_missing fails on them).  control.mk is included by
#       debian/rules, and the user, microvm and Xen builds have target
#       lists of their own.
#   debian/control-in  the packages qemu-system-{arm,mips,ppc,riscv,
#       s390x,sparc,misc} dropped, and from the Depends of the metapackage
#       qemu-system too, which is kept: debian/rules builds the system
#       emulators only when qemu-system is among the packages to build
#       ("enable-system").  debian/control is made from control-in.
#   the .install lists  unchanged: QEMU builds every module whatever the
#       targets (meson.build, "foreach d, list : modules"), so that
#       hw-s390x-virtio-gpu-ccw.so, which qemu-system-common.install
#       names, is there in an x86-only build too; and the files the
#       dropped packages got come from debian/rules (install-system) or
#       from the arch-indep build, not from .install lists.
#   scripts/deb-x86-only.sh SRC
set -euo pipefail
src=$1
deb=$src/debian
drop=(qemu-system-arm qemu-system-mips qemu-system-ppc qemu-system-riscv
      qemu-system-s390x qemu-system-sparc qemu-system-misc)

packages='^system-packages := arm mips ppc riscv s390x sparc x86 misc$'
if [ "$(grep -c "$packages" "$deb/control.mk")" != 1 ]; then
    echo "deb-x86-only: no line '$packages' in debian/control.mk" >&2
    exit 1
fi
sed -i "s/$packages/"'# passt-qemu, x86 only: one emulator package, and its targets alone\
system-packages := x86\
QEMU_CONFIGURE_OPTIONS += --target-list=i386-softmmu,x86_64-softmmu/' \
    "$deb/control.mk"

# control-in's paragraphs (blank-line separated, comments kept with the
# paragraph they are in), less those whose Package: is in $drop; in
# qemu-system's, its Depends lines " PKG," that name them go
awk -v drop=" ${drop[*]} " '
    BEGIN { RS = "" }
    {
        name = ""
        if (match($0, /(^|\n)Package: [^\n]*/)) {
            name = substr($0, RSTART, RLENGTH)
            sub(/^\n?Package: */, "", name)
        }
        if (name != "" && index(drop, " " name " ")) { dropped++; next }
        if (name == "qemu-system") {
            n = split($0, line, "\n"); $0 = ""
            for (i = 1; i <= n; i++) {
                dep = line[i]; sub(/^ /, "", dep); sub(/,$/, "", dep)
                if (line[i] ~ /^ / && index(drop, " " dep " ")) { undepended++; continue }
                $0 = $0 (i > 1 ? "\n" : "") line[i]
            }
            sub(/\n qemu-system-x86,\nDescription:/, "\n qemu-system-x86\nDescription:")
        }
        printf "%s%s", (printed++ ? "\n\n" : ""), $0
    }
    END {
        print ""
        n = split(drop, all, " "); if (dropped != n || undepended != n) exit 1
    }
' "$deb/control-in" >"$deb/control-in.new" || {
    echo "deb-x86-only: debian/control-in lacks one of: ${drop[*]}" >&2
    exit 1
}
mv "$deb/control-in.new" "$deb/control-in"
echo "deb-x86-only: system targets i386 and x86_64 only; dropped ${drop[*]}"
