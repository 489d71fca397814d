#!/bin/sh
# End-to-end test of berthd + berth: resource limits (issue 4).
# Its own berthd in a throwaway node (hack/lib/berthd.sh). Checks:
#   - run --memory 64m --pids-limit 40 --cpus 0.5: the values in the
#     container's cgroup files (found from inspect's cgroup_path; cgroup v1
#     memory.limit_in_bytes, pids.max, cpu.cfs_quota_us, or v2 memory.max...)
#   - berth update --memory/--pids-limit/--cpus of the running container:
#     the cgroup files change, and the process feels it: after
#     --pids-limit 6 forks fail, after --memory 32m a 100 MB allocation is
#     OOM-killed while the container lives on
#   - stats --no-stream lists the container with its memory and pids
#   - bad values are refused
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# cg_value NAME CONTROLLER V1FILE V2FILE: the first line of the file found.
cg_value() {
  f=$(berth_cgroup_file "$1" "$2" "$3" 2>/dev/null) || f=$(berth_cgroup_file "$1" "$2" "$4") \
    || { echo "missing"; return 0; }
  head -n 1 "$f"
}

# cpu quota as "QUOTA PERIOD" (v1 two files, v2 cpu.max).
cg_cpu() {
  f=$(berth_cgroup_file "$1" cpu cpu.cfs_quota_us 2>/dev/null)
  if [ -n "$f" ]; then
    echo "$(cat "$f") $(cat "$(dirname "$f")/cpu.cfs_period_us")"
  else
    f=$(berth_cgroup_file "$1" cpu cpu.max) && cat "$f"
  fi
}

# forks NAME N: starts N background sleeps in the container and prints
# "started-N" once all forks worked (busybox sh gives up at the first fork
# that fails, with "can't fork" on stderr, in $T/forks.err).
forks() {
  berth_cli exec "$1" sh -c "i=0; while [ \$i -lt $2 ]; do i=\$((i + 1)); sleep 1 & done; \
    echo started-\$i; wait" 2>"$T/forks.err"
}

body() {
  berthd_up
  img=$BERTH_IMAGE
  c=e2e-res
  berth_cli run -d --name $c --memory 64m --pids-limit 40 --cpus 0.5 "$img" sleep 1000 \
    >/dev/null 2>"$T/err" || e2e_fail "run -d --memory --pids-limit --cpus: $(cat "$T/err")"
  cgp=$(berth_inspect $c cgroup_path) || e2e_fail "inspect: no cgroup_path"
  case $cgp in */$BERTHD_CGROUP_PARENT/*|$BERTHD_CGROUP_PARENT/*) ;;
    *) e2e_fail "cgroup_path '$cgp' is not under the daemon's --cgroup-parent $BERTHD_CGROUP_PARENT" ;; esac
  e2e_log "ok: cgroup_path $cgp"

  e2e_expect "--memory 64m in the cgroup" 67108864 "$(cg_value $c memory memory.limit_in_bytes memory.max)"
  e2e_expect "--pids-limit 40 in the cgroup" 40 "$(cg_value $c pids pids.max pids.max)"
  e2e_expect "--cpus 0.5 in the cgroup (quota period)" "50000 100000" "$(cg_cpu $c)"
  pid=$(berth_inspect $c pid)
  f=$(berth_cgroup_file $c memory cgroup.procs 2>/dev/null || berth_cgroup_file $c memory tasks)
  grep -qx "$pid" "$f" || e2e_fail "the container's pid $pid is not in $f"
  e2e_log "ok: the container's process is in its cgroup"

  # ------------------------------------------------------------ live updates
  berth_cli update --memory 32m --pids-limit 6 --cpus 1.5 $c >/dev/null 2>"$T/err" \
    || e2e_fail "update --memory 32m --pids-limit 6 --cpus 1.5: $(cat "$T/err")"
  e2e_expect "update --memory 32m in the cgroup" 33554432 "$(cg_value $c memory memory.limit_in_bytes memory.max)"
  e2e_expect "update --pids-limit 6 in the cgroup" 6 "$(cg_value $c pids pids.max pids.max)"
  e2e_expect "update --cpus 1.5 in the cgroup" "150000 100000" "$(cg_cpu $c)"
  mem=$(berth_inspect $c memory_bytes) && e2e_expect "inspect shows the new memory limit" 33554432 "$mem"

  # The pids limit is felt: sleep 1000 + the exec'd sh + 4 more at most.
  out=$(forks $c 20)
  [ "$out" != started-20 ] || e2e_fail "pids-limit 6: 20 forks worked"
  grep -qi "fork\|resource temporarily unavailable" "$T/forks.err" \
    || e2e_fail "pids-limit 6: no fork failure reported: $(cat "$T/forks.err")"
  e2e_log "ok: pids-limit 6 is felt: $(head -n 1 "$T/forks.err")"
  berth_cli update --pids-limit 100 $c >/dev/null 2>"$T/err" || e2e_fail "update --pids-limit 100: $(cat "$T/err")"
  e2e_expect "update --pids-limit 100 in the cgroup" 100 "$(cg_value $c pids pids.max pids.max)"
  out=$(forks $c 20) || e2e_fail "pids-limit 100: the fork loop failed: $(cat "$T/forks.err")"
  e2e_expect "pids-limit 100 is felt: 20 forks work" started-20 "$out"
  e2e_expect "after --pids-limit 100: the memory limit is unchanged" 33554432 \
    "$(cg_value $c memory memory.limit_in_bytes memory.max)"

  # The memory limit is felt: 100 MB in a shell variable cannot fit in 32 MiB.
  berth_cli exec $c sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo ${#x}' >"$T/oom.out" 2>"$T/oom.err"
  rc=$?
  [ $rc -ne 0 ] || e2e_fail "a 100 MB allocation under --memory 32m succeeded: $(cat "$T/oom.out")"
  e2e_log "ok: a 100 MB allocation under 32 MiB fails (exit $rc)"
  e2e_expect "the container lives on after its exec was OOM-killed" running "$(berth_state $c)"
  berth_cli update --memory 256m $c >/dev/null 2>"$T/err" || e2e_fail "update --memory 256m: $(cat "$T/err")"
  out=$(berth_cli exec $c sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo ${#x}' 2>"$T/err") \
    || e2e_fail "a 100 MB allocation under --memory 256m failed: $(cat "$T/err")"
  e2e_expect "after update --memory 256m: 100 MB fit" 100000000 "$out"

  # ------------------------------------------------------------------ stats
  berth_cli stats --no-stream >"$T/stats" 2>"$T/err" || e2e_fail "stats --no-stream: $(cat "$T/err")"
  grep -q "$c" "$T/stats" || e2e_fail "stats --no-stream does not list $c: $(cat "$T/stats")"
  e2e_log "ok: stats --no-stream lists the container: $(grep "$c" "$T/stats")"
  berth_cli stats --no-stream --format json $c >"$T/stats.json" 2>"$T/err"
  if [ -s "$T/stats.json" ]; then
    limit=$(berth_json memory_limit <"$T/stats.json") || e2e_fail "stats json: no memory_limit: $(cat "$T/stats.json")"
    e2e_expect "stats: memory limit" 268435456 "$limit"
    pids=$(berth_json pids <"$T/stats.json")
    [ "${pids:-0}" -ge 1 ] || e2e_fail "stats: pids '$pids'"
    e2e_log "ok: stats --format json: memory limit, $pids pids"
  else
    e2e_log "note: stats --no-stream --format json NAME not offered ($(head -n 1 "$T/err"))"
  fi

  # --------------------------------------------------------------- refusals
  berth_expect_fail "update --memory garbage" berth_cli update --memory lots $c
  berth_expect_fail "run --pids-limit garbage" berth_cli run --rm --pids-limit many "$img" true
  berth_expect_fail "update of a missing container" berth_cli update --memory 64m e2e-no-such
}

berthd_main berth_resources body "$@"
