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
