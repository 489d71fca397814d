#!/bin/sh
# Storage start benchmark (issue 6): the start latency that volumes, config
# files and a disk limit add to `berth run --rm IMAGE true`, next to podman
# doing the same with -v. Cases, each run --network none so that only
# storage differs:
#   plain       nothing mounted
#   vol1        one named volume
#   vol8        eight named volumes
#   vol8cfg4    eight named volumes and four config files (podman: -v FILE:PATH:ro)
#   disk        a 1G disk limit (berth --disk; podman has no equivalent on an
#               overlay graph root without XFS project quotas, so berth only)
# Targets: volumes and config files add <= 2 ms to berth's plain start, a
# disk limit <= 20 ms. Rounds run every case in a random order; medians and
# the added time per case are printed.
#
# Usage: hack/bench/berth-volumes.sh [BUILD_DIR]
# Env:   BENCH_RUNS (30), BENCH_PODMAN_RUNTIME (crun), BERTH, BERTHD
set -u

[ -n "${1:-}" ] && [ "$1" != --inner ] && { BERTH_BUILD_DIR=$1; export BERTH_BUILD_DIR; shift; }
. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# storage_flags TOOL CASE: the run flags of CASE for TOOL (berth or podman).
storage_flags() {
  _flags=
  case $2 in vol1) _n=1 ;; vol8 | vol8cfg4) _n=8 ;; *) _n=0 ;; esac
  _i=0
  while [ $_i -lt $_n ]; do
    _flags="$_flags -v bench-vol$_i:/data$_i"
    _i=$((_i + 1))
  done
  if [ "$2" = vol8cfg4 ]; then
    for _c in 0 1 2 3; do
      if [ "$1" = berth ]; then
        _flags="$_flags --config $T/conf$_c:/etc/bench/conf$_c"
      else
        _flags="$_flags -v $T/conf$_c:/etc/bench/conf$_c:ro"
      fi
    done
  fi
  [ "$2" = disk ] && _flags="$_flags --disk 1G"
  echo "$_flags"
}

# bench_one TOOL CASE DAT: one timed run into $T/DAT.dat (hack/bench/timeit).
bench_one() {
  # shellcheck disable=SC2046 # the flags are words without spaces
  if [ "$1" = berth ]; then
    "$TIMEIT" "$T/$3.dat" "$BERTH" --socket "$BERTH_SOCKET" run --rm --network none \
      $(storage_flags berth "$2") "$BERTH_IMAGE" true >/dev/null 2>>"$T/$1-$2.err"
  else
    "$TIMEIT" "$T/$3.dat" podman run --rm --network none --cgroup-parent "$PODMAN_CGROUP_PARENT" \
      $(storage_flags podman "$2") "$PODMAN_IMAGE" true >/dev/null 2>>"$T/$1-$2.err"
  fi
}

bench() {
  runs=${BENCH_RUNS:-30}
  case $runs in ''|*[!0-9]*|0) e2e_fail "BENCH_RUNS must be a positive number, not '$runs'" ;; esac
  runtime=${BENCH_PODMAN_RUNTIME:-crun}
  BERTHD_CLEANUP_HOOK=berthd_podman_cleanup
  berthd_timeit
  berthd_up
  berthd_podman_setup "$runtime"
  for c in 0 1 2 3; do echo "setting $c = on" >"$T/conf$c"; done

  runs_list="berth:plain berth:vol1 berth:vol8 berth:vol8cfg4 berth:disk podman:plain podman:vol1 podman:vol8 podman:vol8cfg4"
  # Warm every case (first use creates the volumes); failures are fatal.
  for r in $runs_list; do
    tool=${r%%:*} case=${r#*:}
    bench_one "$tool" "$case" warm || e2e_fail "$tool $case failed: $(tail -n 3 "$T/$tool-$case.err")"
    bench_one "$tool" "$case" warm || e2e_fail "$tool $case failed: $(tail -n 3 "$T/$tool-$case.err")"
  done
  rm -f "$T"/*.err

  i=1
  while [ $i -le "$runs" ]; do
    for r in $(printf '%s\n' $runs_list | shuf); do
      tool=${r%%:*} case=${r#*:}
      bench_one "$tool" "$case" "$tool-$case"
    done
    i=$((i + 1))
  done

  echo "run --rm --network none IMAGE true with storage, $runs runs each, random order"
  echo "  berth  $("$BERTH" --version 2>/dev/null | head -n 1); podman $(podman --version) ($runtime)"
  echo "  kernel $(uname -r), $(nproc) CPUs"
  printf '  %-10s %12s %12s %12s %12s\n' case "berth ms" "added ms" "podman ms" "added ms"
  # shellcheck disable=SC2046
  set -- $(bench_stats "$T/berth-plain.dat")
  berth_base=$1
  # shellcheck disable=SC2046
  set -- $(bench_stats "$T/podman-plain.dat")
  podman_base=$1
  for case in plain vol1 vol8 vol8cfg4 disk; do
    # shellcheck disable=SC2046
    set -- $(bench_stats "$T/berth-$case.dat")
    b=$1
    p=- padd=-
    if [ -s "$T/podman-$case.dat" ]; then
      # shellcheck disable=SC2046
      set -- $(bench_stats "$T/podman-$case.dat")
      p=$1
      padd=$(awk -v a="$p" -v b="$podman_base" 'BEGIN {printf "%.2f", a - b}')
    fi
    badd=$(awk -v a="$b" -v b="$berth_base" 'BEGIN {printf "%.2f", a - b}')
    printf '  %-10s %12s %12s %12s %12s\n' "$case" "$b" "$badd" "$p" "$padd"
  done
  for f in "$T"/*.err; do
    [ -s "$f" ] && echo "  failures in $(basename "$f" .err): $(sort "$f" | uniq -c | head -n 3)"
  done
  echo "  targets: volumes + config files add <= 2 ms, a disk limit <= 20 ms (berth's own plain start)"
  return 0
}

BERTH_E2E_NO_UNIFIED=${BERTH_E2E_NO_UNIFIED:-1}
BERTHD_QUIET=1
BERTHD_SANDBOX_SECS=${BERTHD_SANDBOX_SECS:-1800}
export BERTH_E2E_NO_UNIFIED BERTHD_QUIET BERTHD_SANDBOX_SECS
berthd_main berth-volumes bench "$@"
