#!/bin/sh
# The berth demo (`make demo`, after the build): a throwaway network
# namespace plays "the node"; berth-runtime runs a busybox container in it
# that describes itself (hostname, PID 1, mounts, capabilities, network),
# then a detached one is shown with `state` and `list`, killed and deleted.
# Every step prints the command it runs. Nothing is left behind: the
# namespace, the containers, the bundle and the runtime state are removed
# on any exit. Ends with how to use berth-runtime for real.
#
# Usage: hack/demo.sh [BUILD_DIR]   (BERTH_RUNTIME overrides the binary)
set -u

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BERTH_BUILD_DIR:-$src/build}}
BERTH_RUNTIME=${BERTH_RUNTIME:-$build/runtime/berth-runtime}

if [ -t 1 ]; then bold=$(printf '\033[1m'); dim=$(printf '\033[2m'); off=$(printf '\033[0m')
else bold=; dim=; off=; fi
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
show() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; }
# run CMD...: prints the command, then runs it; stops the demo if it fails.
run() { show "$*"; "$@" || die "failed: $*"; }
die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "the demo creates namespaces, mounts and cgroups: run it as root"
[ -x "$BERTH_RUNTIME" ] || die "$BERTH_RUNTIME not found: build first (make), or set BERTH_RUNTIME"
case $BERTH_RUNTIME in /*) ;; *) BERTH_RUNTIME=$(pwd)/$BERTH_RUNTIME ;; esac

node=berth-demo-node-$$
id=berth-demo-$$
T=$(mktemp -d "${TMPDIR:-/tmp}/berth-demo.XXXXXX") || die "mktemp"
state=$T/state
# rt ARGS...: berth-runtime, run inside the node, with its state in $T.
rt() { nsenter --net="/run/netns/$node" "$BERTH_RUNTIME" --root "$state" "$@"; }
# runrt ARGS...: the same, printing the command first; stops the demo on failure.
runrt() {
  show "nsenter --net=/run/netns/$node $(basename "$BERTH_RUNTIME") --root \$STATE $*"
  rt "$@" || die "failed: berth-runtime $*"
}

cleanup() {
  if [ -d "$state" ]; then
    for c in $("$BERTH_RUNTIME" --root "$state" list -q 2>/dev/null); do
      "$BERTH_RUNTIME" --root "$state" delete -f "$c" >/dev/null 2>&1
    done
  fi
  if [ -e "/run/netns/$node" ]; then
    say "Cleaning up: removing the node namespace $node and $T"
    show "ip netns del $node"
    ip netns del "$node"
  fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# A reader that goes away (| head) must not skip the cleanup above.
trap 'trap "" PIPE; exit 1' PIPE

say "berth demo: runtime $BERTH_RUNTIME"
run "$BERTH_RUNTIME" --version

say "Creating 'the node': a throwaway network namespace, so the host network is never touched"
run ip netns add "$node"
run ip -n "$node" link set lo up
run ip -n "$node" -brief address

say "Building a busybox OCI bundle (rootfs from Debian's busybox-static + config.json)"
# The container shares the node's network namespace (only lo), and has its
# own PID, mount, UTS, IPC and cgroup namespaces (see hack/mkbundle).
run "$src/hack/mkbundle" "$T/bundle" -- sh /describe.sh
cat > "$T/bundle/rootfs/describe.sh" <<'SCRIPT'
echo "hostname:      $(hostname)"
echo "my pid:        $$  (PID 1 of a new PID namespace)"
echo "user:          $(id)"
eff=0x$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
names="CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
  LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
  SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE
  SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP
  MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF
  CHECKPOINT_RESTORE"
bit=0; caps=""
for n in $names; do
  [ $(( (eff >> bit) & 1 )) = 1 ] && caps="$caps $n"
  bit=$((bit + 1))
done
echo "capabilities: $caps  (effective set $eff)"
echo "no_new_privs:  $(grep NoNewPrivs /proc/self/status | cut -f2)"
echo "root fs:       $(touch /x 2>/dev/null && echo writable || echo read-only)"
echo "network:       $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"
echo "mounts:"
cut -d' ' -f1-4 /proc/self/mounts | sed 's/^/    /'
SCRIPT
show "cat $T/bundle/rootfs/describe.sh   # what the container will run"
cat "$T/bundle/rootfs/describe.sh"
show "grep -E 'args|namespaces|hostname' $T/bundle/config.json"
grep -E '"args"|"namespaces"|"hostname"' "$T/bundle/config.json"
printf '%s(STATE=%s: the runtime state of this demo)%s\n' "$dim" "$state" "$off"

say "Running it in the foreground: berth-runtime run (create + start + wait + delete)"
runrt run --bundle "$T/bundle" "$id-hello"

say "Running a detached container (sleep 300) and asking the runtime about it"
run "$src/hack/mkbundle" "$T/bundle-sleep" -- sleep 300
# Its stdio goes to files, so it does not hold the demo's terminal or pipe.
show "nsenter --net=/run/netns/$node $(basename "$BERTH_RUNTIME") --root \$STATE run -d --bundle $T/bundle-sleep $id"
rt run -d --bundle "$T/bundle-sleep" "$id" </dev/null >"$T/sleep.out" 2>"$T/sleep.err" \
  || die "run -d failed: $(cat "$T/sleep.err")"
runrt state "$id"; echo
runrt list
pid=$(rt state "$id" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
if [ -n "$pid" ]; then
  show "ps -o pid,comm -p $pid   # the container's PID 1 as the host sees it"
  ps -o pid,comm -p "$pid"
fi

say "Stopping it: sleep is PID 1 and ignores SIGTERM, so SIGKILL; then delete"
runrt kill "$id" KILL
i=0
while [ $i -lt 50 ] && ! rt state "$id" 2>/dev/null | grep -q '"status": *"stopped"'; do
  sleep 0.1; i=$((i + 1))
done
runrt state "$id"; echo
runrt delete "$id"
runrt list

cleanup
trap - EXIT

say "Using berth-runtime for real"
cat <<EOF
  make install                       # installs /usr/local/bin/berth-runtime
  podman --runtime /usr/local/bin/berth-runtime run --rm -it docker.io/library/busybox sh
  ctr run --rm --runc-binary /usr/local/bin/berth-runtime docker.io/library/busybox:latest demo sh
  berth-runtime run --bundle DIR ID  # any OCI bundle, runc's command line
                                     # (hack/mkbundle DIR builds a busybox one)
EOF
