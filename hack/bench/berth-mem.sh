#!/bin/sh
# Memory benchmark (issue 4): berthd's idle RSS (target <= 15 MiB) and the
# per-container supervisor's memory, berth-shim against podman's conmon for
# the same container (busybox `sleep`), side by side in one throwaway node
# (hack/lib/berthd.sh). Target: shim <= conmon.
#
# For every process: RSS, PSS and private (Private_Clean + Private_Dirty)
# KiB from /proc/PID/smaps_rollup. RSS counts the shared pages of the binary
# and libc in full for every process; private is what one more container
# really costs, PSS splits the shared pages among the processes using them.
# Medians over BENCH_CONTAINERS containers each.
#   berthd idle:    fresh start, no container, 1 s after it answered
#   berthd images:  after `image import` of the busybox image
#   berthd + N:     with N containers running
#
# Usage: hack/bench/berth-mem.sh [BUILD_DIR]
# Env:   BENCH_CONTAINERS (5), BENCH_PODMAN_RUNTIME (crun), BERTH, BERTHD
set -u

[ -n "${1:-}" ] && [ "$1" != --inner ] && { BERTH_BUILD_DIR=$1; export BERTH_BUILD_DIR; shift; }
. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# row LABEL FILE: medians of the "rss pss private" lines in FILE.
row() {
  r=$(awk '{print $1}' "$2" | bench_median); p=$(awk '{print $2}' "$2" | bench_median)
  v=$(awk '{print $3}' "$2" | bench_median)
  printf '  %-28s %10.0f %10.0f %12.0f\n' "$1" "$r" "$p" "$v"
}

bench() {
  n=${BENCH_CONTAINERS:-5}
  case $n in ''|*[!0-9]*|0) e2e_fail "BENCH_CONTAINERS must be a positive number, not '$n'" ;; esac
  runtime=${BENCH_PODMAN_RUNTIME:-crun}
  BERTHD_CLEANUP_HOOK=berthd_podman_cleanup

  berthd_start
  sleep 1
  proc_mem "$BERTHD_PID" >"$T/berthd-idle" || e2e_fail "no smaps_rollup for berthd $BERTHD_PID"
  berth_cli image import "$E2E_OCI_TAR" "$BERTH_IMAGE" >"$T/out" 2>&1 || e2e_fail "import: $(cat "$T/out")"
  sleep 1
  proc_mem "$BERTHD_PID" >"$T/berthd-image"
  berthd_podman_setup "$runtime"

  i=1
  while [ $i -le "$n" ]; do
    id=$(berth_cli run -d --name "mem-$i" "$BERTH_IMAGE" sleep 100000 2>"$T/err") \
      || e2e_fail "berth run -d: $(cat "$T/err")"
    pm run -d --name "mem-$i" --network none --cgroup-parent "$PODMAN_CGROUP_PARENT" \
      "$PODMAN_IMAGE" sleep 100000 >/dev/null 2>"$T/err" || e2e_fail "podman run -d: $(cat "$T/err")"
    i=$((i + 1))
  done
  sleep 2  # both supervisors settle (first log write, attach socket, timers)
  i=1
  while [ $i -le "$n" ]; do
    id=$(berth_inspect "mem-$i" id) || e2e_fail "inspect mem-$i"
    shim=$(cat "$BERTHD_ROOT/containers/$id/shim.pid" 2>/dev/null)
    [ -n "$shim" ] || e2e_fail "no shim.pid in $BERTHD_ROOT/containers/$id"
    proc_mem "$shim" >>"$T/shim" || e2e_fail "no smaps_rollup for shim $shim"
    conmon=$(pm inspect --format '{{.State.ConmonPid}}' "mem-$i" 2>"$T/err") || e2e_fail "podman inspect: $(cat "$T/err")"
    proc_mem "$conmon" >>"$T/conmon" || e2e_fail "no smaps_rollup for conmon $conmon"
    i=$((i + 1))
  done
  proc_mem "$BERTHD_PID" >"$T/berthd-busy"

  echo "Memory: berthd, and berth-shim vs conmon per container (busybox sleep), KiB, medians of $n"
  echo "  berthd $BERTHD ($(stat -c %s "$BERTHD") bytes), berth-shim $(dirname "$BERTHD")/berth-shim"
  echo "  conmon $(command -v conmon) ($(conmon --version | head -n 1)), podman $(podman --version), $runtime"
  printf '  %-28s %10s %10s %12s\n' "" RSS PSS private
  row "berthd idle" "$T/berthd-idle"
  row "berthd (image imported)" "$T/berthd-image"
  row "berthd ($n containers)" "$T/berthd-busy"
  row "berth-shim per container" "$T/shim"
  row "conmon per container" "$T/conmon"
  idle=$(awk '{print $1}' "$T/berthd-idle")
  echo "  berthd idle RSS $(awk -v k="$idle" 'BEGIN {printf "%.1f", k / 1024}') MiB (target <= 15 MiB)"
  [ "$idle" -le 15360 ] || echo "  target berthd idle RSS <= 15 MiB NOT met"
  s=$(awk '{print $3}' "$T/shim" | bench_median); c=$(awk '{print $3}' "$T/conmon" | bench_median)
  echo "  private memory shim/conmon: $(bench_ratio "$s" "$c")x (target <= 1)"
  s=$(awk '{print $2}' "$T/shim" | bench_median); c=$(awk '{print $2}' "$T/conmon" | bench_median)
  echo "  PSS shim/conmon: $(bench_ratio "$s" "$c")x"
  return 0
}

BERTH_E2E_NO_UNIFIED=${BERTH_E2E_NO_UNIFIED:-1}
BERTHD_QUIET=1
export BERTH_E2E_NO_UNIFIED BERTHD_QUIET
berthd_main berth-mem bench "$@"
