#!/bin/sh
# Pull benchmark: the same multi-layer image (hack/mkimage-big's Debian-package
# image when present, else BENCH_PULL_LAYERS layers of BENCH_PULL_MIB MiB of
# random bytes, default 4 x 16 MiB = 64 MiB, also forced with
# BENCH_PULL_OWN_IMAGE=1) pushed to a local docker-registry on
# loopback (hack/registry-fixture.sh), then pulled by berth (image/registry's
# pull() through hack/bench/pull_main.cc) into a fresh content store and by
# `skopeo copy docker://... oci:DIR` into a fresh OCI layout, interleaved run
# by run, N runs each (BENCH_RUNS, default 7). Reports the medians and the
# ratio berth/skopeo. Target: at most 0.7.
#
# Both write to the same filesystem (BENCH_TMP, default /var/tmp) and both
# verify every blob's digest; berth also fsyncs each blob before publishing
# it, skopeo does not.
#
# Usage: hack/bench/pull.sh [BUILD_DIR]
# Env:   BENCH_RUNS (7), BENCH_PULL_LAYERS (4), BENCH_PULL_MIB (16), BENCH_PULL_OWN_IMAGE,
#        BENCH_TMP (/var/tmp), BENCH_CACHE (BENCH_TMP/berth-bench-cache),
#        BERTH_PULL (path of a built berth-pull; otherwise it is compiled
#        here from hack/bench/pull_main.cc against BUILD_DIR's libraries)
set -eu

die() { echo "pull-bench: $*" >&2; exit 1; }

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${BERTH_BUILD_DIR:-$src/build}}
runs=${BENCH_RUNS:-7}
layers=${BENCH_PULL_LAYERS:-4}
mib=${BENCH_PULL_MIB:-16}
for tool in docker-registry skopeo openssl curl; do
  command -v $tool >/dev/null || die "$tool missing"
done

work=$(mktemp -d "${BENCH_TMP:-/var/tmp}/berth-pull-bench.XXXXXX")
cleanup() {
  "$src/hack/registry-fixture.sh" stop "$work/registry" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The berth side: a prebuilt binary, or pull_main.cc linked against the
# image libraries of the build tree.
berth_pull=${BERTH_PULL:-}
if [ -z "$berth_pull" ]; then
  for candidate in "$build/image/berth-pull" "$build/hack/berth-pull" "$build/berth-pull"; do
    [ -x "$candidate" ] && berth_pull=$candidate && break
  done
fi
if [ -z "$berth_pull" ]; then
  lib=$build/image
  for l in registry store; do
    [ -f "$lib/libberth_image_$l.a" ] || die "no $lib/libberth_image_$l.a: build berth_image_registry first"
  done
  berth_pull=$work/berth-pull
  extra=
  for l in unpack oci; do
    [ -f "$lib/libberth_image_$l.a" ] && extra="$extra $lib/libberth_image_$l.a"
  done
  # shellcheck disable=SC2086
  c++ -std=c++20 -O2 -D_GNU_SOURCE -I"$src" "$src/hack/bench/pull_main.cc" \
    "$lib/libberth_image_registry.a" $extra "$lib/libberth_image_store.a" \
    "$build/runtime/libberth_sys.a" -lcurl -lssl -lcrypto -lpthread \
    $(pkg-config --libs libarchive libzstd 2>/dev/null) -o "$berth_pull" \
    || die "compiling berth-pull failed"
fi

addr=$("$src/hack/registry-fixture.sh" start "$work/registry")
if [ -x "$src/hack/mkimage-big" ] && [ -z "${BENCH_PULL_OWN_IMAGE:-}" ]; then
  # Cached across runs (it takes a while to build); shared with the unpack
  # benchmark's image.
  cache=${BENCH_CACHE:-${BENCH_TMP:-/var/tmp}/berth-bench-cache}/mkimage-big
  layout=$("$src/hack/mkimage-big" "$cache" | sed -n 1p)
  "$src/hack/registry-fixture.sh" push "$work/registry" "oci:$layout:big" bench:v1
else
  seeds=
  i=1
  while [ $i -le "$layers" ]; do seeds="$seeds bench-layer-$i"; i=$((i + 1)); done
  # shellcheck disable=SC2086
  layout=$("$src/hack/registry-mkimage.sh" layers "$work/image" $((mib * 1024)) $seeds)
  "$src/hack/registry-fixture.sh" push "$work/registry" "oci:$layout:latest" bench:v1
fi
ref=$addr/bench:v1
bytes=$(du -sb "$work/registry/storage" | cut -f1)

now() { date +%s%N; }
: > "$work/berth.times"
: > "$work/skopeo.times"
i=0
while [ $i -lt "$runs" ]; do
  rm -rf "$work/store" "$work/oci"
  sync
  t0=$(now)
  "$berth_pull" --insecure "$addr" "$work/store" "$ref" > /dev/null
  t1=$(now)
  echo $(((t1 - t0) / 1000)) >> "$work/berth.times"
  rm -rf "$work/store"

  sync
  t0=$(now)
  skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$ref" "oci:$work/oci:latest"
  t1=$(now)
  echo $(((t1 - t0) / 1000)) >> "$work/skopeo.times"
  rm -rf "$work/oci"
  i=$((i + 1))
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'; }
b=$(median "$work/berth.times")
s=$(median "$work/skopeo.times")
echo "pull of $ref ($(echo "$bytes" | awk '{printf "%.1f", $1/1048576}') MiB in the registry), $runs runs each"
printf '  %-8s median %8s ms\n' berth "$b" skopeo "$s"
echo "$b $s" | awk '{printf "  ratio berth/skopeo: %.2f (target <= 0.70)\n", $1/$2}'
