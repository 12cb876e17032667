# The project's vocabulary.  Everything generated lives under build/.
#   make check        set up, build, run every test (what CI runs)
#   make demo         boot a guest on -nic passt and show it working
#   make tree         build/qemu: the QEMU base + patches/series, as commits
#   make export       build/qemu's commits back into patches/
#   make build        build qemu-system-x86_64 from build/qemu
#   make checkpatch   QEMU's checkpatch.pl on every patch
#   make check-series build the tree after each patch in turn (both queues)
#   make check-10.2   the second queue, patches-10.2/ on upstream QEMU
#                     10.2.2: build it and run its tests (make check does)
#   make bench        the benchmarks
#   make fuzz         the fuzz target of the offload code, for FUZZ_SECONDS
#   make check-sanitizers  QEMU with ASan and UBSan: qtests and a guest
#   make check-matrix build with clang, without passt and slirp, and
#                     --without-default-devices
#   make deb          Debian 12 packages of Debian's QEMU with the series
#                     (build/deb/x86; DEB_FULL=1: every target, build/deb/full)
#   make check-deb    install them, run the demo and the guest forms on
#                     /usr/bin/qemu-system-x86_64, uninstall (not in check)

SCRIPTS := scripts

# QUEUE=10.2 makes tree, export, build and checkpatch work on the second
# queue, patches-10.2/ on upstream QEMU 10.2.2 (build/qemu-10.2)
QUEUE ?= 10.0
export QUEUE

.PHONY: all setup base passt tree export build check checkpatch \
        check-series check-10.2 demo bench fuzz check-sanitizers check-matrix \
        deb check-deb clean

all: build

setup:
	$(SCRIPTS)/setup-host.sh

base: setup
ifeq ($(QUEUE),10.2)
	$(SCRIPTS)/fetch-upstream-qemu.sh
else
	$(SCRIPTS)/fetch-base.sh
endif

passt: setup
	$(SCRIPTS)/build-passt.sh

tree: base
	$(SCRIPTS)/make-tree.sh

export:
	$(SCRIPTS)/export-patches.sh

build: tree
	$(SCRIPTS)/build-qemu.sh

check:
	$(SCRIPTS)/check.sh

checkpatch: tree
	$(SCRIPTS)/checkpatch.sh

check-series:
	$(MAKE) tree QUEUE=10.0
	QUEUE=10.0 $(SCRIPTS)/check-series.sh
	$(MAKE) tree QUEUE=10.2
	QUEUE=10.2 $(SCRIPTS)/check-series.sh

check-10.2:
	$(SCRIPTS)/check-queue-10.2.sh

demo:
	$(SCRIPTS)/demo.sh

bench:
	$(SCRIPTS)/bench.sh

FUZZ_SECONDS ?= 600
fuzz: build
	$(SCRIPTS)/run-fuzz.sh --seconds $(FUZZ_SECONDS)

check-sanitizers: tree
	$(SCRIPTS)/check-sanitizers.sh

check-matrix: tree
	$(SCRIPTS)/check-matrix.sh

# DEB_FULL=1: every target and package; DEB_REVISION=N: version ...+passtN~bpo12
deb:
	$(SCRIPTS)/build-deb.sh

check-deb:
	$(SCRIPTS)/test-deb.sh

clean:
	rm -rf build/qemu-build build/qemu-series build/qemu-series-build \
	       build/qemu-10.2-build build/qemu-10.2-series \
	       build/qemu-10.2-series-build \
	       build/qemu-san-build build/matrix build/fuzz \
	       build/qemu-plain build/qemu-plain-build build/logs \
	       build/deb/qemu-*/
