#!/bin/sh
# End-to-end start benchmark (issue 4): `berth run --rm IMAGE true` against
# `podman run --rm IMAGE true`, each from the client's start to its exit,
# on the same busybox image (hack/mkimage) imported into both. Target: berth
# at most 0.3x podman's median.
#
# Both run in one throwaway node (hack/lib/berthd.sh: network, PID and mount
# namespaces of their own): berthd with its own root, podman with its own
# configuration and storage (as tests/e2e/podman.sh), cgroupfs, the runtime
# BENCH_PODMAN_RUNTIME (crun: Debian's default; runc works too), each with
# its default network and with --network none. crun 1.8 refuses hybrid cgroup
# hosts, so /sys/fs/cgroup/unified is hidden in the node
# (BERTH_E2E_NO_UNIFIED=1), for both alike. Rounds run the two in a random
# order (hack/bench/timeit times each run).
#
# Usage: hack/bench/berth-run.sh [BUILD_DIR]
# Env:   BENCH_RUNS (30), BENCH_PODMAN_RUNTIME (crun), BERTH, BERTHD
set -u

[ -n "${1:-}" ] && [ "$1" != --inner ] && { BERTH_BUILD_DIR=$1; export BERTH_BUILD_DIR; shift; }
. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

bench() {
  runs=${BENCH_RUNS:-30}
  case $runs in ''|*[!0-9]*|0) e2e_fail "BENCH_RUNS must be a positive number, not '$runs'" ;; esac
  runtime=${BENCH_PODMAN_RUNTIME:-crun}
  BERTHD_CLEANUP_HOOK=berthd_podman_cleanup
  berthd_timeit
  berthd_up
  berthd_podman_setup "$runtime"

  # Four commands (bench_one): each tool with its default network (berth: a
  # private network of the container's own with NAT and DNS; podman: its
  # default netavark bridge) and with --network none (loopback only).
  cmds="berth_net berth_none podman_net podman_none"
  # Warm all (page cache, podman's first-run setup); a failure here is fatal.
  for n in $cmds; do
    i=0
    while [ $i -lt 3 ]; do
      bench_one "$n" warm || e2e_fail "$n: run --rm true failed: $(tail -n 3 "$T/$n.err")"
      i=$((i + 1))
    done
  done
  rm -f "$T"/*.err

  i=1
  while [ $i -le "$runs" ]; do
    for n in $(printf '%s\n' $cmds | shuf); do
      bench_one "$n" "$n"
    done
    i=$((i + 1))
  done

  echo "berth run --rm IMAGE true vs podman run --rm ($runtime), $runs runs each, random order"
  echo "  berth  $("$BERTH" --version 2>/dev/null | head -n 1)"
  echo "  podman $(podman --version), conmon $(conmon --version | head -n 1 | awk '{print $3}'), $runtime $("$runtime" --version | head -n 1 | awk '{print $3}')"
  echo "  kernel $(uname -r), $(nproc) CPUs"
  printf '  %-24s %10s %10s %9s\n' "" "median ms" "p90 ms" failures
  for mode in net none; do
    # shellcheck disable=SC2046
    set -- $(bench_stats "$T/berth_$mode.dat") $(bench_stats "$T/podman_$mode.dat")
    ratio=$(bench_ratio "$1" "$4")
    label="default network"
    [ $mode = none ] && label="--network none"
    printf '  %-24s %10s %10s %9s\n' "berth ($label)" "$1" "$2" "$3" "podman ($label)" "$4" "$5" "$6"
    echo "  ratio berth/podman, $label: ${ratio}x (target <= 0.30x)"
    if [ "$ratio" != - ] && awk -v r="$ratio" 'BEGIN {exit !(r > 0.3)}'; then
      echo "  target berth <= 0.3x podman NOT met ($label)"
    fi
  done
  for n in $cmds; do
    [ -s "$T/$n.err" ] && echo "  $n failures: $(sort "$T/$n.err" | uniq -c | head -n 3)"
  done
  return 0
}

# bench_one NAME DAT: one run of command NAME, timed into $T/DAT.dat by
# hack/bench/timeit; its stderr appended to $T/NAME.err.
bench_one() {
  case $1 in
    berth_*) set -- "$1" "$2" "$BERTH" --socket "$BERTH_SOCKET" run --rm ;;
    podman_*) set -- "$1" "$2" podman run --rm --cgroup-parent "$PODMAN_CGROUP_PARENT" ;;
  esac
  _name=$1 _dat=$2
  shift 2
  case $_name in *_none) set -- "$@" --network none ;; esac
  case $_name in berth_*) set -- "$@" "$BERTH_IMAGE" ;; *) set -- "$@" "$PODMAN_IMAGE" ;; esac
  "$TIMEIT" "$T/$_dat.dat" "$@" true >/dev/null 2>>"$T/$_name.err"
}

BERTH_E2E_NO_UNIFIED=${BERTH_E2E_NO_UNIFIED:-1}
BERTHD_QUIET=1
BERTHD_SANDBOX_SECS=${BERTHD_SANDBOX_SECS:-1800}
export BERTH_E2E_NO_UNIFIED BERTHD_QUIET BERTHD_SANDBOX_SECS
berthd_main berth-run bench "$@"
