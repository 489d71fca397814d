#!/bin/sh
# End-to-end test of berthd + berth: container logs (issue 4).
# Its own berthd in a throwaway node (hack/lib/berthd.sh). Checks:
#   - ordering: `seq 1 5000` comes back from `logs` line for line
#   - stderr vs stdout: logs sends each line to the stream it came from
#   - --tail N, --since (RFC 3339 and unix seconds), --timestamps
#   - logs -f shows lines as they come and ends when the container exits
#   - rotation: a container writing 80 MB (more than the default 5 x 10 MiB)
#     keeps a bounded number of bounded files, and its last line is there;
#     berthd --log-max-size/--log-max-files change those bounds
#   - 1 GiB written by a container reaches `logs -f` whole: every line and
#     byte counted (the reader follows across rotations), in bounded time
# Env: BERTH_E2E_LOG_MB (1024) for the big write.
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# wait_exited NAME SECS
wait_exited() {
  berth_wait_state "$1" exited "$2" || e2e_fail "$1: not exited after $2 s (state: $(berth_state "$1"))"
}

body() {
  berthd_up
  img=$BERTH_IMAGE

  # --------------------------------------------------------------- ordering
  berth_cli run -d --name e2e-seq "$img" seq 1 5000 >/dev/null 2>"$T/err" || e2e_fail "run -d seq: $(cat "$T/err")"
  wait_exited e2e-seq 20
  berth_cli logs e2e-seq >"$T/seq.out" 2>"$T/err" || e2e_fail "logs: $(cat "$T/err")"
  seq 1 5000 >"$T/seq.want"
  cmp -s "$T/seq.out" "$T/seq.want" \
    || e2e_fail "logs of seq 1 5000 differ: $(diff "$T/seq.want" "$T/seq.out" | head -n 5)"
  e2e_log "ok: logs return 5000 lines in order"

  out=$(berth_cli logs --tail 3 e2e-seq 2>"$T/err") || e2e_fail "logs --tail 3: $(cat "$T/err")"
  e2e_expect "logs --tail 3" "4998
4999
5000" "$out"
  out=$(berth_cli logs --tail 0 e2e-seq 2>"$T/err") || e2e_fail "logs --tail 0: $(cat "$T/err")"
  e2e_expect "logs --tail 0" "" "$out"

  # ------------------------------------------------------- stdout vs stderr
  berth_cli run -d --name e2e-streams "$img" \
    sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2; printf "no-newline"' \
    >/dev/null 2>"$T/err" || e2e_fail "run -d: $(cat "$T/err")"
  wait_exited e2e-streams 20
  berth_cli logs e2e-streams >"$T/o" 2>"$T/e" || e2e_fail "logs: $(cat "$T/e")"
  e2e_expect "logs: stdout lines on stdout" "out1
out2
no-newline" "$(cat "$T/o")"
  e2e_expect "logs: stderr lines on stderr" "err1
err2" "$(cat "$T/e")"

  # ------------------------------------------------- --since, --timestamps
  berth_cli run -d --name e2e-since "$img" sh -c 'echo early; sleep 2; echo late' \
    >/dev/null 2>"$T/err" || e2e_fail "run -d: $(cat "$T/err")"
  i=0
  until berth_cli logs e2e-since 2>/dev/null | grep -q early; do
    i=$((i + 1)); [ $i -lt 100 ] || e2e_fail "'early' not in the log after 10 s"; sleep 0.1
  done
  sleep 0.5
  mid_rfc=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
  mid_unix=$(date +%s.%N)
  wait_exited e2e-since 20
  out=$(berth_cli logs --since "$mid_rfc" e2e-since 2>"$T/err") || e2e_fail "logs --since $mid_rfc: $(cat "$T/err")"
  e2e_expect "logs --since RFC3339 (between the lines)" late "$out"
  out=$(berth_cli logs --since "$mid_unix" e2e-since 2>"$T/err") || e2e_fail "logs --since $mid_unix: $(cat "$T/err")"
  e2e_expect "logs --since unix seconds" late "$out"
  out=$(berth_cli logs --since 1h e2e-since 2>"$T/err") || e2e_fail "logs --since 1h: $(cat "$T/err")"
  e2e_expect "logs --since 1h" "early
late" "$out"
  berth_cli logs --timestamps e2e-since >"$T/ts" 2>"$T/err" || e2e_fail "logs --timestamps: $(cat "$T/err")"
  grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) early$' "$T/ts" \
    || e2e_fail "logs --timestamps: no 'RFC3339 early' line: $(cat "$T/ts")"
  e2e_log "ok: logs --timestamps"
  berth_expect_fail "logs --since garbage" berth_cli logs --since not-a-time e2e-since
  berth_expect_fail "logs of a missing container" berth_cli logs e2e-no-such

  # ---------------------------------------------------------------- follow
  berth_cli run -d --name e2e-follow "$img" \
    sh -c 'for i in 1 2 3 4 5 6; do echo f$i; sleep 0.3; done' >/dev/null 2>"$T/err" \
    || e2e_fail "run -d: $(cat "$T/err")"
  berth_cli logs -f e2e-follow >"$T/follow" 2>"$T/follow.err" &
  fpid=$!
  sleep 0.9
  grep -q f1 "$T/follow" || e2e_fail "logs -f: nothing after 0.9 s ($(cat "$T/follow.err"))"
  grep -q f6 "$T/follow" && e2e_fail "logs -f: the container should still be writing"
  i=0
  while kill -0 $fpid 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
  kill -0 $fpid 2>/dev/null && { kill $fpid; e2e_fail "logs -f still running 15 s after the container began (it exits after ~2 s)"; }
  wait $fpid || e2e_fail "logs -f exited $?: $(cat "$T/follow.err")"
  e2e_expect "logs -f: every line, then the end" "f1 f2 f3 f4 f5 f6" "$(tr '\n' ' ' <"$T/follow" | sed 's/ $//')"
  out=$(berth_cli logs -f e2e-follow 2>&1) || e2e_fail "logs -f of an exited container: $out"
  e2e_expect "logs -f of an exited container returns at once with the log" "f1 f2 f3 f4 f5 f6" "$(echo "$out" | tr '\n' ' ' | sed 's/ $//')"

  # --------------------------------------------------------------- rotation
  # 80 MB of 100-byte lines, then a last line, through the default limits.
  x99=$(printf '%099d' 0 | tr 0 x)
  berth_cli run -d --name e2e-rotate "$img" sh -c "yes $x99 | head -n 800000; echo last-line" \
    >/dev/null 2>"$T/err" || e2e_fail "run -d: $(cat "$T/err")"
  wait_exited e2e-rotate 120
  logpath=$(berth_inspect e2e-rotate log_path) || e2e_fail "inspect: no log_path"
  logdir=$(dirname "$logpath")
  files=$(find "$logdir" -maxdepth 1 -name "$(basename "$logpath")*" | wc -l)
  total=$(cat "$logpath"* 2>/dev/null | wc -c)
  e2e_log "log files after 80 MB: $files files, $total bytes in $logdir"
  [ "$files" -ge 2 ] || e2e_fail "no rotation: $(ls -l "$logdir")"
  [ "$files" -le 5 ] || e2e_fail "more than 5 log files: $(ls -l "$logdir")"
  [ "$total" -le $((5 * 10 * 1048576 + 1048576)) ] || e2e_fail "the logs take $total bytes, more than 5 x 10 MiB"
  out=$(berth_cli logs --tail 2 e2e-rotate 2>"$T/err") || e2e_fail "logs --tail 2: $(cat "$T/err")"
  e2e_expect "logs --tail 2 after rotation" "$x99
last-line" "$out"
  # What is kept is whole lines, the newest ones, in order.
  kept=$(berth_cli logs e2e-rotate 2>"$T/err" | awk -v x="$x99" '$0 != x && $0 != "last-line" {bad++; if (!first) first = NR ": " substr($0, 1, 40) " (" length($0) " bytes)"} END {print NR, bad + 0, first}')
  # shellcheck disable=SC2086
  set -- $kept
  [ "$1" -ge 400000 ] || e2e_fail "logs after rotation: only $1 lines kept (5 x 10 MiB hold ~500000)"
  if [ "$2" = 0 ]; then
    e2e_log "ok: after rotation only whole lines are kept"
  else
    berth_fail_later "logs after rotation: $2 lines that are not whole lines of the output, the first: $(echo "$kept" | cut -d" " -f3-)"
  fi
  berth_cli rm e2e-rotate >/dev/null 2>&1

  # ------------------------------------- rotation limits set on the daemon
  # berthd --log-max-size 64k --log-max-files 2: 1 MB of output keeps at
  # most 2 files, each at most 64 KiB plus the end of its last line.
  berthd_restart --log-max-size 64k --log-max-files 2
  berth_cli run -d --name e2e-small-logs "$img" sh -c "yes $x99 | head -n 10000; echo small-last" \
    >/dev/null 2>"$T/err" || e2e_fail "run -d: $(cat "$T/err")"
  wait_exited e2e-small-logs 60
  logpath=$(berth_inspect e2e-small-logs log_path) || e2e_fail "inspect: no log_path"
  files=$(find "$(dirname "$logpath")" -maxdepth 1 -name "$(basename "$logpath")*" | wc -l)
  biggest=$(find "$(dirname "$logpath")" -maxdepth 1 -name "$(basename "$logpath")*" -printf '%s\n' | sort -n | tail -n 1)
  [ "$files" -le 2 ] || e2e_fail "--log-max-files 2: $files files"
  [ "$biggest" -le $((65536 + 4096)) ] || e2e_fail "--log-max-size 64k: a file of $biggest bytes"
  out=$(berth_cli logs --tail 1 e2e-small-logs 2>"$T/err") || e2e_fail "logs --tail 1: $(cat "$T/err")"
  e2e_expect "logs with daemon rotation limits: the last line is kept" "small-last" "$out"
  berth_cli rm e2e-small-logs >/dev/null 2>&1
  berthd_restart

  # ------------------------------------------------ 1 GiB: nothing is lost
  # The container waits for /tmp/go (made with exec) so that logs -f reads
  # from the first byte; lines are 1024 bytes, so 1 GiB is 1048576 lines.
  mb=${BERTH_E2E_LOG_MB:-1024}
  bytes=$((mb * 1048576))
  line=$(printf '%01023d' 0 | tr 0 z)
  berth_cli run -d --name e2e-big "$img" sh -c \
    "while [ ! -e /tmp/go ]; do sleep 0.05; done; yes $line | head -c $bytes; echo END" \
    >/dev/null 2>"$T/err" || e2e_fail "run -d: $(cat "$T/err")"
  berth_cli logs -f e2e-big 2>"$T/big.err" | wc -lc >"$T/big.count" &
  bpid=$!
  sleep 0.3
  berth_cli exec e2e-big touch /tmp/go 2>"$T/err" || e2e_fail "exec touch /tmp/go: $(cat "$T/err")"
  t0=$(date +%s%N)
  i=0
  while kill -0 $bpid 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
  kill -0 $bpid 2>/dev/null && e2e_fail "logs -f of $mb MiB still running after 300 s"
  wait $bpid
  ms=$((($(date +%s%N) - t0) / 1000000))
  [ -s "$T/big.err" ] && e2e_fail "logs -f: $(head -c 500 "$T/big.err")"
  # shellcheck disable=SC2046
  set -- $(cat "$T/big.count")
  if [ "$1" != $((bytes / 1024 + 1)) ]; then
    e2e_fail "logs -f of $mb MiB: $1 lines, want $((bytes / 1024 + 1)): $((bytes / 1024 + 1 - $1)) lines ($(( (bytes + 4 - $2) / 1048576 )) MiB) never reached the follower, and logs -f said nothing about it on stderr (a follower that falls more than the rotation window, 5 x 10 MiB, behind the writer misses the files rotated away meanwhile: the likely cause, seen on a loaded machine)"
  fi
  e2e_log "ok: logs -f of $mb MiB: lines (+END)"
  e2e_expect "logs -f of $mb MiB: bytes (+END)" $((bytes + 4)) "$2"
  wait_exited e2e-big 60
  e2e_log "ok: $mb MiB written and followed in $ms ms, nothing lost"
}

berthd_main berth_logs body "$@"
