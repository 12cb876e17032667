# shellcheck shell=bash disable=SC2034
# Where things are, for every script here; each sources this first:
#   . "$(dirname "$0")/common.sh"
#   here   this folder, scripts/, as an absolute path
#   top    the repository
#   build  $BUILD_DIR, or else build/ in the current directory (make
#          runs the scripts from the top of the repository), made
#          absolute so that it still holds after a cd
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
build=$(realpath -m "${BUILD_DIR:-build}")

# The patch queue a script works on: QUEUE=10.0 (default) is patches/ on
# Debian's QEMU 10.0.13 (build/base); QUEUE=10.2 is patches-10.2/ on
# upstream QEMU 10.2.2 (build/qemu-upstream, fetch-upstream-qemu.sh).
#   queue_dir    the folder of .patch files, series and cover-letter.txt
#   queue_base   the unpacked source the queue applies to
#   queue_tree   the git work tree (base + queue), as make-tree.sh makes it
#   queue_obj    the build directory of that tree
#   queue_stamp  the digest file that says which queue the tree holds
case ${QUEUE:-10.0} in
10.0)
    queue_dir=$top/patches queue_base=$build/base
    queue_tree=$build/qemu queue_obj=$build/qemu-build
    queue_stamp=$build/stamps/tree-digest ;;
10.2)
    queue_dir=$top/patches-10.2 queue_base=$build/qemu-upstream
    queue_tree=$build/qemu-10.2 queue_obj=$build/qemu-10.2-build
    queue_stamp=$build/stamps/tree-10.2-digest ;;
*)
    echo "QUEUE=$QUEUE: there are queues 10.0 and 10.2" >&2
    exit 1 ;;
esac
