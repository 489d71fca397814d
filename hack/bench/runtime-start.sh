#!/bin/sh
# Start-latency benchmark: `RUNTIME run` of busybox `true` from the same
# busybox bundle (hack/mkbundle), berth-runtime and crun side by side (and
# runc with --runc), interleaved run by run in a random order so drift on the machine hits all
# alike; N runs each (BENCH_RUNS, default 200). Reports per runtime the
# median and p90 wall time, the median peak RSS of the runtime process and
# the ratio to crun, plus the floor: `unshare --fork --pid --mount --uts --ipc
# [--net] --mount-proc true`, i.e. what creating the namespaces alone costs.
# Done twice: without and with a network namespace in config.json.
#
# crun 1.8 refuses hybrid cgroup hosts, so everything runs inside a private
# mount namespace (unshare -m) where /sys/fs/cgroup/unified is unmounted, for
# every runtime alike. Each runtime gets its own --root, each run a unique
# container id, and the container is deleted after each run (not timed).
#
# Usage: hack/bench/runtime-start.sh [--runc] [BUILD_DIR]
# Env:   BENCH_RUNS (200), BERTH_RUNTIME ($BUILD_DIR/runtime/berth-runtime),
#        CRUN (crun on PATH), RUNC (runc on PATH), BENCH_RUNC=1 (= --runc)
set -u

die() { echo "runtime-start: $*" >&2; exit 1; }

src=$(cd "$(dirname "$0")/../.." && pwd)
with_runc=${BENCH_RUNC:-0}
inner=0
while [ $# -gt 0 ]; do
  case $1 in
    --runc) with_runc=1 ;;
    --inner) inner=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) build=$1 ;;
  esac
  shift
done
build=${build:-${BERTH_BUILD_DIR:-$src/build}}
runs=${BENCH_RUNS:-200}
BERTH_RUNTIME=${BERTH_RUNTIME:-$build/runtime/berth-runtime}
CRUN=${CRUN:-$(command -v crun || echo /usr/bin/crun)}
RUNC=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}
BENCH_RUNS="$runs" BENCH_RUNC="$with_runc"
export BERTH_RUNTIME CRUN RUNC BENCH_RUNS BENCH_RUNC

[ "$(id -u)" = 0 ] || die "needs root (namespaces, cgroups)"
case $runs in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive number, not '$runs'" ;; esac
[ -x "$BERTH_RUNTIME" ] || die "runtime $BERTH_RUNTIME not found (build it, or set BERTH_RUNTIME)"
[ -x "$CRUN" ] || die "crun not found (hack/deps.sh installs it)"
command -v cc >/dev/null || die "cc not found (build-essential)"

if [ $inner = 0 ]; then
  # A private mount namespace: the unmount below is invisible to the host.
  exec unshare --mount --propagation private "$0" --inner "$build"
fi
if mountpoint -q /sys/fs/cgroup/unified; then
  umount /sys/fs/cgroup/unified || die "umount /sys/fs/cgroup/unified"
  hidden="cgroup2 mount /sys/fs/cgroup/unified hidden (crun 1.8 refuses hybrid hosts)"
else
  hidden=""
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench.XXXXXX") || die "mktemp"
names="berth crun"
[ "$with_runc" = 1 ] && names="$names runc"
path_of() {
  case $1 in berth) echo "$BERTH_RUNTIME" ;; crun) echo "$CRUN" ;; runc) echo "$RUNC" ;; esac
}
cleanup() {
  for n in $names; do
    p=$(path_of "$n")
    for id in $("$p" --root "$T/root-$n" list -q 2>/dev/null); do
      "$p" --root "$T/root-$n" delete -f "$id" >/dev/null 2>&1
    done
  done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# A reader that goes away (| head) must not skip the cleanup above.
trap 'trap "" PIPE; exit 1' PIPE

# The helper is built once per build dir (or per run when that is read-only).
. "$src/hack/lib/bench.sh"
timeit=$(bench_build_timeit "$src" "$build" "$T") || die "cc hack/bench/timeit.c failed"

# stats FILE: "median_ms p90_ms median_rss_kib failures" from timeit lines.
stats() {
  fail=$(bench_failures "$1")
  t=$(bench_time_stats "$1")
  r=$(awk '$3 == 0 {print $2}' "$1" | sort -n | awk '{v[NR] = $1}
    END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }')
  echo "$t $r $fail"
}

bench_variant() {
  variant=$1; netflag=$2
  bundle=$T/bundle-$variant
  if [ -n "$netflag" ]; then
    "$src/hack/mkbundle" "$bundle" --netns -- /bin/true >/dev/null || die "mkbundle failed"
  else
    "$src/hack/mkbundle" "$bundle" -- /bin/true >/dev/null || die "mkbundle failed"
  fi
  floor_cmd="unshare --fork --pid --mount --uts --ipc $netflag --mount-proc $bundle/rootfs/bin/true"

  # One untimed run per runtime first: a runtime that cannot run the bundle
  # is reported and left out instead of timing its failures.
  active=""
  for n in $names; do
    p=$(path_of "$n")
    if "$p" --root "$T/root-$n" run --bundle "$bundle" "warm-$n-$$" >/dev/null 2>"$T/err-$n"; then
      active="$active $n"
    else
      echo "runtime-start: $n ($p) cannot run the bundle ($variant), left out: $(head -c 300 "$T/err-$n")" >&2
    fi
    "$p" --root "$T/root-$n" delete -f "warm-$n-$$" >/dev/null 2>&1
  done

  i=1
  while [ $i -le "$runs" ]; do
    # A fresh random order each round: what ran just before matters (the
    # kernel tears network namespaces down asynchronously, and a teardown in
    # flight slows the next clone), so no runtime may always follow the same one.
    # shellcheck disable=SC2086
    set -- $(printf '%s\n' $active floor | shuf)
    for n in "$@"; do
      if [ "$n" = floor ]; then
        # shellcheck disable=SC2086 # $floor_cmd is a command line
        "$timeit" "$T/$variant-floor.dat" $floor_cmd >/dev/null 2>&1
        continue
      fi
      p=$(path_of "$n")
      id=b-$n-$i-$$
      "$timeit" "$T/$variant-$n.dat" "$p" --root "$T/root-$n" run --bundle "$bundle" "$id" \
        >/dev/null 2>>"$T/err-$n"
      "$p" --root "$T/root-$n" delete -f "$id" >/dev/null 2>&1
    done
    i=$((i + 1))
  done

  crun_median=
  [ -f "$T/$variant-crun.dat" ] && crun_median=$(stats "$T/$variant-crun.dat" | cut -d' ' -f1)
  label=$variant
  for n in $active floor; do
    # shellcheck disable=SC2046 # four fields
    set -- $(stats "$T/$variant-$n.dat")
    ratio=-
    if [ -n "$crun_median" ] && [ "$crun_median" != - ] && [ "$1" != - ]; then
      ratio=$(awk -v a="$1" -v b="$crun_median" 'BEGIN {printf "%.2fx", a / b}')
    fi
    rss=$3
    [ "$n" = floor ] && { n="unshare"; rss="-"; }
    printf '%-12s %-8s %10s %10s %12s %9s %8s\n' "$label" "$n" "$1" "$2" "$rss" "$ratio" "$4"
    label=""
  done
}

version_of() { "$1" --version 2>/dev/null | head -n 1; }
echo "Container start latency: \`RUNTIME run\` of busybox true, $runs runs each, interleaved"
for n in $names; do
  printf '  %-6s %s (%s)\n' "$n" "$(path_of "$n")" "$(version_of "$(path_of "$n")")"
done
echo "  floor  unshare --fork --pid --mount --uts --ipc [--net] --mount-proc true"
[ -n "$hidden" ] && echo "  $hidden"
echo "  kernel $(uname -r), $(nproc) CPUs"
echo
printf '%-12s %-8s %10s %10s %12s %9s %8s\n' variant runtime "median ms" "p90 ms" "peak RSS KiB" "vs crun" failures
bench_variant no-netns ""
bench_variant netns "--net"
