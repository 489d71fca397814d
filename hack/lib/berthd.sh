# A throwaway berth "node" for the berthd/berth end-to-end tests
# (tests/e2e/berth_*.sh) and benchmarks (hack/bench/berth-*.sh). Sourced, not
# run. POSIX sh. Builds on hack/lib/e2e.sh and follows its isolation model:
#   - the script re-runs itself (with --inner) inside a fresh network
#     namespace (loopback only), a fresh PID namespace and a private mount
#     namespace (/ made rprivate, tmpfs over /run and /var/lib/containers):
#     when the script ends, however it ends, the kernel kills every process
#     left there (berthd, shims, containers) and its mounts go with it;
#   - berthd gets its own data root, run dir, socket and cgroup parent, all
#     under one mktemp dir, so several tests run side by side;
#   - the cleanup trap removes the daemon's containers through the CLI
#     (rm -f), stops berthd, kills what is left in the PID namespace,
#     unmounts what is left under the temp dir; the outer part then removes
#     the namespace, the cgroup parent and the temp dir.
#
# A test looks like:
#   . "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"
#   body() { berthd_up; out=$(berth_cli run --rm "$BERTH_IMAGE" echo hi) ...; }
#   berthd_main run body "$@"
#
# What the body gets:
#   BERTH BERTHD            the binaries (env BERTH / BERTHD override them)
#   BERTH_SOCKET            exported, so a bare "$BERTH" finds the daemon too
#   BERTHD_ROOT BERTHD_RUN  --root and --run of the daemon
#   BERTHD_CGROUP_PARENT    --cgroup-parent (unique per run)
#   BERTHD_LOG              the daemon's stderr, kept across restarts
#   BERTH_IMAGE             the busybox image (hack/mkimage), once berthd_up ran
#   T                       the temp dir (scratch files: $T/scratch)
#   E2E_* and PY            hack/lib/e2e.sh's variables, python3

_berthd_src=${BERTH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=hack/lib/e2e.sh
. "$_berthd_src/hack/lib/e2e.sh"
# shellcheck source=hack/lib/bench.sh
. "$_berthd_src/hack/lib/bench.sh"

PY=${PYTHON:-/usr/bin/python3}
BERTH_IMAGE=localhost/busybox:e2e
BERTHD_PID=

# berthd_main NAME BODY [ARGS...]: the entry point of a test or benchmark.
# Outside: checks (root, binaries), builds the image archive, makes the
# namespace and temp dir, re-runs "$0 --inner T ARGS..." in the sandbox for at
# most BERTHD_SANDBOX_SECS (600) seconds and cleans up. Inside: sets up the
# node, runs BODY ARGS... and cleans up. Exits with BODY's result.
berthd_main() {
  _name=$1; _body=$2; shift 2
  if [ "${1:-}" = --inner ]; then
    T=$2; shift 2
    e2e_init "$_name"
    _berthd_vars
    berthd_node_setup
    trap 'berthd_cleanup' EXIT
    trap 'exit 1' INT TERM HUP
    "$_body" "$@"
    _body_rc=$?
    if [ $_body_rc -eq 0 ] && [ -s "$T/deferred-failures" ]; then
      e2e_log "FAIL: $(wc -l <"$T/deferred-failures") check(s) failed along the way:"
      sed 's/^/  - /' "$T/deferred-failures" >&2
      exit 1
    fi
    exit $_body_rc
  fi
  e2e_init "$_name"
  _berthd_vars
  [ -x "$BERTHD" ] || e2e_fail "berthd $BERTHD not found (build the berthd target, or set BERTHD)"
  [ -x "$BERTH" ] || e2e_fail "berth $BERTH not found (build the berth target, or set BERTH)"
  [ -x "$PY" ] || e2e_fail "python3 ($PY) not found"
  e2e_need ip unshare nsenter timeout mountpoint
  e2e_image
  E2E_RUN=$$
  export E2E_RUN E2E_OCI_TAR E2E_ROOTFS_TAR E2E_OCI_REF BERTH BERTHD
  _ns=berth-e2e-$_name-$E2E_RUN
  _tmpbase=${TMPDIR:-/tmp}
  case $_tmpbase in /run/*|/var/lib/*) _tmpbase=/tmp ;; esac
  T=$(mktemp -d "$_tmpbase/berth-e2e-$_name.XXXXXX") || e2e_fail "mktemp"
  trap 'e2e_sandbox_stop; e2e_netns_del "$_ns"; e2e_cgroup_del "berth-e2e-$_name-$E2E_RUN"; rm -rf "$T"' EXIT
  trap 'exit 1' INT TERM HUP
  e2e_netns_add "$_ns"
  e2e_log "berthd $BERTHD, netns $_ns, dir $T"
  e2e_sandbox_run "${BERTHD_SANDBOX_SECS:-600}" "$_ns" "$0" --inner "$T" "$@"
  _rc=$?
  [ $_rc -eq 124 ] && e2e_fail "timed out after ${BERTHD_SANDBOX_SECS:-600} s"
  [ $_rc -eq 0 ] || exit $_rc
  [ "${BERTHD_QUIET:-0}" = 1 ] || e2e_log "PASS"
}

_berthd_vars() {
  BERTHD=${BERTHD:-$E2E_BUILD/agent/berthd}
  BERTH=${BERTH:-$E2E_BUILD/agent/berth}
  [ -n "${T:-}" ] || return 0
  BERTHD_ROOT=$T/root
  BERTHD_RUN=$T/brun
  BERTH_SOCKET=$T/berthd.sock
  BERTHD_LOG=$T/berthd.log
  BERTHD_CGROUP_PARENT=berth-e2e-$E2E_NAME-$E2E_RUN
  export BERTH_SOCKET
}

# berthd_node_setup: inside the sandbox, before anything else.
berthd_node_setup() {
  e2e_private_host_dirs "$T"
  mkdir -p "$T/scratch" "$BERTHD_ROOT" "$BERTHD_RUN" || e2e_fail "mkdir in $T"
}

# berthd_start [EXTRA FLAGS...]: starts berthd in the background (stderr
# appended to $BERTHD_LOG) and waits, at most BERTHD_START_SECS (20), until
# it answers on its socket. A stale socket left by a killed daemon is left
# alone: replacing it is the daemon's job.
berthd_start() {
  echo "=== berthd start $(date +%T.%N)" >>"$BERTHD_LOG"
  "$BERTHD" --root "$BERTHD_ROOT" --run "$BERTHD_RUN" --socket "$BERTH_SOCKET" \
    --cgroup-parent "$BERTHD_CGROUP_PARENT" --log-level "${BERTHD_LOG_LEVEL:-info}" "$@" \
    </dev/null >>"$BERTHD_LOG" 2>&1 &
  BERTHD_PID=$!
  _tries=$((${BERTHD_START_SECS:-20} * 10))
  while [ $_tries -gt 0 ]; do
    if ! kill -0 "$BERTHD_PID" 2>/dev/null; then
      wait "$BERTHD_PID"
      _rc=$?
      BERTHD_PID=
      e2e_fail "berthd exited ($_rc) while starting: $(tail -n 20 "$BERTHD_LOG")"
    fi
    [ -S "$BERTH_SOCKET" ] && timeout -k 2 5 "$BERTH" --socket "$BERTH_SOCKET" ps -q \
      >/dev/null 2>&1 && return 0
    sleep 0.1
    _tries=$((_tries - 1))
  done
  e2e_fail "berthd did not answer on $BERTH_SOCKET within ${BERTHD_START_SECS:-20} s: $(tail -n 20 "$BERTHD_LOG")"
}

# berthd_stop: SIGTERM (a clean exit that leaves containers running), waits
# at most 10 s, then SIGKILL. Returns berthd's exit code.
berthd_stop() {
  [ -n "$BERTHD_PID" ] || return 0
  kill -TERM "$BERTHD_PID" 2>/dev/null
  _i=0
  while kill -0 "$BERTHD_PID" 2>/dev/null && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
  if kill -0 "$BERTHD_PID" 2>/dev/null; then
    e2e_log "warning: berthd ignored SIGTERM for 10 s; killing it"
    kill -KILL "$BERTHD_PID" 2>/dev/null
  fi
  wait "$BERTHD_PID"
  _rc=$?
  BERTHD_PID=
  return $_rc
}

# berthd_kill9: SIGKILL, as a crash would.
# berth_test_image DIR NAME [oci-edit.py ARGS...]: an OCI layout in DIR made
# from the busybox test image and changed by hack/lib/oci-edit.py (config
# keys, extra layers), its manifest named NAME; ready for `berth image import`.
berth_test_image() {
  _dir=$1 _name=$2
  shift 2
  { mkdir -p "$_dir" && tar -C "$_dir" -xf "$E2E_OCI_TAR"; } || e2e_fail "unpack $E2E_OCI_TAR"
  "$PY" "$_berthd_src/hack/lib/oci-edit.py" "$_dir" --name "$_name" "$@" \
    || e2e_fail "making the test image $_name"
}

# berth_project_snapshot PROJECT: "service id started state" of each of the
# project's containers (by its berth.project label), sorted; what a deploy
# test compares before and after to see which containers were touched.
berth_project_snapshot() {
  berth_cli ps -a --format json 2>/dev/null | "$PY" -c '
import json, sys
text = sys.stdin.read().strip()
docs = json.loads(text) if text.startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
for c in docs:
    labels = c.get("labels") or {}
    if labels.get("berth.project") != sys.argv[1]: continue
    state = str(c.get("state", "")).lower().removeprefix("state_")
    print(labels.get("berth.service"), c["id"], c.get("started"), state)
' "$1" | sort
}

# berth_fetch PORT [TRIES]: the page at http://127.0.0.1:PORT/ of the node,
# retried every 0.2 s up to TRIES (50) times; fails when it never answers.
berth_fetch() {
  _i=0
  while [ $_i -lt "${2:-50}" ]; do
    _got=$(timeout 5 busybox wget -q -O - "http://127.0.0.1:$1/" 2>/dev/null) && { echo "$_got"; return 0; }
    sleep 0.2
    _i=$((_i + 1))
  done
  return 1
}

# berthd_links_left: prints the node's berth bridges and container veths
# still there after waiting (bounded, 5 s) for berthd's background link
# deletion (a bridge takes ~50 ms in the kernel); prints nothing once gone.
berthd_links_left() {
  _i=0
  while [ $_i -lt 50 ]; do
    _links=$(ip -o link show 2>/dev/null | grep -e ': berth-' -e ': bveth')
    [ -z "$_links" ] && return 0
    sleep 0.1
    _i=$((_i + 1))
  done
  echo "$_links" | cut -c1-200
}

berthd_kill9() {
  [ -n "$BERTHD_PID" ] || return 0
  kill -KILL "$BERTHD_PID" 2>/dev/null
  wait "$BERTHD_PID" 2>/dev/null
  BERTHD_PID=
}

# berthd_restart [FLAGS...]: a clean stop and a start.
berthd_restart() { berthd_stop; berthd_start "$@"; }

# berthd_up: starts berthd and imports the busybox image as $BERTH_IMAGE.
berthd_up() {
  berthd_start
  berth_cli image import "$E2E_OCI_TAR" "$BERTH_IMAGE" >"$T/import.out" 2>&1 \
    || e2e_fail "berth image import $E2E_OCI_TAR $BERTH_IMAGE: $(cat "$T/import.out")"
}

# berth_cli ARGS...: the CLI against this node's daemon, bounded by
# BERTH_CLI_SECS (60) seconds (exit 124 when it hangs).
berth_cli() {
  timeout -k 5 "${BERTH_CLI_SECS:-60}" "$BERTH" --socket "$BERTH_SOCKET" "$@"
}

# berthd_cleanup: the EXIT trap inside the sandbox. Never fails the test by
# itself; keeps the test's exit code. Runs $BERTHD_CLEANUP_HOOK first if set.
berthd_cleanup() {
  _cleanup_rc=$?
  trap - EXIT
  # A benchmark's own cleanup first (podman's containers), while all runs.
  [ -n "${BERTHD_CLEANUP_HOOK:-}" ] && $BERTHD_CLEANUP_HOOK
  if [ $_cleanup_rc -ne 0 ] && [ -s "$BERTHD_LOG" ]; then
    e2e_log "berthd log (last 30 lines):"
    tail -n 30 "$BERTHD_LOG" | sed 's/^/  | /' >&2
  fi
  if [ -n "$BERTHD_PID" ] && kill -0 "$BERTHD_PID" 2>/dev/null; then
    for _id in $(BERTH_CLI_SECS=20 berth_cli ps -a -q 2>/dev/null); do
      BERTH_CLI_SECS=30 berth_cli rm -f "$_id" >/dev/null 2>&1 \
        || e2e_log "cleanup: berth rm -f $_id failed"
    done
    berthd_stop || true
  fi
  # We are PID 1 of the sandbox's PID namespace: kill(-1) reaches every other
  # process in it (shims and containers that rm -f missed) and nothing else.
  kill -KILL -1 2>/dev/null  # dash: -s KILL -1 is parsed as an option
  sleep 0.2
  # Deepest first: container rootfs overlays, then whatever sits above them.
  awk -v t="$T" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r _m; do
    umount -l "$_m" 2>/dev/null
  done
  exit $_cleanup_rc
}

# berth_json PATH < JSON: prints the value at PATH, a dot-separated list of
# keys (a list is entered at its first element unless a key is a number).
# Keys match whatever case the CLI uses: cgroup_path = cgroupPath = CgroupPath.
# A key not found at its level is searched for in nested objects (so "pid"
# finds summary.pid). Strings are printed bare, lists one item a line,
# objects as JSON; "state" values drop a STATE_ prefix and are lower-cased.
# Exit 1 when the key is missing.
berth_json() {
  "$PY" -c '
import json, sys
def norm(k): return k.replace("_", "").replace("-", "").lower()
def find(v, key):
    if isinstance(v, list):
        v = v[0] if v else None
    if isinstance(v, dict):
        for k, x in v.items():
            if norm(k) == norm(key): return True, x
        for x in v.values():
            if isinstance(x, (dict, list)):
                ok, y = find(x, key)
                if ok: return True, y
    return False, None
v = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    if key.isdigit() and isinstance(v, list):
        v = v[int(key)]; continue
    ok, v = find(v, key)
    if not ok: sys.exit(1)
last = sys.argv[1].split(".")[-1]
if isinstance(v, str) and norm(last) in ("state", "status"):
    v = v.lower().removeprefix("state_")
if isinstance(v, bool): print("true" if v else "false")
elif isinstance(v, (str, int, float)): print(v)
elif isinstance(v, list): print("\n".join(x if isinstance(x, str) else json.dumps(x) for x in v))
elif v is None: print("")
else: print(json.dumps(v))
' "$1"
}

# berth_inspect CONTAINER PATH: one field of `berth inspect` (see berth_json).
berth_inspect() {
  berth_cli inspect "$1" >"$T/inspect.json" 2>"$T/inspect.err" \
    || { echo "berth inspect $1 failed: $(cat "$T/inspect.err")" >&2; return 1; }
  berth_json "$2" <"$T/inspect.json"
}

# berth_state CONTAINER: running, exited, restarting... (empty when unknown).
berth_state() { berth_inspect "$1" state 2>/dev/null; }

# berth_wait_state CONTAINER STATE SECS: until inspect says STATE.
berth_wait_state() {
  _tries=$(($3 * 10))
  while [ $_tries -gt 0 ]; do
    [ "$(berth_state "$1")" = "$2" ] && return 0
    sleep 0.1
    _tries=$((_tries - 1))
  done
  return 1
}

# berth_cgroup_file CONTAINER CONTROLLER FILE: the path of a container's
# cgroup file, from inspect's cgroup_path: cgroup v1 hierarchies first
# (/sys/fs/cgroup/CONTROLLER/...), else the v2 unified mount.
berth_cgroup_file() {
  _cg=$(berth_inspect "$1" cgroup_path) || return 1
  [ -n "$_cg" ] || { echo "inspect $1: empty cgroup_path" >&2; return 1; }
  case $_cg in /*) ;; *) _cg=/$_cg ;; esac
  for _base in "/sys/fs/cgroup/$2" /sys/fs/cgroup; do
    [ -e "$_base$_cg/$3" ] && { echo "$_base$_cg/$3"; return 0; }
  done
  # A systemd-style "slice:prefix:name" path is not a directory: say so.
  echo "no $3 for cgroup_path '$_cg' under /sys/fs/cgroup/$2 or /sys/fs/cgroup" >&2
  return 1
}

# berth_fail_later MSG: a failed check that does not stop the test: the
# test goes on (so its other checks still run and report) and fails at the
# end, listing every such failure. For checks whose failure leaves the node
# in a state the rest of the test can work with.
berth_fail_later() {
  echo "$*" >>"$T/deferred-failures"
  e2e_log "FAIL (the test goes on, and fails at the end): $*"
}

# berth_expect_fail WHAT CMD...: CMD must exit non-zero and say something on
# stderr; its stderr goes to $T/fail.err.
berth_expect_fail() {
  _what=$1; shift
  if "$@" >"$T/fail.out" 2>"$T/fail.err"; then
    e2e_fail "$_what: succeeded, expected an error (stdout: $(head -c 300 "$T/fail.out"))"
  fi
  [ -s "$T/fail.err" ] || e2e_fail "$_what: failed without a message on stderr"
  e2e_log "ok: $_what (refused: $(head -n 1 "$T/fail.err"))"
}

# berthd_pid_alive PID: PID (as this PID namespace sees it) exists and is
# not a zombie.
berthd_pid_alive() {
  [ -r "/proc/$1/stat" ] || return 1
  [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# berth_wait_gone CONTAINER SECS: until inspect no longer finds it.
berth_wait_gone() {
  _tries=$(($2 * 10))
  while [ $_tries -gt 0 ]; do
    berth_cli inspect "$1" >/dev/null 2>&1 || return 0
    sleep 0.1
    _tries=$((_tries - 1))
  done
  return 1
}

# ------------------------------------------------------------ for benchmarks

# berthd_timeit: sets TIMEIT (hack/lib/bench.sh builds it once per build dir).
berthd_timeit() {
  TIMEIT=$(bench_build_timeit "$E2E_SRC" "$E2E_BUILD" "$T") || e2e_fail "cc hack/bench/timeit.c failed"
}

# bench_stats FILE: "median_ms p90_ms failures" from timeit lines.
bench_stats() { echo "$(bench_time_stats "$1") $(bench_failures "$1")"; }

# bench_median < NUMBERS: the median (the mean of the middle two for an even count).
bench_median() {
  sort -g | awk '{a[NR] = $1} END { if (NR == 0) { print "-"; exit }
    m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f\n", m }'
}

# bench_ratio A B: A/B with two decimals ("-" when either is missing).
bench_ratio() {
  case "$1$2" in *-*|'') echo -; return ;; esac
  awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f\n", a / b }'
}

# berthd_podman_setup RUNTIME: rootful podman with configuration, storage
# and state under $T/podman only (as tests/e2e/podman.sh), cgroupfs under
# this node's cgroup parent, the OCI runtime RUNTIME (crun, runc or a path);
# imports the same busybox rootfs as $PODMAN_IMAGE. Defines pm() (podman with
# a 120 s bound) and sets PODMAN_CGROUP_PARENT.
berthd_podman_setup() {
  e2e_need podman conmon
  P=$T/podman
  mkdir -p "$P/home" "$P/tmp" "$P/run/user" "$P/storage" "$P/runroot" "$P/networks"
  cat >"$P/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
log_driver = "k8s-file"

[network]
network_backend = "netavark"
network_config_dir = "$P/networks"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
tmp_dir = "$P/run/libpod"
static_dir = "$P/storage/libpod"
volume_path = "$P/storage/volumes"
lock_type = "file"
runtime = "$1"
EOC
  cat >"$P/storage.conf" <<EOC
[storage]
driver = "overlay"
graphroot = "$P/storage"
runroot = "$P/runroot"
EOC
  echo 'unqualified-search-registries = []' >"$P/registries.conf"
  CONTAINERS_CONF=$P/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf
  CONTAINERS_REGISTRIES_CONF=$P/registries.conf
  HOME=$P/home XDG_CONFIG_HOME=$P/home/.config XDG_RUNTIME_DIR=$P/run/user TMPDIR=$P/tmp
  export CONTAINERS_CONF CONTAINERS_STORAGE_CONF CONTAINERS_REGISTRIES_CONF \
    HOME XDG_CONFIG_HOME XDG_RUNTIME_DIR TMPDIR
  # shellcheck disable=SC2034
  PODMAN_IMAGE=localhost/busybox-podman:e2e
  # shellcheck disable=SC2034 # used by the benchmarks
  PODMAN_CGROUP_PARENT=/$BERTHD_CGROUP_PARENT/podman
  pm import --change CMD=sh "$E2E_ROOTFS_TAR" "$PODMAN_IMAGE" >"$T/pm.out" 2>&1 \
    || e2e_fail "podman import: $(cat "$T/pm.out")"
}

pm() { timeout -k 10 120 podman "$@"; }

# berthd_podman_cleanup: removes podman's containers (for the EXIT path of
# benchmarks; the PID namespace takes the rest).
berthd_podman_cleanup() {
  [ -n "${P:-}" ] && pm rm -a -f -t 0 >/dev/null 2>&1
  return 0
}

# proc_mem PID: "RSS_KiB PSS_KiB PRIVATE_KiB" from /proc/PID/smaps_rollup.
proc_mem() {
  awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {v += $2}
       END { if (r == "") exit 1; print r, p, v }' "/proc/$1/smaps_rollup"
}
