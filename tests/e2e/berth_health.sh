#!/bin/sh
# End-to-end test of container health checks (issue 7: depends_on
# service_healthy needs them). Its own berthd in a throwaway node
# (hack/lib/berthd.sh). Checks, with 200 ms intervals:
#   - --health-cmd that passes: "starting", then "healthy" within about an
#     interval; ps STATUS says "(healthy)"; inspect has status, streak, output
#   - one that fails: "unhealthy" after --health-retries failures in a row,
#     with its output kept
#   - --health-start-period: failures inside it do not count
#   - a check that hangs is killed at --health-timeout (a failure, with
#     Docker's message) and leaves no process behind in the container
#   - the image's HEALTHCHECK is used; --no-healthcheck disables it
#   - a stopped container has no health; a start begins a new "starting"
#   - after a berthd restart the checks go on (a check flipped by an exec
#     afterwards changes the state)
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# make_health_image DIR: an OCI layout dir with the busybox layer and a
# config whose HEALTHCHECK passes (CMD-SHELL, 200 ms interval, 2 retries).
make_health_image() {
  berth_test_image "$1" health --config '{"Healthcheck": {"Test": ["CMD-SHELL", "echo from-image"],
    "Interval": 200000000, "Retries": 2}, "Cmd": ["sleep", "3600"]}'
}

# health C: the container's health ("" without a running check).
health() { berth_inspect "$1" health 2>/dev/null; }

# wait_health C STATE SECS: until inspect says STATE.
wait_health() {
  _tries=$(($3 * 20))
  while [ $_tries -gt 0 ]; do
    [ "$(health "$1")" = "$2" ] && return 0
    sleep 0.05
    _tries=$((_tries - 1))
  done
  return 1
}

# run_d NAME ARGS...: berth run -d --name NAME ARGS...
run_d() {
  _n=$1; shift
  berth_cli run -d --name "$_n" "$@" >/dev/null 2>"$T/err" || e2e_fail "run -d $_n: $(cat "$T/err")"
}

body() {
  berthd_up
  img=$BERTH_IMAGE
  fast="--health-interval 200ms --health-timeout 2s"

  # ------------------------------------------------------------- healthy
  # shellcheck disable=SC2086 # $fast is a list of flags
  run_d ok $fast --health-cmd 'echo all-good' "$img" sleep 3600
  start=$(date +%s%N)
  e2e_expect "a new container with a check is starting" starting "$(health ok)"
  wait_health ok healthy 5 || e2e_fail "ok: not healthy within 5 s (health: $(health ok))"
  took=$((($(date +%s%N) - start) / 1000000))
  [ $took -lt 1500 ] || berth_fail_later "ok: healthy only after ${took} ms (interval 200 ms)"
  e2e_log "ok: passing check -> healthy after ${took} ms"
  berth_cli ps >"$T/ps" 2>&1 || e2e_fail "ps: $(cat "$T/ps")"
  grep -E '^[0-9a-f]+ .*Up .* \(healthy\) .* ok$' "$T/ps" >/dev/null \
    || e2e_fail "ps does not show '(healthy)' for ok: $(cat "$T/ps")"
  e2e_expect "inspect: failing streak of a healthy container" 0 "$(berth_inspect ok health_state.failing_streak)"
  e2e_expect "inspect: last output" all-good "$(berth_inspect ok health_state.last_output)"

  # ----------------------------------------------------------- unhealthy
  # shellcheck disable=SC2086
  run_d bad $fast --health-retries 2 --health-cmd 'echo nope; exit 1' "$img" sleep 3600
  wait_health bad unhealthy 5 || e2e_fail "bad: not unhealthy within 5 s (health: $(health bad))"
  streak=$(berth_inspect bad health_state.failing_streak)
  [ "$streak" -ge 2 ] || e2e_fail "bad: unhealthy with a streak of $streak < retries 2"
  e2e_expect "inspect: output of the failing check" nope "$(berth_inspect bad health_state.last_output)"
  berth_cli ps >"$T/ps" 2>&1
  grep -E '\(unhealthy\) .* bad$' "$T/ps" >/dev/null || e2e_fail "ps does not show '(unhealthy)': $(cat "$T/ps")"
  e2e_log "ok: failing check -> unhealthy after $streak failures"

  # -------------------------------------------------------- start period
  # shellcheck disable=SC2086
  run_d slow $fast --health-retries 1 --health-start-period 60s --health-cmd 'exit 1' "$img" sleep 3600
  sleep 1.2
  e2e_expect "failures in the start period: still starting" starting "$(health slow)"
  e2e_expect "failures in the start period: no streak" 0 "$(berth_inspect slow health_state.failing_streak)"
  e2e_log "ok: start period respected"

  # -------------------------------------------------------------- timeout
  run_d hang --health-interval 200ms --health-timeout 300ms --health-retries 1 \
    --health-cmd 'sleep 30' "$img" sleep 3600
  wait_health hang unhealthy 5 || e2e_fail "hang: not unhealthy within 5 s (health: $(health hang))"
  e2e_expect "hanging check's output" "Health check exceeded timeout (300ms)" \
    "$(berth_inspect hang health_state.last_output)"
  # Stop the checks, then look: no `sleep 30` may be left in the container.
  berth_cli exec hang ps -o pid,args >"$T/hang.ps" 2>&1 || e2e_fail "exec ps: $(cat "$T/hang.ps")"
  n=$(grep -c 'sleep 30' "$T/hang.ps")
  # At most the one check running right now (it started < 300 ms ago).
  [ "$n" -le 1 ] || e2e_fail "hanging checks left running in the container: $(cat "$T/hang.ps")"
  e2e_log "ok: hanging check killed at its timeout ($n running now)"
  berth_cli rm -f hang >/dev/null 2>&1

  # ------------------------------------------- image check, --no-healthcheck
  make_health_image "$T/health-image"
  (cd "$T/health-image" && tar -cf "$T/health.tar" .) || e2e_fail "tar the image"
  berth_cli image import "$T/health.tar" localhost/health:e2e >"$T/import.out" 2>&1 \
    || e2e_fail "import: $(cat "$T/import.out")"
  run_d fromimage localhost/health:e2e
  wait_health fromimage healthy 5 || e2e_fail "the image's HEALTHCHECK: not healthy (health: $(health fromimage))"
  e2e_expect "the image's check ran" from-image "$(berth_inspect fromimage health_state.last_output)"
  run_d nocheck --no-healthcheck localhost/health:e2e
  sleep 0.6
  e2e_expect "--no-healthcheck: no health" "" "$(health nocheck)"
  berth_cli ps >"$T/ps" 2>&1
  grep -E ' nocheck$' "$T/ps" | grep -q '(' && e2e_fail "--no-healthcheck: ps shows a health: $(cat "$T/ps")"
  e2e_log "ok: the image's HEALTHCHECK is used, --no-healthcheck disables it"

  # ------------------------------------------------------------ stop/start
  berth_cli stop -t 1 ok >/dev/null 2>"$T/err" || e2e_fail "stop ok: $(cat "$T/err")"
  e2e_expect "a stopped container has no health" "" "$(health ok)"
  e2e_expect "a stopped container has no health state" "" "$(berth_inspect ok health_state)"
  berth_cli start ok >/dev/null 2>"$T/err" || e2e_fail "start ok: $(cat "$T/err")"
  e2e_expect "a started container starts over" starting "$(health ok)"
  wait_health ok healthy 5 || e2e_fail "ok after a start: not healthy (health: $(health ok))"
  e2e_log "ok: stop clears the health, start begins anew"

  # ------------------------------------------------------- berthd restart
  # shellcheck disable=SC2086
  run_d flip $fast --health-retries 1 --health-cmd 'test -e /tmp/up' "$img" sleep 3600
  berth_cli exec flip touch /tmp/up >/dev/null 2>&1 || e2e_fail "exec touch"
  wait_health flip healthy 5 || e2e_fail "flip: not healthy (health: $(health flip))"
  berthd_restart
  berth_cli exec flip rm /tmp/up >/dev/null 2>&1 || e2e_fail "exec rm"
  wait_health flip unhealthy 5 || e2e_fail "after a berthd restart the check does not run (health: $(health flip))"
  berth_cli exec flip touch /tmp/up >/dev/null 2>&1 || e2e_fail "exec touch"
  wait_health flip healthy 5 || e2e_fail "flip: not healthy again (health: $(health flip))"
  wait_health bad unhealthy 5 || e2e_fail "bad after the restart: $(health bad)"
  e2e_log "ok: checks go on after a berthd restart"

  for c in ok bad slow fromimage nocheck flip; do
    berth_cli rm -f "$c" >/dev/null 2>"$T/err" || e2e_fail "rm -f $c: $(cat "$T/err")"
  done
  left=$(berth_cli ps -a -q 2>&1)
  [ -z "$left" ] || e2e_fail "containers left: $left"
  e2e_log "ok: nothing left"
}

berthd_main berth_health body "$@"
