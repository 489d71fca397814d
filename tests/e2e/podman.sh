#!/bin/sh
# End-to-end test: Debian's podman drives the runtime under test
# ($BERTH_RUNTIME, default $BERTH_BUILD_DIR/runtime/berth-runtime).
# podman runs with configuration and storage that belong to this run only
# (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, file locks, all under a temp
# dir), inside a throwaway network namespace and PID namespace (see
# hack/lib/e2e.sh), so the user's podman and the host network are untouched.
# Checks: run + output, a tty, --network none, the default netavark network,
# and a detached container's exec, stop (exit code reported) and rm.
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/e2e.sh"

# ---------------------------------------------------------------- inner part
# Runs inside the sandbox; $T is the temp dir, the podman config is in place.
inner() {
  T=$1
  e2e_private_host_dirs "$T"
  CONTAINERS_CONF="$T/containers.conf"
  CONTAINERS_STORAGE_CONF="$T/storage.conf"
  CONTAINERS_REGISTRIES_CONF="$T/registries.conf"
  HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_RUNTIME_DIR="$T/run/user" TMPDIR="$T/tmp"
  export CONTAINERS_CONF CONTAINERS_STORAGE_CONF CONTAINERS_REGISTRIES_CONF \
    HOME XDG_CONFIG_HOME XDG_RUNTIME_DIR TMPDIR
  img=localhost/berth-busybox:e2e
  ctr=berth-e2e-podman-$E2E_RUN
  cgparent=/berth-e2e-podman-$E2E_RUN

  pm() { timeout -k 10 60 podman --runtime "$BERTH_RUNTIME" "$@"; }
  # A failed step leaves containers: remove them through podman so the
  # runtime deletes its state and cgroups (the PID namespace kills the rest).
  trap 'pm rm -a -f -t 0 >/dev/null 2>&1' EXIT

  out=$(pm import --change CMD=sh "$E2E_ROOTFS_TAR" "$img" 2>"$T/err") \
    || e2e_fail "podman import: $(cat "$T/err")"
  e2e_log "ok: podman import $E2E_ROOTFS_TAR as $img"

  out=$(pm run --rm --cgroup-parent "$cgparent" "$img" echo hello 2>"$T/err") \
    || e2e_fail "podman run echo hello: $(cat "$T/err")"
  e2e_expect "podman run --rm IMG echo hello" "hello" "$out"

  # script(1) gives podman a terminal, so -t allocates a pty in the container.
  # timeout --foreground: without it timeout moves podman out of the
  # terminal's foreground process group, and podman's terminal setup then
  # stops it with SIGTTOU (a hang seen once in CI). stdin is /dev/null so
  # script never waits on whatever stdin the test runner was given.
  out=$(script -qec "timeout --foreground -k 10 60 podman --runtime '$BERTH_RUNTIME' run --rm -t --cgroup-parent '$cgparent' '$img' tty" /dev/null </dev/null 2>&1) \
    || e2e_fail "podman run -t tty (exit $?): $out
$(ps -eo pid,ppid,pgid,stat,wchan:20,args | grep -E 'podman|conmon|berth-runtime|script' | grep -v grep)"
  e2e_expect "podman run --rm -t IMG tty" "/dev/pts/0" "$out"

  out=$(pm run --rm --network none --cgroup-parent "$cgparent" "$img" \
        sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "' 2>"$T/err") \
    || e2e_fail "podman run --network none: $(cat "$T/err")"
  e2e_expect "podman run --network none: only lo" "lo" "$out"

  out=$(pm run --rm --cgroup-parent "$cgparent" "$img" ip -o -4 addr show dev eth0 2>"$T/err") \
    || e2e_fail "podman run (default network) ip addr: $(cat "$T/err")"
  echo "$out" | grep -q "eth0 *inet [0-9.]*/" \
    || e2e_fail "default network: eth0 has no IPv4 address: $out"
  e2e_log "ok: default network (netavark): $(echo "$out" | awk '{print $2, $4}')"

  out=$(pm run -d --name "$ctr" --cgroup-parent "$cgparent" "$img" sleep 300 2>"$T/err") \
    || e2e_fail "podman run -d sleep 300: $(cat "$T/err")"
  e2e_log "ok: podman run -d: $(echo "$out" | cut -c1-12)"
  state=$(pm inspect -f '{{.State.Status}}' "$ctr" 2>"$T/err") || state="podman inspect failed: $(cat "$T/err")"
  e2e_expect "detached container state" "running" "$state"

  out=$(pm exec "$ctr" echo inside 2>"$T/err") || e2e_fail "podman exec: $(cat "$T/err")"
  e2e_expect "podman exec CTR echo inside" "inside" "$out"

  # sleep is PID 1 in its namespace and ignores SIGTERM: stop must escalate
  # to SIGKILL after 2 s and report exit code 137.
  out=$(pm stop -t 2 "$ctr" 2>"$T/err") || e2e_fail "podman stop -t 2: $(cat "$T/err")"
  state=$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$ctr" 2>"$T/err") \
    || state="podman inspect failed: $(cat "$T/err")"
  e2e_expect "podman stop -t 2 CTR: exited, code reported" "exited 137" "$state"

  out=$(pm rm "$ctr" 2>"$T/err") || e2e_fail "podman rm: $(cat "$T/err")"
  pm container exists "$ctr" && e2e_fail "podman rm: $ctr still exists"
  e2e_log "ok: podman rm"

  trap - EXIT
  out=$(pm ps -a -q 2>&1)
  [ -z "$out" ] || e2e_fail "containers left after the test: $out"
}

# ---------------------------------------------------------------- outer part
write_config() {
  T=$1
  mkdir -p "$T/home" "$T/tmp" "$T/run/user" "$T/storage" "$T/runroot" "$T/networks"
  cat > "$T/containers.conf" <<EOF
[containers]
# The sandbox cannot raise rlimits: podman's default nofile request fails in
# every runtime, so ask for what the host allows.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "bridge"

[network]
network_backend = "netavark"
network_config_dir = "$T/networks"
default_network = "podman"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
tmp_dir = "$T/run/libpod"
static_dir = "$T/storage/libpod"
volume_path = "$T/storage/volumes"
lock_type = "file"
runtime = "berth"
runtime_supports_json = ["berth", "berth-runtime", "runc", "crun"]

[engine.runtimes]
berth = ["$BERTH_RUNTIME"]
EOF
  cat > "$T/storage.conf" <<EOF
[storage]
driver = "${BERTH_E2E_STORAGE_DRIVER:-overlay}"
graphroot = "$T/storage"
runroot = "$T/runroot"
EOF
  cat > "$T/registries.conf" <<EOF
unqualified-search-registries = []
EOF
}

main() {
  e2e_init podman
  e2e_need podman conmon script timeout unshare ip
  [ -x /usr/lib/podman/netavark ] || e2e_fail "netavark not installed (run hack/deps.sh)"
  e2e_image

  E2E_RUN=$$
  export E2E_RUN E2E_ROOTFS_TAR
  ns=berth-e2e-podman-$E2E_RUN
  T=$(mktemp -d "${TMPDIR:-/tmp}/berth-e2e-podman.XXXXXX") || e2e_fail "mktemp"
  trap 'e2e_sandbox_stop; e2e_netns_del "$ns"; e2e_cgroup_del "berth-e2e-podman-$E2E_RUN"; rm -rf "$T"' EXIT
  trap 'exit 1' INT TERM HUP

  write_config "$T"
  e2e_netns_add "$ns"
  e2e_log "runtime $BERTH_RUNTIME, netns $ns, dir $T"
  e2e_sandbox_run 300 "$ns" "$0" --inner "$T"
  rc=$?
  [ $rc -eq 124 ] && e2e_fail "timed out after 300 s"
  [ $rc -eq 0 ] || exit 1
  e2e_log "PASS"
}

if [ "${1:-}" = --inner ]; then
  e2e_init podman
  inner "$2"
else
  main
fi
