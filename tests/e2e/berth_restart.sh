#!/bin/sh
# End-to-end test of berthd + berth: restart policies and daemon restarts
# (issue 4). Its own berthd in a throwaway node (hack/lib/berthd.sh). Checks:
#   - --restart on-failure:5 of a failing command: 6 starts, then exited;
#     the restart count in inspect and ps; the gaps between starts (from the
#     log timestamps) grow: at once, then exponential backoff from 100 ms
#   - --restart no: no restart; --restart always: a command exiting 0 is
#     restarted, and `stop` ends that for good
#   - berthd --restart-backoff-cap 300ms caps the backoff
#   - SIGTERM of berthd stops no container
#   - SIGKILL of berthd while a container runs and logs: after berthd starts
#     again the container still runs with the same pid and its log has every
#     line (numbered, none missing); a container killed while berthd was down
#     is restarted (on-failure), one with --restart no stays exited (137)
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# start_gaps NAME: the seconds between consecutive "start" lines of NAME's
# log (from logs --timestamps), one per line.
start_gaps() {
  berth_cli logs --timestamps "$1" 2>"$T/err" | "$PY" -c '
import sys, datetime
ts = []
for line in sys.stdin:
    parts = line.split()
    if len(parts) < 2 or parts[1] != "start": continue
    t = parts[0].rstrip("Z")
    sec, _, frac = t.partition(".")
    d = datetime.datetime.fromisoformat(sec).replace(tzinfo=datetime.timezone.utc)
    ts.append(d.timestamp() + float("0." + (frac or "0")))
for a, b in zip(ts, ts[1:]): print("%.3f" % (b - a))
'
}

# wait_count NAME N SECS: until inspect's restart_count >= N.
wait_count() {
  _n=0; _t=$(($3 * 10))
  while [ $_t -gt 0 ]; do
    _n=$(berth_inspect "$1" restart_count 2>/dev/null)
    [ "${_n:-0}" -ge "$2" ] && return 0
    sleep 0.1; _t=$((_t - 1))
  done
  return 1
}

policies() {
  img=$BERTH_IMAGE
  # ------------------------------------------------------ on-failure:5
  berth_cli run -d --restart on-failure:5 --name e2e-fail "$img" sh -c 'echo start; exit 1' \
    >/dev/null 2>"$T/err" || e2e_fail "run -d --restart on-failure:5: $(cat "$T/err")"
  wait_count e2e-fail 5 30 || e2e_fail "on-failure:5: restart count $(berth_inspect e2e-fail restart_count) after 30 s"
  berth_wait_state e2e-fail exited 10 || e2e_fail "on-failure:5: state $(berth_state e2e-fail) after 5 restarts"
  sleep 1
  e2e_expect "on-failure:5: restart count (inspect), no 6th restart" 5 "$(berth_inspect e2e-fail restart_count)"
  e2e_expect "on-failure:5: last exit code" 1 "$(berth_inspect e2e-fail exit_code)"
  e2e_expect "on-failure:5: 6 starts in the log" 6 "$(berth_cli logs e2e-fail 2>/dev/null | grep -c '^start$')"
  berth_cli ps -a --format json >"$T/ps.json" 2>"$T/err" || e2e_fail "ps -a --format json: $(cat "$T/err")"
  n=$("$PY" -c '
import json, sys
def norm(k): return k.replace("_", "").lower()
for c in json.load(open(sys.argv[1])):
    d = {norm(k): v for k, v in c.items()}
    names = d.get("names", d.get("name", ""))
    if "e2e-fail" in (names if isinstance(names, list) else [names]) or names == "e2e-fail":
        print(d.get("restartcount", d.get("restarts", "missing")))
' "$T/ps.json")
  e2e_expect "ps -a --format json: restart count" 5 "$n"
  berth_cli ps -a >"$T/ps" 2>&1
  e2e_log "ps -a: $(grep e2e-fail "$T/ps")"
  gaps=$(start_gaps e2e-fail)
  e2e_log "on-failure:5: seconds between starts: $(echo "$gaps" | tr "\n" " ")"
  # shellcheck disable=SC2086
  set -- $gaps
  [ $# -eq 5 ] || e2e_fail "on-failure:5: want 5 gaps between 6 starts, got '$gaps' ($(cat "$T/err"))"
  awk -v a="$1" -v c="$3" -v d="$4" -v e="$5" 'BEGIN {
      exit !(e >= 0.6 && e > d + 0.1 && d > c + 0.05 && a < e / 2) }' \
    || e2e_fail "on-failure:5: the backoff does not grow (want ~0, 0.1, 0.2, 0.4, 0.8 s + start time): $gaps"
  e2e_log "ok: on-failure:5 backoff grows"

  # ---------------------------------------------------------------- no
  berth_cli run -d --restart no --name e2e-no "$img" sh -c 'exit 2' >/dev/null 2>"$T/err" \
    || e2e_fail "run -d --restart no: $(cat "$T/err")"
  berth_wait_state e2e-no exited 10 || e2e_fail "--restart no: state $(berth_state e2e-no)"
  sleep 1
  e2e_expect "--restart no: restart count" 0 "$(berth_inspect e2e-no restart_count)"
  e2e_expect "--restart no: exit code" 2 "$(berth_inspect e2e-no exit_code)"

  # ------------------------------------------------------------ always
  berth_cli run -d --restart always --name e2e-always "$img" sh -c 'echo start; sleep 0.2' \
    >/dev/null 2>"$T/err" || e2e_fail "run -d --restart always: $(cat "$T/err")"
  wait_count e2e-always 3 20 || e2e_fail "always: restart count $(berth_inspect e2e-always restart_count) after 20 s"
  e2e_log "ok: --restart always restarts a command that exits 0"
  berth_cli stop -t 1 e2e-always >/dev/null 2>"$T/err" || e2e_fail "stop of an always container: $(cat "$T/err")"
  n=$(berth_inspect e2e-always restart_count)
  sleep 2
  e2e_expect "always + stop: stays exited" exited "$(berth_state e2e-always)"
  e2e_expect "always + stop: no restart after stop" "$n" "$(berth_inspect e2e-always restart_count)"
  berth_cli rm -f e2e-fail e2e-no e2e-always >/dev/null 2>&1 || e2e_fail "rm -f of three containers"
}

backoff_cap() {
  berthd_restart --restart-backoff-cap 300ms
  berth_cli run -d --restart on-failure:7 --name e2e-cap "$BERTH_IMAGE" sh -c 'echo start; exit 1' \
    >/dev/null 2>"$T/err" || e2e_fail "run -d --restart on-failure:7: $(cat "$T/err")"
  wait_count e2e-cap 7 30 || e2e_fail "on-failure:7: restart count $(berth_inspect e2e-cap restart_count) after 30 s"
  berth_wait_state e2e-cap exited 10 || e2e_fail "on-failure:7: state $(berth_state e2e-cap)"
  gaps=$(start_gaps e2e-cap)
  e2e_log "--restart-backoff-cap 300ms: seconds between starts: $(echo "$gaps" | tr "\n" " ")"
  # shellcheck disable=SC2086
  set -- $gaps
  [ $# -eq 7 ] || e2e_fail "on-failure:7: want 7 gaps, got '$gaps'"
  awk -v f="$6" -v g="$7" 'BEGIN { exit !(f < 1.2 && g < 1.2 && g >= 0.25) }' \
    || e2e_fail "the backoff is not capped at 300 ms (want ..., 0.3, 0.3, 0.3 s + start time; uncapped: 1.6, 3.2, 6.4): $gaps"
  e2e_log "ok: the backoff cap holds"
  berth_cli rm -f e2e-cap >/dev/null 2>&1
  berthd_restart
}

daemon_restarts() {
  img=$BERTH_IMAGE
  berth_cli run -d --name e2e-chatty "$img" sh -c \
    'i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); echo "line $i"; sleep 0.01; done' \
    >/dev/null 2>"$T/err" || e2e_fail "run -d chatty: $(cat "$T/err")"
  berth_cli run -d --restart on-failure --name e2e-dies "$img" sleep 1000 >/dev/null 2>"$T/err" \
    || e2e_fail "run -d --restart on-failure: $(cat "$T/err")"
  berth_cli run -d --restart no --name e2e-stays "$img" sleep 1000 >/dev/null 2>"$T/err" \
    || e2e_fail "run -d --restart no: $(cat "$T/err")"
  p_chatty=$(berth_inspect e2e-chatty pid); p_dies=$(berth_inspect e2e-dies pid); p_stays=$(berth_inspect e2e-stays pid)
  for p in "$p_chatty" "$p_dies" "$p_stays"; do
    berthd_pid_alive "$p" || e2e_fail "container pid '$p' (from inspect) is not alive"
  done

  # A clean stop of berthd leaves its containers running.
  berthd_stop || e2e_fail "berthd exited non-zero on SIGTERM: $(tail -n 5 "$BERTHD_LOG")"
  sleep 0.5
  berthd_pid_alive "$p_chatty" || e2e_fail "SIGTERM of berthd stopped a container"
  berthd_start
  e2e_expect "after SIGTERM + start of berthd: same pid" "$p_chatty" "$(berth_inspect e2e-chatty pid)"
  e2e_log "ok: a clean berthd restart keeps containers running"

  sleep 1
  berthd_kill9
  e2e_log "berthd killed with SIGKILL"
  before=$(cat "$BERTHD_ROOT"/containers/*/container.log* 2>/dev/null | wc -c)
  kill -KILL "$p_dies" "$p_stays" 2>/dev/null || e2e_fail "kill of the containers' pids $p_dies $p_stays"
  sleep 2
  berthd_pid_alive "$p_chatty" || e2e_fail "the chatty container died while berthd was down"
  after=$(cat "$BERTHD_ROOT"/containers/*/container.log* 2>/dev/null | wc -c)
  [ "$after" -gt "$before" ] || e2e_fail "nothing was logged while berthd was down ($before -> $after bytes)"
  e2e_log "ok: the container kept running and logging while berthd was down"
  berthd_start
  e2e_expect "after SIGKILL + start of berthd: state" running "$(berth_state e2e-chatty)"
  e2e_expect "after SIGKILL + start of berthd: same pid" "$p_chatty" "$(berth_inspect e2e-chatty pid)"
  berth_wait_state e2e-stays exited 10 || e2e_fail "--restart no container killed while berthd was down: state $(berth_state e2e-stays)"
  e2e_expect "killed while berthd was down, --restart no: exit code" 137 "$(berth_inspect e2e-stays exit_code)"
  sleep 1
  e2e_expect "killed while berthd was down, --restart no: not restarted" exited "$(berth_state e2e-stays)"
  berth_wait_state e2e-dies running 15 || e2e_fail "on-failure container killed while berthd was down: state $(berth_state e2e-dies), not restarted"
  p=$(berth_inspect e2e-dies pid)
  [ "$p" != "$p_dies" ] || e2e_fail "e2e-dies: still the old pid $p"
  n=$(berth_inspect e2e-dies restart_count)
  [ "${n:-0}" -ge 1 ] || e2e_fail "e2e-dies: restarted, but restart count '$n'"
  e2e_log "ok: the on-failure container killed while berthd was down was restarted (pid $p)"

  # Still managed: exec and stop work, and the log has every line.
  out=$(berth_cli exec e2e-chatty echo alive 2>"$T/err") || e2e_fail "exec after recovery: $(cat "$T/err")"
  e2e_expect "exec after recovery" alive "$out"
  berth_cli stop -t 1 e2e-chatty >/dev/null 2>"$T/err" || e2e_fail "stop after recovery: $(cat "$T/err")"
  berth_wait_state e2e-chatty exited 10 || e2e_fail "stop after recovery: state $(berth_state e2e-chatty)"
  berth_cli logs e2e-chatty >"$T/chatty" 2>"$T/err" || e2e_fail "logs after recovery: $(cat "$T/err")"
  bad=$(awk '$1 != "line" || $2 != NR {print NR ": " $0; exit}' "$T/chatty")
  [ -z "$bad" ] || e2e_fail "the log of the chatty container has a gap or junk at line $bad"
  lines=$(wc -l <"$T/chatty")
  [ "$lines" -ge 150 ] || e2e_fail "the chatty container logged only $lines lines in ~5 s"
  e2e_log "ok: $lines log lines, numbered 1..$lines, none lost across the SIGKILL"
}

body() {
  berthd_up
  policies
  backoff_cap
  daemon_restarts
}

berthd_main berth_restart body "$@"
