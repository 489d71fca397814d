#!/bin/sh
# End-to-end test of berthd + berth: exec and shell (issue 4).
# Its own berthd in a throwaway node (hack/lib/berthd.sh). Checks:
#   - exec output, stdout/stderr separation and exit code
#   - exec -e/-w/-u, the container's environment inherited
#   - exec -i feeds stdin (and without -i the process sees no stdin)
#   - several execs at once
#   - exec into a stopped or missing container, of a missing binary: errors
#   - berth shell with a pty driven by this test (python3, a pty of its own):
#     a prompt, `stty size` with the test's window size and again after a
#     resize, Ctrl-C interrupts a `sleep` in the shell, `exit 7` -> 7
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# The pty driver: runs CMD... on a new pty (session leader, controlling
# terminal) and talks to it like a user at a 30x100 terminal.
write_pty_driver() {
  cat >"$1" <<'EOF'
import fcntl, os, re, select, struct, sys, termios, time

def setsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

master, slave = os.openpty()
setsize(master, 30, 100)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(master)
    os.close(slave)
    os.execvp(sys.argv[1], sys.argv[1:])
os.close(slave)
seen = b""

def fail(msg):
    sys.stderr.write("pty: FAIL: %s\n  screen so far: %r\n" % (msg, seen[-600:]))
    try:
        os.kill(pid, 9)
    except OSError:
        pass
    sys.exit(1)

def expect(pattern, secs, what):
    global seen
    start = len(seen)
    deadline = time.monotonic() + secs
    while True:
        m = re.search(pattern, seen[start:])
        if m:
            return m
        left = deadline - time.monotonic()
        if left <= 0:
            fail("%s: no %r within %s s" % (what, pattern, secs))
        r, _, _ = select.select([master], [], [], left)
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:
                data = b""
            if not data:
                fail("%s: the terminal closed" % what)
            seen += data

def send(text):
    os.write(master, text.encode())

def ok(msg):
    sys.stderr.write("pty: ok: %s\n" % msg)

# $((...)) makes the expected text differ from the echoed command line.
send("echo ready$((40+2))\r")
expect(rb"ready42", 20, "the shell answers")
ok("a shell on a pty answers")
send("tty; echo tty-done$((1+1))\r")
m = expect(rb"(/dev/pts/\d+|not a tty)", 10, "tty")
if m.group(1) == b"not a tty":
    fail("the shell's stdin is not a terminal")
ok("the shell has a terminal")
send("stty size\r")
expect(rb"30 100", 10, "stty size at 30x100")
ok("stty size = 30 100")
setsize(master, 50, 132)  # the kernel sends SIGWINCH to the client
time.sleep(0.3)
send("stty size\r")
expect(rb"50 132", 10, "stty size after the resize to 50x132")
ok("stty size = 50 132 after a resize")
send("sleep 100\r")
time.sleep(1.0)
t0 = time.monotonic()
send("\x03")
send("echo rc=$?-$((3+4))\r")
expect(rb"rc=130-7", 10, "Ctrl-C interrupts sleep 100")
ok("Ctrl-C interrupted sleep after %.1f s (exit 130)" % (time.monotonic() - t0))
send("exit 7\r")
deadline = time.monotonic() + 15
while time.monotonic() < deadline:
    r, _, _ = select.select([master], [], [], 0.1)
    if r:
        try:
            seen += os.read(master, 4096)
        except OSError:
            pass
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        code = os.waitstatus_to_exitcode(status)
        if code != 7:
            fail("exit 7 in the shell: the client exited %d" % code)
        ok("exit 7 in the shell -> the client exits 7")
        sys.exit(0)
fail("the client did not exit within 15 s of `exit 7`")
EOF
}

body() {
  berthd_up
  img=$BERTH_IMAGE
  berth_cli run -d --name e2e-ex -e CENV=from-run "$img" sleep 1000 >/dev/null 2>"$T/err" \
    || e2e_fail "run -d: $(cat "$T/err")"

  out=$(berth_cli exec e2e-ex echo hi 2>"$T/err") || e2e_fail "exec echo hi: $(cat "$T/err")"
  e2e_expect "exec CTR echo hi" hi "$out"
  out=$(berth_cli exec e2e-ex sh -c 'echo to-out; echo to-err >&2; exit 5' 2>"$T/err")
  rc=$?
  e2e_expect "exec: exit code" 5 "$rc"
  e2e_expect "exec: stdout" to-out "$out"
  e2e_expect "exec: stderr" to-err "$(cat "$T/err")"
  out=$(berth_cli exec e2e-ex sh -c 'kill -9 $$' 2>"$T/err")
  e2e_expect "exec: killed by SIGKILL -> 137" 137 "$?"
  out=$(berth_cli exec e2e-ex sh -c 'echo $CENV $PATH' 2>"$T/err") || e2e_fail "exec: $(cat "$T/err")"
  e2e_expect "exec inherits the container's environment" \
    "from-run /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$out"
  out=$(berth_cli exec -e A=1 -e CENV=over -w /tmp -u 65534:65534 e2e-ex \
        sh -c 'echo $A $CENV $(pwd) $(id -u):$(id -g)' 2>"$T/err") || e2e_fail "exec -e -w -u: $(cat "$T/err")"
  e2e_expect "exec -e -w -u" "1 over /tmp 65534:65534" "$out"

  out=$(printf 'a\nb\nc\n' | berth_cli exec -i e2e-ex wc -l 2>"$T/err") || e2e_fail "exec -i: $(cat "$T/err")"
  e2e_expect "exec -i: stdin reaches the process, EOF ends it" 3 "$(echo "$out" | tr -d ' ')"
  head -c 3000000 /dev/zero | tr '\0' 'q' >"$T/big.in"
  out=$(berth_cli exec -i e2e-ex wc -c <"$T/big.in" 2>"$T/err") || e2e_fail "exec -i of 3 MB: $(cat "$T/err")"
  e2e_expect "exec -i: 3 MB of stdin arrive whole" 3000000 "$(echo "$out" | tr -d ' ')"
  out=$(echo should-not-arrive | berth_cli exec e2e-ex cat 2>"$T/err") || e2e_fail "exec cat without -i: $(cat "$T/err")"
  e2e_expect "exec without -i: no stdin" "" "$out"

  i=1; pids=
  while [ $i -le 5 ]; do
    berth_cli exec e2e-ex sh -c "sleep 0.5; echo par$i" >"$T/par$i" 2>&1 &
    pids="$pids $!"
    i=$((i + 1))
  done
  # Not a bare `wait`: berthd is a background job of this shell too.
  for p in $pids; do wait "$p"; done
  all=$(cat "$T/par1" "$T/par2" "$T/par3" "$T/par4" "$T/par5" | tr '\n' ' ')
  e2e_expect "5 execs at once" "par1 par2 par3 par4 par5 " "$all"

  berth_cli exec e2e-ex /no/such/binary >/dev/null 2>"$T/err"
  rc=$?
  [ $rc -ne 0 ] || e2e_fail "exec of a missing binary succeeded"
  [ -s "$T/err" ] || e2e_fail "exec of a missing binary (exit $rc): no message"
  e2e_log "ok: exec of a missing binary: exit $rc, $(head -n 1 "$T/err")"
  berth_expect_fail "exec into a missing container" berth_cli exec e2e-no-such true

  # ------------------------------------------------------------- shell
  write_pty_driver "$T/pty.py"
  timeout -k 5 90 "$PY" "$T/pty.py" "$BERTH" --socket "$BERTH_SOCKET" shell e2e-ex \
    || e2e_fail "berth shell driven through a pty (see above)"
  e2e_log "ok: berth shell: prompt, stty size, resize, Ctrl-C, exit code"
  timeout -k 5 90 "$PY" "$T/pty.py" "$BERTH" --socket "$BERTH_SOCKET" exec -it e2e-ex sh \
    || e2e_fail "berth exec -it CTR sh driven through a pty (see above)"
  e2e_log "ok: berth exec -it: the same"
  e2e_expect "the container survives its shells" running "$(berth_state e2e-ex)"

  berth_cli stop -t 0 e2e-ex >/dev/null 2>&1 || e2e_fail "stop -t 0"
  berth_expect_fail "exec into a stopped container" berth_cli exec e2e-ex true
  berth_expect_fail "shell into a stopped container" berth_cli shell e2e-ex
}

berthd_main berth_exec body "$@"
