# The example project's images (examples/shop), shared by `make demo`
# (hack/demo.sh) and tests/e2e/example_deploy.sh. Sourced, not run. POSIX sh,
# no other hack/lib file needed.
#   example_images CACHE LIST   hack/mkimage-example builds the four image
#                               archives into CACHE (or reuses them: it caches
#                               by content) and writes its "NAME ARCHIVE REF"
#                               lines to LIST
#   example_import LIST CLI...  CLI image import ARCHIVE berth-example-NAME:latest
#                               for each line of LIST: the names
#                               examples/shop/berth.yaml uses
# Both return non-zero with the failing command's output on stderr.

_example_src=${BERTH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

# example_cache BUILD_DIR: where the archives are cached (next to the e2e
# busybox image, so the demo and the tests build them once).
example_cache() { echo "${BERTH_E2E_CACHE:-$1/e2e-cache}/example-images"; }

example_images() {
  "$_example_src/hack/mkimage-example" "$1" >"$2" 2>"$2.err" || {
    cat "$2.err" >&2
    echo "hack/mkimage-example $1 failed" >&2
    return 1
  }
  [ "$(wc -l <"$2")" -eq 4 ] || { echo "hack/mkimage-example printed: $(cat "$2")" >&2; return 1; }
}

example_import() {
  _list=$1
  shift
  while read -r _name _archive _ref; do
    _out=$("$@" image import "$_archive" "berth-example-$_name:latest" 2>&1) || {
      echo "image import $_archive: $_out" >&2
      return 1
    }
  done <"$_list"
}
