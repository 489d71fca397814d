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
# caches are not dropped. --durable (a syncfs per layer) is off, as umoci
# does not sync.
#
# Every run writes into a fresh directory and nothing is removed until all
# runs are done (needs ~((rows + 1) * BENCH_RUNS + 2) * 230 MiB free in
# /var/tmp, rows being the berth rows of BENCH_JOBS).
# Why: on an ext4 without a journal (this VM's root) the inode allocator
# skips every inode freed in the last 60 s (300 s while its inode table
# block is dirty), one buffer-cache lookup per skipped inode
# (fs/ext4/ialloc.c recently_deleted()). Removing one tool's 4,400-file tree
# right before timing the other made every create in the same block groups
# scan those thousands of inodes first: 0.3-1.5 ms per openat/mkdirat for
# either tool, dwarfing the work being measured. For the same reason, runs
# soon after a large removal on the same filesystem (another run of this
# script, a build tree wiped) are slower for both tools; BENCH_SETTLE
# seconds (default 0) are waited before the first run.
#
# Each timed run starts after an untimed sync(1): each run writes 224 MiB,
# and without it the dirty pages of earlier runs pile up until the kernel
# throttles every writer to the disk's write-back rate (~170 MB/s here),
# which then times the disk for whichever tool runs next, not the unpack.
#
# Usage: hack/bench/unpack.sh [BUILD_DIR]
# Env:   BENCH_RUNS (5), BENCH_IMAGE_DIR (/var/tmp/berth-bench-big), UMOCI (umoci),
#        BENCH_SETTLE (0), BENCH_JOBS ("1 2": the --jobs rows for berth),
#        BENCH_BERTH_ARGS (more unpack_bench options for every berth run,
#        e.g. "--writers 0" for file creation on the parsing thread only)
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

seq=0
run_berth() {  # $1 = jobs, $2 = samples file
  seq=$((seq + 1))
  sync
  # shellcheck disable=SC2086 # BENCH_BERTH_ARGS is a list of words
  "$work/timeit" "$2" "$work/unpack_bench" "$layers_txt" "$work/out/berth-$seq" --jobs "$1" \
    ${BENCH_BERTH_ARGS:-} || die "berth unpack failed"
}
run_umoci() {
  seq=$((seq + 1))
  sync
  "$work/timeit" "$work/umoci.txt" "$UMOCI" --log error raw unpack --image "$imgdir/image:big" \
    "$work/out/umoci-$seq" >/dev/null || die "umoci unpack failed"
}
run_all_berth() {  # $1 = "asc" or "desc": the order of the --jobs rows
  for j in $( [ "$1" = asc ] && echo "$jobs_list" || echo "$jobs_list" | tr ' ' '\n' | sort -rn); do
    run_berth "$j" "$work/berth$j.txt"
  done
}

jobs_list=${BENCH_JOBS:-1 2}
rows=$(echo $jobs_list | wc -w)
need_mib=$(( ((rows + 1) * runs + 2) * 230 ))
free_mib=$(df -Pm "$work" | awk 'NR == 2 {print $4}')
[ "$free_mib" -gt "$need_mib" ] || die "need ${need_mib} MiB free in $work, have ${free_mib}"
mkdir "$work/out"
sleep "${BENCH_SETTLE:-0}"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# One untimed warm-up of each, so both start with the blobs in the page cache.
run_berth 1 "$work/warm.txt"
run_umoci
: >"$work/umoci.txt"
i=1
while [ $i -le "$runs" ]; do
  if [ $((i % 2)) = 1 ]; then
    run_all_berth asc; run_umoci
  else
    run_umoci; run_all_berth desc
  fi
  i=$((i + 1))
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"

samples_ms() { cut -d' ' -f1 "$1" | sort -n | awk '{printf " %.0f", $1/1e6}'; }
median_ms() { cut -d' ' -f1 "$1" | sort -n | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.0f", m/1e6}'; }
tar_mib=$(awk '{print $1}' "$layers_txt" | xargs -n1 gzip -dc | wc -c | awk '{printf "%.0f", $1/1048576}')
u=$(median_ms "$work/umoci.txt")
echo "unpack: $(wc -l <"$layers_txt") gzip layers, $tar_mib MiB of tar, $runs runs each, medians"
printf '  %-28s %6s ms   (runs:%s)\n' "umoci raw unpack" "$u" "$(samples_ms "$work/umoci.txt")"
for j in $jobs_list; do
  b=$(median_ms "$work/berth$j.txt")
  printf '  %-28s %6s ms   ratio %s   (runs:%s)\n' "berth ($j layer(s) at a time)" "$b" \
    "$(awk "BEGIN {printf \"%.2f\", $b/$u}")" "$(samples_ms "$work/berth$j.txt")"
  [ "$j" = 1 ] && b1=$b
done
if [ -n "${b1:-}" ]; then
  awk "BEGIN {exit !($b1 <= 0.5 * $u)}" || echo "  target berth <= 0.5x umoci NOT met (1 layer at a time)"
fi
