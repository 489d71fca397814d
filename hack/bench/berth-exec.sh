#!/bin/sh
# Exec latency (issue 4): `berth exec NAME true` (CLI -> berthd ->
# berth-runtime exec -> output and exit code back) against `crun exec ID
# true` on a running container (crun run -d of a hack/mkbundle bundle), from
# the client's start to its exit, in one throwaway node (hack/lib/berthd.sh),
# BENCH_RUNS runs each in a random order per round (hack/bench/timeit).
# Also berth-runtime exec straight on berthd's container (the floor under
# berth exec: what the daemon adds is the difference).
#
# crun 1.8 refuses hybrid cgroup hosts, so /sys/fs/cgroup/unified is hidden
# in the node (BERTH_E2E_NO_UNIFIED=1) for all alike.
#
# Usage: hack/bench/berth-exec.sh [BUILD_DIR]
# Env:   BENCH_RUNS (100), CRUN (crun on PATH), BERTH, BERTHD
set -u

[ -n "${1:-}" ] && [ "$1" != --inner ] && { BERTH_BUILD_DIR=$1; export BERTH_BUILD_DIR; shift; }
. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

crun_cleanup() { "$CRUN" --root "$T/crun" delete -f bench-exec >/dev/null 2>&1; return 0; }

bench() {
  runs=${BENCH_RUNS:-100}
  case $runs in ''|*[!0-9]*|0) e2e_fail "BENCH_RUNS must be a positive number, not '$runs'" ;; esac
  CRUN=${CRUN:-$(command -v crun || echo /usr/bin/crun)}
  [ -x "$CRUN" ] || e2e_fail "crun not found"
  BERTHD_CLEANUP_HOOK=crun_cleanup
  berthd_timeit
  berthd_up
  berth_cli run -d --name bench-exec "$BERTH_IMAGE" sleep 100000 >/dev/null 2>"$T/err" \
    || e2e_fail "berth run -d: $(cat "$T/err")"
  id=$(berth_inspect bench-exec id) || e2e_fail "inspect bench-exec"

  "$E2E_SRC/hack/mkbundle" "$T/bundle" -- sleep 100000 >/dev/null || e2e_fail "hack/mkbundle"
  # Its cgroup under this node's parent, so the node's cleanup removes it.
  "$PY" -c '
import json, sys
p = sys.argv[1] + "/config.json"; c = json.load(open(p))
c.setdefault("linux", {})["cgroupsPath"] = "/" + sys.argv[2] + "/crun-bench-exec"
json.dump(c, open(p, "w"))
' "$T/bundle" "$BERTHD_CGROUP_PARENT" || e2e_fail "editing the bundle's config.json"
  "$CRUN" --root "$T/crun" run -d --bundle "$T/bundle" bench-exec </dev/null >"$T/out" 2>&1 \
    || e2e_fail "crun run -d: $(cat "$T/out")"

  # One untimed run of each: a failure is fatal, not a sample.
  out=$(berth_cli exec bench-exec echo ok 2>&1) || e2e_fail "berth exec: $out"
  out=$("$CRUN" --root "$T/crun" exec bench-exec echo ok 2>&1) || e2e_fail "crun exec: $out"
  rt=$E2E_BUILD/runtime/berth-runtime
  rt_ok=1
  "$rt" --root "$BERTHD_RUN/runtime" exec "$id" true >"$T/out" 2>&1 || {
    rt_ok=0; e2e_log "note: berth-runtime --root $BERTHD_RUN/runtime exec $id failed, left out: $(head -c 300 "$T/out")"; }

  i=1
  while [ $i -le "$runs" ]; do
    for n in $(printf 'berth\ncrun\nruntime\n' | shuf); do
      case $n in
        berth) "$TIMEIT" "$T/berth.dat" "$BERTH" --socket "$BERTH_SOCKET" exec bench-exec true \
                 >/dev/null 2>>"$T/berth.err" ;;
        crun) "$TIMEIT" "$T/crun.dat" "$CRUN" --root "$T/crun" exec bench-exec true \
                >/dev/null 2>>"$T/crun.err" ;;
        runtime) [ $rt_ok = 1 ] && "$TIMEIT" "$T/runtime.dat" "$rt" --root "$BERTHD_RUN/runtime" exec "$id" true \
                   >/dev/null 2>>"$T/runtime.err" ;;
      esac
    done
    i=$((i + 1))
  done

  echo "Exec latency: \`exec CONTAINER true\` on a running busybox container, $runs runs each, random order"
  echo "  crun $("$CRUN" --version | head -n 1 | awk '{print $3}'), kernel $(uname -r), $(nproc) CPUs"
  printf '  %-34s %10s %10s %9s %9s\n' "" "median ms" "p90 ms" "vs crun" failures
  # shellcheck disable=SC2046
  set -- $(bench_stats "$T/crun.dat")
  crun_median=$1
  for n in berth runtime crun; do
    [ -f "$T/$n.dat" ] || continue
    # shellcheck disable=SC2046
    set -- $(bench_stats "$T/$n.dat")
    case $n in
      berth) label="berth exec (CLI + berthd)" ;;
      runtime) label="berth-runtime exec (no daemon)" ;;
      crun) label="crun exec" ;;
    esac
    printf '  %-34s %10s %10s %8sx %9s\n' "$label" "$1" "$2" "$(bench_ratio "$1" "$crun_median")" "$3"
  done
  return 0
}

BERTH_E2E_NO_UNIFIED=${BERTH_E2E_NO_UNIFIED:-1}
BERTHD_QUIET=1
export BERTH_E2E_NO_UNIFIED BERTHD_QUIET
berthd_main berth-exec bench "$@"
