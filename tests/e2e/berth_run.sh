#!/bin/sh
# End-to-end test of berthd + berth: running containers (issue 4).
# Its own berthd in a throwaway node (hack/lib/berthd.sh). Checks:
#   - run --rm IMG echo: output; exit codes come back (sh -c 'exit 3' -> 3)
#   - environment, working directory, user and entrypoint from the image
#     config (an image made here from the busybox one, with User, WorkingDir,
#     Env, Entrypoint, Cmd) and the overrides -e -w -u --entrypoint
#   - run -d: ps lists it, inspect says running with a live pid; stop -t 2 of
#     a process that ignores SIGTERM kills it after ~2 s (exit 137); rm
#   - rm of a running container is refused (and it keeps running); rm -f
#   - --rm removes the container after it exits (foreground and -d)
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# make_custom_image DIR: an OCI layout dir with the busybox layer and a config
# that sets everything a run takes from an image.
make_custom_image() {
  berth_test_image "$1" custom --config '{"User": "nobody", "WorkingDir": "/tmp",
    "EnvAppend": ["IMGVAR=fromimage", "OTHER=keep"], "Entrypoint": ["/bin/echo", "ep"], "Cmd": ["cmd"]}'
}

# expect_run WHAT EXPECTED ARGS...: berth run ARGS must print EXPECTED, exit 0.
expect_run() {
  _what=$1; _want=$2; shift 2
  _out=$(berth_cli run --rm "$@" 2>"$T/run.err") \
    || e2e_fail "$_what: berth run --rm $* exited $?: $(cat "$T/run.err")"
  e2e_expect "$_what" "$_want" "$_out"
}

body() {
  berthd_up
  img=$BERTH_IMAGE

  # -------------------------------------------------------- output, exit codes
  expect_run "run --rm IMG echo hello" hello "$img" echo hello
  berth_cli run --rm "$img" sh -c 'exit 3' >/dev/null 2>"$T/err"
  e2e_expect "run --rm IMG sh -c 'exit 3': exit code" 3 "$?"
  berth_cli run --rm "$img" sh -c 'exit 255' >/dev/null 2>"$T/err"
  e2e_expect "run --rm IMG sh -c 'exit 255': exit code" 255 "$?"
  out=$(berth_cli run --rm "$img" sh -c 'echo to-out; echo to-err >&2' 2>"$T/err")
  e2e_expect "run: stdout to stdout" to-out "$out"
  e2e_expect "run: stderr to stderr" to-err "$(cat "$T/err")"
  out=$(echo piped | berth_cli run --rm -i "$img" cat 2>"$T/err") \
    || e2e_fail "run -i cat: $(cat "$T/err")"
  e2e_expect "run -i: stdin reaches the container" piped "$out"
  berth_expect_fail "run of a missing image" berth_cli run --rm localhost/no-such-image:e2e true
  berth_expect_fail "run of a missing command" berth_cli run --rm "$img" /no/such/binary
  # As docker's: 127 when the command does not exist, 126 when it cannot be
  # executed; foreground and detached alike, and --rm removes the container
  # whose start failed.
  berth_cli run --rm "$img" /no/such/binary >/dev/null 2>"$T/err"
  e2e_expect "run --rm IMG /no/such/binary: exit code" 127 "$?"
  berth_cli run --rm "$img" no-such-command-in-path >/dev/null 2>"$T/err"
  e2e_expect "run --rm IMG no-such-command-in-path: exit code" 127 "$?"
  berth_cli run --rm "$img" /etc >/dev/null 2>"$T/err"
  e2e_expect "run --rm IMG /etc (a directory): exit code" 126 "$?"
  berth_cli run -d --rm "$img" /no/such/binary >/dev/null 2>"$T/err"
  e2e_expect "run -d --rm IMG /no/such/binary: exit code" 127 "$?"
  left=$(berth_cli ps -a -q 2>&1)
  if [ -n "$left" ]; then
    berth_fail_later "run --rm of a missing command left its container: $(berth_cli ps -a 2>&1 | tail -n +2)"
    for c in $left; do berth_cli rm -f "$c" >/dev/null 2>&1; done
  fi

  # ------------------------------------------------ the image's config, overrides
  expect_run "default env PATH from the image" \
    /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$img" sh -c 'echo $PATH'
  expect_run "default workdir and user" "/ 0" "$img" sh -c 'echo $(pwd) $(id -u)'
  expect_run "-e K=V" "bar baz" -e FOO=bar -e X=baz "$img" sh -c 'echo $FOO $X'
  expect_run "-w DIR (created when missing)" /var/new/dir -w /var/new/dir "$img" pwd
  expect_run "-u UID:GID" "1 1" -u 1:1 "$img" sh -c 'echo $(id -u) $(id -g)'
  expect_run "-u NAME (resolved in the image's /etc/passwd)" 65534 -u nobody "$img" id -u

  make_custom_image "$T/custom"
  berth_cli image import "$T/custom" localhost/custom:e2e >"$T/out" 2>&1 \
    || e2e_fail "berth image import of an OCI layout dir: $(cat "$T/out")"
  cimg=localhost/custom:e2e
  expect_run "image Entrypoint + Cmd" "ep cmd" "$cimg"
  expect_run "args replace the image's Cmd, not its Entrypoint" "ep a b" "$cimg" a b
  expect_run "--entrypoint replaces the Entrypoint (and drops the Cmd)" \
    "65534 /tmp fromimage keep" --entrypoint /bin/sh "$cimg" \
    -c 'echo $(id -u) $(pwd) $IMGVAR $OTHER'
  expect_run "-e overrides an image variable, -w and -u override the image's" \
    "0 / over keep" --entrypoint /bin/sh -e IMGVAR=over -w / -u 0 "$cimg" \
    -c 'echo $(id -u) $(pwd) $IMGVAR $OTHER'

  # ------------------------------------------------------ detached, stop, rm
  id=$(berth_cli run -d --name e2e-sleeper "$img" sleep 1000 2>"$T/err") \
    || e2e_fail "run -d: $(cat "$T/err")"
  echo "$id" | grep -Eq '^[0-9a-f]{12,64}$' || e2e_fail "run -d printed '$id', not a container id"
  e2e_log "ok: run -d printed the id $id"
  berth_cli ps >"$T/ps" 2>"$T/err" || e2e_fail "ps: $(cat "$T/err")"
  grep -q e2e-sleeper "$T/ps" || e2e_fail "ps does not list e2e-sleeper: $(cat "$T/ps")"
  berth_cli ps -q >"$T/ps" 2>"$T/err" || e2e_fail "ps -q: $(cat "$T/err")"
  grep -q "^$(echo "$id" | cut -c1-12)" "$T/ps" || e2e_fail "ps -q does not list $id: $(cat "$T/ps")"
  e2e_log "ok: ps lists the running container"
  berth_cli ps --format json >"$T/ps.json" 2>"$T/err" || e2e_fail "ps --format json: $(cat "$T/err")"
  "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/ps.json" \
    || e2e_fail "ps --format json is not JSON: $(head -c 300 "$T/ps.json")"
  e2e_expect "inspect by name: state" running "$(berth_state e2e-sleeper)"
  e2e_expect "inspect by id prefix: name" e2e-sleeper \
    "$(berth_inspect "$(echo "$id" | cut -c1-10)" name | sed 's,^/,,')"
  pid=$(berth_inspect e2e-sleeper pid) || e2e_fail "inspect: no pid"
  berthd_pid_alive "$pid" || e2e_fail "inspect pid $pid: no such process"
  e2e_expect "the container's pid runs sleep" "sleep 1000" "$(tr '\0' ' ' <"/proc/$pid/cmdline" | sed 's/ $//')"

  berth_expect_fail "rm of a running container" berth_cli rm e2e-sleeper
  e2e_expect "after a refused rm: still running" running "$(berth_state e2e-sleeper)"

  # sleep is PID 1 in its namespace: SIGTERM has no handler, so it is ignored
  # and stop must escalate to SIGKILL after the timeout.
  t0=$(date +%s%N)
  berth_cli stop -t 2 e2e-sleeper >/dev/null 2>"$T/err" || e2e_fail "stop -t 2: $(cat "$T/err")"
  ms=$((($(date +%s%N) - t0) / 1000000))
  [ $ms -ge 1800 ] || e2e_fail "stop -t 2 returned after $ms ms: SIGKILL came before the timeout"
  [ $ms -le 8000 ] || e2e_fail "stop -t 2 took $ms ms"
  e2e_log "ok: stop -t 2 of a process ignoring SIGTERM took $ms ms"
  e2e_expect "after stop: state" exited "$(berth_state e2e-sleeper)"
  e2e_expect "after stop: exit code (SIGKILL)" 137 "$(berth_inspect e2e-sleeper exit_code)"
  berthd_pid_alive "$pid" && e2e_fail "pid $pid still alive after stop"
  berth_cli ps -a >"$T/ps" 2>&1 || e2e_fail "ps -a: $(cat "$T/ps")"
  grep e2e-sleeper "$T/ps" | grep -q 137 || e2e_fail "ps -a: no exit code 137 for e2e-sleeper: $(cat "$T/ps")"
  berth_cli ps >"$T/ps" 2>&1
  grep -q e2e-sleeper "$T/ps" && e2e_fail "ps (no -a) still lists the stopped container"
  berth_cli start e2e-sleeper >/dev/null 2>"$T/err" || e2e_fail "start of a stopped container: $(cat "$T/err")"
  berth_wait_state e2e-sleeper running 10 \
    || e2e_fail "start of a stopped container: state $(berth_state e2e-sleeper) after 10 s"
  e2e_log "ok: start of a stopped container"
  berth_cli rm -f e2e-sleeper >/dev/null 2>"$T/err" || e2e_fail "rm -f: $(cat "$T/err")"
  berth_cli inspect e2e-sleeper >/dev/null 2>&1 && e2e_fail "inspect still finds e2e-sleeper after rm -f"
  berth_expect_fail "inspect of a removed container" berth_cli inspect e2e-sleeper
  e2e_log "ok: rm -f of a running container"

  id=$(berth_cli run -d --name e2e-quick "$img" true 2>"$T/err") || e2e_fail "run -d true: $(cat "$T/err")"
  berth_wait_state e2e-quick exited 10 || e2e_fail "e2e-quick: not exited after 10 s: $(berth_state e2e-quick)"
  berth_cli rm e2e-quick >/dev/null 2>"$T/err" || e2e_fail "rm of an exited container: $(cat "$T/err")"
  [ -e "$BERTHD_ROOT/containers/$id" ] && e2e_fail "rm left $BERTHD_ROOT/containers/$id"
  e2e_log "ok: rm of an exited container removes its directory"

  # ------------------------------------------------------------------ --rm
  berth_cli run --rm --name e2e-rm "$img" true >/dev/null 2>"$T/err" || e2e_fail "run --rm: $(cat "$T/err")"
  # As docker's: once run --rm returns, the container is gone (a script may
  # reuse its name at once).
  if berth_cli inspect e2e-rm >/dev/null 2>&1; then
    berth_wait_gone e2e-rm 10 || e2e_fail "run --rm: e2e-rm still exists 10 s after it exited"
    berth_fail_later "run --rm returned before its container was removed (inspect e2e-rm right after found it; it went a moment later): reusing the name at once fails"
  else
    e2e_log "ok: run --rm (foreground) leaves nothing"
  fi
  # Name reuse at once, over and over (a script's loop).
  i=0
  while [ $i -lt 10 ]; do
    berth_cli run --rm --name e2e-reuse "$img" true >/dev/null 2>"$T/err" \
      || { berth_fail_later "run --rm --name e2e-reuse, round $i: $(cat "$T/err")"; break; }
    i=$((i + 1))
  done
  [ $i -eq 10 ] && e2e_log "ok: run --rm --name x 10 times in a row"
  berth_cli run -d --rm --name e2e-rmd "$img" sleep 0.3 >/dev/null 2>"$T/err" || e2e_fail "run -d --rm: $(cat "$T/err")"
  berth_wait_gone e2e-rmd 10 \
    || e2e_fail "run -d --rm: e2e-rmd still exists 10 s after its exit"
  e2e_log "ok: run -d --rm removes the container when it exits"

  # Everything this test made is gone; the image remains.
  left=$(berth_cli ps -a -q 2>&1)
  [ -z "$left" ] || e2e_fail "containers left: $left"
  [ -z "$(ls "$BERTHD_ROOT/containers" 2>/dev/null)" ] \
    || e2e_fail "container dirs left: $(ls "$BERTHD_ROOT/containers")"
  e2e_log "ok: nothing left"
}

berthd_main berth_run body "$@"
