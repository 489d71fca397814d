#!/bin/sh
# The berth demo (`make demo`, after the build). A throwaway network
# namespace plays "the node": berthd runs inside it (with its own data root,
# run dir, socket and cgroup parent under a temp dir, in a private mount
# namespace), the busybox test image is imported, and the berth CLI runs a
# container in the foreground, then a small web server that is shown
# answering, its logs, stats, a live memory update and an exec; then stop
# and rm. Every step prints the command it runs. Nothing is left behind: the
# containers, berthd, the namespace, the cgroups and the temp dir are removed
# on any exit. Ends with how to run berth for real.
#
# Usage: hack/demo.sh [BUILD_DIR]   (BERTH, BERTHD override the binaries)
set -u

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BERTH_BUILD_DIR:-$src/build}}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
BERTH=${BERTH:-$build/agent/berth}
BERTHD=${BERTHD:-$build/agent/berthd}

if [ -t 1 ]; then bold=$(printf '\033[1m'); dim=$(printf '\033[2m'); off=$(printf '\033[0m')
else bold=; dim=; off=; fi
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
show() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; }
die() { echo "demo: $*" >&2; exit 1; }
# b ARGS...: prints "berth ARGS", runs the CLI against the demo's berthd;
# stops the demo when it fails.
b() { show "berth $*"; "$BERTH" "$@" || die "failed: berth $*"; }

[ "$(id -u)" = 0 ] || die "the demo creates namespaces, mounts and cgroups: run it as root"
for bin in "$BERTH" "$BERTHD"; do
  [ -x "$bin" ] || die "$bin not found: build first (make)"
done

node=berth-demo-node-$$
cgparent=berth-demo-$$
T=$(mktemp -d "${TMPDIR:-/tmp}/berth-demo.XXXXXX") || die "mktemp"
BERTH_SOCKET=$T/berthd.sock
export BERTH_SOCKET
daemon_pid=

cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    say "Cleaning up: containers, berthd, the node namespace $node, $T"
    for c in $("$BERTH" ps -a -q 2>/dev/null); do "$BERTH" rm -f "$c" >/dev/null 2>&1; done
    kill "$daemon_pid" 2>/dev/null
    i=0
    while [ $i -lt 50 ] && kill -0 "$daemon_pid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$daemon_pid" 2>/dev/null
  fi
  # The daemon's mount namespace died with it; these are only in case it
  # was killed before it could remove a container.
  for d in /sys/fs/cgroup/*/"$cgparent" /sys/fs/cgroup/"$cgparent"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  [ -e "/run/netns/$node" ] && ip netns del "$node"
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
trap 'trap "" PIPE; exit 1' PIPE

say "berth demo: $BERTH and $BERTHD"


say "Creating 'the node': a throwaway network namespace, so the host network is never touched"
show "ip netns add $node; ip -n $node link set lo up"
ip netns add "$node" && ip -n "$node" link set lo up || die "cannot create the namespace $node"

say "Starting berthd in it (its own data root, run dir and socket under $T)"
show "nsenter --net=/run/netns/$node unshare -m --propagation private berthd --root $T/root --run $T/run --socket \$BERTH_SOCKET --cgroup-parent $cgparent &"
nsenter --net="/run/netns/$node" unshare -m --propagation private "$BERTHD" --root "$T/root" --run "$T/run" \
  --socket "$BERTH_SOCKET" --cgroup-parent "$cgparent" --socket-group "" \
  </dev/null 2>"$T/berthd.log" &
daemon_pid=$!
i=0
while [ $i -lt 100 ] && [ ! -S "$BERTH_SOCKET" ]; do
  kill -0 "$daemon_pid" 2>/dev/null || die "berthd exited: $(cat "$T/berthd.log")"
  sleep 0.1; i=$((i + 1))
done
[ -S "$BERTH_SOCKET" ] || die "berthd did not come up: $(cat "$T/berthd.log")"
sed 's/^/    berthd: /' "$T/berthd.log"
b version

say "Importing the busybox test image (built from Debian's busybox-static by hack/mkimage)"
show "hack/mkimage $build/test-images"
archive=$("$src/hack/mkimage" "$build/test-images" | sed -n 2p) || die "mkimage failed"
b image import "$archive" localhost/busybox:demo
b image ls

say "A container in the foreground: output, and its exit code comes back"
show "berth run --rm localhost/busybox:demo sh -c '...; exit 3'"
"$BERTH" run --rm localhost/busybox:demo sh -c \
  'echo "hello from $(hostname), pid $$, $(id)"; echo "network: $(ls /sys/class/net | tr "\n" " ")"; exit 3'
echo "exit code: $?"

say "A small web server in the background, limited to 64 MiB and 32 processes"
b run -d --name web --memory 64m --pids-limit 32 localhost/busybox:demo sh -c \
  'mkdir -p /www && echo "<h1>hello from berth</h1>" > /www/index.html && echo serving on 8080 && exec httpd -f -v -p 8080 -h /www'
b ps
say "It answers (asked from inside its own network namespace: the project network comes with net/)"
i=0
until "$BERTH" exec web wget -q -O /dev/null http://127.0.0.1:8080/ 2>/dev/null || [ $i -ge 50 ]; do
  sleep 0.1; i=$((i + 1))
done
b exec web wget -q -O - http://127.0.0.1:8080/
b logs --timestamps web
b stats --no-stream web
say "Raising its memory limit while it runs"
b update --memory 128m web
b stats --no-stream web

say "Stopping and removing it (httpd is PID 1 and has no SIGTERM handler: SIGKILL after 2 s)"
b stop -t 2 web
b ps -a
b rm web

cleanup
trap - EXIT

say "Running berth for real"
cat <<EOF2
  make install                      # berthd, berth, berth-shim, berth-runtime in /usr/local/bin,
                                    # the systemd unit berthd.service, the group "berth"
  systemctl enable --now berthd     # the node agent (Type=notify; containers survive its restarts)
  usermod -aG berth \$USER           # optional: use berth without root
  berth image pull docker.io/library/nginx:latest
  berth run -d --name web nginx     # then: berth ps, logs -f web, shell web, stats, update, rm -f web
  berth-runtime ...                 # the OCI runtime alone: podman --runtime /usr/local/bin/berth-runtime
Projects (berth.yaml, berth deploy) come with the projects issue.
EOF2
