# Shared helpers for berth's black-box tests (tests/e2e/*.sh), which drive
# the runtime through real clients. Sourced, not run. POSIX sh.
#
# The isolation model every test follows, so that tests can run in parallel
# and never change the host:
#   - a throwaway network namespace per run (berth-e2e-<test>-<pid>), so
#     podman's bridge, netavark's iptables rules and containerd live only there;
#   - the client daemons and containers run inside a fresh PID namespace
#     (unshare --pid --fork --kill-child): when the test ends, however it ends,
#     the kernel kills every process left in it (conmon, shims, containers);
#   - a private mount namespace with tmpfs over /run and /var/lib/containers,
#     where rootful podman keeps state at fixed paths whatever its config says;
#   - every file (storage, state, sockets, config) under one mktemp dir;
#   - cgroups under a parent named after the run, removed at the end.

# e2e_init NAME: sets E2E_NAME, E2E_SRC, E2E_BUILD, BERTH_RUNTIME and checks
# that we are root (exit 77 = skipped, for ctest) and the runtime exists.
e2e_init() {
  E2E_NAME=$1
  E2E_SRC=${BERTH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
  E2E_BUILD=${BERTH_BUILD_DIR:-$E2E_SRC/build}
  BERTH_RUNTIME=${BERTH_RUNTIME:-$E2E_BUILD/runtime/berth-runtime}
  export BERTH_RUNTIME
  # A reader that goes away (`test.sh | head`) must not kill the script
  # before its EXIT trap cleans up: end through exit, then ignore SIGPIPE.
  trap 'trap "" PIPE; exit 1' PIPE
  if [ "$(id -u)" != 0 ]; then
    echo "$E2E_NAME: SKIP: needs root (namespaces, mounts, cgroups)" >&2
    exit 77
  fi
  # podman and containerd want an absolute runtime path.
  case $BERTH_RUNTIME in
    /*) ;;
    */*) BERTH_RUNTIME=$(cd "$(dirname "$BERTH_RUNTIME")" && pwd)/$(basename "$BERTH_RUNTIME") ;;
    *) BERTH_RUNTIME=$(command -v "$BERTH_RUNTIME" || echo "$BERTH_RUNTIME") ;;
  esac
  [ -x "$BERTH_RUNTIME" ] || e2e_fail "runtime $BERTH_RUNTIME not found or not executable (build it, or set BERTH_RUNTIME)"
}

e2e_log() { echo "$E2E_NAME: $*" >&2; }
e2e_fail() { echo "$E2E_NAME: FAIL: $*" >&2; exit 1; }

# e2e_need CMD...: fails clearly when a client is missing (hack/deps.sh installs them).
e2e_need() {
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || e2e_fail "$c not installed (run hack/deps.sh)"
  done
}

# e2e_image: builds (or reuses) the busybox image archives; sets
# E2E_ROOTFS_TAR, E2E_OCI_TAR and E2E_OCI_REF.
e2e_image() {
  cache=${BERTH_E2E_CACHE:-$E2E_BUILD/e2e-cache}
  out=$("$E2E_SRC/hack/mkimage" "$cache") || e2e_fail "hack/mkimage $cache failed"
  # shellcheck disable=SC2034 # used by the scripts that source this file
  E2E_ROOTFS_TAR=$(echo "$out" | sed -n 1p)
  # shellcheck disable=SC2034
  E2E_OCI_TAR=$(echo "$out" | sed -n 2p)
  # shellcheck disable=SC2034
  E2E_OCI_REF=$(echo "$out" | sed -n 3p)
}

# e2e_netns_add NS: a fresh network namespace with only lo, up.
e2e_netns_add() {
  ip netns add "$1" || e2e_fail "ip netns add $1"
  ip -n "$1" link set lo up || e2e_fail "ip -n $1 link set lo up"
}

# e2e_netns_del NS: kills what still runs in NS (only processes of this run
# can be there: the namespace is ours), then removes it. Bounded.
e2e_netns_del() {
  [ -e "/run/netns/$1" ] || return 0
  pids=$(ip netns pids "$1" 2>/dev/null || true)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    i=0
    while [ -n "$(ip netns pids "$1" 2>/dev/null)" ] && [ $i -lt 50 ]; do
      sleep 0.1; i=$((i + 1))
    done
  fi
  ip netns del "$1" 2>/dev/null || true
}

# e2e_cgroup_del NAME: removes /sys/fs/cgroup/*/NAME (v1 hierarchies) and
# /sys/fs/cgroup/NAME, deepest first. Called after the sandbox is gone; a
# killed container may take a moment to leave its cgroup, hence the retries.
e2e_cgroup_del() {
  i=0
  while [ $i -lt 50 ]; do
    left=
    for root in /sys/fs/cgroup /sys/fs/cgroup/*; do
      [ -d "$root/$1" ] || continue
      find "$root/$1" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$root/$1" ] && left="$left $root/$1"
    done
    [ -z "$left" ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  echo "${E2E_NAME:-e2e}: warning: cgroups left:$left" >&2
}

# e2e_sandbox_run SECS NS CMD...: runs CMD, for at most SECS seconds, inside
# network namespace NS and a new PID namespace (with its own /proc) and
# mount namespace; returns CMD's exit code (124: timed out). When CMD returns,
# or the sandbox is stopped, every process CMD left behind dies with the PID
# namespace and the mounts it made go with the mount namespace.
# nsenter, not `ip netns exec`: the latter remounts /sys, which hides the
# cgroup hierarchies mounted under /sys/fs/cgroup from the runtime.
# CMD runs in the background so that a signal to this shell runs its trap at
# once (a shell waiting for a foreground child defers its traps).
e2e_sandbox_run() {
  secs=$1; ns=$2; shift 2
  timeout -k 10 "$secs" nsenter --net="/run/netns/$ns" \
    unshare --pid --fork --kill-child --mount-proc "$@" &
  E2E_SANDBOX_PID=$!
  wait "$E2E_SANDBOX_PID"
  rc=$?
  E2E_SANDBOX_PID=
  return $rc
}

# e2e_sandbox_stop: for traps; ends a sandbox still running (timeout passes
# the signal on; unshare --kill-child then takes the PID namespace down).
e2e_sandbox_stop() {
  [ -n "${E2E_SANDBOX_PID:-}" ] || return 0
  kill -TERM "$E2E_SANDBOX_PID" 2>/dev/null || return 0
  i=0
  while kill -0 "$E2E_SANDBOX_PID" 2>/dev/null && [ $i -lt 50 ]; do
    sleep 0.1; i=$((i + 1))
  done
  kill -KILL "$E2E_SANDBOX_PID" 2>/dev/null || true
  E2E_SANDBOX_PID=
}

# e2e_private_host_dirs T: called first inside the sandbox (a private mount
# namespace). Rootful podman keeps some state at fixed host paths whatever its
# configuration says: the netavark IPAM database in /run/containers/networks,
# network namespace files in /run/netns, the image blob-info cache in
# /var/lib/containers/cache; runtimes default to /run/<name> for state. A
# tmpfs over /run and over /var/lib/containers (or /var/lib when that does not
# exist, so that nothing is created on the host) keeps all of it in this run.
e2e_private_host_dirs() {
  case $1 in
    /run/*|/var/lib/*) e2e_fail "temp dir $1 must not be under /run or /var/lib (set TMPDIR)" ;;
  esac
  mount --make-rprivate / || e2e_fail "mount --make-rprivate /"
  # A mount stacked over / on the host (a leftover of some other test) is
  # invisible to path lookups but breaks pivot_root-based extraction (podman's
  # layer unpacking fails with "remove /.pivot_rootN: device or resource busy").
  # It is reachable as "/.." (.. at the root follows mounts); drop it here,
  # in this private namespace only, and say so.
  i=0
  while [ "$(awk '$5 == "/"' /proc/self/mountinfo | wc -l)" -gt 1 ] && [ $i -lt 5 ]; do
    e2e_log "warning: the host has a mount stacked over / ($(awk '$5 == "/" {print $9, $10}' /proc/self/mountinfo | tail -n 1)); hiding it in this sandbox"
    umount -l /.. || break
    i=$((i + 1))
  done
  mount -t tmpfs -o mode=0755 berth-e2e /run || e2e_fail "mount tmpfs on /run"
  if [ -d /var/lib/containers ]; then
    mount -t tmpfs -o mode=0700 berth-e2e /var/lib/containers || e2e_fail "mount tmpfs on /var/lib/containers"
  else
    mount -t tmpfs -o mode=0755 berth-e2e /var/lib || e2e_fail "mount tmpfs on /var/lib"
  fi
  # crun 1.8 refuses hybrid cgroup hosts (v1 + /sys/fs/cgroup/unified); set
  # BERTH_E2E_NO_UNIFIED=1 to hide the v2 mount from this sandbox and compare.
  if [ "${BERTH_E2E_NO_UNIFIED:-0}" = 1 ] && mountpoint -q /sys/fs/cgroup/unified; then
    umount /sys/fs/cgroup/unified || e2e_fail "umount /sys/fs/cgroup/unified"
  fi
}

# e2e_wait SECS CMD...: retries CMD every 0.1 s until it succeeds or SECS pass.
e2e_wait() {
  secs=$1; shift
  tries=$((secs * 10))
  while [ "$tries" -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
    tries=$((tries - 1))
  done
  return 1
}

# e2e_expect WHAT EXPECTED ACTUAL: compares after stripping CRs (tty output).
e2e_expect() {
  actual=$(printf '%s' "$3" | tr -d '\r')
  [ "$actual" = "$2" ] || e2e_fail "$1: expected '$2', got '$actual'"
  e2e_log "ok: $1"
}
