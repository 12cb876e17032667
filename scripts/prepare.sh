#!/bin/bash
# Everything before the tests: host packages, the QEMU base, a modern
# passt, the work tree with the series, and the build (extra ninja
# targets may be given).  Each step does nothing when it is up to date.
set -euo pipefail
. "$(dirname "$0")/common.sh"
"$here/setup-host.sh"
"$here/fetch-base.sh"
"$here/build-passt.sh"
"$here/make-tree.sh"
"$here/build-qemu.sh" "$@"
