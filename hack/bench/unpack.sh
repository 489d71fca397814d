#!/bin/sh
# Unpack benchmark: the same multi-layer image (hack/mkimage-big: Debian
# packages, ~224 MiB of tar in 5 gzip layers) put on disk by berth and by
# `umoci raw unpack` (Debian's umoci), side by side, N runs each (BENCH_RUNS,
# default 5), the order alternating run by run so drift on the machine hits
# both alike. Reports the median wall time of each and the ratio
# berth/umoci (target: <= 0.5).
#
# What is compared is "all layers on disk": umoci applies the layers one by
# one into a single rootfs; berth unpacks each layer into its own directory
# (ensureLayer, DiffID verified) to be stacked by overlayfs later. berth is
# timed with --jobs 1 (one layer after the other, like umoci) and, as a
# second row, --jobs 2 (layers are independent, so two at once). Page
# caches are not dropped; every run writes into a fresh directory (removal
# is not timed). --durable (a syncfs per layer) is off, as umoci does not sync.
#
# Usage: hack/bench/unpack.sh [BUILD_DIR]
# Env:   BENCH_RUNS (5), BENCH_IMAGE_DIR (/var/tmp/berth-bench-big), UMOCI (umoci)
set -eu

die() { echo "unpack-bench: $*" >&2; exit 1; }

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${BERTH_BUILD_DIR:-$src/build}}
runs=${BENCH_RUNS:-5}
imgdir=${BENCH_IMAGE_DIR:-/var/tmp/berth-bench-big}
UMOCI=${UMOCI:-$(command -v umoci || echo /usr/bin/umoci)}
case $runs in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive number, not '$runs'" ;; esac
[ -x "$UMOCI" ] || die "umoci not found (Debian package umoci)"
command -v c++ >/dev/null || die "c++ not found (build-essential)"
[ -d "$build" ] || die "build dir $build not found"

work=$(mktemp -d /var/tmp/berth-unpack-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

# The image (cached across runs of this script).
"$src/hack/mkimage-big" "$imgdir" >/dev/null || die "hack/mkimage-big failed"
layers_txt=$imgdir/layers.txt

# The tools: the unpack library from the build tree, a tiny main around it,
# and timeit (wall time measured around posix_spawn/wait4).
cmake --build "$build" --target berth_image_unpack >/dev/null 2>&1 || die "building berth_image_unpack failed"
c++ -std=c++20 -O2 -D_GNU_SOURCE -I"$src" "$src/hack/bench/unpack_bench.cc" \
  "$build/image/libberth_image_unpack.a" "$build/runtime/libberth_sys.a" \
  -larchive -lzstd -lcrypto -lisal -ldeflate -pthread -o "$work/unpack_bench" \
  || die "building unpack_bench failed"
cc -O2 -o "$work/timeit" "$src/hack/bench/timeit.c" || die "building timeit failed"

run_berth() {  # $1 = jobs, $2 = samples file
  rm -rf "$work/layers"
  "$work/timeit" "$2" "$work/unpack_bench" "$layers_txt" "$work/layers" --jobs "$1" \
    || die "berth unpack failed"
  rm -rf "$work/layers"
}
run_umoci() {
  rm -rf "$work/rootfs"
  "$work/timeit" "$work/umoci.txt" "$UMOCI" --log error raw unpack --image "$imgdir/image:big" \
    "$work/rootfs" >/dev/null || die "umoci unpack failed"
  rm -rf "$work/rootfs"
}

# One untimed warm-up of each, so both start with the blobs in the page cache.
run_berth 1 "$work/warm.txt"
run_umoci
: >"$work/umoci.txt"
i=1
while [ $i -le "$runs" ]; do
  if [ $((i % 2)) = 1 ]; then
    run_berth 1 "$work/berth1.txt"; run_berth 2 "$work/berth2.txt"; run_umoci
  else
    run_umoci; run_berth 2 "$work/berth2.txt"; run_berth 1 "$work/berth1.txt"
  fi
  i=$((i + 1))
done

median_ms() { cut -d' ' -f1 "$1" | sort -n | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.0f", m/1e6}'; }
tar_mib=$(awk '{print $1}' "$layers_txt" | xargs -n1 gzip -dc | wc -c | awk '{printf "%.0f", $1/1048576}')
u=$(median_ms "$work/umoci.txt")
b1=$(median_ms "$work/berth1.txt")
b2=$(median_ms "$work/berth2.txt")
echo "unpack: $(wc -l <"$layers_txt") gzip layers, $tar_mib MiB of tar, $runs runs each, medians"
printf '  %-28s %6s ms\n' "umoci raw unpack" "$u"
printf '  %-28s %6s ms   ratio %s\n' "berth (1 layer at a time)" "$b1" "$(awk "BEGIN {printf \"%.2f\", $b1/$u}")"
printf '  %-28s %6s ms   ratio %s\n' "berth (2 layers at a time)" "$b2" "$(awk "BEGIN {printf \"%.2f\", $b2/$u}")"
awk "BEGIN {exit !($b1 <= 0.5 * $u)}" || echo "  target berth <= 0.5x umoci NOT met (1 layer at a time)"
